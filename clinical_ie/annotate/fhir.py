"""FHIR R4 output of annotation records: one ``Bundle`` (type ``collection``) per note.

:func:`note_bundle` turns a record (:func:`clinical_ie.pipeline.data_model.note_record` or
:func:`~clinical_ie.annotate.schema.error_record`) into plain JSON-serializable dicts; no FHIR
library is needed. The Bundle's ``identifier`` is the note id (system :data:`NOTE_ID_SYSTEM`);
each medication record becomes a ``MedicationStatement`` (an ``AllergyIntolerance`` when its
``status`` is ``allergy``) and each of its ADE attributes an ``AdverseEvent`` whose
``suspectEntity`` is that statement. The notes name no patient, so ``subject`` (``patient``) is
a logical reference, ``{"type": "Patient", "display": "patient of note <id>"}``, with nothing
to resolve. Texts outside extensions have their whitespace collapsed; the extensions
keep the texts as they are, with offsets and confidences (:data:`DRUG_MENTION_URL`,
:data:`ATTRIBUTE_MENTION_URL`), so each resource holds its whole medication record (less the
``normalized`` objects, which its texts give back); entities linked to no Drug are left out. Structured
dosage (``timing``, ``doseAndRate``) comes from the attributes' ``normalized`` objects where a
label has exactly one distinct parsed value; the texts are always in ``dosage.text``. A note
with an error gets a Bundle without entries, the error in ``meta.extension``
(:data:`ANNOTATION_ERROR_URL`; a Bundle has no ``extension`` of its own). ``fullUrl`` s are
``urn:uuid`` s derived (UUID 5) from the note id and the record's position and id, so reruns
write identical bytes. The extensions' StructureDefinitions ship with the package
(:mod:`.fhir_profiles`); their canonical base is a site's own with ``fhir_base``. README, "FHIR
output", has the mapping table.
"""

import json
import uuid
from typing import Dict, Iterable, Iterator, List, Optional

from .fhir_profiles import DEFAULT_FHIR_BASE, extension_url, with_base

DRUG_MENTION_URL = extension_url(DEFAULT_FHIR_BASE, "drug-mention")
"""Complex extension: the Drug entity of the record (``id``, ``text``, ``start``, ``end``,
``confidence``, ``status``)."""
ATTRIBUTE_MENTION_URL = extension_url(DEFAULT_FHIR_BASE, "attribute-mention")
"""Complex extension, one per attribute value: ``label``, ``text``, ``start``, ``end``,
``confidence``, ``relationConfidence``."""
ANNOTATION_ERROR_URL = extension_url(DEFAULT_FHIR_BASE, "annotation-error")
"""``valueString``: why the note has no annotations (on ``Bundle.meta``)."""
NOTE_ID_SYSTEM = "urn:en-clinical-ie:note-id"
UCUM_SYSTEM = "http://unitsofmeasure.org"
RXNORM_SYSTEM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ALLERGY_CLINICAL_SYSTEM = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
FULL_URL_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/en-clinical-ie/fhir")

STATEMENT_STATUS = {
    "active": "active",
    "discontinued": "stopped",
    "held": "on-hold",
    "planned": "intended",
    "absent": "not-taken",
    "conditional": "active",
}
"""Record ``status`` -> ``MedicationStatement.status``; ``conditional`` also sets
``asNeededBoolean``; ``allergy`` gives an ``AllergyIntolerance``; no status gives ``unknown``."""
ALLERGY_STATUS = "allergy"
SIG_LABELS = ("strength", "dosage", "form", "route", "frequency", "duration")
"""Attributes whose texts make ``dosage.text``, in document order."""
REPEAT_FIELDS = {
    "frequency": "frequency",
    "frequency_max": "frequencyMax",
    "period": "period",
    "period_max": "periodMax",
    "period_unit": "periodUnit",
}


def full_url(note_id: str, *parts: object) -> str:
    """``urn:uuid:`` of a resource: UUID 5 of the note id and ``parts``, the same on every run."""
    return f"urn:uuid:{uuid.uuid5(FULL_URL_NAMESPACE, json.dumps([note_id, *parts]))}"


def _complex_extension(url: str, values: Dict[str, Optional[object]]) -> dict:
    """A complex extension with one sub-extension per non-None value (``valueInteger`` for
    ints, ``valueDecimal`` for floats, ``valueString`` for strings)."""
    value_type = {int: "valueInteger", float: "valueDecimal", str: "valueString"}
    return {
        "url": url,
        "extension": [
            {"url": name, value_type[type(value)]: value} for name, value in values.items() if value is not None and value != ""
        ],
    }


def _attribute_extension(value: dict) -> dict:
    return _complex_extension(
        ATTRIBUTE_MENTION_URL,
        {
            "label": value["label"],
            "text": value["text"],
            "start": value["start_char"],
            "end": value["end_char"],
            "confidence": _decimal(value["confidence"]),
            "relationConfidence": _decimal(value["relation_confidence"]),
        },
    )


def _decimal(value: Optional[float]) -> Optional[float]:
    return float(value) if value is not None else None


def _record_extensions(medication: dict) -> List[dict]:
    """The drug-mention extension and one attribute-mention extension per attribute value."""
    drug = _complex_extension(
        DRUG_MENTION_URL,
        {
            "id": medication["id"],
            "text": medication["text"],
            "start": medication["start_char"],
            "end": medication["end_char"],
            "confidence": _decimal(medication["confidence"]),
            "status": medication.get("status"),
        },
    )
    return [drug] + [_attribute_extension(value) for values in medication["attributes"].values() for value in values]


def _display_text(text: str) -> str:
    """``text`` with each run of whitespace one space (as it is when nothing else is left)."""
    return " ".join(text.split()) or text


def _distinct_texts(values: List[dict]) -> List[str]:
    """The values' :func:`_display_text` s, each once, in order."""
    return list(dict.fromkeys(_display_text(value["text"]) for value in values))


def _single_normalized(values: List[dict]) -> Optional[dict]:
    """The ``normalized`` object of ``values`` when they all have the same one; None when there
    are none, one does not parse or two differ."""
    distinct = {json.dumps(value["normalized"], sort_keys=True) for value in values}
    return values[0]["normalized"] if len(distinct) == 1 else None


def _quantity(value: float, unit: Optional[str], ucum: Optional[str]) -> dict:
    quantity = {"value": value}
    if unit:
        quantity["unit"] = unit
    if ucum:
        quantity.update(system=UCUM_SYSTEM, code=ucum)
    return quantity


def _dose_and_rate(attributes: Dict[str, List[dict]]) -> Optional[List[dict]]:
    """``doseQuantity`` or ``doseRange`` from the Dosage attribute or, where there is none, the
    Strength (not a concentration or percentage); a bare count takes the single Form's text as
    unit (``One (1)`` + ``Tablet``)."""
    dose = _single_normalized(attributes["dosage"] or attributes["strength"])
    if dose is None or not (dose["quantity"] or dose["range"]):
        return None
    amount = dose["quantity"] or dose["range"]
    unit, ucum = amount["unit"], amount["ucum"]
    if not attributes["dosage"] and unit == "%":
        return None
    forms = _distinct_texts(attributes["form"])
    if unit is None and len(forms) == 1:
        unit = forms[0]
    if dose["quantity"]:
        return [{"doseQuantity": _quantity(amount["value"], unit, ucum)}]
    return [{"doseRange": {"low": _quantity(amount["low"], unit, ucum), "high": _quantity(amount["high"], unit, ucum)}}]


def _repeat(attributes: Dict[str, List[dict]]) -> dict:
    """``Timing.repeat`` from the single parsed Frequency and Duration (``boundsDuration``)."""
    repeat = {}
    duration = _single_normalized(attributes["duration"])
    if duration is not None:
        bounds = duration["duration"]
        repeat["boundsDuration"] = _quantity(bounds["value"], bounds["unit"], bounds["unit"])
    frequency = _single_normalized(attributes["frequency"])
    if frequency is not None:
        timing = frequency["frequency"]
        repeat.update({name: timing[field] for field, name in REPEAT_FIELDS.items() if timing[field] is not None})
        if timing["when"]:
            repeat["when"] = list(timing["when"])
    return repeat


def _dosage(medication: dict) -> Optional[dict]:
    """The statement's one ``Dosage``, or None when the record has nothing for it."""
    attributes = medication["attributes"]
    dosage = {}
    sig = sorted((value for label in SIG_LABELS for value in attributes[label]), key=lambda value: value["start_char"])
    if sig:
        dosage["text"] = " ".join(_distinct_texts(sig))
    repeat = _repeat(attributes)
    if repeat:
        dosage["timing"] = {"repeat": repeat}
    as_needed = medication.get("status") == "conditional" or any(
        value["normalized"] is not None and value["normalized"]["frequency"]["as_needed"] for value in attributes["frequency"]
    )
    if as_needed:
        dosage["asNeededBoolean"] = True
    routes = _distinct_texts(attributes["route"])
    if routes:
        dosage["route"] = {"text": ", ".join(routes)}
    dose_and_rate = _dose_and_rate(attributes)
    if dose_and_rate:
        dosage["doseAndRate"] = dose_and_rate
    return dosage or None


def _subject(note_id: str) -> dict:
    return {"type": "Patient", "display": f"patient of note {note_id}"}


def _drug_concept(medication: dict) -> dict:
    """The Drug as a CodeableConcept: its text, and its RxNorm ``coding`` where the record's
    ``concept`` is an RxNorm concept (``clinical_concept_linker``)."""
    concept = {"text": _display_text(medication["text"])}
    coded = medication.get("concept")
    if coded and coded["vocabulary"] == "RxNorm":
        concept["coding"] = [{"system": RXNORM_SYSTEM, "code": coded["code"], "display": coded["name"]}]
    return concept


def _medication_statement(note_id: str, medication: dict) -> dict:
    status = medication.get("status")
    if status is not None and status not in STATEMENT_STATUS:
        raise ValueError(f"note {note_id!r}, medication {medication['id']!r}: unknown status {status!r}")
    statement = {
        "resourceType": "MedicationStatement",
        "extension": _record_extensions(medication),
        "status": STATEMENT_STATUS[status] if status is not None else "unknown",
        "medicationCodeableConcept": _drug_concept(medication),
        "subject": _subject(note_id),
    }
    reasons = _distinct_texts(medication["attributes"]["reason"])
    if reasons:
        statement["reasonCode"] = [{"text": reason} for reason in reasons]
    dosage = _dosage(medication)
    if dosage:
        statement["dosage"] = [dosage]
    return statement


def _allergy_intolerance(note_id: str, medication: dict) -> dict:
    allergy = {
        "resourceType": "AllergyIntolerance",
        "extension": _record_extensions(medication),
        "clinicalStatus": {"coding": [{"system": ALLERGY_CLINICAL_SYSTEM, "code": "active"}]},
        "category": ["medication"],
        "code": _drug_concept(medication),
        "patient": _subject(note_id),
    }
    reactions = _distinct_texts(medication["attributes"]["ade"])
    if reactions:
        allergy["reaction"] = [{"manifestation": [{"text": reaction} for reaction in reactions]}]
    return allergy


def _adverse_event(note_id: str, ade: dict, statement_url: str) -> dict:
    return {
        "resourceType": "AdverseEvent",
        "extension": [_attribute_extension(ade)],
        "actuality": "actual",
        "event": {"text": _display_text(ade["text"])},
        "subject": _subject(note_id),
        "suspectEntity": [{"instance": {"reference": statement_url}}],
    }


def medication_entries(note_id: str, position: int, medication: dict) -> List[dict]:
    """Bundle entries of one medication record: its statement (or allergy), then an adverse
    event per ADE value of a statement."""
    url = full_url(note_id, position, medication["id"])
    if medication.get("status") == ALLERGY_STATUS:
        return [{"fullUrl": url, "resource": _allergy_intolerance(note_id, medication)}]
    entries = [{"fullUrl": url, "resource": _medication_statement(note_id, medication)}]
    for ade in medication["attributes"]["ade"]:
        ade_url = full_url(note_id, position, medication["id"], ade["start_char"], ade["end_char"])
        entries.append({"fullUrl": ade_url, "resource": _adverse_event(note_id, ade, url)})
    return entries


def note_bundle(record: dict, fhir_base: str = DEFAULT_FHIR_BASE) -> dict:
    """The FHIR R4 Bundle of one note record (module docstring), its extension URLs under the
    canonical ``fhir_base``.

    Raises ValueError for a medication ``status`` outside :data:`STATEMENT_STATUS` and ``allergy``.
    """
    bundle = {
        "resourceType": "Bundle",
        "identifier": {"system": NOTE_ID_SYSTEM, "value": record["id"]},
        "type": "collection",
    }
    if record["error"] is not None:
        bundle["meta"] = {"extension": [{"url": ANNOTATION_ERROR_URL, "valueString": record["error"]}]}
        return with_base(bundle, fhir_base)
    entries = [
        entry
        for position, medication in enumerate(record["medications"])
        for entry in medication_entries(record["id"], position, medication)
    ]
    if entries:
        bundle["entry"] = entries
    return with_base(bundle, fhir_base)


def records_to_bundles(records: Iterable[dict], fhir_base: str = DEFAULT_FHIR_BASE) -> Iterator[dict]:
    """:func:`note_bundle` of each record, in order (e.g. of ``read_annotations(OUTPUT_DIR)``)."""
    return (note_bundle(record, fhir_base) for record in records)
