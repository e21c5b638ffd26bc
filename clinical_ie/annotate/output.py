"""Sharded, resumable annotation output: ``part-NNNNN.jsonl`` (or ``.parquet``, or ``.ndjson`` of
FHIR Bundles) and ``manifest.json``.

Shard ``k`` holds the records of input notes ``k * shard_size`` up to ``(k + 1) * shard_size``,
in input order. A shard is written whole to a temporary file, flushed to disk and renamed into
place; only then is it added to the manifest, which is itself replaced atomically. So after a
crash every shard the manifest lists is complete, and a rerun redoes exactly the others: each
input id ends up in exactly one record. A rerun refuses an output folder whose manifest was made
for another input, model, format, shard size, length limit or confidence threshold.

The manifest (``manifest.json``) says what the folder holds: the input (kind, number of notes,
fingerprint: never its path), the model (name, version), the format, ``shard_size``,
``max_chars``, ``confidence_threshold``, ``quantize``, ``fhir_base`` (the canonical base of the FHIR
extensions; null for other formats), ``shards_total``, ``shards``: one entry per complete
shard with its input range
``[start, end)``, file name, record and error counts, size and SHA-256, and ``complete``.
"""

import fcntl
import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable, Dict, Iterator, List, Optional, Union

from .fhir import note_bundle
from .fhir_profiles import DEFAULT_FHIR_BASE, check_fhir_base
from .inputs import NoteIndex
from .schema import record_arrow_schema
from .worker import UnitResult, WorkUnit

logger = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
LOCK_NAME = ".lock"
MANIFEST_VERSION = 2
"""2: records carry status, assertion, section and normalized attributes; ``quantize`` recorded."""
FORMAT_SUFFIXES = {"jsonl": "jsonl", "parquet": "parquet", "fhir": "ndjson"}
"""Shard file name suffix of each output format (``fhir``: one FHIR Bundle per line)."""
FORMATS = tuple(FORMAT_SUFFIXES)
BRAT_DIR_NAME = "brat"
SAFE_FILE_STEM = re.compile(r"^[^./\\\0][^/\\\0]{0,199}$")
"""A note id usable as a brat file name: no separator, no leading dot, at most 200 characters."""
COMPATIBILITY_KEYS = ("input", "model", "format", "shard_size", "max_chars", "confidence_threshold", "quantize", "fhir_base")


class OutputError(RuntimeError):
    """The output folder cannot take this run (it holds another run's output)."""


def part_name(shard: int, output_format: str) -> str:
    return f"part-{shard:05d}.{FORMAT_SUFFIXES[output_format]}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _replace_atomically(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """``write`` into a temporary file beside ``path``, flush it to disk, rename it to ``path``."""
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


@dataclass
class ShardBuffer:
    """Records of one shard received so far, by note index."""

    start: int
    end: int
    records: Dict[int, str] = field(default_factory=dict)
    brat: list = field(default_factory=list)

    @property
    def full(self) -> bool:
        return len(self.records) == self.end - self.start


class ShardedOutput:
    """The output folder of one annotation run: which shards are done, and writing the rest.

    A context manager: entering locks the folder (``.lock``, ``flock``) and resumes it.
    """

    def __init__(self, output_dir: Union[str, Path], index: NoteIndex, model: Dict[str, str], output_format: str = "jsonl",
                 shard_size: int = 1000, max_chars: int = 1_000_000, brat: bool = False, *,
                 confidence_threshold: float = 0.0, quantize: bool = False, fhir_base: str = DEFAULT_FHIR_BASE):
        if output_format not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, not {output_format!r}")
        if shard_size < 1:
            raise ValueError("shard_size must be at least 1")
        self.output_dir = Path(output_dir)
        self.index = index
        self.format = output_format
        self.shard_size = shard_size
        self.brat = brat
        self.manifest = {
            "version": MANIFEST_VERSION,
            "input": {"kind": index.spec.kind, "notes": len(index), "fingerprint": index.fingerprint},
            "model": model,
            "format": output_format,
            "shard_size": shard_size,
            "max_chars": max_chars,
            "confidence_threshold": confidence_threshold,
            "quantize": quantize,
            "fhir_base": check_fhir_base(fhir_base) if output_format == "fhir" else None,
            "shards_total": -(-len(index) // shard_size),
            "shards": [],
            "complete": False,
        }
        self.buffers: Dict[int, ShardBuffer] = {}
        self.brat_skipped = 0
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
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        fcntl.flock(self._lock, fcntl.LOCK_UN)
        self._lock.close()

    # --- resuming ---------------------------------------------------------------------------

    def _open(self) -> None:
        for partial in self.output_dir.glob("*.partial"):
            partial.unlink()
        manifest_path = self.output_dir / MANIFEST_NAME
        if manifest_path.exists():
            previous = json.loads(manifest_path.read_text(encoding="utf8"))
            changed = [key for key in COMPATIBILITY_KEYS if previous.get(key) != self.manifest[key]]
            if changed or previous.get("version") != MANIFEST_VERSION:
                raise OutputError(
                    f"the output folder holds annotations of another run (different {', '.join(changed) or 'version'}): "
                    "choose another OUTPUT_DIR or remove it"
                )
            self.manifest["shards"] = [entry for entry in previous["shards"] if self._intact(entry)]
        elif any(self.output_dir.glob("part-*")):  # never ours: the manifest is saved before any shard
            raise OutputError("the output folder holds part-* files but no manifest.json: choose another OUTPUT_DIR")
        self._save_manifest()

    def _intact(self, entry: dict) -> bool:
        path = self.output_dir / entry["part"]
        if path.is_file() and path.stat().st_size == entry["bytes"] and _sha256(path) == entry["sha256"]:
            return True
        logger.warning("shard %s is missing or damaged: it will be annotated again", entry["part"])
        return False

    @property
    def done_shards(self) -> List[int]:
        return sorted(entry["start"] // self.shard_size for entry in self.manifest["shards"])

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
        """Take a unit's records; write its shard when complete and return the shard's entry."""
        shard_range = self.shard_range(result.shard)
        buffer = self.buffers.setdefault(result.shard, ShardBuffer(shard_range.start, shard_range.stop))
        for offset, record in enumerate(result.records):
            buffer.records[result.start + offset] = record
        buffer.brat.extend(result.brat)
        if not buffer.full:
            return None
        del self.buffers[result.shard]
        return self._write_shard(result.shard, buffer)

    def _write_shard(self, shard: int, buffer: ShardBuffer) -> dict:
        lines = [buffer.records[i] for i in range(buffer.start, buffer.end)]
        records = [json.loads(line) for line in lines]
        ids = [record["id"] for record in records]
        if ids != self.index.ids[buffer.start : buffer.end]:
            raise RuntimeError(f"shard {shard}: records do not match the input ids")  # a bug, never a user error
        path = self.output_dir / part_name(shard, self.format)
        if self.format == "fhir":
            lines = [json.dumps(note_bundle(record, self.manifest["fhir_base"]), ensure_ascii=False) for record in records]
        if self.format in ("jsonl", "fhir"):
            data = "".join(line + "\n" for line in lines).encode("utf8")
            _replace_atomically(path, lambda handle: handle.write(data))
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pylist(records, schema=record_arrow_schema())
            _replace_atomically(path, lambda handle: pq.write_table(table, handle))
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
        self.manifest["shards"] = sorted(self.manifest["shards"] + [entry], key=lambda e: e["start"])
        self._save_manifest()
        for record in records:
            if record["error"] is not None:
                logger.warning("note %s not annotated: %s", record["id"], record["error"])
        return entry

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
            (brat_dir / f"{note_id}.txt").write_bytes(text.encode("utf8"))
            (brat_dir / f"{note_id}.ann").write_bytes(ann.encode("utf8"))

    @property
    def complete(self) -> bool:
        return manifest_complete(self.manifest)

    def _save_manifest(self) -> None:
        self.manifest["complete"] = self.complete
        data = json.dumps(self.manifest, indent=2).encode("utf8")
        _replace_atomically(self.output_dir / MANIFEST_NAME, lambda handle: handle.write(data))


def manifest_complete(manifest: dict) -> bool:
    """Whether the shards a manifest lists are every shard of its input (never its stored flag)."""
    starts = [entry["start"] for entry in manifest["shards"]]
    expected = range(0, manifest["input"]["notes"], manifest["shard_size"])
    return sorted(starts) == list(expected)


def read_annotations(output_dir: Union[str, Path], allow_incomplete: bool = False) -> Iterator[dict]:
    """The records of an output folder, in input order, from the shards its manifest lists
    (for the ``fhir`` format, the notes' Bundles).

    Raises :class:`OutputError` when the run is not complete, unless ``allow_incomplete``.
    """
    output_dir = Path(output_dir)
    manifest = json.loads((output_dir / MANIFEST_NAME).read_text(encoding="utf8"))
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
