"""``python -m tools.benchmark MODEL TRAIN.spacy TEST.spacy``: run the benchmark, write
OUTPUT_DIR/results.json and results.md."""

import logging
from pathlib import Path
from typing import List, Optional

import typer

from .report import write_results
from .run import BenchmarkSettings, run_benchmark


def main(
    model: Path = typer.Argument(..., help="trained pipeline directory (e.g. training/n2c2-crf/model-last)"),
    train: Path = typer.Argument(..., help="training DocBin: the peer's training data and our training-speed data"),
    test: Path = typer.Argument(..., help="test DocBin: its notes are the benchmark texts and the F1 documents"),
    output_dir: Path = typer.Option(Path("benchmarks"), help="where results.json / .md go"),
    gpu: bool = typer.Option(False, help="run everything on GPU 0"),
    repetitions: int = typer.Option(BenchmarkSettings.repetitions, help="repetitions per measurement (median reported)"),
    min_words: int = typer.Option(BenchmarkSettings.min_words, help="words in the repeated notes"),
    long_note_words: int = typer.Option(BenchmarkSettings.long_note_words, help="words in the long note"),
    short_note_words: int = typer.Option(BenchmarkSettings.short_note_words, help="words in the short note"),
    batch_sizes: List[int] = typer.Option(list(BenchmarkSettings.batch_sizes), "--batch-size", help="nlp.pipe / pipeline batch sizes to try (repeatable)"),
    tuning_words: int = typer.Option(BenchmarkSettings.tuning_words, help="words timed per batch-size trial"),
    peer_steps: Optional[int] = typer.Option(None, help="peer training steps (default: the steps our config makes on the training data)"),
    training_steps: int = typer.Option(BenchmarkSettings.training_steps, help="steps timed for our training throughput"),
    limit_batch_wordpieces: int = typer.Option(BenchmarkSettings.limit_batch_wordpieces, help="padded wordpieces per batch of the limit"),
    multitask_model: Optional[Path] = typer.Option(None, help="also time this multi-task pipeline with every head and with its first head only"),
) -> None:
    """Benchmark a trained pipeline against its bare transformer and a Hugging Face peer; write
    OUTPUT_DIR/results.json and results.md."""
    logging.basicConfig(format="%(asctime)s %(message)s")
    logging.getLogger(__package__).setLevel(logging.INFO)
    settings = BenchmarkSettings(
        repetitions=repetitions,
        min_words=min_words,
        long_note_words=long_note_words,
        short_note_words=short_note_words,
        batch_sizes=batch_sizes,
        tuning_words=tuning_words,
        peer_steps=peer_steps,
        training_steps=training_steps,
        limit_batch_wordpieces=limit_batch_wordpieces,
        gpu=gpu,
        multitask_model=multitask_model,
    )
    results = run_benchmark(model, train, test, settings)
    write_results(results, output_dir)
    print((output_dir / "results.md").read_text(encoding="utf8"))


if __name__ == "__main__":
    typer.run(main)
