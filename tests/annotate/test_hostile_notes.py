"""Hostile notes: each gets a record (an error where it cannot be annotated), none stops the
run, and memory stays bounded."""

import gzip
import json
from pathlib import Path

import pytest
import spacy

from clinical_ie.annotate import read_annotations, run_annotation
from clinical_ie.annotate.inputs import DEFAULT_MAX_CHARS
from clinical_ie.annotate.measure import peak_rss_mib
from tests.util import manifest, run_child, small_settings

HUGE_NOTE = ("Aspirin 81 mg daily. " * 240_000)[:5_000_000]
HOSTILE_NOTES = {
    "huge": (HUGE_NOTE.encode("utf8"), f"too long: {len(HUGE_NOTE)} bytes, limit {DEFAULT_MAX_CHARS} characters"),
    "binary": (gzip.compress(bytes(range(256)) * 64, mtime=0), "not UTF-8 (byte 1)"),
    "invalid_utf8": (b"Aspirin 81 mg \xe2\x82 daily", "not UTF-8 (byte 14)"),
    "nul_byte": (b"Aspirin 81 mg daily\x00\x00 then Lisinopril 10 mg", None),
    "whitespace": (" \t\r\n\u00a0\u2003\n".encode("utf8"), "empty note"),
    "zz_normal": (b"Metoprolol 25 mg twice a day.", None),
}
"""File contents of hostile notes and each one's error (None: annotated)."""
ONE_WORD_NOTES = 100_000
WORDS = ["aspirin", "cough", "lisinopril", "daily", "rash"]


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    for name, (content, _) in HOSTILE_NOTES.items():
        (folder / f"{name}.txt").write_bytes(content)
    return folder


def as_jsonl(folder: Path, path: Path) -> Path:
    """The notes of ``folder`` as JSON Lines; a text that is not UTF-8 as its raw bytes in the
    line, control characters, quotes and backslashes escaped (a JSON string of those bytes)."""
    with open(path, "wb") as jsonl:
        for note in sorted(folder.glob("*.txt")):
            data = note.read_bytes()
            try:
                line = json.dumps({"id": note.stem, "text": data.decode("utf8")}).encode("utf8")
            except UnicodeDecodeError:
                escaped = b"".join(b"\\u%04x" % byte if byte < 0x20 or byte in b'"\\' else bytes([byte]) for byte in data)
                line = b'{"id": "%s", "text": "%s"}' % (note.stem.encode(), escaped)
            jsonl.write(line + b"\n")
    return path


@pytest.mark.parametrize("form", ["folder", "jsonl"])
def test_every_hostile_note_gets_a_record_and_none_stops_the_run(form, relation_pipeline, hostile_dir, tmp_path):
    notes = hostile_dir if form == "folder" else as_jsonl(hostile_dir, tmp_path / "notes.jsonl")
    settings = small_settings(max_chars=DEFAULT_MAX_CHARS, brat=True)
    summary = run_annotation(spacy.load(relation_pipeline), notes, tmp_path, settings)
    assert summary.complete and summary.notes == len(HOSTILE_NOTES) and summary.notes_failed == 4
    records = {record["id"]: record for record in read_annotations(tmp_path)}
    assert list(records) == sorted(HOSTILE_NOTES)
    for name, (_, error) in HOSTILE_NOTES.items():
        if name == "huge" and form == "jsonl":  # a line's text has no file size: its characters are counted
            error = f"too long: {len(HUGE_NOTE)} characters, limit {DEFAULT_MAX_CHARS}"
        elif error and form == "jsonl" and error.startswith("not UTF-8"):  # offsets count from the line's start
            error = "not UTF-8"
        assert (records[name]["error"] or "").startswith(error or ""), (name, records[name]["error"])
        assert bool(records[name]["entities"]) == (error is None), name
    nul = records["nul_byte"]
    assert [(e["label"], e["text"]) for e in nul["entities"]][:2] == [("Drug", "Aspirin"), ("Strength", "81 mg")]
    assert (tmp_path / "brat" / "nul_byte.txt").read_bytes() == HOSTILE_NOTES["nul_byte"][0]


@pytest.mark.parametrize("output_format", ["parquet", "fhir"])
def test_hostile_notes_in_parquet_and_fhir_output(output_format, relation_pipeline, hostile_dir, tmp_path):
    settings = small_settings(max_chars=DEFAULT_MAX_CHARS, output_format=output_format)
    assert run_annotation(spacy.load(relation_pipeline), hostile_dir, tmp_path, settings).complete
    records = list(read_annotations(tmp_path))
    assert len(records) == len(HOSTILE_NOTES) and sum(entry["errors"] for entry in manifest(tmp_path)["shards"]) == 4


def annotate_measuring_memory(model: str, notes: str, output: str, report: str) -> None:
    """Load ``model``, note the resident memory, annotate, write the memory before and the peak
    (MiB) to ``report`` (the target of a child process)."""
    nlp = spacy.load(model)
    before = peak_rss_mib()
    summary = run_annotation(nlp, notes, output, small_settings(batch_size=256, shard_size=10_000, log_every=10))
    Path(report).write_text(json.dumps({"before": before, "peak": peak_rss_mib(), "complete": summary.complete}))


def test_a_hundred_thousand_one_word_notes_each_get_a_record_in_bounded_memory(relation_pipeline, tmp_path):
    notes = tmp_path / "notes.jsonl"
    with open(notes, "w", encoding="utf8") as jsonl:
        for number in range(ONE_WORD_NOTES):
            jsonl.write(json.dumps({"id": f"n{number:06d}", "text": WORDS[number % len(WORDS)]}) + "\n")
    report = tmp_path / "memory.json"
    assert run_child(annotate_measuring_memory, str(relation_pipeline), str(notes), str(tmp_path / "out"), str(report)) == 0
    memory = json.loads(report.read_text())
    assert memory["complete"] and manifest(tmp_path / "out")["shards_total"] == 10
    count, drugs = 0, 0
    for number, record in enumerate(read_annotations(tmp_path / "out")):
        assert record["id"] == f"n{number:06d}" and record["error"] is None
        drugs += [e["label"] for e in record["entities"]] == ["Drug"]
        count += 1
    assert count == ONE_WORD_NOTES and drugs == 2 * ONE_WORD_NOTES // len(WORDS)  # aspirin, lisinopril
    # the index (ids, offsets, digests) and one shard's records: some 60 MiB at most
    assert memory["peak"] - memory["before"] < 150, memory
