"""Benchmark a trained pipeline: inference speed against its bare transformer and a Hugging Face
token-classification peer, CRF decoding share, peak memory, training throughput, and strict span
F1 beside the peer's. Writes <output-dir>/results.json and results.md."""

import argparse
import logging
from pathlib import Path

from clinical_ie.benchmark import BenchmarkSettings, run_benchmark, write_results


def parse_args(argv=None) -> argparse.Namespace:
    defaults = BenchmarkSettings()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", type=Path, help="trained pipeline directory (e.g. training/n2c2/model-best)")
    parser.add_argument("train", type=Path, help="training DocBin: the peer's training data and our training-speed data")
    parser.add_argument("test", type=Path, help="test DocBin: its notes are the benchmark texts and the F1 documents")
    parser.add_argument("--output-dir", type=Path, default=Path("benchmarks"), help="where results.json / .md go")
    parser.add_argument("--gpu", action="store_true", help="run everything on GPU 0")
    parser.add_argument("--repetitions", type=int, default=defaults.repetitions, help="repetitions per measurement (median reported)")
    parser.add_argument("--min-words", type=int, default=defaults.min_words, help="words in the repeated notes")
    parser.add_argument("--long-note-words", type=int, default=defaults.long_note_words, help="words in the long note")
    parser.add_argument("--short-note-words", type=int, default=defaults.short_note_words, help="words in the short note")
    parser.add_argument(
        "--batch-sizes", type=int, nargs="+", default=list(defaults.batch_sizes), help="nlp.pipe / pipeline batch sizes to try"
    )
    parser.add_argument("--tuning-words", type=int, default=defaults.tuning_words, help="words timed per batch-size trial")
    parser.add_argument(
        "--peer-steps", type=int, help="peer training steps (default: the steps our config makes on the training data)"
    )
    parser.add_argument(
        "--training-steps", type=int, default=defaults.training_steps, help="steps timed for our training throughput"
    )
    parser.add_argument(
        "--multitask-model", type=Path, help="also time this multi-task pipeline with every head and with its first head only"
    )
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    logging.basicConfig(format="%(asctime)s %(message)s")
    logging.getLogger("clinical_ie.benchmark").setLevel(logging.INFO)
    settings = BenchmarkSettings(
        repetitions=args.repetitions,
        min_words=args.min_words,
        long_note_words=args.long_note_words,
        short_note_words=args.short_note_words,
        batch_sizes=args.batch_sizes,
        tuning_words=args.tuning_words,
        peer_steps=args.peer_steps,
        training_steps=args.training_steps,
        gpu=args.gpu,
        multitask_model=args.multitask_model,
    )
    results = run_benchmark(args.model, args.train, args.test, settings)
    write_results(results, args.output_dir)
    print((args.output_dir / "results.md").read_text(encoding="utf8"))


if __name__ == "__main__":
    main()
