"""The data model: medication records (doc._.medications), note records, span confidences."""

import json

import pytest
import spacy
from spacy.tokens import Doc, Span

import clinical_ie.pipeline  # noqa: F401  (registers the extensions)
from clinical_ie.pipeline.data_model import ATTRIBUTE_LABELS, medication_records, note_record

TEXT = "Aspirin 81 mg daily for chest pain ; metoprolol 25 mg PO"


def annotated_doc():
    """TEXT with predicted-style entities (ids, confidences) and relations."""
    doc = Doc(spacy.blank("en").vocab, words=TEXT.split())
    entities = [
        ("Drug", 0, 1), ("Strength", 1, 3), ("Frequency", 3, 4), ("Reason", 5, 7),
        ("Drug", 8, 9), ("Strength", 9, 11), ("Route", 11, 12),
    ]
    doc.ents = [Span(doc, s, e, label, span_id=f"T{i}") for i, (label, s, e) in enumerate(entities, start=1)]
    for ent, confidence in zip(doc.ents, (0.99, 0.98, 0.97, 0.9, 0.95, 0.94, 0.93)):
        ent._.confidence = confidence
    doc._.doc_id = "note1"
    doc._.relations = [
        {"id": "R1", "type": "Strength-Drug", "arg1": "T2", "arg2": "T1", "confidence": 0.9},
        {"id": "R2", "type": "Frequency-Drug", "arg1": "T3", "arg2": "T1", "confidence": 0.8},
        {"id": "R3", "type": "Reason-Drug", "arg1": "T4", "arg2": "T1", "confidence": 0.7},
        {"id": "R4", "type": "Strength-Drug", "arg1": "T6", "arg2": "T5", "confidence": 0.95},
        {"id": "R5", "type": "Route-Drug", "arg1": "T7", "arg2": "T5", "confidence": 0.85},
    ]
    return doc


def test_records_link_attributes_to_their_drug():
    aspirin, metoprolol = annotated_doc()._.medications
    drug = (aspirin.id, aspirin.text, aspirin.start_char, aspirin.end_char, aspirin.confidence)
    assert drug == ("T1", "Aspirin", 0, 7, 0.99)
    assert set(aspirin.attributes) == {label.lower() for label in ATTRIBUTE_LABELS}
    strength = aspirin.attributes["strength"]
    assert [(v.label, v.text, v.start_char, v.end_char, v.confidence, v.relation_confidence) for v in strength] == [
        ("Strength", "81 mg", 8, 13, 0.98, 0.9)
    ]
    assert [v.text for v in aspirin.attributes["frequency"]] == ["daily"]
    assert [v.text for v in aspirin.attributes["reason"]] == ["chest pain"]
    assert aspirin.attributes["route"] == [] and aspirin.attributes["ade"] == []
    assert [v.text for v in metoprolol.attributes["strength"]] == ["25 mg"]
    assert [v.text for v in metoprolol.attributes["route"]] == ["PO"]


def test_record_dicts_are_json_serializable():
    record = annotated_doc()._.medications[0].to_dict()
    assert json.loads(json.dumps(record)) == record
    assert record["attributes"]["strength"][0]["text"] == "81 mg"
    assert record["attributes"]["strength"][0]["relation_confidence"] == 0.9


def test_records_of_gold_docs_use_every_gold_entity():
    """A converted doc: overlapping gold entities in doc.spans["entities"], no confidences."""
    doc = Doc(spacy.blank("en").vocab, words="Insulin Pen 10 units".split())
    doc.spans["entities"] = [
        Span(doc, 0, 2, "Drug", span_id="T1"),
        Span(doc, 1, 2, "Form", span_id="T2"),
        Span(doc, 2, 4, "Dosage", span_id="T3"),
    ]
    doc._.relations = [
        {"id": "R1", "type": "Form-Drug", "arg1": "T2", "arg2": "T1"},
        {"id": "R2", "type": "Dosage-Drug", "arg1": "T3", "arg2": "T1"},
    ]
    (record,) = medication_records(doc)
    assert record.text == "Insulin Pen" and record.confidence is None
    assert [(v.text, v.relation_confidence) for v in record.attributes["form"]] == [("Pen", None)]
    assert [v.text for v in record.attributes["dosage"]] == ["10 units"]


def test_drug_without_relations_and_unknown_ids():
    doc = annotated_doc()
    doc._.relations = []
    assert all(not any(r.attributes.values()) for r in doc._.medications)
    doc._.relations = [{"id": "R1", "type": "Strength-Drug", "arg1": "T99", "arg2": "T1"}]
    with pytest.raises(ValueError, match="T99"):
        medication_records(doc)


def test_note_record():
    record = note_record("note1", annotated_doc())
    assert record["id"] == "note1" and record["error"] is None
    assert record["entities"][1] == {
        "label": "Strength", "start": 8, "end": 13, "text": "81 mg", "confidence": 0.98, "assertion": None, "section": None,
    }
    assert [m["text"] for m in record["medications"]] == ["Aspirin", "metoprolol"]
    assert json.loads(json.dumps(record)) == record


def test_note_record_attributes_carry_their_normalized_text():
    aspirin, metoprolol = note_record("note1", annotated_doc())["medications"]
    assert aspirin["attributes"]["strength"][0]["normalized"] == {
        "quantity": {"value": 81, "unit": "mg", "ucum": "mg"}, "range": None, "ratio": None, "frequency": None, "duration": None,
    }
    assert aspirin["attributes"]["frequency"][0]["normalized"]["frequency"] == {
        "frequency": 1, "frequency_max": None, "period": 1, "period_max": None, "period_unit": "d", "as_needed": False, "when": [],
    }
    assert aspirin["attributes"]["reason"][0]["normalized"] is None  # no parser for Reason
    assert metoprolol["attributes"]["route"][0]["normalized"] is None


def test_records_carry_status_assertion_and_section_of_their_drug():
    """With sections and context set (here by hand, as the components would), a Drug's record says
    whether it is taken, stopped or refused, and where it is written."""
    doc = annotated_doc()
    doc.spans["sections"] = [Span(doc, 0, len(doc), "discharge_medications")]
    aspirin, metoprolol = [ent for ent in doc.ents if ent.label_ == "Drug"]
    aspirin._.med_status, aspirin._.assertion = "active", "present"
    metoprolol._.med_status, metoprolol._.assertion = "discontinued", "present"
    doc.ents[1]._.assertion = "absent"  # an attribute's value is its own
    records = medication_records(doc)
    assert [(r.text, r.status, r.assertion, r.section) for r in records] == [
        ("Aspirin", "active", "present", "discharge_medications"),
        ("metoprolol", "discontinued", "present", "discharge_medications"),
    ]
    record = note_record("note1", doc)
    assert [m["status"] for m in record["medications"]] == ["active", "discontinued"]
    assert record["entities"][1]["assertion"] == "absent" and record["entities"][1]["section"] == "discharge_medications"

