"""Annotate a folder of .txt notes: OUTPUT_DIR/annotations.jsonl and OUTPUT_DIR/brat/<id>.txt|.ann."""

import argparse
import logging
from pathlib import Path

from clinical_ie.annotate_folder import annotate_folder


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", help="trained pipeline directory or installed package name")
    parser.add_argument("input_dir", type=Path, help="folder of .txt notes")
    parser.add_argument("output_dir", type=Path, help="where annotations.jsonl and brat/ go")
    parser.add_argument("--batch-size", type=int, default=8, help="notes per nlp.pipe batch")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    counts = annotate_folder(args.model, args.input_dir, args.output_dir, batch_size=args.batch_size)
    print(f"{counts['annotated']} of {counts['notes']} notes annotated, {counts['failed']} failed -> {args.output_dir}")


if __name__ == "__main__":
    main()
