"""FHIR R4 output: the mapping of medication records, every resource validated with
fhir.resources, and ``annotate --format fhir`` shards with the manifest and resume guarantees."""

import json
import logging

import pytest
from typer.testing import CliRunner

from clinical_ie.annotate import OutputError, read_annotations, run_annotation
from clinical_ie.annotate.cli import app
from clinical_ie.annotate.fhir import (
    ANNOTATION_ERROR_URL,
    ATTRIBUTE_MENTION_URL,
    DRUG_MENTION_URL,
    NOTE_ID_SYSTEM,
    RXNORM_SYSTEM,
    STATEMENT_STATUS,
    UCUM_SYSTEM,
    full_url,
    note_bundle,
    records_to_bundles,
)
from clinical_ie.annotate.schema import error_record
from clinical_ie.pipeline.data_model import AttributeValue, MedicationRecord
from tests.util import BAD_NOTES, MAX_CHARS, folder_notes, manifest, small_settings

fhir_r4b = pytest.importorskip("fhir.resources.R4B")

# R4 required bindings, which fhir.resources does not check
STATEMENT_STATUS_CODES = {"active", "completed", "entered-in-error", "intended", "stopped", "on-hold", "unknown", "not-taken"}
UNITS_OF_TIME = {"s", "min", "h", "d", "wk", "mo", "a"}
EVENT_TIMING = {
    "MORN", "MORN.early", "MORN.late", "NOON", "AFT", "AFT.early", "AFT.late", "EVE", "EVE.early", "EVE.late", "NIGHT",
    "PHS", "HS", "WAKE", "C", "CM", "CD", "CV", "AC", "ACM", "ACD", "ACV", "PC", "PCM", "PCD", "PCV",
}


def validated(bundle: dict) -> dict:
    """``bundle`` after validating it and each of its resources with the R4B models of
    fhir.resources (8.x has no R4 package; Bundle, MedicationStatement, AdverseEvent and
    AllergyIntolerance are the same in R4 and R4B) and checking the R4 codes it uses."""
    fhir_r4b.get_fhir_model_class("Bundle").model_validate(bundle)
    for entry in bundle.get("entry", []):
        resource = entry["resource"]
        fhir_r4b.get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        if resource["resourceType"] == "MedicationStatement":
            assert resource["status"] in STATEMENT_STATUS_CODES
            for dosage in resource.get("dosage", []):
                repeat = dosage.get("timing", {}).get("repeat", {})
                assert repeat.get("periodUnit", "d") in UNITS_OF_TIME and set(repeat.get("when", [])) <= EVENT_TIMING
    assert len({entry["fullUrl"] for entry in bundle.get("entry", [])}) == len(bundle.get("entry", []))
    return bundle


def medication(drug: str, start: int, *attributes, status=None, record_id="T1", confidence=0.99) -> dict:
    """A medication record dict (``MedicationRecord.to_dict``) of ``drug`` at ``start`` with
    ``(label, text, start)`` attributes; ``status`` added when given."""
    record = MedicationRecord(record_id, drug, start, start + len(drug), confidence)
    for label, text, begin in attributes:
        record.attributes[label.lower()].append(AttributeValue(label, text, begin, begin + len(text), 0.9, 0.8))
    result = record.to_dict()
    return {**result, "status": status} if status is not None else result


def note(*medications, note_id="note1") -> dict:
    return {"id": note_id, "entities": [], "medications": list(medications), "error": None}


def resources(bundle: dict, resource_type: str) -> list:
    return [entry["resource"] for entry in bundle.get("entry", []) if entry["resource"]["resourceType"] == resource_type]


METOPROLOL = medication(
    "Metoprolol", 0,
    ("Strength", "25 mg", 11), ("Route", "PO", 17), ("Frequency", "BID", 20), ("Duration", "x 7 days", 24),
    ("Reason", "hypertension", 37),
)


def test_a_medication_statement_carries_the_whole_record():
    bundle = validated(note_bundle(note(METOPROLOL)))
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    assert bundle["identifier"] == {"system": NOTE_ID_SYSTEM, "value": "note1"}
    (entry,) = bundle["entry"]
    assert entry["fullUrl"] == full_url("note1", 0, "T1")
    statement = entry["resource"]
    assert {key: value for key, value in statement.items() if key != "extension"} == {
        "resourceType": "MedicationStatement",
        "status": "unknown",
        "medicationCodeableConcept": {"text": "Metoprolol"},
        "subject": {"type": "Patient", "display": "patient of note note1"},
        "reasonCode": [{"text": "hypertension"}],
        "dosage": [
            {
                "text": "25 mg PO BID x 7 days",
                "timing": {
                    "repeat": {
                        "boundsDuration": {"value": 7, "unit": "d", "system": UCUM_SYSTEM, "code": "d"},
                        "frequency": 2,
                        "period": 1,
                        "periodUnit": "d",
                    }
                },
                "route": {"text": "PO"},
                "doseAndRate": [{"doseQuantity": {"value": 25, "unit": "mg", "system": UCUM_SYSTEM, "code": "mg"}}],
            }
        ],
    }
    drug, *attributes = statement["extension"]
    assert drug == {
        "url": DRUG_MENTION_URL,
        "extension": [
            {"url": "id", "valueString": "T1"},
            {"url": "text", "valueString": "Metoprolol"},
            {"url": "start", "valueInteger": 0},
            {"url": "end", "valueInteger": 10},
            {"url": "confidence", "valueDecimal": 0.99},
        ],
    }
    assert [a["url"] for a in attributes] == [ATTRIBUTE_MENTION_URL] * 5
    assert attributes[0]["extension"] == [
        {"url": "label", "valueString": "Strength"},
        {"url": "text", "valueString": "25 mg"},
        {"url": "start", "valueInteger": 11},
        {"url": "end", "valueInteger": 16},
        {"url": "confidence", "valueDecimal": 0.9},
        {"url": "relationConfidence", "valueDecimal": 0.8},
    ]


def test_an_ade_is_an_adverse_event_suspecting_the_statement():
    lisinopril = medication("lisinopril", 0, ("ADE", "angioedema", 20), ("ADE", "cough", 40))
    bundle = validated(note_bundle(note(lisinopril)))
    (statement_entry, *event_entries) = bundle["entry"]
    assert [e["resource"]["resourceType"] for e in event_entries] == ["AdverseEvent", "AdverseEvent"]
    event = event_entries[0]["resource"]
    assert {key: value for key, value in event.items() if key != "extension"} == {
        "resourceType": "AdverseEvent",
        "actuality": "actual",
        "event": {"text": "angioedema"},
        "subject": {"type": "Patient", "display": "patient of note note1"},
        "suspectEntity": [{"instance": {"reference": statement_entry["fullUrl"]}}],
    }
    assert event["extension"][0]["extension"][:4] == [
        {"url": "label", "valueString": "ADE"},
        {"url": "text", "valueString": "angioedema"},
        {"url": "start", "valueInteger": 20},
        {"url": "end", "valueInteger": 30},
    ]
    assert "dosage" not in statement_entry["resource"]


@pytest.mark.parametrize("status, expected", sorted(STATEMENT_STATUS.items()) + [(None, "unknown")])
def test_record_status_maps_to_statement_status(status, expected):
    bundle = validated(note_bundle(note(medication("heparin", 0, status=status))))
    (statement,) = resources(bundle, "MedicationStatement")
    assert statement["status"] == expected
    assert ("dosage" in statement) == (status == "conditional")
    if status == "conditional":
        assert statement["dosage"] == [{"asNeededBoolean": True}]
    if status is not None:
        assert {"url": "status", "valueString": status} in statement["extension"][0]["extension"]


def test_an_allergy_is_an_allergy_intolerance_with_its_reactions():
    penicillin = medication("Penicillin", 0, ("ADE", "hives", 12), status="allergy")
    bundle = validated(note_bundle(note(penicillin)))
    (allergy,) = [entry["resource"] for entry in bundle["entry"]]
    assert allergy["resourceType"] == "AllergyIntolerance"
    assert allergy["code"] == {"text": "Penicillin"} and allergy["category"] == ["medication"]
    assert allergy["patient"] == {"type": "Patient", "display": "patient of note note1"}
    assert allergy["clinicalStatus"]["coding"][0]["code"] == "active"
    assert allergy["reaction"] == [{"manifestation": [{"text": "hives"}]}]
    assert [e["url"] for e in allergy["extension"]] == [DRUG_MENTION_URL, ATTRIBUTE_MENTION_URL]


def test_a_coded_drug_has_its_rxnorm_coding():
    concept = {"id": 1308216, "code": "29046", "vocabulary": "RxNorm", "name": "lisinopril", "score": 1.0, "source_id": 1308216}
    coded = {**medication("Lisinopril", 0), "concept": concept}
    allergy = {**medication("Lisinopril", 20, status="allergy"), "concept": concept}
    extension = {**medication("drug", 40), "concept": {**concept, "vocabulary": "RxNorm Extension", "code": "OMOP1"}}
    bundle = validated(note_bundle(note(coded, allergy, extension)))
    coding = [{"system": RXNORM_SYSTEM, "code": "29046", "display": "lisinopril"}]
    (statement, other), (intolerance,) = resources(bundle, "MedicationStatement"), resources(bundle, "AllergyIntolerance")
    assert statement["medicationCodeableConcept"] == {"text": "Lisinopril", "coding": coding}
    assert intolerance["code"] == {"text": "Lisinopril", "coding": coding}
    assert other["medicationCodeableConcept"] == {"text": "drug"}  # no RxNorm code for an RxNorm Extension concept


def test_an_unknown_status_is_refused():
    with pytest.raises(ValueError, match="unknown status 'maybe'"):
        note_bundle(note(medication("heparin", 0, status="maybe")))


def dosage_of(*attributes) -> dict:
    bundle = validated(note_bundle(note(medication("drug", 0, *attributes))))
    return resources(bundle, "MedicationStatement")[0]["dosage"][0]


def test_dose_from_dosage_or_strength():
    tablet = dosage_of(("Strength", "500 mg", 5), ("Dosage", "One (1)", 12), ("Form", "Tablet", 20))
    assert tablet["doseAndRate"] == [{"doseQuantity": {"value": 1, "unit": "Tablet"}}]
    assert tablet["text"] == "500 mg One (1) Tablet"
    puffs = dosage_of(("Dosage", "1-2 puffs", 5))
    assert puffs["doseAndRate"] == [{"doseRange": {"low": {"value": 1, "unit": "puff"}, "high": {"value": 2, "unit": "puff"}}}]
    insulin = dosage_of(("Strength", "100 unit/mL", 5), ("Dosage", "10 units", 20))
    assert insulin["doseAndRate"] == [{"doseQuantity": {"value": 10, "unit": "units", "system": UCUM_SYSTEM, "code": "[iU]"}}]
    for no_dose in (
        [("Strength", "10 mg/5 mL", 5)],  # a concentration
        [("Strength", "5 %", 5)],
        [("Strength", "500 mg", 5), ("Dosage", "as directed", 12)],  # the dose does not parse: no fallback
        [("Strength", "500 mg", 5), ("Strength", "250 mg", 20)],  # two different strengths
    ):
        assert "doseAndRate" not in dosage_of(*no_dose)


def test_timing_from_frequency_and_duration():
    prn = dosage_of(("Frequency", "Q4-6H (every 4 to 6 hours) PRN", 5), ("Duration", "for 2 weeks", 40))
    assert prn["timing"]["repeat"] == {
        "boundsDuration": {"value": 2, "unit": "wk", "system": UCUM_SYSTEM, "code": "wk"},
        "frequency": 4,
        "frequencyMax": 6,
        "period": 1,
        "periodUnit": "d",
    }
    assert prn["asNeededBoolean"] is True
    assert dosage_of(("Frequency", "qhs", 5))["timing"]["repeat"] == {"frequency": 1, "period": 1, "periodUnit": "d", "when": ["HS"]}
    assert dosage_of(("Frequency", "q5h", 5))["timing"]["repeat"] == {"frequency": 1, "period": 5, "periodUnit": "h"}
    assert dosage_of(("Frequency", "prn", 5)) == {"text": "prn", "asNeededBoolean": True}
    both = dosage_of(("Frequency", "daily", 5), ("Frequency", "BID", 20))  # which one holds is not known
    assert "timing" not in both and both["text"] == "daily BID"
    unparsed = dosage_of(("Duration", "until 5/3", 5), ("Route", "by\nmouth", 20))
    assert unparsed == {"text": "until 5/3 by mouth", "route": {"text": "by mouth"}}


def test_an_error_record_is_an_empty_bundle_with_the_error():
    bundle = validated(note_bundle(error_record("n2", "empty note")))
    assert bundle == {
        "resourceType": "Bundle",
        "identifier": {"system": NOTE_ID_SYSTEM, "value": "n2"},
        "type": "collection",
        "meta": {"extension": [{"url": ANNOTATION_ERROR_URL, "valueString": "empty note"}]},
    }
    assert "entry" not in validated(note_bundle(note()))


def test_bundles_are_deterministic_and_full_urls_unique():
    records = [note(METOPROLOL, medication("aspirin", 50, ("ADE", "bleeding", 60), record_id="T9"), note_id=f"n{i}") for i in range(3)]
    first = [json.dumps(bundle) for bundle in records_to_bundles(records)]
    assert first == [json.dumps(note_bundle(record)) for record in records]
    urls = [entry["fullUrl"] for line in first for entry in json.loads(line)["entry"]]
    assert len(urls) == len(set(urls)) == 9 and all(url.startswith("urn:uuid:") for url in urls)


def test_the_command_writes_format_fhir(relation_pipeline, notes_dir, tmp_path):
    """The command line (clinical_ie.annotate.cli) takes --format fhir and writes NDJSON Bundles."""
    output = tmp_path / "out"
    result = CliRunner().invoke(app, [str(relation_pipeline), str(notes_dir), str(output), "--format", "fhir",
                                      "--max-chars", str(MAX_CHARS), "--log-every", "0"])
    assert result.exit_code == 0, result.output
    bundles = list(read_annotations(output))
    assert len(bundles) == len(folder_notes(notes_dir)) and all(b["resourceType"] == "Bundle" for b in bundles)
    assert sorted(path.name for path in output.glob("part-*")) == ["part-00000.ndjson"]


@pytest.fixture(scope="module")
def fhir_reference(relation_pipeline, notes_dir, tmp_path_factory):
    """Bundles of an uninterrupted ``--format fhir`` run over ``notes_dir``, and that output folder."""
    output = tmp_path_factory.mktemp("fhir_reference")
    run_annotation(relation_pipeline, notes_dir, output, small_settings(output_format="fhir"))
    return list(read_annotations(output)), output


def test_a_fhir_run_writes_one_valid_bundle_per_note(relation_pipeline, notes_dir, fhir_reference, tmp_path):
    bundles, output = fhir_reference
    assert sorted(p.name for p in output.glob("part-*")) == [f"part-0000{k}.ndjson" for k in range(4)]
    assert [b["identifier"]["value"] for b in bundles] == [note_id for note_id, _ in folder_notes(notes_dir)]
    for bundle in bundles:
        validated(bundle)
    errors = {b["identifier"]["value"] for b in bundles if "meta" in b}
    assert errors == set(BAD_NOTES) and sum(len(resources(b, "MedicationStatement")) for b in bundles) > 20
    (aspirin,) = resources(next(b for b in bundles if b["identifier"]["value"] == "bom"), "MedicationStatement")
    assert aspirin["medicationCodeableConcept"] == {"text": "Aspirin"}
    assert aspirin["dosage"][0]["doseAndRate"] == [{"doseQuantity": {"value": 81, "unit": "mg", "system": UCUM_SYSTEM, "code": "mg"}}]
    saved = manifest(output)
    assert saved["format"] == "fhir" and saved["complete"] and sum(e["errors"] for e in saved["shards"]) == len(BAD_NOTES)
    for entry in saved["shards"]:
        assert len((output / entry["part"]).read_text(encoding="utf8").splitlines()) == entry["records"]
    run_annotation(relation_pipeline, notes_dir, tmp_path / "jsonl", small_settings())
    assert list(records_to_bundles(read_annotations(tmp_path / "jsonl"))) == bundles  # the library call gives the same


def test_fhir_shards_resume_byte_identical(relation_pipeline, notes_dir, fhir_reference, tmp_path, caplog):
    _, reference = fhir_reference
    settings = small_settings(output_format="fhir")
    first = run_annotation(relation_pipeline, notes_dir, tmp_path, small_settings(output_format="fhir", max_shards=2))
    assert not first.complete and [e["part"] for e in manifest(tmp_path)["shards"]] == ["part-00000.ndjson", "part-00001.ndjson"]
    with pytest.raises(OutputError, match="2 of 4 shards"):
        list(read_annotations(tmp_path))
    with pytest.raises(OutputError, match="different format"):
        run_annotation(relation_pipeline, notes_dir, tmp_path, small_settings())
    second = run_annotation(relation_pipeline, notes_dir, tmp_path, settings)
    assert second.complete and second.notes_done_before == 10 and second.shards_written == 2
    part = tmp_path / "part-00001.ndjson"
    part.write_bytes(part.read_bytes()[:100])
    with caplog.at_level(logging.WARNING):
        third = run_annotation(relation_pipeline, notes_dir, tmp_path, settings)
    assert third.shards_written == 1 and "shard part-00001.ndjson is missing or damaged" in caplog.text
    assert [(e["part"], e["sha256"]) for e in manifest(tmp_path)["shards"]] == [
        (e["part"], e["sha256"]) for e in manifest(reference)["shards"]
    ]
