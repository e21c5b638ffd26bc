"""Annotate notes with a trained pipeline, from one process to a Ray cluster, resumably.

INPUT is a folder of .txt notes (id = file name without .txt), a JSON Lines file with "id" and
"text" fields, or a Parquet file with "id" and "text" columns. OUTPUT_DIR receives shards
(part-00000.jsonl, ... or .parquet) holding one record per note (id, entities, medications,
error), or with --format fhir part-00000.ndjson, ... holding one FHIR R4 Bundle per note, and
manifest.json; run the same command again after a crash or --max-shards to finish
the remaining shards. Exit status: 0 when every note has its record, 3 when shards remain.
"""

import argparse
import json
import logging
import sys
from pathlib import Path

from . import AnnotationSettings, run_annotation
from .backends import BackendError
from .inputs import DEFAULT_MAX_CHARS, InputError
from .output import FORMATS, OutputError

INCOMPLETE_EXIT_STATUS = 3


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="annotate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="installed pipeline package (en_clinical_ie) or pipeline folder")
    parser.add_argument("input", type=Path, help="folder of .txt notes, .jsonl file or .parquet file")
    parser.add_argument("output_dir", type=Path, help="folder for the shards and manifest.json")
    parser.add_argument("--backend", choices=("local", "ray"), default="local", help="local processes or Ray Data (default: local)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes or Ray actors, each loading the model once (default: 1)")
    parser.add_argument("--gpu", action="store_true", help="annotate on GPU (Ray: one GPU per actor)")
    parser.add_argument("--address", help="address of a running Ray cluster to join (default: start a local one)")
    parser.add_argument("--format", dest="output_format", choices=FORMATS, default="jsonl",
                        help="shard format: jsonl, parquet or fhir (NDJSON of FHIR R4 Bundles) (default: jsonl)")
    parser.add_argument("--batch-size", type=int, default=8, help="notes per nlp.pipe batch (default: 8)")
    parser.add_argument("--shard-size", type=int, default=1000, help="notes per output shard (default: 1000)")
    parser.add_argument("--max-chars", type=int, default=DEFAULT_MAX_CHARS, help=f"longer notes get an error record (default: {DEFAULT_MAX_CHARS:,})")
    parser.add_argument("--threads", type=int, help="torch threads per worker (default: cores / workers; 1 per actor on a Ray cluster)")
    parser.add_argument("--max-shards", type=int, help="annotate at most this many more shards, then stop (rerun to go on)")
    parser.add_argument("--confidence-threshold", type=float, default=0.0,
                        help="write only entities at least this confident (span._.confidence; default 0: all)")
    parser.add_argument("--brat", action="store_true", help="also write brat/<id>.txt and .ann (T and R lines) per annotated note")
    parser.add_argument("--log-every", type=float, default=10.0, help="seconds between progress lines (default: 10)")
    parser.add_argument("--summary", type=Path, help="write the run's summary (counts, rates, peak memory per worker) as JSON here")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    options = {k: v for k, v in vars(args).items() if k not in ("model", "input", "output_dir", "summary")}
    try:
        summary = run_annotation(args.model, args.input, args.output_dir, AnnotationSettings(**options))
    except (InputError, OutputError, BackendError, ValueError, OSError) as error:
        print(f"annotate: {error}", file=sys.stderr)
        return 2
    if args.summary:
        args.summary.write_text(json.dumps(summary.to_dict(), indent=2), encoding="utf8")
    print(
        f"{summary.notes_annotated} notes annotated and {summary.notes_failed} with an error record in "
        f"{summary.seconds:.1f} s ({summary.notes_per_second:.1f} notes/s, {summary.words_per_second:.0f} words/s); "
        f"{summary.shards_written} shard(s) written, {summary.notes_done_before} notes were done before"
    )
    if not summary.complete:
        print(f"incomplete: shards remain of {summary.shards_total}; run the same command again to finish", file=sys.stderr)
        return INCOMPLETE_EXIT_STATUS
    return 0


if __name__ == "__main__":
    sys.exit(main())
