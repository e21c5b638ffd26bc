"""MTSamples transcriptions (``mtsamples.csv``: about 5,000 real clinical reports, unannotated).

The CSV has the columns ``description``, ``medical_specialty``, ``sample_name``, ``transcription``
and ``keywords``, and an id column: ``note_id`` (the clinspacy copy), or the unnamed first column
of the Kaggle copy (``""``, ``Unnamed: 0``, ``X``); without one, the row number. A note is
``(id, text, metadata)``: the transcription exactly as distributed (its ``,`` before section
bodies where the scrape lost line breaks included) and the other columns, stripped, as metadata
(``specialty`` is ``medical_specialty``). MTSamples lists many reports under several specialties
(4,966 rows with a transcription, 2,357 distinct texts): a repeated transcription is read once, at its
first row, and its repeats are warnings (``duplicate_text``). :func:`write_notes_by_length` writes them as JSON Lines
(``id``, ``text`` and the metadata), the input ``annotate`` and the speed benchmark read.
"""

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, Iterator, Sequence

from .conversion_report import ConversionReport

ID_COLUMNS = ("note_id", "", "Unnamed: 0", "X")
TEXT_COLUMN = "transcription"
METADATA_COLUMNS = {"medical_specialty": "specialty", "sample_name": "sample_name", "description": "description", "keywords": "keywords"}
LENGTH_BANDS = (200, 500)
"""Word counts (whitespace-separated) that bound the files of :func:`write_notes_by_length`."""


@dataclass
class Note:
    """One report: its id, text and metadata (specialty, sample name, description, keywords)."""

    id: str
    text: str
    metadata: Dict[str, str] = field(default_factory=dict)

    @property
    def words(self) -> int:
        return len(self.text.split())


def read_mtsamples_csv(path: Path, report: ConversionReport) -> Iterator[Note]:
    """Every report of ``path`` with a transcription, in file order.

    A missing ``transcription`` column is a problem at line 1 (nothing is read); a row without a
    transcription (``missing_text``), or with an id seen before (``duplicate_id``), is a problem
    at the row's first line and is skipped; a transcription read before is a warning
    (``duplicate_text``) and is skipped.
    """
    path = Path(path)
    csv.field_size_limit(1 << 30)
    with open(path, encoding="utf8", newline="") as file:
        reader = csv.DictReader(file)
        columns = reader.fieldnames or []
        if TEXT_COLUMN not in columns:
            report.problem(path.name, 1, "bad_header", f"no {TEXT_COLUMN!r} column (columns: {columns})")
            return
        id_column = next((name for name in ID_COLUMNS if name in columns), None)
        seen, texts = set(), {}
        line = reader.line_num + 1
        for number, row in enumerate(reader, start=1):
            note_id = (row.get(id_column) or "").strip() if id_column is not None else str(number)
            text = row.get(TEXT_COLUMN) or ""
            if not text.strip():
                report.problem(path.name, line, "missing_text", f"row {number} has no transcription")
            elif not note_id or note_id in seen:
                report.problem(path.name, line, "duplicate_id", f"row {number}: id {note_id!r} empty or seen before")
            elif text in texts:
                report.warn(path.name, line, "duplicate_text", f"row {number} repeats the transcription of note {texts[text]}")
            else:
                seen.add(note_id)
                texts[text] = note_id
                report.documents += 1
                metadata = {key: (row.get(column) or "").strip() for column, key in METADATA_COLUMNS.items()}
                yield Note(note_id, text, metadata)
            line = reader.line_num + 1


def length_band(words: int, bands: Sequence[int] = LENGTH_BANDS) -> str:
    """The name of the length band of a note of ``words`` words: ``under-200``, ``200-500``, ``over-500``."""
    low, high = bands
    if words < low:
        return f"under-{low}"
    return f"{low}-{high}" if words <= high else f"over-{high}"


def write_notes_by_length(notes: Iterable[Note], output_dir: Path, bands: Sequence[int] = LENGTH_BANDS) -> Dict[str, int]:
    """Write ``output_dir/notes-<band>.jsonl`` (one ``{"id", "text", ...metadata}`` object a line, input
    order) for each length band, replacing the ``notes-*.jsonl`` there; returns the number of notes
    per file name."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    for old in output_dir.glob("notes-*.jsonl"):
        old.unlink()
    files, counts = {}, {}
    try:
        for note in notes:
            name = f"notes-{length_band(note.words, bands)}.jsonl"
            if name not in files:
                files[name] = open(output_dir / name, "w", encoding="utf8", newline="\n")
                counts[name] = 0
            files[name].write(json.dumps({"id": note.id, "text": note.text, **note.metadata}, ensure_ascii=False) + "\n")
            counts[name] += 1
    finally:
        for file in files.values():
            file.close()
    return counts
