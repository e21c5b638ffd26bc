"""The Ray backend on a local Ray instance (2 CPUs): same records as the local backend,
resumable, an actor killed mid-run, the driver killed."""

import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from clinical_ie.annotate import read_annotations, run_annotation
from clinical_ie.annotate.fail_points import FAIL_AT_ENV, FAIL_EXIT_STATUS
from clinical_ie.annotate.output import MANIFEST_NAME
from tests.util import CHILD_TIMEOUT, annotate_command, manifest, output_state, small_settings

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_records(relation_pipeline, notes_dir, tmp_path_factory):
    """Records of the local backend with two worker processes (one thread each, like the actors)."""
    output = tmp_path_factory.mktemp("local")
    run_annotation(relation_pipeline, notes_dir, output, small_settings(workers=2))
    return list(read_annotations(output))


def test_ray_starts_a_local_instance_and_matches_the_local_backend(relation_pipeline, notes_dir, local_records, tmp_path, monkeypatch):
    assert not ray.is_initialized()
    monkeypatch.delenv("RAY_USAGE_STATS_ENABLED", raising=False)
    summary = run_annotation(relation_pipeline, notes_dir, tmp_path, small_settings(backend="ray", workers=2))
    assert not ray.is_initialized()  # the instance it started is shut down
    assert os.environ["RAY_USAGE_STATS_ENABLED"] == "0"  # and it sent no usage statistics
    assert summary.complete and summary.shards_written == 4 and summary.notes_failed == 4
    assert list(read_annotations(tmp_path)) == local_records
    assert 1 <= len(summary.worker_peak_rss_mib) <= 2 and str(os.getpid()) not in summary.worker_peak_rss_mib


@pytest.fixture
def ray_cluster():
    """A running local Ray instance with 2 CPUs, as a cluster the command joins."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_resumes_a_stopped_local_run_into_parquet(relation_pipeline, notes_dir, local_records, tmp_path, ray_cluster):
    first = run_annotation(relation_pipeline, notes_dir, tmp_path, small_settings(output_format="parquet", max_shards=1))
    assert not first.complete
    second = run_annotation(relation_pipeline, notes_dir, tmp_path, small_settings(backend="ray", workers=2, output_format="parquet"))
    assert ray.is_initialized()  # a cluster it joined stays up
    assert second.complete and second.notes_done_before == 5 and second.shards_written == 3
    assert list(read_annotations(tmp_path)) == local_records


def live_actors(class_name_part: str) -> list:
    """Handles of the live actors whose class name holds ``class_name_part``, from the GCS's
    actor table (Ray's public state API needs the dashboard, which these tests do not start)."""
    from ray._private.state import actors

    core_worker = ray._private.worker.global_worker.core_worker
    return [
        core_worker.get_actor_handle(ray.ActorID.from_hex(actor["ActorID"]))
        for actor in actors().values()
        if class_name_part in actor["ActorClassName"] and actor["State"] == "ALIVE"
    ]


@pytest.fixture(scope="module")
def many_notes(notes_dir, tmp_path_factory):
    """Four copies of the test notes (68), and their records from an uninterrupted local run in shards of 2."""
    notes = tmp_path_factory.mktemp("many") / "notes"
    notes.mkdir()
    for copy in range(4):
        for path in notes_dir.glob("*.txt"):
            (notes / f"{copy}_{path.name}").write_bytes(path.read_bytes())
    return notes


@pytest.fixture(scope="module")
def many_records(relation_pipeline, many_notes, tmp_path_factory):
    output = tmp_path_factory.mktemp("many-local")
    run_annotation(relation_pipeline, many_notes, output, small_settings(shard_size=2, batch_size=1))
    return output_state(output)


def test_an_actor_killed_mid_run_loses_and_repeats_nothing(relation_pipeline, many_notes, many_records, tmp_path, ray_cluster):
    """``ray.kill`` of an actor once shards are committed: Ray Data restarts it and retries its
    unit; every note once, the records of the local backend."""
    outcome = {}

    def annotate():
        try:
            outcome["summary"] = run_annotation(relation_pipeline, many_notes, tmp_path,
                                                small_settings(backend="ray", workers=2, shard_size=2, batch_size=1))
        except BaseException as error:  # noqa: BLE001  (re-raised in the test's thread)
            outcome["error"] = error

    thread = threading.Thread(target=annotate)
    thread.start()
    deadline = time.monotonic() + CHILD_TIMEOUT
    while time.monotonic() < deadline and thread.is_alive():
        if (tmp_path / MANIFEST_NAME).exists() and len(manifest(tmp_path)["shards"]) >= 2:
            break
        time.sleep(0.02)
    actors = live_actors("MapWorker")
    assert actors and not manifest(tmp_path)["complete"], "the run ended before an actor could be killed"
    ray.kill(actors[0], no_restart=False)
    thread.join(CHILD_TIMEOUT)
    assert "error" not in outcome, outcome.get("error")
    summary = outcome["summary"]
    assert summary.complete and summary.notes_annotated + summary.notes_failed == 68
    assert len(summary.worker_peak_rss_mib) >= 2  # the killed actor's process and the one that took its place
    assert output_state(tmp_path) == many_records


def ray_processes(marker: str) -> list:
    """Pids of processes whose command line holds ``marker``."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and marker.encode() in (proc / "cmdline").read_bytes():
                pids.append(int(proc.name))
        except OSError:  # the process ended meanwhile
            continue
    return pids


def test_the_driver_killed_leaves_no_ray_process_and_the_rerun_resumes(relation_pipeline, many_notes, many_records, tmp_path):
    """The command's driver killed at a fail point after its third shard: the Ray instance it
    started goes with it, and a rerun on Ray resumes."""
    ray_dir = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths must fit 107 bytes
    try:
        command = annotate_command(relation_pipeline, many_notes, tmp_path / "out", "--backend", "ray", "--workers", "2",
                                   "--shard-size", "2", "--batch-size", "1")
        killed = subprocess.run(command, capture_output=True, text=True, timeout=CHILD_TIMEOUT,
                                env={**os.environ, "RAY_TMPDIR": ray_dir, FAIL_AT_ENV: "after-manifest:3"})
        assert killed.returncode == FAIL_EXIT_STATUS, killed.stderr[-2000:]
        assert len(manifest(tmp_path / "out")["shards"]) == 3
        deadline = time.monotonic() + 60
        while ray_processes(ray_dir) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not ray_processes(ray_dir), "processes of the killed driver's Ray instance are left"
    finally:
        shutil.rmtree(ray_dir, ignore_errors=True)
    summary = run_annotation(relation_pipeline, many_notes, tmp_path / "out",
                             small_settings(backend="ray", workers=2, shard_size=2, batch_size=1))
    assert summary.complete and summary.notes_done_before == 6
    assert output_state(tmp_path / "out") == many_records


def test_ray_actors_annotate_and_the_driver_writes_the_note_nlp_rows(relation_pipeline, notes_dir, local_records, tmp_path, ray_cluster):
    pytest.importorskip("duckdb")
    from clinical_ie.annotate.database import NoteNlpDatabase

    url = f"duckdb:///{tmp_path / 'warehouse.db'}"
    summary = run_annotation(
        relation_pipeline, notes_dir, tmp_path / "out", small_settings(backend="ray", workers=2, output_format="note_nlp", database=url)
    )
    assert summary.complete and str(os.getpid()) not in summary.worker_peak_rss_mib  # the actors annotated
    spans = sum(1 for record in local_records for entity in record["entities"])
    with NoteNlpDatabase(url) as database:  # the driver wrote every span once
        assert database.count() == spans == len(list(read_annotations(tmp_path / "out")))
