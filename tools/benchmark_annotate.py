"""Scaling benchmark of the annotation command: backends x workers beside one plain ``nlp.pipe``.

The notes are copies of the given ``.txt`` notes, cycled to ``count`` notes. Each
configuration runs the annotation command in a fresh process (``python -m
clinical_ie.annotate.cli ... --summary``) into an empty folder; its rates count from the moment
the backend starts, so they include starting the workers (and Ray) and loading the model in
each. The plain process loads the model, then times ``nlp.pipe`` alone. Every configuration's
records are checked: each id exactly once, and the same records (confidences to 1e-5) as the
first configuration.
"""

import json
import math
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from time import perf_counter
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import spacy
import typer

from clinical_ie.annotate.backends import available_cores, threads_per_worker
from clinical_ie.annotate.measure import count_words, peak_rss_mib
from clinical_ie.annotate.output import read_annotations

from .measure import in_fresh_process
from .reports import write_report

Configuration = Tuple[str, int]
"""``(backend, workers)``."""


@contextmanager
def work_folder(keep: Optional[Path], prefix: str) -> Iterator[Path]:
    """``keep``, or a temporary folder removed afterwards."""
    work_dir = keep or Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield work_dir
    finally:
        if not keep:
            shutil.rmtree(work_dir, ignore_errors=True)


def repeat_notes(sources: Sequence[Path], target: Path, count: int) -> List[str]:
    """Copy the ``.txt`` notes of ``sources`` into ``target`` cyclically until ``count`` notes;
    the ids are ``NNNNN_<original id>``. Returns the ids."""
    notes = sorted(path for source in sources for path in Path(source).glob("*.txt"))
    if not notes:
        raise ValueError("no .txt notes to repeat")
    target.mkdir(parents=True, exist_ok=True)
    ids = []
    for number in range(count):
        source = notes[number % len(notes)]
        note_id = f"{number:05d}_{source.stem}"
        (target / f"{note_id}.txt").write_bytes(source.read_bytes())
        ids.append(note_id)
    return ids


def plain_pipe(model: str, notes_dir: str, batch_size: int, n_process: int = 1) -> Dict[str, float]:
    """``nlp.pipe`` over every note of ``notes_dir``: rates and this process's peak RSS.

    ``n_process > 1``: spaCy's own multiprocessing, each process with ``cores // n_process``
    torch threads (their memory is not in ``peak_rss_mib``).
    """
    started = perf_counter()
    nlp = spacy.load(model)
    loaded = perf_counter()
    texts = [path.read_text(encoding="utf8") for path in sorted(Path(notes_dir).glob("*.txt"))]
    if n_process > 1:
        import torch

        torch.set_num_threads(threads_per_worker(n_process))
    words = 0
    pipe_started = perf_counter()
    for doc in nlp.pipe(texts, batch_size=batch_size, n_process=n_process):
        words += count_words(doc)
    seconds = perf_counter() - pipe_started
    return {
        "n_process": n_process,
        "notes": len(texts),
        "words": words,
        "load_seconds": loaded - started,
        "seconds": seconds,
        "notes_per_second": len(texts) / seconds,
        "words_per_second": words / seconds,
        "peak_rss_mib": peak_rss_mib(),
    }


def run_configuration(model: str, notes_dir: Path, output_dir: Path, backend: str, workers: int, batch_size: int) -> Dict[str, object]:
    """The annotation command with ``backend`` and ``workers`` in a fresh process; its summary."""
    summary_path = output_dir.with_suffix(".summary.json")
    command = [
        sys.executable, "-m", "clinical_ie.annotate.cli", model, str(notes_dir), str(output_dir),
        "--backend", backend, "--workers", str(workers), "--batch-size", str(batch_size), "--summary", str(summary_path),
    ]
    started = perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True)
    wall = perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"{backend} x {workers} failed ({completed.returncode}):\n{completed.stderr[-2000:]}")
    summary = json.loads(summary_path.read_text(encoding="utf8"))
    rss = list(summary["worker_peak_rss_mib"].values())
    return {
        "backend": backend,
        "workers": workers,
        "notes": summary["notes_annotated"] + summary["notes_failed"],
        "failed": summary["notes_failed"],
        "words": summary["words"],
        "seconds": summary["seconds"],
        "wall_seconds": wall,
        "notes_per_second": summary["notes_per_second"],
        "words_per_second": summary["words_per_second"],
        "worker_peak_rss_mib_max": max(rss),
        "worker_peak_rss_mib_mean": sum(rss) / len(rss),
        "workers_seen": len(rss),
    }


def same_records(first: List[dict], second: List[dict], tolerance: float = 1e-5) -> bool:
    """Equal records, numbers compared to ``tolerance``."""

    def equal(a, b) -> bool:
        if isinstance(a, float) or isinstance(b, float):
            return a is not None and b is not None and math.isclose(a, b, abs_tol=tolerance)
        if isinstance(a, dict) and isinstance(b, dict):
            return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
        if isinstance(a, list) and isinstance(b, list):
            return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
        return a == b

    return equal(first, second)


def run_scaling_benchmark(
    model: str,
    sources: Sequence[Path],
    work_dir: Path,
    count: int,
    configurations: Sequence[Configuration],
    batch_size: int,
    n_processes: Sequence[int] = (),
) -> Dict[str, object]:
    """Plain ``nlp.pipe`` (and with each of ``n_processes``), then every configuration, over
    ``count`` repeated notes."""
    notes_dir = work_dir / "notes"
    ids = repeat_notes(sources, notes_dir, count)
    results = {
        "notes": count,
        "batch_size": batch_size,
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": available_cores()},
        "plain_pipe": in_fresh_process(plain_pipe, model, str(notes_dir), batch_size),
        "spacy_n_process": [in_fresh_process(plain_pipe, model, str(notes_dir), batch_size, n) for n in n_processes],
        "configurations": [],
    }
    reference = None
    for backend, workers in configurations:
        output_dir = work_dir / f"{backend}-{workers}"
        result = run_configuration(model, notes_dir, output_dir, backend, workers, batch_size)
        records = list(read_annotations(output_dir))
        result["ids_exactly_once"] = [record["id"] for record in records] == ids
        reference = records if reference is None else reference
        result["same_records_as_first"] = same_records(records, reference)
        results["configurations"].append(result)
    return results


def results_markdown(results: Dict[str, object]) -> str:
    """The results as a Markdown table."""
    plain = results["plain_pipe"]
    lines = [
        f"{results['notes']} notes, batch size {results['batch_size']}, {results['machine']['cores']} cores",
        "",
        "| run | workers | notes/s | words/s | peak RSS per worker (MiB, max / mean) | seconds | every id once | same records |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| plain `nlp.pipe`, one process (model loaded before timing) | 1 | {plain['notes_per_second']:.2f} | "
        f"{plain['words_per_second']:,.0f} | {plain['peak_rss_mib']:,.0f} | {plain['seconds']:.0f} | | |",
    ]
    for run in results.get("spacy_n_process", []):
        lines.append(
            f"| `nlp.pipe(n_process={run['n_process']})` (model loaded before timing) | {run['n_process']} | "
            f"{run['notes_per_second']:.2f} | {run['words_per_second']:,.0f} | | {run['seconds']:.0f} | | |"
        )
    for run in results["configurations"]:
        lines.append(
            f"| `--backend {run['backend']}` (startup and model loading included) | {run['workers']} | {run['notes_per_second']:.2f} | "
            f"{run['words_per_second']:,.0f} | {run['worker_peak_rss_mib_max']:,.0f} / {run['worker_peak_rss_mib_mean']:,.0f} | "
            f"{run['seconds']:.0f} | {'yes' if run['ids_exactly_once'] else 'NO'} | {'yes' if run['same_records_as_first'] else 'NO'} |"
        )
    return "\n".join(lines) + "\n"


def configuration(text: str) -> Configuration:
    """``BACKEND:WORKERS`` as a configuration."""
    backend, workers = text.split(":")
    return backend, int(workers)


def main(
    model: str = typer.Argument(..., help="installed pipeline package or pipeline folder"),
    notes: List[Path] = typer.Argument(..., help="folders of .txt notes to repeat"),
    output_dir: Path = typer.Option(Path("benchmarks"), help="where annotate-scaling.json and .md go"),
    count: int = typer.Option(2000, help="notes to annotate"),
    configurations: List[str] = typer.Option(["local:1", "local:2", "ray:1", "ray:2"], "--configuration",
                                             metavar="BACKEND:WORKERS", help="runs to time (repeatable)"),
    n_process: List[int] = typer.Option([], "--n-process", help="also time nlp.pipe(n_process=N) (spaCy's multiprocessing; repeatable)"),
    batch_size: int = typer.Option(8, help="notes per nlp.pipe batch"),
    keep: Optional[Path] = typer.Option(None, help="keep the work folder here instead of a temporary one"),
) -> None:
    """Scaling benchmark of the annotation command: backends x workers beside one plain
    nlp.pipe process. The work folder (copied notes, outputs) is removed afterwards unless --keep."""
    with work_folder(keep, "annotate-benchmark-") as work_dir:
        results = run_scaling_benchmark(
            model, notes, work_dir, count, [configuration(c) for c in configurations], batch_size, n_process
        )
    markdown = results_markdown(results)
    write_report(output_dir / "annotate-scaling", results, markdown)
    print(markdown)


if __name__ == "__main__":
    typer.run(main)
