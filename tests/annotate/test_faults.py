"""Fault injection: a run killed at every fail point of the output code (``os._exit`` in a child
process), in every format, with and without brat files, then rerun: every note exactly once,
the records and files of an uninterrupted run, no stray ``.partial`` file. And the bad states:
a damaged manifest or shard, a changed input, a full disk, a second run on the folder."""

import logging
import os
import shutil
import subprocess
import time

import pytest
import spacy

from clinical_ie.annotate import OutputError, read_annotations, run_annotation, scan_input
from clinical_ie.annotate.fail_points import DATABASE_POINTS, FAIL_AT_ENV, FAIL_EXIT_STATUS, FAIL_POINTS
from clinical_ie.annotate.output import FORMAT_SUFFIXES, FORMATS, MANIFEST_NAME, PARTIAL_SUFFIX
from tests.util import (
    CHILD_TIMEOUT, annotate_command, annotate_in_child, folder_notes, hold_output_folder, manifest, output_state, run_child,
    small_settings, start_child,
)

KILLED_AT_SHARD = 3
"""The fail points fire in the third shard a run commits (shards of 2 notes: notes 4 and 5,
``long`` and ``sample_0001``, the first note with brat files after the shard's errors)."""
REPLAYED_FORMATS = tuple(f for f in FORMATS if f != "note_nlp")
"""Formats whose rerun writes the bytes of an uninterrupted run (NOTE_NLP rows carry the time
they were written: tests/annotate/test_note_nlp.py kills those runs, with their database)."""
KILLS = [
    (point, output_format, brat)
    for point in FAIL_POINTS if point != "disk-full" and point not in DATABASE_POINTS
    for output_format in REPLAYED_FORMATS
    for brat in (False, True) if brat or point != "mid-brat"
]


FAULT_OPTIONS = ("--shard-size", "2", "--batch-size", "1")


def fault_settings(output_format: str = "jsonl", brat: bool = False, **overrides):
    """Shards of 2 notes, units of 1 note (the command line's :data:`FAULT_OPTIONS`)."""
    return small_settings(shard_size=2, batch_size=1, output_format=output_format, brat=brat, **overrides)


@pytest.fixture(scope="module")
def nlp(relation_pipeline):
    """The tests' pipeline loaded once, for the reruns in this process."""
    return spacy.load(relation_pipeline)


@pytest.fixture(scope="module")
def uninterrupted(nlp, notes_dir, tmp_path_factory):
    """``uninterrupted(format, brat)``: :func:`output_state` of a run nothing stopped."""
    states = {}

    def state(output_format: str, brat: bool) -> dict:
        if (output_format, brat) not in states:
            output = tmp_path_factory.mktemp(f"uninterrupted-{output_format}-{brat}")
            assert run_annotation(nlp, notes_dir, output, fault_settings(output_format, brat)).complete
            states[output_format, brat] = output_state(output)
        return states[output_format, brat]

    return state


def left_after_kill(point: str, output_format: str) -> tuple:
    """Shards the manifest lists, and the ``.partial`` files, after a kill at ``point``."""
    partial = {
        "mid-shard": f"part-{KILLED_AT_SHARD - 1:05d}.{FORMAT_SUFFIXES[output_format]}{PARTIAL_SUFFIX}",
        "mid-brat": f"brat/sample_0001.ann{PARTIAL_SUFFIX}",
        "mid-manifest": f"{MANIFEST_NAME}{PARTIAL_SUFFIX}",
    }
    listed = {"after-manifest": KILLED_AT_SHARD, "before-exit": 9}.get(point, KILLED_AT_SHARD - 1)
    return listed, [partial[point]] if point in partial else []


def record_ids(records, output_format: str) -> list:
    return [record["identifier"]["value"] if output_format == "fhir" else record["id"] for record in records]


@pytest.mark.parametrize(("point", "output_format", "brat"), KILLS,
                         ids=[f"{p}-{f}{'-brat' if b else ''}" for p, f, b in KILLS])
def test_killed_at_a_fail_point_the_rerun_writes_every_note_once(
    point, output_format, brat, relation_pipeline, nlp, notes_dir, uninterrupted, tmp_path
):
    settings = fault_settings(output_format, brat)
    status = run_child(annotate_in_child, str(relation_pipeline), str(notes_dir), str(tmp_path), settings,
                       f"{point}:{KILLED_AT_SHARD}")
    assert status == FAIL_EXIT_STATUS, "the fail point did not fire"
    listed, partials = left_after_kill(point, output_format)
    assert len(manifest(tmp_path)["shards"]) == listed
    assert sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob(f"*{PARTIAL_SUFFIX}")) == partials
    if point == "after-shard-rename":
        assert (tmp_path / f"part-{KILLED_AT_SHARD - 1:05d}.{FORMAT_SUFFIXES[output_format]}").is_file()

    summary = run_annotation(nlp, notes_dir, tmp_path, settings)
    assert summary.complete and summary.notes_done_before == min(2 * listed, 17)
    assert summary.already_complete == (point == "before-exit")
    assert not list(tmp_path.rglob(f"*{PARTIAL_SUFFIX}"))
    state = output_state(tmp_path)
    assert record_ids(state["records"], output_format) == [note_id for note_id, _ in folder_notes(notes_dir)]
    assert state == uninterrupted(output_format, brat)


def test_the_command_killed_at_a_fail_point_leaves_no_worker_and_resumes(relation_pipeline, nlp, notes_dir, uninterrupted, tmp_path):
    """The environment variable through the command line, with two worker processes: the
    driver killed, its workers end with it (else they would hold its output pipes open and
    ``subprocess.run`` would wait for them), and the rerun finishes."""
    command = annotate_command(relation_pipeline, notes_dir, tmp_path, *FAULT_OPTIONS, "--workers", "2", "--brat")
    killed = subprocess.run(command, capture_output=True, text=True, env={**os.environ, FAIL_AT_ENV: "after-manifest:4"},
                            timeout=CHILD_TIMEOUT)
    assert killed.returncode == FAIL_EXIT_STATUS, killed.stderr
    assert len(manifest(tmp_path)["shards"]) == 4
    summary = run_annotation(nlp, notes_dir, tmp_path, fault_settings(brat=True))
    assert summary.complete and summary.notes_done_before == 8
    assert output_state(tmp_path) == uninterrupted("jsonl", True)


def test_a_bad_fail_point_is_refused(nlp, notes_dir, tmp_path, monkeypatch):
    monkeypatch.setenv(FAIL_AT_ENV, "mid-shrad:2")
    with pytest.raises(ValueError, match="expected POINT or POINT:N"):
        run_annotation(nlp, notes_dir, tmp_path, fault_settings())


# --- bad states ------------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["truncated", "not-json", "not-a-manifest"])
def test_a_damaged_manifest_is_a_clear_error_and_restart_recovers(damage, nlp, notes_dir, uninterrupted, tmp_path):
    run_annotation(nlp, notes_dir, tmp_path, fault_settings(max_shards=3))
    path = tmp_path / MANIFEST_NAME
    data = path.read_bytes()
    path.write_bytes({"truncated": data[: len(data) // 2], "not-json": b"\x00\xff garbage", "not-a-manifest": b"[1, 2]"}[damage])
    damaged = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    with pytest.raises(OutputError, match=r"manifest.json of the output folder is damaged .*--restart"):
        run_annotation(nlp, notes_dir, tmp_path, fault_settings())
    with pytest.raises(OutputError, match="manifest.json of the output folder is damaged"):
        list(read_annotations(tmp_path))
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == damaged  # nothing touched
    assert run_annotation(nlp, notes_dir, tmp_path, fault_settings(restart=True)).notes_done_before == 0
    assert output_state(tmp_path) == uninterrupted("jsonl", False)


def test_a_shard_whose_checksum_fails_is_annotated_again(nlp, notes_dir, uninterrupted, tmp_path, caplog):
    run_annotation(nlp, notes_dir, tmp_path, fault_settings())
    part = tmp_path / "part-00004.jsonl"
    data = bytearray(part.read_bytes())
    data[10] ^= 1  # same size, another SHA-256
    part.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING):
        summary = run_annotation(nlp, notes_dir, tmp_path, fault_settings())
    assert "shard part-00004.jsonl is missing or damaged: it will be annotated again" in caplog.text
    assert summary.shards_written == 1 and summary.notes_done_before == 15
    assert output_state(tmp_path) == uninterrupted("jsonl", False)


def test_a_changed_input_is_named_and_refused_unless_restart(nlp, relation_pipeline, notes_dir, tmp_path):
    notes = tmp_path / "notes"
    shutil.copytree(notes_dir, notes)
    output = tmp_path / "out"
    run_annotation(nlp, notes, output, fault_settings(max_shards=2))
    (notes / "sample_0003.txt").unlink()
    (notes / "sample_0005.txt").write_bytes((notes / "sample_0005.txt").read_bytes() + b"\nAspirin 81 mg daily.")
    (notes / "added_note.txt").write_bytes(b"Metoprolol 25 mg twice a day.")
    expected = ("the input changed since this output folder was started (different input): 1 note(s) added "
                "('added_note'); 1 note(s) removed ('sample_0003'); 1 note(s) changed ('sample_0005'): pass --restart")
    with pytest.raises(OutputError) as error:
        run_annotation(nlp, notes, output, fault_settings())
    assert str(error.value).startswith(expected)
    command = annotate_command(relation_pipeline, notes, output, *FAULT_OPTIONS)
    refused = subprocess.run(command, capture_output=True, text=True, timeout=CHILD_TIMEOUT)
    assert refused.returncode == 2 and expected in refused.stderr
    assert len(manifest(output)["shards"]) == 2  # kept as they were
    restarted = subprocess.run(command + ["--restart"], capture_output=True, text=True, timeout=CHILD_TIMEOUT)
    assert restarted.returncode == 0, restarted.stderr
    reference = tmp_path / "reference"
    run_annotation(nlp, notes, reference, fault_settings())
    assert output_state(output) == output_state(reference)


@pytest.mark.parametrize("output_format", REPLAYED_FORMATS)
def test_a_full_disk_is_a_clear_error_and_the_rerun_completes(output_format, nlp, notes_dir, uninterrupted, tmp_path, monkeypatch):
    monkeypatch.setenv(FAIL_AT_ENV, f"disk-full:{KILLED_AT_SHARD}")
    part = f"part-{KILLED_AT_SHARD - 1:05d}.{FORMAT_SUFFIXES[output_format]}"
    with pytest.raises(OutputError, match=f"no space left on the output disk while writing {part}: the finished shards are kept"):
        run_annotation(nlp, notes_dir, tmp_path, fault_settings(output_format))
    assert len(manifest(tmp_path)["shards"]) == KILLED_AT_SHARD - 1
    assert not (tmp_path / part).exists() and not list(tmp_path.rglob(f"*{PARTIAL_SUFFIX}"))
    monkeypatch.delenv(FAIL_AT_ENV)
    assert run_annotation(nlp, notes_dir, tmp_path, fault_settings(output_format)).complete
    assert output_state(tmp_path) == uninterrupted(output_format, False)


def test_the_lock_keeps_a_second_process_out_until_the_first_dies(relation_pipeline, nlp, notes_dir, uninterrupted, tmp_path):
    output, ready = tmp_path / "out", tmp_path / "ready"
    holder = start_child(hold_output_folder, str(relation_pipeline), str(notes_dir), str(output), str(ready))
    try:
        deadline = time.monotonic() + CHILD_TIMEOUT
        while not ready.exists() and holder.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists(), "the child process did not lock the folder"
        with pytest.raises(OutputError, match="another annotation run is writing to this output folder"):
            run_annotation(nlp, notes_dir, output, fault_settings())
    finally:
        holder.kill()  # SIGKILL: the lock goes with the process
        holder.join()
    assert run_annotation(nlp, notes_dir, output, fault_settings()).complete
    assert output_state(output) == uninterrupted("jsonl", False)
