"""Evaluate a trained pipeline on a gold DocBin: metrics JSON, Markdown report, plots, brat."""

import argparse
from pathlib import Path

from clinical_ie.evaluation import DATASETS, evaluate


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", help="trained pipeline directory or installed package name")
    parser.add_argument("gold", type=Path, help="gold DocBin (.spacy) written by the converters")
    parser.add_argument("--dataset", choices=DATASETS, required=True, help="names the outputs <dataset>.json / .md")
    parser.add_argument("--output-dir", type=Path, default=Path("metrics"), help="where the JSON, report and plots go")
    parser.add_argument("--brat-dir", type=Path, help="also write predictions as brat .txt/.ann here")
    parser.add_argument("--gpu-id", type=int, default=-1, help="GPU to use; -1 for CPU (default)")
    parser.add_argument(
        "--train", type=Path, help="training DocBin: its handover categories form the CLEF macro average"
    )
    parser.add_argument("--batch-size", type=int, default=8, help="documents per nlp.pipe batch")
    parser.add_argument(
        "--spans-key", help="score the head writing doc.spans[KEY] (a multi-task pipeline) instead of doc.ents"
    )
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    scores = evaluate(
        args.model,
        args.gold,
        args.dataset,
        args.output_dir,
        brat_dir=args.brat_dir,
        gpu_id=args.gpu_id,
        train_path=args.train,
        batch_size=args.batch_size,
        spans_key=args.spans_key,
    )
    entities = scores["spans"]
    print(
        f"{args.dataset}: lenient micro F1 {entities['lenient']['micro']['f1']:.4f},"
        f" strict micro F1 {entities['strict']['micro']['f1']:.4f}"
        f" -> {args.output_dir / (args.dataset + '.json')}"
    )
    if "handover" in scores:
        print(f"handover CLEF macro F1 {scores['handover']['macro']['f1']:.4f}")


if __name__ == "__main__":
    main()
