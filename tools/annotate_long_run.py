"""Long-run benchmark of the annotation command: memory and throughput over many notes.

The notes are copies of the given ``.txt`` notes cycled to ``count`` notes
(:func:`tools.benchmark_annotate.repeat_notes`). The command (``python -m
clinical_ie.annotate.cli``, local backend) runs in its own process into an empty folder; every
``poll`` seconds this tool reads the resident memory (``VmRSS``) of the command and of each of
its worker processes, and the notes the manifest lists as committed. Reported: each worker's
RSS at the first sample after 1,000 notes and at the last sample before the workers end, and
the notes/s of each window of 1,000 notes, timed from the first committed shard (so worker
start-up and model loading are not in the first window), beside its notes per CPU-second of
the workers and the load average (on a shared machine the wall-clock rate follows the others'
load; the CPU rate is the run's own). The output is checked afterwards:
each id exactly once.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from time import perf_counter, sleep
from typing import Dict, List, Optional

import typer

from clinical_ie.annotate.output import MANIFEST_NAME, read_annotations

from .benchmark_annotate import repeat_notes, work_folder
from .reports import write_report

WINDOW = 1000
"""Notes per throughput window, and the point of the first memory reading."""


def rss_mib(pid: int) -> Optional[float]:
    """``VmRSS`` of process ``pid`` in MiB, None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process ``pid`` so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_pids(parent: int) -> List[int]:
    """The pool's worker processes: children of ``parent`` running ``spawn_main`` (not the resource tracker)."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if not proc.name.isdigit() or int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1]) != parent:
                continue
            if b"spawn_main" in (proc / "cmdline").read_bytes():
                pids.append(int(proc.name))
        except OSError:  # ended meanwhile
            continue
    return sorted(pids)


def notes_committed(output_dir: Path) -> int:
    """Notes in the shards the manifest lists (0 before it exists)."""
    try:
        manifest = json.loads((output_dir / MANIFEST_NAME).read_text(encoding="utf8"))
    except (OSError, ValueError):
        return 0
    return sum(entry["end"] - entry["start"] for entry in manifest["shards"])


def sample_run(command: List[str], output_dir: Path, poll: float) -> Dict[str, object]:
    """Run ``command``, sampling memory and committed notes every ``poll`` seconds."""
    started = perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    samples, pids = [], []
    while process.poll() is None:
        if not pids or not all(Path(f"/proc/{pid}").exists() for pid in pids):
            pids = worker_pids(process.pid)  # the scan of /proc only until the workers are known
        workers = {str(pid): rss_mib(pid) for pid in pids}
        samples.append({
            "seconds": perf_counter() - started,
            "notes": notes_committed(output_dir),
            "worker_cpu_seconds": sum(cpu_seconds(pid) for pid in pids),
            "load_average": os.getloadavg()[0],
            "driver_rss_mib": rss_mib(process.pid),
            "worker_rss_mib": {pid: rss for pid, rss in workers.items() if rss is not None},
        })
        sleep(poll)
    stdout, stderr = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"the annotation command failed ({process.returncode}):\n{stderr[-2000:]}")
    return {"wall_seconds": perf_counter() - started, "samples": samples, "stdout": stdout}


def analyse(samples: List[dict], count: int) -> Dict[str, object]:
    """Worker memory after the first window and at the end; per window of :data:`WINDOW` notes,
    notes/s (wall clock) and notes per CPU-second of the workers (what the machine's other load
    does not change), with the load average at its end."""
    with_workers = [s for s in samples if s["worker_rss_mib"]]
    after_first = next(s for s in with_workers if s["notes"] >= WINDOW)
    at_end = with_workers[-1]
    memory = {}
    for pid, rss in after_first["worker_rss_mib"].items():
        last = [s for s in with_workers if pid in s["worker_rss_mib"]][-1]  # the last sample before it ended
        memory[pid] = {"after_first_window_mib": rss, "at_end_mib": last["worker_rss_mib"][pid],
                       "at_end_notes": last["notes"], "change": last["worker_rss_mib"][pid] / rss - 1}
    first_commit = next(s for s in samples if s["notes"] > 0)
    windows = []
    previous = first_commit
    for bound in range(WINDOW, count + 1, WINDOW):
        reached = next((s for s in samples if s["notes"] >= bound), None)
        if reached is None:  # committed after the last sample: the command's exit
            break
        notes = reached["notes"] - previous["notes"]
        windows.append({
            "notes_up_to": reached["notes"],
            "notes_per_second": notes / (reached["seconds"] - previous["seconds"]),
            "notes_per_cpu_second": notes / (reached["worker_cpu_seconds"] - previous["worker_cpu_seconds"]),
            "load_average": reached["load_average"],
        })
        previous = reached
    first, first_cpu = windows[0]["notes_per_second"], windows[0]["notes_per_cpu_second"]
    return {
        "worker_memory": memory,
        "memory_sample_notes": {"after_first_window": after_first["notes"], "at_end": at_end["notes"]},
        "driver_rss_mib": {"after_first_window": after_first["driver_rss_mib"], "at_end": at_end["driver_rss_mib"]},
        "windows": windows,
        "throughput_change_max": max(abs(w["notes_per_second"] / first - 1) for w in windows[1:]),
        "throughput_change_last": windows[-1]["notes_per_second"] / first - 1,
        "cpu_throughput_change_max": max(abs(w["notes_per_cpu_second"] / first_cpu - 1) for w in windows[1:]),
        "cpu_throughput_change_last": windows[-1]["notes_per_cpu_second"] / first_cpu - 1,
    }


def results_markdown(results: Dict[str, object]) -> str:
    analysis = results["analysis"]
    lines = [
        f"{results['notes']} notes, `--backend local --workers {results['workers']}`, shards of {results['shard_size']}, "
        f"batch size {results['batch_size']}; every id once: {'yes' if results['ids_exactly_once'] else 'NO'}; "
        f"{results['wall_seconds']:.0f} s wall",
        "",
        "| worker | RSS after ~1,000 notes (MiB) | RSS at the end (MiB) | change |",
        "| --- | --- | --- | --- |",
    ]
    for number, (pid, memory) in enumerate(analysis["worker_memory"].items(), start=1):
        lines.append(f"| {number} | {memory['after_first_window_mib']:.1f} | {memory['at_end_mib']:.1f} "
                     f"(at {memory['at_end_notes']} notes) | {100 * memory['change']:+.1f}% |")
    driver = analysis["driver_rss_mib"]
    lines += [
        f"| driver | {driver['after_first_window']:.1f} | {driver['at_end']:.1f} | {100 * (driver['at_end'] / driver['after_first_window'] - 1):+.1f}% |",
        "",
        f"Memory read at {analysis['memory_sample_notes']['after_first_window']} committed notes, and at the last "
        f"sample before each process ended.",
        "",
        "| notes up to | notes/s | vs. first 1,000 | notes per worker CPU-second | vs. first 1,000 | load average |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    first, first_cpu = analysis["windows"][0]["notes_per_second"], analysis["windows"][0]["notes_per_cpu_second"]
    for window in analysis["windows"]:
        lines.append(f"| {window['notes_up_to']} | {window['notes_per_second']:.1f} | "
                     f"{100 * (window['notes_per_second'] / first - 1):+.1f}% | {window['notes_per_cpu_second']:.1f} | "
                     f"{100 * (window['notes_per_cpu_second'] / first_cpu - 1):+.1f}% | {window['load_average']:.1f} |")
    lines += ["", f"Largest change of a window's notes/s from the first's: {100 * analysis['throughput_change_max']:.1f}% "
                  f"(last window {100 * analysis['throughput_change_last']:+.1f}%); of its notes per worker CPU-second: "
                  f"{100 * analysis['cpu_throughput_change_max']:.1f}% (last {100 * analysis['cpu_throughput_change_last']:+.1f}%)."]
    return "\n".join(lines) + "\n"


def main(
    model: str = typer.Argument(..., help="installed pipeline package or pipeline folder"),
    notes: List[Path] = typer.Argument(..., help="folders of .txt notes to repeat"),
    output_dir: Path = typer.Option(Path("benchmarks"), help="where annotate-long-run.json and .md go"),
    count: int = typer.Option(20_000, help="notes to annotate"),
    workers: int = typer.Option(2, help="local worker processes"),
    shard_size: int = typer.Option(100, help="notes per shard"),
    batch_size: int = typer.Option(8, help="notes per nlp.pipe batch"),
    poll: float = typer.Option(0.1, help="seconds between samples"),
    keep: Optional[Path] = typer.Option(None, help="keep the work folder here instead of a temporary one"),
    reanalyse: Optional[Path] = typer.Option(None, help="no run: analyse the samples of this results JSON again"),
) -> None:
    """Long-run benchmark of the annotation command (local backend): each worker's memory after
    the first 1,000 notes and at the end, notes/s per 1,000 notes."""
    if reanalyse:
        results = json.loads(reanalyse.read_text(encoding="utf8"))
        results["analysis"] = analyse(results["samples"], results["notes"])
        markdown = results_markdown(results)
        write_report(output_dir / "annotate-long-run", results, markdown)
        print(markdown)
        return
    with work_folder(keep, "annotate-long-run-") as work_dir:
        ids = repeat_notes(notes, work_dir / "notes", count)
        output = work_dir / "output"
        command = [sys.executable, "-m", "clinical_ie.annotate.cli", model, str(work_dir / "notes"), str(output),
                   "--workers", str(workers), "--shard-size", str(shard_size), "--batch-size", str(batch_size)]
        run = sample_run(command, output, poll)
        results = {
            "notes": count, "workers": workers, "shard_size": shard_size, "batch_size": batch_size,
            "wall_seconds": run["wall_seconds"],
            "ids_exactly_once": [record["id"] for record in read_annotations(output)] == ids,
            "analysis": analyse(run["samples"], count),
            "samples": run["samples"],
        }
    markdown = results_markdown(results)
    write_report(output_dir / "annotate-long-run", results, markdown)
    print(markdown)


if __name__ == "__main__":
    typer.run(main)
