"""Fixtures of the annotation tests: sample notes with bad notes among them, in all three input forms."""

import json
import shutil
from pathlib import Path

import pytest
from tests.util import BAD_NOTES, SAMPLE_NOTES, SECRET, folder_notes

@pytest.fixture(scope="session")
def notes_dir(tmp_path_factory) -> Path:
    """The 12 sample test notes, a note with a byte-order mark and a secret name, and the bad notes."""
    folder = tmp_path_factory.mktemp("notes") / "notes"
    shutil.copytree(SAMPLE_NOTES, folder, ignore=shutil.ignore_patterns("*.ann"))
    (folder / "bom.txt").write_bytes(f"\ufeff{SECRET} takes Aspirin 81 mg daily".encode("utf8"))
    for name, (content, _) in BAD_NOTES.items():
        (folder / f"{name}.txt").write_bytes(content)
    return folder


@pytest.fixture(scope="session")
def notes_jsonl(notes_dir, tmp_path_factory) -> Path:
    """The notes of ``notes_dir`` as JSON Lines (the non-UTF-8 note as raw bytes inside its line)."""
    path = tmp_path_factory.mktemp("jsonl") / "notes.jsonl"
    with open(path, "wb") as jsonl:
        for note_id, data in folder_notes(notes_dir):
            try:
                line = json.dumps({"id": note_id, "text": data.decode("utf8")}).encode("utf8")
            except UnicodeDecodeError:
                line = b'{"id": "%s", "text": "%s"}' % (note_id.encode(), data)
            jsonl.write(line + b"\n")
    return path


@pytest.fixture(scope="session")
def notes_parquet(notes_dir, tmp_path_factory) -> Path:
    """The notes of ``notes_dir`` as Parquet with a binary ``text`` column, in row groups of 5."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path_factory.mktemp("parquet") / "notes.parquet"
    notes = folder_notes(notes_dir)
    table = pa.table({"id": [n for n, _ in notes], "text": pa.array([d for _, d in notes], pa.binary())})
    pq.write_table(table, path, row_group_size=5)
    return path
