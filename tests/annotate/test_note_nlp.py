"""NOTE_NLP rows (OMOP CDM v5.4) in DuckDB and a real PostgreSQL server: mapping, tables, one
transaction per shard, killed at every fail point (the database commit included) and rerun."""

import json
import subprocess
from datetime import datetime

import pytest

from clinical_ie.annotate import read_annotations, run_annotation
from clinical_ie.annotate.database import DatabaseError, NoteNlpDatabase, safe_url
from clinical_ie.annotate.fail_points import FAIL_EXIT_STATUS, FAIL_POINTS
from clinical_ie.annotate.note_nlp import COLUMNS, integer_note_id, span_rows, term_modifiers
from clinical_ie.pipeline.labels import N2C2_ENTITY_LABELS
from tests.util import (
    EUNOMIA_VOCABULARY, annotate_command, annotate_in_child, copied_notes, kill_once_a_shard_is_listed, manifest,
    postgres_server, run_child, small_settings,
)

pytest.importorskip("duckdb")
pytest.importorskip("sqlalchemy")
pytest.importorskip("pyarrow")

DRUG = {"label": "Drug", "start": 10, "end": 20, "text": "Lisinopril", "confidence": 0.98765, "assertion": "historical",
        "section": "discharge_medications"}
STRENGTH = {"label": "Strength", "start": 21, "end": 26, "text": "10 mg", "confidence": 0.9, "assertion": "present", "section": None}
COPIES = 12
CONCEPT = {"id": 1308216, "code": "29046", "vocabulary": "RxNorm", "name": "lisinopril", "score": 1.0, "source_id": 1308216}


def medication(**overrides) -> dict:
    attributes = {label.lower(): [] for label in N2C2_ENTITY_LABELS if label != "Drug"}
    attributes["strength"] = [{**STRENGTH, "start_char": 21, "end_char": 26, "relation_confidence": 0.75, "normalized": None}]
    return {"id": "T1", "text": "Lisinopril", "start_char": 10, "end_char": 20, "confidence": 0.98765, "status": "planned",
            "assertion": "historical", "section": "discharge_medications", "concept": CONCEPT, "attributes": attributes, **overrides}


def test_span_rows_of_a_record():
    text = "Plan:\n    Lisinopril 10 mg daily, restart at home.  " + "x" * 100
    record = {"id": "n1", "entities": [DRUG, STRENGTH, {**STRENGTH, "label": "Problem"}], "medications": [medication()], "error": None}
    drug, strength = span_rows(record, text)  # a label outside the medication group gives no row
    assert drug == {
        "section_concept_id": 0,
        "snippet": "Plan: Lisinopril 10 mg daily, restart at home. " + "x" * 28,  # 60 characters after the span
        "offset": "10",
        "lexical_variant": "Lisinopril",
        "note_nlp_concept_id": 1308216,
        "note_nlp_source_concept_id": 1308216,
        "term_exists": "Y",
        "term_temporal": "past",
        "term_modifiers": "label=Drug;start=10;end=20;confidence=0.9877;assertion=historical;status=planned;"
                          "section=discharge_medications;concept_score=1",
    }
    assert (strength["note_nlp_concept_id"], strength["term_exists"], strength["term_temporal"]) == (0, "Y", None)
    assert strength["term_modifiers"] == "label=Strength;start=21;end=26;confidence=0.9;assertion=present;drug=10-20;relation_confidence=0.75"
    planned = span_rows({**record, "entities": [{**DRUG, "assertion": "absent"}]}, text)[0]
    assert (planned["term_exists"], planned["term_temporal"]) == ("N", "future")
    assert span_rows({"id": "n2", "entities": [], "medications": [], "error": "empty note"}, "") == []


def test_term_modifiers_of_an_attribute_of_two_drugs_without_confidences():
    entity = {**STRENGTH, "confidence": None, "assertion": None}
    assert term_modifiers(entity, None, [(medication(), None), (medication(start_char=30, end_char=35), None)]) == (
        "label=Strength;start=21;end=26;drug=10-20,30-35"
    )


def test_integer_note_ids():
    assert [integer_note_id(i) for i in ("1", "2147483647", "2147483648", "0", "012", "-3", "12a", "١٢")] == [
        1, 2147483647, None, None, None, None, None, None
    ]


@pytest.fixture(scope="module")
def postgres_url():
    """A real PostgreSQL server for this module (skipped, saying why, where none can start)."""
    pytest.importorskip("psycopg")
    try:
        with postgres_server() as url:
            yield url
    except RuntimeError as error:
        pytest.skip(f"PostgreSQL server cannot start: {error}")


@pytest.fixture(params=["duckdb", "postgresql"])
def database_url(request, tmp_path):
    """An empty database of each kind (PostgreSQL: the module's server, its tables dropped)."""
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path / 'warehouse.db'}"
    url = request.getfixturevalue("postgres_url")
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    with psycopg.connect(dbname=parsed.database, user=parsed.username, host=parsed.query["host"], autocommit=True) as connection:
        connection.execute("DROP TABLE IF EXISTS note_nlp, clinical_ie_note_id, other_nlp")
    return url


def query(url: str, sql: str) -> list:
    """The rows of ``sql`` (none for a statement that returns none)."""
    with NoteNlpDatabase(url) as database:
        with database.transaction() as cursor:
            cursor.execute(sql)
            return cursor.fetchall() if cursor.description else []


def test_the_table_has_ohdsi_columns(database_url):
    NoteNlpDatabase(database_url).close()
    described = query(
        database_url,
        "SELECT column_name, data_type, character_maximum_length, is_nullable FROM information_schema.columns "
        "WHERE table_name = 'note_nlp' ORDER BY ordinal_position",
    )
    expected_types = {"integer": "integer", "date": "date", "TIMESTAMP": "timestamp"}
    lengths = database_url.startswith("postgresql")  # DuckDB keeps no varchar length (and checks none)
    assert [(name, data_type.lower().split(" without")[0].replace("character varying", "varchar"), length, nullable) for
            name, data_type, length, nullable in described] == [
        (name, expected_types.get(sql_type, "varchar"), int(sql_type[8:-1]) if lengths and sql_type.startswith("varchar") else None,
         "YES" if nullable else "NO")
        for name, sql_type, nullable in COLUMNS
    ]
    assert query(database_url, "SELECT COUNT(*) FROM note_nlp") == [(0,)]


def test_an_existing_table_is_checked(database_url):
    with NoteNlpDatabase(database_url) as database:
        with database.transaction() as cursor:
            cursor.execute("DROP TABLE note_nlp")
            cursor.execute("CREATE TABLE note_nlp (note_nlp_id bigint NOT NULL, note_id integer, snippet date)")
    with pytest.raises(DatabaseError, match=r"not OMOP CDM v5.4 NOTE_NLP: section_concept_id missing; snippet is date, expected varchar\(250\)"):
        NoteNlpDatabase(database_url)


def test_a_shard_replaces_its_rows_in_one_transaction(database_url):
    row = span_rows({"id": "x", "entities": [DRUG, STRENGTH], "medications": [medication()], "error": None}, "x" * 30)
    now = datetime(2026, 1, 2, 3, 4, 5)
    with NoteNlpDatabase(database_url) as database:
        written = database.replace_shard(["17", "note-b", "3"], [row, row[:1], []], "model 1.0", now)
        assert [(r["note_nlp_id"], r["note_id"]) for r in written] == [(1, 17), (2, 17), (3, -1)]
        database.replace_shard(["99"], [row], "other system", now)
        again = database.replace_shard(["17", "note-b", "3"], [row[:1], row, row[:1]], "model 1.0", now)
        assert [(r["note_nlp_id"], r["note_id"]) for r in again] == [(6, 17), (7, -1), (8, -1), (9, 3)]
        assert database.count("model 1.0") == 4 and database.count() == 6  # the other system's rows stay
        database.replace_shard(["note-c"], [row[:1]], "model 1.0", now)
        with pytest.raises(ZeroDivisionError), database.transaction() as cursor:  # a crash inside the transaction
            cursor.execute("DELETE FROM note_nlp")
            1 / 0
        assert database.count() == 7
    assert query(database_url, "SELECT note_source_value, note_id FROM clinical_ie_note_id ORDER BY note_id DESC") == [
        ("note-b", -1), ("note-c", -2)
    ]
    stored = query(database_url, 'SELECT note_id, "offset", lexical_variant, note_nlp_concept_id, nlp_date, nlp_datetime, '
                                 "term_modifiers FROM note_nlp WHERE note_nlp_id = 6")
    assert [tuple(map(str, r)) for r in stored] == [
        ("17", "10", "Lisinopril", "1308216", "2026-01-02", "2026-01-02 03:04:05", row[0]["term_modifiers"])
    ]


def test_urls_are_checked_and_passwords_hidden(tmp_path):
    assert safe_url("postgresql://me:secret@db.example/omop") == "postgresql+psycopg://me:***@db.example/omop"
    with pytest.raises(DatabaseError, match="'sqlite' is not supported"):
        NoteNlpDatabase(f"sqlite:///{tmp_path}/x.db")
    with pytest.raises(DatabaseError, match="not of the form"):
        NoteNlpDatabase("not a url")
    with pytest.raises(DatabaseError) as refused:
        NoteNlpDatabase("postgresql://me:secret@/omop?host=/nonexistent")
    assert "secret" not in str(refused.value) and "***" in str(refused.value)


def medication_spans(records) -> list:
    """(note id, start, label) of every medication-group entity of ``records``."""
    return [(r["id"], e["start"], e["label"]) for r in records for e in r["entities"] if e["label"] in N2C2_ENTITY_LABELS]


def stored_spans(url: str) -> list:
    rows = query(url, 'SELECT m.note_source_value, n.note_id, n."offset", n.term_modifiers FROM note_nlp n '
                      "LEFT JOIN clinical_ie_note_id m ON m.note_id = n.note_id")
    return sorted((source or str(note_id), int(offset), modifiers.split(";")[0][6:]) for source, note_id, offset, modifiers in rows)


@pytest.fixture(scope="module")
def reference_records(relation_pipeline, notes_dir, tmp_path_factory):
    output = tmp_path_factory.mktemp("reference")
    run_annotation(relation_pipeline, notes_dir, output, small_settings())
    return list(read_annotations(output))


def test_annotate_writes_every_span_once(relation_pipeline, notes_dir, reference_records, database_url, tmp_path):
    summary = run_annotation(relation_pipeline, notes_dir, tmp_path, small_settings(output_format="note_nlp", database=database_url))
    assert summary.complete
    spans = medication_spans(reference_records)
    assert len(spans) > 50 and stored_spans(database_url) == sorted(spans)
    parquet = list(read_annotations(tmp_path))  # the Parquet shards hold the same rows
    database_rows = query(database_url, "SELECT note_nlp_id, note_id, lexical_variant, term_modifiers FROM note_nlp ORDER BY note_nlp_id")
    assert [(r["note_nlp_id"], r["note_id"], r["lexical_variant"], r["term_modifiers"]) for r in parquet] == [tuple(r) for r in database_rows]
    saved = manifest(tmp_path)
    assert saved["database"]["dialect"] == database_url.split(":")[0] and "warehouse" not in json.dumps(saved)
    assert sum(entry["rows"] for entry in saved["shards"]) == len(spans)
    rerun = run_annotation(relation_pipeline, notes_dir, tmp_path, small_settings(output_format="note_nlp", database=database_url))
    assert rerun.shards_written == 0 and stored_spans(database_url) == sorted(spans)
    query(database_url, "DELETE FROM note_nlp WHERE note_nlp_id = 1")  # rows gone from the table: their shard is redone
    redone = run_annotation(relation_pipeline, notes_dir, tmp_path, small_settings(output_format="note_nlp", database=database_url))
    assert redone.shards_written == 1 and stored_spans(database_url) == sorted(spans)


def test_without_a_database_the_parquet_rows_number_themselves(relation_pipeline, notes_dir, reference_records, tmp_path):
    run_annotation(relation_pipeline, notes_dir, tmp_path, small_settings(output_format="note_nlp", max_shards=2))
    run_annotation(relation_pipeline, notes_dir, tmp_path, small_settings(output_format="note_nlp"))
    rows = list(read_annotations(tmp_path))
    assert [r["note_nlp_id"] for r in rows] == list(range(1, len(rows) + 1))
    assert sorted((r["note_source_value"], int(r["offset"])) for r in rows) == sorted(
        (note_id, start) for note_id, start, _ in medication_spans(reference_records)
    )
    positions = {note_id: i for i, note_id in enumerate(r["id"] for r in reference_records)}
    assert all(r["note_id"] == -(positions[r["note_source_value"]] + 1) for r in rows)  # the sample's ids are not integers


DATABASE_KILLS = [point for point in FAIL_POINTS if point not in ("disk-full", "mid-brat")]
KILLED_AT_SHARD = 3


@pytest.mark.parametrize("point", DATABASE_KILLS)
def test_killed_at_a_fail_point_the_rerun_writes_every_span_once(point, relation_pipeline, notes_dir, reference_records,
                                                                  database_url, tmp_path):
    """Killed (os._exit) at each step of the third shard's commit, database transaction included, then rerun."""
    settings = small_settings(output_format="note_nlp", database=database_url)
    status = run_child(annotate_in_child, str(relation_pipeline), str(notes_dir), str(tmp_path), settings, f"{point}:{KILLED_AT_SHARD}")
    assert status == FAIL_EXIT_STATUS, "the fail point did not fire"
    listed = {"after-manifest": KILLED_AT_SHARD, "before-exit": 4}.get(point, KILLED_AT_SHARD - 1)
    assert len(manifest(tmp_path)["shards"]) == listed
    committed = KILLED_AT_SHARD - 1 if point == "before-shard" else max(listed, KILLED_AT_SHARD)
    shard_spans = [len(medication_spans(reference_records[5 * k : 5 * k + 5])) for k in range(4)]
    assert len(stored_spans(database_url)) == sum(shard_spans[:committed])  # the killed shard's rows are in iff committed
    assert run_annotation(relation_pipeline, notes_dir, tmp_path, settings).complete
    spans = sorted(medication_spans(reference_records))
    assert stored_spans(database_url) == spans  # each span once, none lost
    assert sum(entry["rows"] for entry in manifest(tmp_path)["shards"]) == len(spans) == len(list(read_annotations(tmp_path)))


def test_killed_between_shards_then_rerun_gives_each_span_once(relation_pipeline, notes_dir, reference_records, database_url, tmp_path):
    """SIGKILL the command once a shard is listed, run it again: the table holds each span once."""
    notes = copied_notes(notes_dir, tmp_path / "notes", COPIES)  # 204 notes, shards of 10
    output = tmp_path / "out"
    command = annotate_command(relation_pipeline, notes, output, "--format", "note_nlp", "--db", database_url,
                               "--shard-size", "10", "--batch-size", "2")
    kill_once_a_shard_is_listed(command, output)
    finished = subprocess.run(command, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    expected = sorted((f"{copy:02d}_{note_id}", start, label) for copy in range(COPIES)
                      for note_id, start, label in medication_spans(reference_records))
    assert stored_spans(database_url) == expected  # every span once: none lost, none repeated
    assert len(list(read_annotations(output))) == len(expected)


def test_coded_drugs_carry_their_concepts_into_records_and_rows(relation_pipeline, notes_dir, tmp_path):
    import spacy

    nlp = spacy.load(relation_pipeline)
    nlp.add_pipe("clinical_concept_linker").initialize(vocabulary=EUNOMIA_VOCABULARY)
    run_annotation(nlp, notes_dir, tmp_path / "records", small_settings())
    drugs = [m for r in read_annotations(tmp_path / "records") for m in r["medications"]]
    coded = {m["text"].lower(): m["concept"]["id"] for m in drugs if m["concept"]}
    assert coded == {"aspirin": 1112807, "lisinopril": 1308216}  # the rule drugs Eunomia's excerpt names
    assert all(m["concept"] is None for m in drugs if m["text"].lower() not in coded)
    url = f"duckdb:///{tmp_path / 'warehouse.db'}"
    run_annotation(nlp, notes_dir, tmp_path / "rows", small_settings(output_format="note_nlp", database=url))
    rows = query(url, "SELECT lower(lexical_variant), note_nlp_concept_id, note_nlp_source_concept_id, term_modifiers FROM note_nlp "
                      "WHERE term_modifiers LIKE 'label=Drug;%'")
    assert len(rows) == len(drugs)
    assert {(text, concept, source) for text, concept, source, _ in rows} == {
        (m["text"].lower(), coded.get(m["text"].lower(), 0), coded.get(m["text"].lower(), 0)) for m in drugs
    }
    assert all(modifiers.endswith(";concept_score=1") == (text in coded) for text, _, _, modifiers in rows)


def test_the_command_refuses_a_database_without_the_note_nlp_format(relation_pipeline, notes_dir, tmp_path):
    refused = subprocess.run(annotate_command(relation_pipeline, notes_dir, tmp_path / "out", "--db", f"duckdb:///{tmp_path}/w.db"),
                             capture_output=True, text=True)
    assert refused.returncode == 2 and "a database takes NOTE_NLP rows: use the note_nlp format" in refused.stderr
    unreachable = subprocess.run(
        annotate_command(relation_pipeline, notes_dir, tmp_path / "out", "--format", "note_nlp",
                         "--db", "postgresql://me:secret@/omop?host=/nonexistent"),
        capture_output=True, text=True,
    )
    assert unreachable.returncode == 2 and "cannot connect to postgresql+psycopg://me:***@/omop" in unreachable.stderr
    assert "secret" not in unreachable.stderr + unreachable.stdout
