"""The StructureDefinitions of the FHIR output's extensions: shipped, valid R4 resources, a
canonical base a site sets (``--fhir-base``, in the manifest), and every Bundle validated with
fhir.resources and against the StructureDefinitions of its extensions."""

import json

import pytest
from typer.testing import CliRunner

from clinical_ie.annotate import OutputError, read_annotations, run_annotation
from clinical_ie.annotate.cli import app
from clinical_ie.annotate.fhir import ANNOTATION_ERROR_URL, ATTRIBUTE_MENTION_URL, DRUG_MENTION_URL, note_bundle
from clinical_ie.annotate.fhir_profiles import (
    DEFAULT_FHIR_BASE,
    STRUCTURE_DEFINITIONS_FOLDER,
    check_fhir_base,
    structure_definitions,
    with_base,
)
from clinical_ie.annotate.schema import error_record
from tests.annotate.test_fhir import medication, note, validated
from tests.util import MAX_CHARS, folder_notes, manifest, small_settings

fhir_r4b = pytest.importorskip("fhir.resources.R4B")

SITE_BASE = "https://fhir.example-hospital.org/clinical-ie"
VALUE_TYPES = {"string": str, "integer": int, "decimal": (int, float)}


def slices(definition: dict) -> dict:
    """Sub-extension name -> (min, max, value type) of a complex extension's differential."""
    elements = {element["id"]: element for element in definition["differential"]["element"]}
    return {
        element["sliceName"]: (element["min"], int(element["max"]), elements[f"{element['id']}.value[x]"]["type"][0]["code"])
        for element in elements.values() if element["path"] == "Extension.extension" and "sliceName" in element
    }


def extension_problems(extension: dict, host: str, definitions: dict) -> list:
    """What is wrong with ``extension`` on ``host`` (a resource type, or ``Bundle.meta``) by the
    StructureDefinition of its URL: unresolved, out of context, sub-extensions (closed slicing:
    known names, cardinality, value type) or value[x] against the differential."""
    definition = definitions.get(extension["url"])
    if definition is None:
        return [f"{extension['url']}: no StructureDefinition"]
    problems = []
    if host not in {context["expression"] for context in definition["context"]}:
        problems.append(f"{extension['url']}: not allowed on {host}")
    values = [key for key in extension if key.startswith("value")]
    parts = slices(definition)
    if not parts:
        (value_element,) = [e for e in definition["differential"]["element"] if e["path"] == "Extension.value[x]"]
        expected = "value" + value_element["type"][0]["code"].capitalize()
        if values != [expected] or "extension" in extension:
            problems.append(f"{extension['url']}: expected {expected} only, got {values + list(extension.get('extension', []))}")
        return problems
    if values:
        problems.append(f"{extension['url']}: a complex extension has no value, got {values}")
    counts = {}
    for sub in extension.get("extension", []):
        counts[sub["url"]] = counts.get(sub["url"], 0) + 1
        if sub["url"] not in parts:
            problems.append(f"{extension['url']}: unknown sub-extension {sub['url']!r}")
            continue
        value_type = parts[sub["url"]][2]
        key = "value" + value_type.capitalize()
        if set(sub) != {"url", key} or not isinstance(sub[key], VALUE_TYPES[value_type]) or isinstance(sub[key], bool):
            problems.append(f"{extension['url']}: sub-extension {sub['url']!r} must hold one {key}")
    for name, (low, high, _) in parts.items():
        if not low <= counts.get(name, 0) <= high:
            problems.append(f"{extension['url']}: sub-extension {name!r} {counts.get(name, 0)} times, expected {low}..{high}")
    return problems


def bundle_problems(bundle: dict, definitions: dict) -> list:
    """:func:`extension_problems` of every extension of the Bundle's meta and resources."""
    hosted = [(extension, "Bundle.meta") for extension in bundle.get("meta", {}).get("extension", [])]
    hosted += [(extension, entry["resource"]["resourceType"])
               for entry in bundle.get("entry", []) for extension in entry["resource"].get("extension", [])]
    return [problem for extension, host in hosted for problem in extension_problems(extension, host, definitions)]


def checked(bundle: dict, definitions: dict) -> dict:
    """``bundle`` validated by fhir.resources (:func:`validated`) and against ``definitions``."""
    assert bundle_problems(validated(bundle), definitions) == []
    return bundle


LISINOPRIL = medication("lisinopril", 0, ("Strength", "10 mg", 11), ("ADE", "angioedema", 30))
PENICILLIN = medication("penicillin", 50, ("ADE", "rash", 70), status="allergy", record_id="T9", confidence=None)
RECORDS = [note(LISINOPRIL, PENICILLIN), error_record("note2", "text longer than max_chars")]


def test_the_shipped_definitions_are_valid_r4_and_cover_every_extension():
    definitions = structure_definitions()
    assert set(definitions) == {DRUG_MENTION_URL, ATTRIBUTE_MENTION_URL, ANNOTATION_ERROR_URL}
    for url, definition in definitions.items():
        fhir_r4b.get_fhir_model_class("StructureDefinition").model_validate(definition)
        assert definition["fhirVersion"] == "4.0.1" and definition["type"] == "Extension"
        fixed = {e["path"]: e.get("fixedUri") for e in definition["differential"]["element"] if e["path"] == "Extension.url"}
        assert fixed == {"Extension.url": url} and url == f"{DEFAULT_FHIR_BASE}/StructureDefinition/{definition['id']}"
    assert slices(definitions[DRUG_MENTION_URL]) == {
        "id": (1, 1, "string"), "text": (1, 1, "string"), "start": (1, 1, "integer"), "end": (1, 1, "integer"),
        "confidence": (0, 1, "decimal"), "status": (0, 1, "string"),
    }


@pytest.mark.parametrize("base", [DEFAULT_FHIR_BASE, SITE_BASE])
def test_bundles_validate_with_the_definitions_of_their_base(base):
    definitions = structure_definitions(base)
    for record in RECORDS:
        bundle = checked(note_bundle(record, base), definitions)
        urls = {e["url"] for entry in bundle.get("entry", []) for e in entry["resource"]["extension"]}
        urls |= {e["url"] for e in bundle.get("meta", {}).get("extension", [])}
        assert urls and all(url.startswith(base + "/StructureDefinition/") for url in urls)
    assert bundle_problems(note_bundle(RECORDS[0], base), structure_definitions("https://elsewhere.example.org/fhir")) != []


def test_the_checker_finds_what_a_validator_would():
    definitions = structure_definitions()
    good = note_bundle(note(LISINOPRIL))
    statement = good["entry"][0]["resource"]
    drug = statement["extension"][0]
    broken = [
        ({**drug, "url": DEFAULT_FHIR_BASE + "/StructureDefinition/drug-mentions"}, "no StructureDefinition"),
        ({**drug, "extension": drug["extension"][1:]}, "'id' 0 times"),
        ({**drug, "extension": [*drug["extension"], {"url": "dose", "valueString": "x"}]}, "unknown sub-extension 'dose'"),
        ({**drug, "extension": [{"url": "start", "valueString": "0"}, *drug["extension"][1:]]}, "'start' must hold one valueInteger"),
        ({**drug, "valueString": "x"}, "has no value"),
    ]
    for extension, problem in broken:
        bad = json.loads(json.dumps(good))
        bad["entry"][0]["resource"]["extension"][0] = extension
        assert any(problem in found for found in bundle_problems(bad, definitions)), problem
    adverse = json.loads(json.dumps(good))
    adverse["entry"][1]["resource"]["extension"].append(drug)  # a drug mention on an AdverseEvent
    assert bundle_problems(adverse, definitions) == [f"{DRUG_MENTION_URL}: not allowed on AdverseEvent"]


def test_a_site_base_is_checked_and_moves_only_canonical_urls():
    assert check_fhir_base(SITE_BASE + "/") == SITE_BASE
    for bad in ("fhir.example.org", "ftp://x.org/fhir", "https://x.org/fhir?v=1", "https://x.org/a b", ""):
        with pytest.raises(ValueError, match="not an absolute http"):
            check_fhir_base(bad)
    text = DEFAULT_FHIR_BASE + "/StructureDefinition/drug-mention"
    moved = with_base({"url": text, "valueString": text, "extension": [{"url": text}]}, SITE_BASE)
    assert moved == {"url": SITE_BASE + "/StructureDefinition/drug-mention", "valueString": text,
                     "extension": [{"url": SITE_BASE + "/StructureDefinition/drug-mention"}]}


def test_annotate_with_a_site_base_records_it_and_writes_its_definitions(relation_pipeline, notes_dir, tmp_path):
    output = tmp_path / "out"
    result = CliRunner().invoke(app, [str(relation_pipeline), str(notes_dir), str(output), "--format", "fhir",
                                      "--fhir-base", SITE_BASE, "--max-chars", str(MAX_CHARS), "--log-every", "0"])
    assert result.exit_code == 0, result.output
    assert manifest(output)["fhir_base"] == SITE_BASE
    written = {path.name: json.loads(path.read_text(encoding="utf8"))
               for path in (output / STRUCTURE_DEFINITIONS_FOLDER).glob("*.json")}
    definitions = {definition["url"]: definition for definition in written.values()}
    assert definitions == structure_definitions(SITE_BASE) and len(written) == 3
    bundles = list(read_annotations(output))
    assert len(bundles) == len(folder_notes(notes_dir))
    for bundle in bundles:
        checked(bundle, definitions)
    with pytest.raises(OutputError, match=r"\(different fhir_base\)"):  # the same run but for the default base
        run_annotation(relation_pipeline, notes_dir, output, small_settings(output_format="fhir", shard_size=1000))
    run_annotation(relation_pipeline, notes_dir, tmp_path / "jsonl", small_settings(fhir_base=SITE_BASE))
    assert manifest(tmp_path / "jsonl")["fhir_base"] is None
    assert not (tmp_path / "jsonl" / STRUCTURE_DEFINITIONS_FOLDER).exists()
