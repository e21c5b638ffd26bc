"""Which transformer windows: accuracy against speed for several window / stride settings.

For each ``WINDOW:STRIDE`` (spaCy tokens; ``strided_spans``), trains ``configs/default.cfg`` on
the training corpus with that span getter (same seed and epochs; a model already in the work
folder is reused), scores ``model-last`` on the test corpus (strict and lenient span micro F1,
as ``evaluate``), and times ``nlp.pipe`` of every model over the test notes repeated to
``--min-words`` words (repetitions interleaved, median reported), with the share of padded
wordpieces the encoder read. Writes ``OUTPUT_DIR/window-study.{json,md}``.

Usage: python -m tools.window_study corpus/n2c2/train.spacy corpus/n2c2/dev.spacy corpus/n2c2/test.spacy
       [--setting 128:96 --setting 128:128 ...] [--work-dir training/window-study]
"""

import statistics
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import spacy
import typer

from clinical_ie.annotate.measure import count_words
from clinical_ie.evaluation.evaluate import predict_docs, read_docs
from clinical_ie.evaluation.metrics import gold_entity_spans, predicted_entity_spans, score_spans

from .benchmark.texts import notes_to_words
from .benchmark.timing import recorded_transformer_inputs, time_pipeline, window_summary
from .reports import write_report
from .revisions import REPO_ROOT

DEFAULT_SETTINGS = ["128:96", "128:128", "192:160", "256:256"]


def train(setting: str, train_path: Path, dev_path: Path, work_dir: Path, epochs: int) -> Path:
    """``model-last`` of ``configs/default.cfg`` trained with windows ``setting`` (reused if there)."""
    window, stride = setting.split(":")
    output = work_dir / f"w{window}s{stride}"
    if not (output / "model-last").exists():
        subprocess.run(
            [sys.executable, "-m", "spacy", "train", str(REPO_ROOT / "configs" / "default.cfg"), "--output", str(output),
             "--paths.train", str(train_path), "--paths.dev", str(dev_path), "--training.max_epochs", str(epochs),
             "--components.transformer.model.get_spans.window", window,
             "--components.transformer.model.get_spans.stride", stride, "--training.logger.logger2.mode", "disabled"],
            check=True,
        )
    return output / "model-last"


def study(settings: List[str], train_path: Path, dev_path: Path, test_path: Path, work_dir: Path, epochs: int,
          repetitions: int, min_words: int) -> Dict[str, object]:
    """Accuracy, speed and padding of each setting (see the module docstring)."""
    models = {setting: train(setting, train_path, dev_path, work_dir, epochs) for setting in settings}
    pipelines = {setting: spacy.load(model) for setting, model in models.items()}
    first = next(iter(pipelines.values()))
    test_docs = read_docs(test_path, first.vocab)
    gold = [gold_entity_spans(doc) for doc in test_docs]
    texts = notes_to_words(first, [doc.text for doc in test_docs], min_words)
    words = sum(count_words(doc) for doc in first.tokenizer.pipe(texts))
    results: Dict[str, Dict[str, object]] = {}
    for setting, nlp in pipelines.items():
        scores = score_spans(gold, [predicted_entity_spans(doc) for doc in predict_docs(nlp, test_docs)])
        with recorded_transformer_inputs(nlp) as windows:
            time_pipeline(nlp, texts, batch_size=16)
        summary = window_summary(windows)
        results[setting] = {
            "strict_f1": scores["strict"]["micro"]["f1"],
            "lenient_f1": scores["lenient"]["micro"]["f1"],
            "wordpieces_read": summary["wordpieces"],
            "padding_share": 1 - summary["wordpieces"] / summary["padded_wordpieces"],
            "runs_words_per_second": [],
        }
    for _ in range(repetitions):
        for setting, nlp in pipelines.items():
            results[setting]["runs_words_per_second"].append(words / time_pipeline(nlp, texts, batch_size=16)["seconds"])
    for row in results.values():
        row["words_per_second"] = statistics.median(row["runs_words_per_second"])
    return {"epochs": epochs, "test_documents": len(test_docs), "timed_words": words, "repetitions": repetitions,
            "settings": results}


def markdown(report: Dict[str, object]) -> str:
    lines = [
        "# Transformer windows: accuracy and speed",
        "",
        f"`configs/default.cfg` trained {report['epochs']} epochs per setting (seed 0), `model-last` scored on "
        f"{report['test_documents']} test notes; speed of `nlp.pipe` over {report['timed_words']:,} words, median of "
        f"{report['repetitions']} interleaved runs. Window and stride in spaCy tokens.",
        "",
        "| window:stride | strict F1 | lenient F1 | words/s | wordpieces read | padding |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for setting, row in report["settings"].items():
        lines.append(f"| {setting} | {row['strict_f1']:.4f} | {row['lenient_f1']:.4f} | {row['words_per_second']:,.0f} | "
                     f"{row['wordpieces_read']:,} | {row['padding_share']:.1%} |")
    return "\n".join(lines) + "\n"


def main(
    train_path: Path = typer.Argument(..., help="training DocBin"),
    dev_path: Path = typer.Argument(..., help="dev DocBin"),
    test_path: Path = typer.Argument(..., help="test DocBin: scored, and its notes timed"),
    setting: List[str] = typer.Option(DEFAULT_SETTINGS, "--setting", help="WINDOW:STRIDE in spaCy tokens (repeatable)"),
    work_dir: Path = typer.Option(Path("training/window-study"), help="where the models are trained (reused if there)"),
    epochs: int = typer.Option(6, help="training epochs per setting"),
    repetitions: int = typer.Option(3, help="timed runs per setting"),
    min_words: int = typer.Option(20_000, help="words timed per run"),
    output_dir: Path = typer.Option(Path("benchmarks"), help="where window-study.json / .md go"),
) -> None:
    """Train, score and time each window / stride setting."""
    report = study(setting, train_path, dev_path, test_path, work_dir, epochs, repetitions, min_words)
    text = markdown(report)
    write_report(output_dir / "window-study", report, text)
    print(text)


if __name__ == "__main__":
    typer.run(main)
