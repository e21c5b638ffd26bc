"""Sharded, resumable annotation output: ``part-NNNNN.jsonl`` (or ``.parquet``, or ``.ndjson`` of
FHIR Bundles, or ``.parquet`` of NOTE_NLP rows), ``manifest.json`` and ``input-index.json``.

Shard ``k`` holds the records of input notes ``k * shard_size`` up to ``(k + 1) * shard_size``,
in input order (``note_nlp``: its notes' OMOP NOTE_NLP rows, :mod:`.note_nlp`, also written
into a database with ``database``, :mod:`.database`). :meth:`ShardedOutput._commit_shard` is the one place a shard enters the
output: its file is written whole to a temporary ``.partial`` file, flushed to disk and renamed
into place, then its brat files (``--brat``) the same way, and only then is it listed in the
manifest, itself replaced atomically: listing is the commit. So after a crash at any point
every shard the manifest lists is whole, and a rerun redoes exactly the others: each input id
ends up in exactly one record. :func:`manifest_complete` derives ``complete`` from the shards
listed, never from a stored flag; a rerun of a complete folder writes nothing.

The manifest says what the folder holds: the input (kind, number of notes, fingerprint: never
its path), the model (name, version), the format, ``shard_size``, ``max_chars``,
``confidence_threshold``, ``quantize``, ``brat``, ``fhir_base`` (the canonical base of the FHIR
extensions; null for other formats), ``shards_total``, ``shards``: one entry per
committed shard with its input range ``[start, end)``, file name, record and error counts,
size and SHA-256, and ``complete``. ``input-index.json`` holds the ids and byte digests of the
input's notes, written once, so that a rerun over a changed input says which notes were added,
removed or changed. A rerun refuses a folder made for another input or settings, or whose
manifest is damaged, unless ``restart``: then the previous run's files are removed first.

Writing fails cleanly when the disk is full (:class:`OutputError`, finished shards kept), and
the fail points of :mod:`.fail_points` sit at each step of a shard's commit.

With a database, a ``note_nlp`` shard's rows are committed to it (one transaction replacing the
rows of its notes) before its Parquet file is written and listed, so after a crash at any point
a shard is either listed with its rows in the table, or unlisted and redone by the rerun, its
rows replaced. A listed shard whose rows are no longer in the table is redone too. The
manifest's ``database`` is the dialect and a fingerprint of the URL (never the URL), and a
``note_nlp`` shard's entry has its ``rows`` and their ``note_nlp_ids`` ``[first, last]``.
"""

import errno
import fcntl
import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO, Callable, Dict, Iterator, List, Optional, Union

from .database import NoteNlpDatabase
from .fail_points import FailPoints
from .fhir import note_bundle
from .fhir_profiles import DEFAULT_FHIR_BASE, check_fhir_base
from .inputs import NoteIndex, input_changes
from .note_nlp import SOURCE_COLUMN, complete_rows, integer_note_id, note_nlp_arrow_schema
from .schema import record_arrow_schema
from .worker import UnitResult, WorkUnit

logger = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
INPUT_INDEX_NAME = "input-index.json"
LOCK_NAME = ".lock"
MANIFEST_VERSION = 4
"""2: records carry status, assertion, section and normalized attributes; ``quantize`` recorded.
3: ``brat`` recorded, ``input-index.json`` beside it, the input fingerprint over note digests.
4: medication records carry ``concept``; ``database`` recorded."""
FORMAT_SUFFIXES = {"jsonl": "jsonl", "parquet": "parquet", "fhir": "ndjson", "note_nlp": "parquet"}
"""Shard file name suffix of each output format (``fhir``: one FHIR Bundle per line; ``note_nlp``:
NOTE_NLP rows)."""
FORMATS = tuple(FORMAT_SUFFIXES)
BRAT_DIR_NAME = "brat"
PARTIAL_SUFFIX = ".partial"
SAFE_FILE_STEM = re.compile(r"^[^./\\\0][^/\\\0]{0,199}$")
"""A note id usable as a brat file name: no separator, no leading dot, at most 200 characters."""
COMPATIBILITY_KEYS = ("input", "model", "format", "shard_size", "max_chars", "confidence_threshold", "quantize", "brat",
                      "fhir_base", "database")
SHARD_ENTRY_KEYS = {"part": str, "start": int, "end": int, "records": int, "errors": int, "bytes": int, "sha256": str}
DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
RESTART_HINT = "pass --restart to annotate the whole input again into this folder, or choose another OUTPUT_DIR"


class OutputError(RuntimeError):
    """The output folder cannot take this run (another run's output, damaged, locked, disk full)."""


def part_name(shard: int, output_format: str) -> str:
    return f"part-{shard:05d}.{FORMAT_SUFFIXES[output_format]}"


def _sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _replace_atomically(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """``write`` into ``path.partial``, flush it to disk, rename it to ``path``.

    A failed write removes the partial file; a full disk raises :class:`OutputError`.
    """
    partial = path.with_name(path.name + PARTIAL_SUFFIX)
    try:
        with open(partial, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except BaseException as error:
        partial.unlink(missing_ok=True)
        if isinstance(error, OSError) and error.errno in DISK_FULL_ERRNOS:
            raise OutputError(
                f"no space left on the output disk while writing {path.name}: the finished shards are kept; "
                "free some space and run the same command again"
            ) from error
        raise


def load_manifest(output_dir: Path) -> dict:
    """The manifest of ``output_dir``; :class:`OutputError` if it is missing or damaged."""
    path = Path(output_dir) / MANIFEST_NAME
    try:
        manifest = json.loads(path.read_bytes().decode("utf8"))
    except FileNotFoundError:
        raise OutputError(f"the output folder has no {MANIFEST_NAME}: it holds no annotation output") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        reason = error.msg if isinstance(error, json.JSONDecodeError) else "not UTF-8"
        raise OutputError(f"{MANIFEST_NAME} of the output folder is damaged (not JSON: {reason}, truncated?)") from None
    if not _well_formed(manifest):
        raise OutputError(f"{MANIFEST_NAME} of the output folder is damaged (not an annotation manifest)")
    return manifest


def _well_formed(manifest: object) -> bool:
    """Whether ``manifest`` has the fields this module reads, with the right types."""
    if not isinstance(manifest, dict) or not isinstance(manifest.get("shards"), list):
        return False
    top = {"version": int, "input": dict, "format": str, "shard_size": int, "shards_total": int}
    if not all(isinstance(manifest.get(key), kind) for key, kind in top.items()):
        return False
    if not isinstance(manifest["input"].get("notes"), int) or manifest["shard_size"] < 1:
        return False
    return all(
        isinstance(entry, dict) and all(isinstance(entry.get(key), kind) for key, kind in SHARD_ENTRY_KEYS.items())
        for entry in manifest["shards"]
    )


def manifest_complete(manifest: dict) -> bool:
    """Whether the shards a manifest lists are every shard of its input, once each."""
    starts = [entry["start"] for entry in manifest["shards"]]
    return sorted(starts) == list(range(0, manifest["input"]["notes"], manifest["shard_size"]))


@dataclass
class ShardBuffer:
    """Records of one shard received so far, by note index."""

    start: int
    end: int
    records: Dict[int, str] = field(default_factory=dict)
    brat: list = field(default_factory=list)
    note_nlp: Dict[int, List[dict]] = field(default_factory=dict)

    @property
    def full(self) -> bool:
        return len(self.records) == self.end - self.start


class ShardedOutput:
    """The output folder of one annotation run: which shards are done, and committing the rest.

    A context manager: entering locks the folder (``.lock``, ``flock``: released by the system
    when the process dies) and resumes it; ``restart`` first removes a previous run's files.
    """

    def __init__(self, output_dir: Union[str, Path], index: NoteIndex, model: Dict[str, str], output_format: str = "jsonl",
                 shard_size: int = 1000, max_chars: int = 1_000_000, brat: bool = False, *,
                 confidence_threshold: float = 0.0, quantize: bool = False, fhir_base: str = DEFAULT_FHIR_BASE,
                 restart: bool = False, database: Optional[NoteNlpDatabase] = None):
        if output_format not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, not {output_format!r}")
        if shard_size < 1:
            raise ValueError("shard_size must be at least 1")
        if database is not None and output_format != "note_nlp":
            raise ValueError("a database takes NOTE_NLP rows: use the note_nlp format")
        self.output_dir = Path(output_dir)
        self.index = index
        self.format = output_format
        self.shard_size = shard_size
        self.brat = brat
        self.restart = restart
        self.database = database
        self.nlp_system = f"{model['name']} {model['version']}".strip()
        self.manifest = {
            "version": MANIFEST_VERSION,
            "input": {"kind": index.spec.kind, "notes": len(index), "fingerprint": index.fingerprint},
            "model": model,
            "format": output_format,
            "shard_size": shard_size,
            "max_chars": max_chars,
            "confidence_threshold": confidence_threshold,
            "quantize": quantize,
            "brat": brat,
            "fhir_base": check_fhir_base(fhir_base) if output_format == "fhir" else None,
            "database": None if database is None else database.identity(),
            "shards_total": -(-len(index) // shard_size),
            "shards": [],
            "complete": False,
        }
        self.buffers: Dict[int, ShardBuffer] = {}
        self.brat_skipped = 0
        self.fail_points = FailPoints.from_environment()
        self._lock = None

    def __enter__(self) -> "ShardedOutput":
        """Lock the folder against a second run, then resume it (see :meth:`_open`)."""
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.output_dir / LOCK_NAME, "w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise OutputError("another annotation run is writing to this output folder") from None
        try:
            self._open()
        except BaseException:
            self._unlock()
            raise
        return self

    def __exit__(self, exc_type, *exc_info) -> None:
        if exc_type is None:
            self.fail_points.reached("before-exit")
        self._unlock()

    def _unlock(self) -> None:
        fcntl.flock(self._lock, fcntl.LOCK_UN)
        self._lock.close()

    # --- resuming ---------------------------------------------------------------------------

    def _open(self) -> None:
        """Resume the folder: keep the intact shards a compatible manifest lists, or start it."""
        manifest_path = self.output_dir / MANIFEST_NAME
        if self.restart and manifest_path.exists():
            self._remove_previous_run()
        for partial in self._files(f"*{PARTIAL_SUFFIX}"):  # writes a killed run left unfinished
            partial.unlink()
        previous = None
        if manifest_path.exists():
            try:
                previous = load_manifest(self.output_dir)
            except OutputError as error:
                raise OutputError(f"{error}: {RESTART_HINT}") from None
            self._check_compatible(previous)
            self.manifest["shards"] = [entry for entry in previous["shards"] if self._intact(entry)]
        elif any(self.output_dir.glob("part-*")):  # never ours: the manifest is saved before any shard
            raise OutputError("the output folder holds part-* files but no manifest.json: choose another OUTPUT_DIR")
        if previous is None or self._saved_input_index() is None:
            self._save_input_index()
        if previous is None or previous["shards"] != self.manifest["shards"] or previous.get("complete") != self.complete:
            self._save_manifest()  # else unchanged: a rerun of a complete folder writes nothing

    def _files(self, pattern: str) -> List[Path]:
        """Files of the folder and of its brat folder matching ``pattern``."""
        return [*self.output_dir.glob(pattern), *(self.output_dir / BRAT_DIR_NAME).glob(pattern)]

    def _remove_previous_run(self) -> None:
        """Remove what an earlier run wrote: shards, brat files, the index, the manifest last
        (a crash in between leaves a manifest, so ``restart`` works again)."""
        parts = [path for suffix in FORMAT_SUFFIXES.values() for path in self.output_dir.glob(f"part-[0-9]*.{suffix}")]
        brat_dir = self.output_dir / BRAT_DIR_NAME
        for path in [*parts, *brat_dir.glob("*.txt"), *brat_dir.glob("*.ann")]:
            path.unlink()
        (self.output_dir / INPUT_INDEX_NAME).unlink(missing_ok=True)
        (self.output_dir / MANIFEST_NAME).unlink()
        logger.info("restart: removed the previous run's output (%d shard files)", len(parts))

    def _check_compatible(self, previous: dict) -> None:
        """:class:`OutputError` unless ``previous`` was made by this version for this input and settings."""
        if previous["version"] != MANIFEST_VERSION:
            raise OutputError(
                f"the output folder was written by another version of annotate (manifest version {previous['version']}, "
                f"this is {MANIFEST_VERSION}): {RESTART_HINT}"
            )
        if previous.get("input") != self.manifest["input"]:
            raise OutputError(f"{self._input_changes()}: {RESTART_HINT}")
        changed = [key for key in COMPATIBILITY_KEYS if previous.get(key) != self.manifest[key]]
        if changed:
            raise OutputError(f"the output folder holds annotations of another run (different {', '.join(changed)}): {RESTART_HINT}")

    def _input_changes(self) -> str:
        """What changed in the input since the folder was started, in words."""
        saved = self._saved_input_index()
        if saved is None or saved["kind"] != self.index.spec.kind:
            return "the output folder holds annotations of another input (different input)"
        changes = input_changes(saved["ids"], saved["digests"], self.index)
        return f"the input changed since this output folder was started (different input): {changes.describe()}"

    def _saved_input_index(self) -> Optional[dict]:
        """``input-index.json`` as saved, or None where it is missing or damaged."""
        try:
            saved = json.loads((self.output_dir / INPUT_INDEX_NAME).read_bytes().decode("utf8"))
        except (OSError, ValueError):
            return None
        well_formed = isinstance(saved, dict) and isinstance(saved.get("ids"), list) and isinstance(saved.get("digests"), list)
        return saved if well_formed and len(saved["ids"]) == len(saved["digests"]) else None

    def _save_input_index(self) -> None:
        data = json.dumps({"kind": self.index.spec.kind, "ids": self.index.ids, "digests": self.index.digests},
                          ensure_ascii=False).encode("utf8", "surrogateescape")
        _replace_atomically(self.output_dir / INPUT_INDEX_NAME, lambda handle: handle.write(data))

    def _intact(self, entry: dict) -> bool:
        """Whether a listed shard is the one this run would write, and its file has its size and SHA-256."""
        shard, offset = divmod(entry["start"], self.shard_size)
        expected = (offset == 0 and 0 <= shard < self.manifest["shards_total"] and entry["part"] == part_name(shard, self.format)
                    and entry["end"] == self.shard_range(shard).stop)
        path = self.output_dir / entry["part"]
        if (expected and path.is_file() and path.stat().st_size == entry["bytes"] and _sha256(path) == entry["sha256"]
                and self._rows_in_database(entry)):
            return True
        logger.warning("shard %s is missing or damaged: it will be annotated again", entry["part"])
        return False

    def _rows_in_database(self, entry: dict) -> bool:
        """Whether the database (if any) holds the rows a listed ``note_nlp`` shard wrote."""
        if self.database is None or not entry.get("rows"):
            return True
        first, last = entry["note_nlp_ids"]
        return self.database.rows_between(first, last) == entry["rows"]

    @property
    def done_shards(self) -> List[int]:
        return sorted(entry["start"] // self.shard_size for entry in self.manifest["shards"])

    @property
    def complete(self) -> bool:
        return manifest_complete(self.manifest)

    def pending_shards(self) -> List[int]:
        done = set(self.done_shards)
        return [shard for shard in range(self.manifest["shards_total"]) if shard not in done]

    def notes_done(self) -> int:
        return sum(entry["end"] - entry["start"] for entry in self.manifest["shards"])

    def work_units(self, shards: List[int], batch_size: int) -> Iterator[WorkUnit]:
        """The notes of ``shards`` in units of at most ``batch_size`` notes, none across shards."""
        for shard in shards:
            notes = self.shard_range(shard)
            start, end = notes.start, notes.stop
            for unit_start in range(start, end, batch_size):
                unit_end = min(unit_start + batch_size, end)
                yield WorkUnit(shard, unit_start, self.index.ids[unit_start:unit_end], self.index.locators[unit_start:unit_end])

    def shard_range(self, shard: int) -> range:
        start = shard * self.shard_size
        return range(start, min(start + self.shard_size, len(self.index)))

    # --- writing ----------------------------------------------------------------------------

    def add(self, result: UnitResult) -> Optional[dict]:
        """Take a unit's records; commit its shard when complete and return the shard's entry."""
        shard_range = self.shard_range(result.shard)
        buffer = self.buffers.setdefault(result.shard, ShardBuffer(shard_range.start, shard_range.stop))
        for offset, record in enumerate(result.records):
            buffer.records[result.start + offset] = record
        buffer.brat.extend(result.brat)
        for offset, rows in enumerate(result.note_nlp):
            buffer.note_nlp[result.start + offset] = rows
        if not buffer.full:
            return None
        del self.buffers[result.shard]
        return self._commit_shard(result.shard, buffer)

    def _commit_shard(self, shard: int, buffer: ShardBuffer) -> dict:
        """The one place a shard enters the output: its file, its brat files, then its manifest
        entry (the commit). The fail points of :mod:`.fail_points` are on this path."""
        self.fail_points.begin_shard()
        lines = [buffer.records[i] for i in range(buffer.start, buffer.end)]
        records = [json.loads(line) for line in lines]
        if [record["id"] for record in records] != self.index.ids[buffer.start : buffer.end]:
            raise RuntimeError(f"shard {shard}: records do not match the input ids")  # a bug, never a user error
        self.fail_points.reached("before-shard")
        path = self.output_dir / part_name(shard, self.format)
        note_nlp = None
        if self.format == "note_nlp":
            note_nlp = self._commit_note_nlp(buffer.start, [r["id"] for r in records],
                                             [buffer.note_nlp[i] for i in range(buffer.start, buffer.end)])
        self._write_part(path, lines, records, note_nlp)
        self.fail_points.reached("after-shard-rename")
        self._write_brat(buffer.brat)
        entry = {
            "part": path.name,
            "start": buffer.start,
            "end": buffer.end,
            "records": len(records),
            "errors": sum(record["error"] is not None for record in records),
            "bytes": path.stat().st_size,
            "sha256": _sha256(path),
        }
        if note_nlp is not None:
            entry["rows"] = len(note_nlp)
            entry["note_nlp_ids"] = [note_nlp[0]["note_nlp_id"], note_nlp[-1]["note_nlp_id"]] if note_nlp else None
        self.manifest["shards"] = sorted(self.manifest["shards"] + [entry], key=lambda e: e["start"])
        self._save_manifest("mid-manifest")
        self.fail_points.reached("after-manifest")
        for record in records:
            if record["error"] is not None:
                logger.warning("note %s not annotated: %s", record["id"], record["error"])
        return entry

    def _commit_note_nlp(self, start: int, ids: List[str], note_rows: List[List[dict]]) -> List[dict]:
        """The shard's full NOTE_NLP rows (with ``note_source_value``), committed to the database
        when there is one (fail point ``after-database-commit`` next). Without one, ids follow the
        largest listed so far, and a note id that is not an integer gets ``note_id`` = -(its input
        position + 1)."""
        written = datetime.now(timezone.utc).replace(tzinfo=None)
        if self.database is not None:
            rows = self.database.replace_shard(ids, note_rows, self.nlp_system, written)
            self.fail_points.reached("after-database-commit")
        else:
            next_id = 1 + max((entry["note_nlp_ids"][1] for entry in self.manifest["shards"] if entry.get("note_nlp_ids")), default=0)
            rows = []
            for position, (note_id, spans) in enumerate(zip(ids, note_rows), start=start):
                number = integer_note_id(note_id) or -(position + 1)
                rows += complete_rows(spans, number, next_id + len(rows), self.nlp_system, written)
        sources = [note_id for note_id, spans in zip(ids, note_rows) for _ in spans]
        return [{**row, SOURCE_COLUMN: source} for row, source in zip(rows, sources)]

    def _write_part(self, path: Path, lines: List[str], records: List[dict], note_nlp: Optional[List[dict]] = None) -> None:
        """The shard's file in the output format (``note_nlp``: the rows ``note_nlp``), replaced atomically."""
        if self.format in ("parquet", "note_nlp"):
            import pyarrow as pa
            import pyarrow.parquet as pq

            if note_nlp is not None:
                table = pa.Table.from_pylist(note_nlp, schema=note_nlp_arrow_schema())
            else:
                table = pa.Table.from_pylist(records, schema=record_arrow_schema())

            def write(handle: BinaryIO) -> None:
                pq.write_table(table, handle)
        else:
            if self.format == "fhir":
                lines = [json.dumps(note_bundle(record, self.manifest["fhir_base"]), ensure_ascii=False) for record in records]
            data = "".join(line + "\n" for line in lines).encode("utf8")

            def write(handle: BinaryIO) -> None:
                handle.write(data)
        _replace_atomically(path, lambda handle: write(self.fail_points.writer(handle, "mid-shard", "disk-full")))

    def _write_brat(self, notes: list) -> None:
        if not self.brat:
            return
        brat_dir = self.output_dir / BRAT_DIR_NAME
        brat_dir.mkdir(exist_ok=True)
        for note_id, text, ann in notes:
            if not SAFE_FILE_STEM.match(note_id):
                self.brat_skipped += 1
                logger.warning("note %s: id is not a safe file name, no brat files written", note_id)
                continue
            text_data, ann_data = text.encode("utf8"), ann.encode("utf8")
            _replace_atomically(brat_dir / f"{note_id}.txt", lambda handle: handle.write(text_data))
            _replace_atomically(brat_dir / f"{note_id}.ann",
                                lambda handle: self.fail_points.writer(handle, "mid-brat").write(ann_data))

    def _save_manifest(self, fail_point: Optional[str] = None) -> None:
        """Replace the manifest atomically, ``complete`` derived from the shards it lists."""
        self.manifest["complete"] = self.complete
        data = json.dumps(self.manifest, indent=2).encode("utf8")
        fail_points = (fail_point,) if fail_point else ()
        _replace_atomically(self.output_dir / MANIFEST_NAME, lambda handle: self.fail_points.writer(handle, *fail_points).write(data))


def read_annotations(output_dir: Union[str, Path], allow_incomplete: bool = False) -> Iterator[dict]:
    """The records of an output folder, in input order, from the shards its manifest lists
    (for the ``fhir`` format, the notes' Bundles; for ``note_nlp``, the NOTE_NLP rows).

    Raises :class:`OutputError` when the manifest is missing or damaged, or the run is not
    complete, unless ``allow_incomplete``.
    """
    output_dir = Path(output_dir)
    manifest = load_manifest(output_dir)
    if not manifest_complete(manifest) and not allow_incomplete:
        raise OutputError(
            f"annotation incomplete: {len(manifest['shards'])} of {manifest['shards_total']} shards; run the command again"
        )
    for entry in manifest["shards"]:
        path = output_dir / entry["part"]
        if manifest["format"] in ("jsonl", "fhir"):
            with open(path, encoding="utf8") as jsonl:
                yield from (json.loads(line) for line in jsonl)
        else:
            import pyarrow.parquet as pq

            yield from pq.read_table(path).to_pylist()
