"""Constants and helpers of the annotation tests."""

import json
from pathlib import Path

from clinical_ie.annotate import AnnotationSettings
from clinical_ie.annotate.output import MANIFEST_NAME

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_NOTES = REPO_ROOT / "assets" / "sample" / "n2c2" / "test"
MAX_CHARS = 20_000
"""The note-length limit the tests run with: the sample notes are shorter, LONG_NOTE longer."""
LONG_NOTE = "aspirin 81 mg daily. " * 1000
BAD_NOTES = {
    "empty": (b"", "empty note"),
    "blank": (b" \n\t\n", "empty note"),
    "latin1": ("aspirin caf\u00e9".encode("latin-1"), "not UTF-8"),
    "long": (LONG_NOTE.encode("utf8"), f"too long: {len(LONG_NOTE)} characters, limit {MAX_CHARS}"),
}
"""File contents of notes that get an error record, and the error."""
SECRET = "Zebulon Quackenbush"
"""A name in one note: it must never reach a log line."""


def folder_notes(folder: Path) -> list:
    """``(id, raw bytes)`` of every ``.txt`` of ``folder``, by name."""
    return [(path.stem, path.read_bytes()) for path in sorted(folder.glob("*.txt"))]


def small_settings(**overrides) -> AnnotationSettings:
    """Settings of the tests: small batches and shards, the tests' length limit, every progress line."""
    return AnnotationSettings(**{"batch_size": 3, "shard_size": 5, "max_chars": MAX_CHARS, "log_every": 0, **overrides})


def manifest(output: Path) -> dict:
    """The ``manifest.json`` of an output folder."""
    return json.loads((output / MANIFEST_NAME).read_text(encoding="utf8"))
