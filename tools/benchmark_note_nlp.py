"""Rows per second that the NOTE_NLP writer commits into each database.

The rows are those of the sample corpus's gold medication entities (``assets/sample/n2c2``
train and test: :func:`clinical_ie.annotate.note_nlp.span_rows` of a record holding each note's
gold entities, confidence 0.9, assertion ``present``), the notes cycled to ``--notes`` notes with
integer ids 1, 2, ... and written in shards of ``--shard-size`` notes, each shard one
:meth:`~clinical_ie.annotate.database.NoteNlpDatabase.replace_shard` transaction, as ``annotate
--format note_nlp --db`` writes them. Timed: a first pass into an empty table (insert), then a
second pass over the same notes (each shard's rows deleted and inserted again, as a rerun
does). The row count is checked after each pass. The database's own durability settings stand
(PostgreSQL: ``fsync`` and ``synchronous_commit`` as configured).

Writes ``benchmarks/note-nlp-writes.{json,md}``.
"""

import tempfile
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from time import perf_counter
from typing import Dict, List, Optional

import typer

from clinical_ie.annotate.database import NoteNlpDatabase
from clinical_ie.annotate.note_nlp import span_rows
from clinical_ie.pipeline.labels import N2C2_ENTITY_LABELS

from .dosage_coverage import DEFAULT_FOLDERS, gold_mentions
from .reports import write_report
from .revisions import REPO_ROOT

REPORT = REPO_ROOT / "benchmarks" / "note-nlp-writes"
SYSTEM = "tools.benchmark_note_nlp"
"""The ``nlp_system`` of the benchmark's rows: the only rows it deletes."""


def sample_rows() -> List[List[dict]]:
    """Per sample note, the NOTE_NLP rows of its gold medication entities."""
    entities: Dict[Path, List[dict]] = defaultdict(list)
    for folder in DEFAULT_FOLDERS:
        for stem, entity, text in gold_mentions([folder], N2C2_ENTITY_LABELS):
            entities[folder / f"{stem}.txt"].append(
                {"label": entity.label, "start": entity.start, "end": entity.end, "text": text, "confidence": 0.9,
                 "assertion": "present", "section": "hospital_course"}
            )
    return [
        span_rows({"id": path.stem, "entities": spans, "medications": [], "error": None}, path.read_text(encoding="utf8"))
        for path, spans in sorted(entities.items())
    ]


def time_writes(url: str, notes: int, shard_size: int) -> Dict[str, object]:
    """Insert, then replace, ``notes`` notes' rows shard by shard; rows per second of each pass."""
    rows = sample_rows()
    note_rows = [rows[i % len(rows)] for i in range(notes)]
    ids = [str(i + 1) for i in range(notes)]
    total = sum(len(r) for r in note_rows)
    with NoteNlpDatabase(url) as database:
        result: Dict[str, object] = {"database": database.dialect, "notes": notes, "shard_size": shard_size, "rows": total}
        with database.transaction() as cursor:  # only this benchmark's rows
            cursor.execute(f"DELETE FROM note_nlp WHERE nlp_system = {database.placeholder}", [SYSTEM])
        for name in ("insert", "replace"):
            started = perf_counter()
            for start in range(0, notes, shard_size):
                database.replace_shard(ids[start : start + shard_size], note_rows[start : start + shard_size],
                                       SYSTEM, datetime.now(timezone.utc).replace(tzinfo=None))
            seconds = perf_counter() - started
            count = database.count(SYSTEM)
            if count != total:
                raise RuntimeError(f"{name}: {count} rows in the table, {total} written")
            result[f"{name}_seconds"] = seconds
            result[f"{name}_rows_per_second"] = total / seconds
    return result


def markdown(results: List[Dict[str, object]]) -> str:
    lines = [
        "# NOTE_NLP writes", "",
        "`python -m tools.benchmark_note_nlp` (rows of the sample's gold medication entities, one transaction per shard).", "",
        "| database | notes | rows | shard size (notes) | insert rows/s | replace (rerun) rows/s |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {r['database']} | {r['notes']:,} | {r['rows']:,} | {r['shard_size']:,} | {r['insert_rows_per_second']:,.0f} | "
        f"{r['replace_rows_per_second']:,.0f} |"
        for r in results
    ]
    return "\n".join(lines) + "\n"


def main(
    db: List[str] = typer.Option([], "--db", help="database URL (repeatable; default: a DuckDB file in a temporary folder)"),
    notes: int = typer.Option(10_000, help="notes written (the sample's notes cycled)"),
    shard_size: int = typer.Option(1000, help="notes per shard (one transaction each)"),
    output: Optional[Path] = typer.Option(REPORT, help="report stem (.json and .md)"),
) -> None:
    """Time NOTE_NLP shard transactions into each database (only the benchmark's own rows are replaced)."""
    with tempfile.TemporaryDirectory() as folder:
        urls = db or [f"duckdb:///{Path(folder) / 'benchmark.db'}"]
        results = [time_writes(url, notes, shard_size) for url in urls]
    write_report(output, {"results": results}, markdown(results))
    typer.echo(markdown(results))


if __name__ == "__main__":
    typer.run(main)
