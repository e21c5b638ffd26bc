"""The record schema: every record validates, and Parquet shards hold the same records as JSON Lines."""

import json

import jsonschema
import pytest
import spacy
from tests.util import MAX_CHARS, REPO_ROOT
from spacy.tokens import Doc, Span

from clinical_ie.annotate import RECORD_JSON_SCHEMA, AnnotationSettings, read_annotations, run_annotation
from clinical_ie.annotate.schema import error_record, record_arrow_schema
from clinical_ie.pipeline.data_model import note_record
from clinical_ie.pipeline.dosage import NORMALIZED_KINDS

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def predicted_doc() -> Doc:
    """A note with predicted entities (confidences) and a relation (confidence)."""
    doc = Doc(spacy.blank("en").vocab, words="Aspirin 81 mg daily".split())
    doc.ents = [Span(doc, 0, 1, "Drug", span_id="T1"), Span(doc, 1, 3, "Strength", span_id="T2")]
    doc.ents[0]._.confidence, doc.ents[1]._.confidence = 0.97, 0.5
    doc._.relations = [{"id": "R1", "type": "Strength-Drug", "arg1": "T2", "arg2": "T1", "confidence": 0.8}]
    return doc


def arrow_shape(data_type) -> object:
    """Field names of an Arrow type, nested like the JSON Schema's properties."""
    if pa.types.is_struct(data_type):
        return {field.name: arrow_shape(field.type) for field in data_type}
    if pa.types.is_list(data_type):
        return arrow_shape(data_type.value_type)
    return None


def json_shape(schema: dict) -> object:
    if "properties" in schema:
        return {name: json_shape(value) for name, value in schema["properties"].items()}
    if "items" in schema:
        return json_shape(schema["items"])
    return None


def test_json_and_arrow_schemas_have_the_same_fields():
    arrow = record_arrow_schema()
    assert {field.name: arrow_shape(field.type) for field in arrow} == json_shape(RECORD_JSON_SCHEMA)


def schema_field_names(schema: dict) -> set:
    """Every property name of a JSON Schema, nested ones included."""
    names = set()
    for name, value in schema.get("properties", {}).items():
        names |= {name} | schema_field_names(value)
    return names | (schema_field_names(schema["items"]) if "items" in schema else set())


def test_readme_documents_every_field():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf8")
    section = readme[readme.index("## Annotating notes at scale") :]
    assert {name for name in schema_field_names(RECORD_JSON_SCHEMA) if name not in section} == set()


def with_strength_normalized(record: dict, normalized: dict) -> dict:
    """``record`` with its first medication's strength ``normalized`` replaced."""
    medication = record["medications"][0]
    strength = {**medication["attributes"]["strength"][0], "normalized": normalized}
    attributes = {**medication["attributes"], "strength": [strength]}
    return {**record, "medications": [{**medication, "attributes": attributes}]}


def test_normalized_schema_has_a_key_per_result_type():
    medication = RECORD_JSON_SCHEMA["properties"]["medications"]["items"]
    attribute_value = medication["properties"]["attributes"]["properties"]["strength"]["items"]
    assert tuple(attribute_value["properties"]["normalized"]["properties"]) == NORMALIZED_KINDS


def test_records_validate_and_bad_records_do_not():
    validator = jsonschema.Draft202012Validator(RECORD_JSON_SCHEMA)
    record = note_record("n1", predicted_doc())
    validator.validate(record)
    validator.validate(error_record("n2", "empty note"))
    strength = record["medications"][0]["attributes"]["strength"][0]
    assert strength["relation_confidence"] == 0.8 and strength["normalized"]["quantity"] == {"value": 81, "unit": "mg", "ucum": "mg"}
    for broken in (
        {**record, "extra": 1},
        {**record, "error": ""},
        {k: v for k, v in record.items() if k != "medications"},
        {**record, "entities": [{**record["entities"][0], "start": -1}]},
        {**record, "medications": [{**record["medications"][0], "attributes": {}}]},
        with_strength_normalized(record, {"quantity": {"value": 81, "unit": "mg"}}),
        with_strength_normalized(record, {**strength["normalized"], "quantity": {"value": -1, "unit": "mg", "ucum": "mg"}}),
    ):
        with pytest.raises(jsonschema.ValidationError):
            validator.validate(broken)


def test_a_run_writes_valid_records_in_both_formats(relation_pipeline, notes_dir, tmp_path):
    settings = {"shard_size": 6, "max_chars": MAX_CHARS}
    run_annotation(relation_pipeline, notes_dir, tmp_path / "jsonl", AnnotationSettings(**settings))
    run_annotation(relation_pipeline, notes_dir, tmp_path / "parquet", AnnotationSettings(output_format="parquet", **settings))
    records = list(read_annotations(tmp_path / "jsonl"))
    validator = jsonschema.Draft202012Validator(RECORD_JSON_SCHEMA)
    for record in records:
        validator.validate(record)
    for line in (tmp_path / "jsonl" / "part-00000.jsonl").read_text(encoding="utf8").splitlines():
        assert json.loads(line)["id"]  # one JSON object a line
    parts = sorted((tmp_path / "parquet").glob("part-*.parquet"))
    assert [p.name for p in parts] == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    assert pq.read_schema(parts[0]).remove_metadata() == record_arrow_schema()
    assert list(read_annotations(tmp_path / "parquet")) == records
