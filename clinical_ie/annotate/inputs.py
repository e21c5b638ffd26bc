"""Notes to annotate: a folder of ``.txt`` files, a JSON Lines file or a Parquet file.

:func:`scan_input` runs once, in the driver: it lists every note as an ``(id, locator)`` pair
in a fixed order (file name; line; row), checks that ids are present and unique, and
digests every note's bytes (the file, the JSON line, the Parquet text) so that a resumed run
can tell which notes were added, removed or changed since (:func:`input_changes`). Structural problems
(a line that is not a JSON object, a missing or duplicate id) stop the run before any work,
with file and line. Texts are read later, by the workers, through :class:`NoteReader`; a note
whose text cannot be used (missing, not UTF-8, empty, too long) raises :class:`NoteError`,
whose ``reason`` becomes the note's ``error`` and never contains note text.
"""

import bisect
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple, Union

Locator = Union[str, int]
"""Where a note is: a file name (folder), a byte offset (JSON Lines), a row number (Parquet)."""

INPUT_KINDS = ("folder", "jsonl", "parquet")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
PARQUET_SUFFIXES = (".parquet", ".pq")
DEFAULT_MAX_CHARS = 1_000_000
"""The default note-length limit, in characters: spaCy's ``nlp.max_length``."""
MAX_REPORTED_PROBLEMS = 20


class InputError(ValueError):
    """The input cannot be annotated as a whole (unknown kind, bad line, duplicate id)."""


class NoteError(Exception):
    """One note cannot be annotated; ``reason`` is short and holds no note text."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class InputSpec:
    """An input: its ``kind`` (one of :data:`INPUT_KINDS`) and absolute ``path``."""

    kind: str
    path: str

    @classmethod
    def from_path(cls, path: Union[str, Path]) -> "InputSpec":
        path = Path(path).resolve()
        if path.is_dir():
            return cls("folder", str(path))
        if not path.is_file():
            raise InputError(f"{path.name}: no such file or folder")
        suffix = path.suffix.lower()
        if suffix in JSONL_SUFFIXES:
            return cls("jsonl", str(path))
        if suffix in PARQUET_SUFFIXES:
            return cls("parquet", str(path))
        raise InputError(
            f"{path.name}: expected a folder of .txt notes, a JSON Lines file ({', '.join(JSONL_SUFFIXES)}) "
            f"or a Parquet file ({', '.join(PARQUET_SUFFIXES)})"
        )

    def describe(self) -> str:
        """The kind of input in words (no path: paths may name patients)."""
        return {"folder": "folder of .txt notes", "jsonl": "JSON Lines file", "parquet": "Parquet file"}[self.kind]


@dataclass
class NoteIndex:
    """Every note of an input, in order: ``ids[i]`` is read from ``locators[i]`` and its bytes
    digest to ``digests[i]``; ``fingerprint`` digests the kind, ids and digests in order."""

    spec: InputSpec
    ids: List[str]
    locators: List[Locator]
    digests: List[str]
    ignored_files: int = 0

    def __post_init__(self):
        digest = hashlib.sha256(self.spec.kind.encode())
        for note_id, note_digest in zip(self.ids, self.digests):
            digest.update(f"\0{note_id}\t{note_digest}".encode("utf8", "surrogateescape"))
        self.fingerprint = digest.hexdigest()

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class InputChanges:
    """How an input differs from an earlier scan of it: ids added, removed, changed (other
    bytes), and whether the notes they share are in another order."""

    added: List[str]
    removed: List[str]
    changed: List[str]
    reordered: bool

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed or self.reordered)

    def describe(self, shown: int = 5) -> str:
        """The changes in words, naming at most ``shown`` ids of each kind (ids, never text)."""

        def named(ids: List[str]) -> str:
            more = f", ... {len(ids) - shown} more" if len(ids) > shown else ""
            return ", ".join(repr(note_id) for note_id in ids[:shown]) + more

        parts = [f"{len(ids)} note(s) {kind} ({named(ids)})"
                 for kind, ids in (("added", self.added), ("removed", self.removed), ("changed", self.changed)) if ids]
        if self.reordered:
            parts.append("the notes are in another order")
        return "; ".join(parts)


def input_changes(before_ids: List[str], before_digests: List[str], index: NoteIndex) -> InputChanges:
    """What changed from an earlier scan (its ids and digests) to ``index``."""
    before = dict(zip(before_ids, before_digests))
    now = dict(zip(index.ids, index.digests))
    shared = [note_id for note_id in index.ids if note_id in before]
    return InputChanges(
        added=[note_id for note_id in index.ids if note_id not in before],
        removed=[note_id for note_id in before_ids if note_id not in now],
        changed=[note_id for note_id in shared if before[note_id] != now[note_id]],
        reordered=shared != [note_id for note_id in before_ids if note_id in now],
    )


def scan_input(path: Union[str, Path]) -> NoteIndex:
    """List the notes of the input at ``path``; raises :class:`InputError` on structural problems."""
    spec = InputSpec.from_path(path)
    scan = {"folder": _scan_folder, "jsonl": _scan_jsonl, "parquet": _scan_parquet}[spec.kind]
    return scan(spec)


def note_digest(data: bytes) -> str:
    """Digest of a note's bytes (what the index compares between runs)."""
    return hashlib.blake2b(data, digest_size=12).hexdigest()


def _file_digest(path: str) -> str:
    with open(path, "rb") as note_file:
        return hashlib.file_digest(note_file, lambda: hashlib.blake2b(digest_size=12)).hexdigest()


def _raise_problems(name: str, problems: List[str]) -> None:
    if problems:
        shown = "\n".join(f"  {name}:{problem}" for problem in problems[:MAX_REPORTED_PROBLEMS])
        more = len(problems) - MAX_REPORTED_PROBLEMS
        raise InputError(
            f"{len(problems)} problem(s) in the input, nothing annotated:\n{shown}"
            + (f"\n  ... and {more} more" if more > 0 else "")
        )


def _scan_folder(spec: InputSpec) -> NoteIndex:
    notes, ignored = [], 0
    with os.scandir(spec.path) as entries:
        for entry in entries:
            if entry.name.endswith(".txt") and entry.is_file():
                notes.append(entry.name)
            else:
                ignored += 1
    notes.sort()
    ids = [name[: -len(".txt")] for name in notes]
    digests = [_file_digest(os.path.join(spec.path, name)) for name in notes]
    return NoteIndex(spec, ids, notes, digests, ignored)


def _note_id(value: object) -> Optional[str]:
    """A note id as text: a non-empty string, or an integer; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value:
        return value
    return None


def _scan_jsonl(spec: InputSpec) -> NoteIndex:
    ids, offsets, digests, problems = [], [], [], []
    first_line = {}
    offset = 0
    with open(spec.path, "rb") as jsonl:
        for line_number, line in enumerate(jsonl, start=1):
            line_offset, offset = offset, offset + len(line)
            if not line.strip():
                continue
            try:
                value = json.loads(line.decode("utf8", "surrogateescape"))
            except json.JSONDecodeError as error:
                problems.append(f"{line_number}: not JSON ({error.msg}, column {error.colno})")
                continue
            if not isinstance(value, dict):
                problems.append(f"{line_number}: expected a JSON object with 'id' and 'text'")
                continue
            note_id = _note_id(value.get("id"))
            if note_id is None:
                problems.append(f"{line_number}: 'id' missing or not a non-empty string or integer")
                continue
            if note_id in first_line:
                problems.append(f"{line_number}: duplicate id {note_id!r} (first on line {first_line[note_id]})")
                continue
            first_line[note_id] = line_number
            ids.append(note_id)
            offsets.append(line_offset)
            digests.append(note_digest(line))
    _raise_problems(Path(spec.path).name, problems)
    return NoteIndex(spec, ids, offsets, digests)


def _parquet():
    try:
        import pyarrow.parquet
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise InputError("Parquet input and output need pyarrow: pip install 'clinical-ie[parquet]'") from error
    return pyarrow.parquet


def _scan_parquet(spec: InputSpec) -> NoteIndex:
    parquet_file = _parquet().ParquetFile(spec.path)
    name = Path(spec.path).name
    columns = set(parquet_file.schema_arrow.names)
    missing = [column for column in ("id", "text") if column not in columns]
    if missing:
        raise InputError(f"{name}: no column {' or '.join(repr(c) for c in missing)} (columns: {sorted(columns)})")
    ids, problems, first_row = [], [], {}
    for row, value in enumerate(parquet_file.read(columns=["id"]).column("id").to_pylist()):
        note_id = _note_id(value.decode("utf8", "surrogateescape") if isinstance(value, bytes) else value)
        if note_id is None:
            problems.append(f"row {row}: 'id' missing or not a non-empty string or integer")
        elif note_id in first_row:
            problems.append(f"row {row}: duplicate id {note_id!r} (first in row {first_row[note_id]})")
        else:
            first_row[note_id] = row
            ids.append(note_id)
    _raise_problems(name, problems)
    digests = []
    for group in range(parquet_file.num_row_groups):  # one row group's texts in memory at a time
        for text in parquet_file.read_row_group(group, columns=["text"]).column("text").to_pylist():
            data = text if isinstance(text, bytes) else b"\0" if text is None else str(text).encode("utf8", "surrogatepass")
            digests.append(note_digest(data))
    return NoteIndex(spec, ids, list(range(len(ids))), digests)


def decode_note(data: bytes) -> str:
    """UTF-8 bytes as text, a leading byte-order mark removed; :class:`NoteError` if not UTF-8."""
    try:
        text = data.decode("utf8")
    except UnicodeDecodeError as error:
        raise NoteError(f"not UTF-8 (byte {error.start})") from None
    return text[1:] if text.startswith("\ufeff") else text


def checked_text(text: str, max_chars: int) -> str:
    """``text`` if it can be annotated, else :class:`NoteError` (empty, too long, not Unicode)."""
    try:
        text.encode("utf8")
    except UnicodeEncodeError as error:
        raise NoteError(f"not UTF-8 (character {error.start})") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise NoteError("empty note")
    if len(text) > max_chars:
        raise NoteError(f"too long: {len(text)} characters, limit {max_chars}")
    return text


class NoteReader:
    """Reads note texts by locator; one per worker process."""

    def __init__(self, spec: InputSpec, max_chars: int = DEFAULT_MAX_CHARS):
        self.spec = spec
        self.max_chars = max_chars
        self._row_group: Tuple[int, list] = (-1, [])
        self._row_group_starts: List[int] = []
        if spec.kind == "parquet":
            self._parquet_file = _parquet().ParquetFile(spec.path)
            starts, total = [], 0
            for group in range(self._parquet_file.num_row_groups):
                starts.append(total)
                total += self._parquet_file.metadata.row_group(group).num_rows
            self._row_group_starts = starts

    def read(self, locator: Locator) -> str:
        """The checked text of the note at ``locator`` (see :func:`checked_text`)."""
        read = {"folder": self._read_file, "jsonl": self._read_line, "parquet": self._read_row}[self.spec.kind]
        return checked_text(read(locator), self.max_chars)

    def _read_file(self, name: str) -> str:
        path = os.path.join(self.spec.path, name)
        size = os.path.getsize(path)
        if size > 4 * self.max_chars + 3:  # more characters than the limit, whatever the encoding
            raise NoteError(f"too long: {size} bytes, limit {self.max_chars} characters")
        with open(path, "rb") as note_file:
            return decode_note(note_file.read())

    def _read_line(self, offset: int) -> str:
        with open(self.spec.path, "rb") as jsonl:
            jsonl.seek(offset)
            value = json.loads(jsonl.readline().decode("utf8", "surrogateescape"))
        return self._text_value(value.get("text"))

    def _read_row(self, row: int) -> str:
        group = bisect.bisect_right(self._row_group_starts, row) - 1
        if self._row_group[0] != group:
            texts = self._parquet_file.read_row_group(group, columns=["text"]).column("text").to_pylist()
            self._row_group = (group, texts)
        return self._text_value(self._row_group[1][row - self._row_group_starts[group]])

    @staticmethod
    def _text_value(value: object) -> str:
        if value is None:
            raise NoteError("missing text")
        if isinstance(value, bytes):
            return decode_note(value)
        if not isinstance(value, str):
            raise NoteError(f"text is a {type(value).__name__}, not a string")
        return value
