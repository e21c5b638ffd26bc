"""Input scanning (ids, order, structural errors, fingerprints) and reading notes (bad-note errors)."""

import json

import pytest

from clinical_ie.annotate.inputs import InputError, NoteError, NoteReader, scan_input

from tests.util import BAD_NOTES, MAX_CHARS, folder_notes


def read_all(index, max_chars=MAX_CHARS):
    """``{id: text or NoteError reason}`` for every note of ``index``."""
    reader = NoteReader(index.spec, max_chars)
    results = {}
    for note_id, locator in zip(index.ids, index.locators):
        try:
            results[note_id] = reader.read(locator)
        except NoteError as error:
            results[note_id] = error.reason
    return results


@pytest.mark.parametrize("form", ["folder", "jsonl", "parquet"])
def test_every_form_lists_the_notes_in_order_and_reads_them_alike(form, notes_dir, notes_jsonl, notes_parquet):
    path = {"folder": notes_dir, "jsonl": notes_jsonl, "parquet": notes_parquet}[form]
    index = scan_input(path)
    expected_ids = [note_id for note_id, _ in folder_notes(notes_dir)]
    assert index.spec.kind == form and index.ids == expected_ids and len(index) == 17
    results = read_all(index)
    for note_id, data in folder_notes(notes_dir):
        if note_id in BAD_NOTES:
            assert results[note_id].startswith(BAD_NOTES[note_id][1]), (form, note_id, results[note_id])
        elif note_id == "bom":
            assert results[note_id] == data.decode("utf8")[1:]  # byte-order mark removed
        else:
            assert results[note_id] == data.decode("utf8")  # byte-exact: \r\n kept


def test_folder_ignores_other_files_and_counts_them(tmp_path):
    (tmp_path / "a.txt").write_text("aspirin", encoding="utf8")
    (tmp_path / "a.ann").write_text("", encoding="utf8")
    (tmp_path / "sub").mkdir()
    index = scan_input(tmp_path)
    assert index.ids == ["a"] and index.ignored_files == 2


def test_fingerprint_follows_the_input(tmp_path):
    (tmp_path / "a.txt").write_text("aspirin", encoding="utf8")
    first = scan_input(tmp_path).fingerprint
    assert scan_input(tmp_path).fingerprint == first
    (tmp_path / "a.txt").write_text("aspirin 81 mg", encoding="utf8")
    assert scan_input(tmp_path).fingerprint != first


def test_jsonl_structural_problems_stop_the_run_with_file_and_line(tmp_path):
    path = tmp_path / "notes.jsonl"
    lines = [
        json.dumps({"id": "a", "text": "aspirin"}),
        "",
        "{not json",
        json.dumps(["a list"]),
        json.dumps({"text": "no id"}),
        json.dumps({"id": "a", "text": "again"}),
        json.dumps({"id": 7, "text": "integer id"}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf8")
    with pytest.raises(InputError) as error:
        scan_input(path)
    message = str(error.value)
    assert "4 problem(s)" in message
    assert "notes.jsonl:3: not JSON" in message and "notes.jsonl:4: expected a JSON object" in message
    assert "notes.jsonl:5: 'id' missing" in message
    assert "notes.jsonl:6: duplicate id 'a' (first on line 1)" in message
    assert "again" not in message and "aspirin" not in message  # no note text in errors


def test_jsonl_note_level_problems_are_note_errors(tmp_path):
    path = tmp_path / "notes.jsonl"
    lines = [
        json.dumps({"id": "missing"}),
        json.dumps({"id": "null", "text": None}),
        json.dumps({"id": "number", "text": 3}),
        json.dumps({"id": "surrogate", "text": "aspirin \udc80"}),
        json.dumps({"id": 7, "text": "Aspirin 81 mg"}),
    ]
    path.write_text("\n".join(lines), encoding="utf8")  # no newline at the end
    index = scan_input(path)
    assert index.ids == ["missing", "null", "number", "surrogate", "7"]
    assert read_all(index) == {
        "missing": "missing text",
        "null": "missing text",
        "number": "text is a int, not a string",
        "surrogate": "not UTF-8 (character 8)",
        "7": "Aspirin 81 mg",
    }


def test_parquet_needs_id_and_text_and_unique_ids(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(pa.table({"id": ["a"], "body": ["x"]}), tmp_path / "no_text.parquet")
    with pytest.raises(InputError, match="no column 'text'"):
        scan_input(tmp_path / "no_text.parquet")
    pq.write_table(pa.table({"id": ["a", None, "a"], "text": ["x", "y", None]}), tmp_path / "dup.parquet")
    with pytest.raises(InputError) as error:
        scan_input(tmp_path / "dup.parquet")
    assert "dup.parquet:row 1: 'id' missing" in str(error.value)
    assert "dup.parquet:row 2: duplicate id 'a' (first in row 0)" in str(error.value)


def test_unknown_input_kind(tmp_path):
    (tmp_path / "notes.csv").write_text("id,text\n", encoding="utf8")
    with pytest.raises(InputError, match="expected a folder of .txt notes"):
        scan_input(tmp_path / "notes.csv")
    with pytest.raises(InputError, match="no such file or folder"):
        scan_input(tmp_path / "missing")


def test_too_long_by_file_size_without_reading(tmp_path):
    (tmp_path / "big.txt").write_bytes(b"a" * 500)
    index = scan_input(tmp_path)
    assert read_all(index, max_chars=100) == {"big": "too long: 500 bytes, limit 100 characters"}
    assert read_all(index, max_chars=499) == {"big": "too long: 500 characters, limit 499"}
