"""Scaling benchmark of the annotation command: backends x workers beside one plain nlp.pipe process.

Writes OUTPUT_DIR/annotate-scaling.json and .md; the work folder (copied notes, outputs) is
removed afterwards unless --keep.
"""

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from clinical_ie.annotate.benchmark import results_markdown, run_scaling_benchmark


def configuration(text: str):
    backend, workers = text.split(":")
    return backend, int(workers)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", help="installed pipeline package or pipeline folder")
    parser.add_argument("notes", type=Path, nargs="+", help="folders of .txt notes to repeat")
    parser.add_argument("--output-dir", type=Path, default=Path("benchmarks"), help="where the results go (default: benchmarks)")
    parser.add_argument("--count", type=int, default=2000, help="notes to annotate (default: 2000)")
    parser.add_argument("--configurations", type=configuration, nargs="+", default=[("local", 1), ("local", 2), ("ray", 1), ("ray", 2)],
                        metavar="BACKEND:WORKERS", help="runs to time (default: local:1 local:2 ray:1 ray:2)")
    parser.add_argument("--n-process", type=int, nargs="*", default=[], help="also time nlp.pipe(n_process=N) for each N (spaCy's multiprocessing)")
    parser.add_argument("--batch-size", type=int, default=8, help="notes per nlp.pipe batch (default: 8)")
    parser.add_argument("--keep", type=Path, help="keep the work folder here instead of a temporary one")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    work_dir = args.keep or Path(tempfile.mkdtemp(prefix="annotate-benchmark-"))
    try:
        results = run_scaling_benchmark(
            args.model, args.notes, work_dir, args.count, args.configurations, args.batch_size, args.n_process
        )
    finally:
        if not args.keep:
            shutil.rmtree(work_dir, ignore_errors=True)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / "annotate-scaling.json").write_text(json.dumps(results, indent=2), encoding="utf8")
    markdown = results_markdown(results)
    (args.output_dir / "annotate-scaling.md").write_text(markdown, encoding="utf8")
    print(markdown)


if __name__ == "__main__":
    main()
