"""MTSamples reader and the JSON Lines notes by length."""

import csv
import json

import pytest

from clinical_ie.corpora.conversion_report import ConversionError, ConversionReport
from clinical_ie.corpora.mtsamples import read_mtsamples_csv, write_notes_by_length

COLUMNS = ["", "description", "medical_specialty", "sample_name", "transcription", "keywords"]


def write_csv(path, rows, columns=COLUMNS):
    with open(path, "w", encoding="utf8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(columns)
        writer.writerows(rows)
    return path


def test_notes_keep_text_and_metadata_and_split_by_length(tmp_path):
    long_text = "SUBJECTIVE:,  word\n" + "word " * 300
    rows = [
        ["0", " A cough. ", " Allergy / Immunology", " Cough ", "HPI:,  A\r\ncough.", "cough"],
        ["1", "Long", "Surgery", "Op", long_text, ""],
        ["2", "Repeat", "Orthopedic", "Op", long_text, ""],
    ]
    report = ConversionReport("mtsamples", strict=True)
    notes = list(read_mtsamples_csv(write_csv(tmp_path / "m.csv", rows), report))
    assert [(n.id, n.text) for n in notes] == [("0", "HPI:,  A\r\ncough."), ("1", long_text)]
    assert notes[0].metadata == {"specialty": "Allergy / Immunology", "sample_name": "Cough", "description": "A cough.", "keywords": "cough"}
    assert [(w.line, w.reason) for w in report.warnings] == [(6, "duplicate_text")]
    counts = write_notes_by_length(notes, tmp_path / "out")
    assert counts == {"notes-under-200.jsonl": 1, "notes-200-500.jsonl": 1}
    [short] = [json.loads(line) for line in open(tmp_path / "out" / "notes-under-200.jsonl", encoding="utf8")]
    assert short["id"] == "0" and short["text"] == "HPI:,  A\r\ncough." and short["specialty"] == "Allergy / Immunology"


def test_missing_text_and_column_are_located(tmp_path):
    path = write_csv(tmp_path / "m.csv", [["0", "d", "s", "n", "text\non two lines", "k"], ["1", "d", "s", "n", "", "k"]])
    report = ConversionReport("mtsamples")
    assert [n.id for n in read_mtsamples_csv(path, report)] == ["0"]
    assert [(p.file, p.line, p.reason) for p in report.problems] == [("m.csv", 4, "missing_text")]
    with pytest.raises(ConversionError, match=r"m.csv:4: missing_text"):
        list(read_mtsamples_csv(path, ConversionReport("mtsamples", strict=True)))
    no_text = write_csv(tmp_path / "n.csv", [["0", "d"]], columns=["note_id", "description"])
    with pytest.raises(ConversionError, match=r"n.csv:1: bad_header"):
        list(read_mtsamples_csv(no_text, ConversionReport("mtsamples", strict=True)))
