"""The annotation record: one per input note, as JSON (JSON Lines shards) or Arrow (Parquet shards).

A record is :func:`clinical_ie.pipeline.data_model.note_record` of the annotated note, or
:func:`error_record` for a note that could not be annotated. :data:`RECORD_JSON_SCHEMA` is the
contract (README, "Annotating notes at scale"); :func:`record_arrow_schema` is the same shape
for Parquet.
"""

from typing import Dict

from ..pipeline.data_model import ASSERTION_VALUES, ATTRIBUTE_LABELS, MEDICATION_STATUS_VALUES

_NUMBER_OR_NULL = {"type": ["number", "null"]}
_POSITIVE = {"type": "number", "exclusiveMinimum": 0}
_POSITIVE_OR_NULL = {"type": ["number", "null"], "exclusiveMinimum": 0}
_COUNT_OR_NULL = {"type": ["integer", "null"], "minimum": 1}
_OFFSET = {"type": "integer", "minimum": 0}
_TEXT = {"type": "string"}
_TEXT_OR_NULL = {"type": ["string", "null"]}
_ASSERTION = {"enum": [*ASSERTION_VALUES, None]}
_STATUS = {"enum": [*MEDICATION_STATUS_VALUES, None]}
_SECTION = {"type": ["string", "null"], "minLength": 1}


def _object(properties: Dict[str, dict], nullable: bool = True) -> dict:
    """An object schema with exactly ``properties``, all required."""
    return {
        "type": ["object", "null"] if nullable else "object",
        "additionalProperties": False,
        "required": list(properties),
        "properties": properties,
    }


_QUANTITY = {"value": _POSITIVE, "unit": _TEXT_OR_NULL, "ucum": _TEXT_OR_NULL}
_NORMALIZED = _object(
    {
        "quantity": _object(_QUANTITY),
        "range": _object({"low": _POSITIVE, "high": _POSITIVE, "unit": _TEXT_OR_NULL, "ucum": _TEXT_OR_NULL}),
        "ratio": _object({"numerator": _object(_QUANTITY, False), "denominator": _object(_QUANTITY, False)}),
        "frequency": _object(
            {
                "frequency": _COUNT_OR_NULL,
                "frequency_max": _COUNT_OR_NULL,
                "period": _POSITIVE_OR_NULL,
                "period_max": _POSITIVE_OR_NULL,
                "period_unit": {"enum": ["min", "h", "d", "wk", "mo", None]},
                "as_needed": {"type": "boolean"},
                "when": {"type": "array", "items": {"type": "string"}},
            }
        ),
        "duration": _object({"value": _POSITIVE, "unit": {"enum": ["min", "h", "d", "wk", "mo"]}}),
    }
)
"""A parsed attribute text (:func:`clinical_ie.pipeline.dosage.normalized`): the key of its type
set, the others null."""

_CONCEPT_ID = {"type": ["integer", "null"]}
_CONCEPT = _object(
    {
        "id": _CONCEPT_ID,
        "code": _TEXT,
        "vocabulary": _TEXT,
        "name": _TEXT,
        "score": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "source_id": _CONCEPT_ID,
    }
)
"""A Drug's vocabulary concept (``clinical_concept_linker``), null where uncoded."""

_ATTRIBUTE_VALUE = _object(
    {
        "label": {"enum": list(ATTRIBUTE_LABELS)},
        "text": _TEXT,
        "start_char": _OFFSET,
        "end_char": _OFFSET,
        "confidence": _NUMBER_OR_NULL,
        "relation_confidence": _NUMBER_OR_NULL,
        "normalized": _NORMALIZED,
    },
    nullable=False,
)

RECORD_JSON_SCHEMA: Dict[str, object] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "en_clinical_ie annotation record",
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "entities", "medications", "error"],
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "entities": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["label", "start", "end", "text", "confidence", "assertion", "section"],
                "properties": {
                    "label": {"type": "string", "minLength": 1},
                    "start": _OFFSET,
                    "end": _OFFSET,
                    "text": _TEXT,
                    "confidence": _NUMBER_OR_NULL,
                    "assertion": _ASSERTION,
                    "section": _SECTION,
                },
            },
        },
        "medications": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": [
                    "id", "text", "start_char", "end_char", "confidence", "status", "assertion", "section", "concept",
                    "attributes",
                ],
                "properties": {
                    "id": _TEXT,
                    "text": _TEXT,
                    "start_char": _OFFSET,
                    "end_char": _OFFSET,
                    "confidence": _NUMBER_OR_NULL,
                    "status": _STATUS,
                    "assertion": _ASSERTION,
                    "section": _SECTION,
                    "concept": _CONCEPT,
                    "attributes": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": [label.lower() for label in ATTRIBUTE_LABELS],
                        "properties": {label.lower(): {"type": "array", "items": _ATTRIBUTE_VALUE} for label in ATTRIBUTE_LABELS},
                    },
                },
            },
        },
        "error": {"type": ["string", "null"], "minLength": 1},
    },
}
"""JSON Schema of a record. An ``error`` record has empty ``entities`` and ``medications``."""


def error_record(note_id: str, reason: str) -> Dict[str, object]:
    """The record of a note that could not be annotated."""
    return {"id": note_id, "entities": [], "medications": [], "error": reason}


def record_arrow_schema():
    """The Arrow schema of Parquet shards (same fields and nesting as the JSON records)."""
    import pyarrow as pa

    quantity = [("value", pa.float64()), ("unit", pa.string()), ("ucum", pa.string())]
    normalized = pa.struct(
        [
            ("quantity", pa.struct(quantity)),
            ("range", pa.struct([("low", pa.float64()), ("high", pa.float64()), ("unit", pa.string()), ("ucum", pa.string())])),
            ("ratio", pa.struct([("numerator", pa.struct(quantity)), ("denominator", pa.struct(quantity))])),
            (
                "frequency",
                pa.struct(
                    [
                        ("frequency", pa.int64()),
                        ("frequency_max", pa.int64()),
                        ("period", pa.float64()),
                        ("period_max", pa.float64()),
                        ("period_unit", pa.string()),
                        ("as_needed", pa.bool_()),
                        ("when", pa.list_(pa.string())),
                    ]
                ),
            ),
            ("duration", pa.struct([("value", pa.float64()), ("unit", pa.string())])),
        ]
    )
    attribute_value = pa.struct(
        [
            ("label", pa.string()),
            ("text", pa.string()),
            ("start_char", pa.int64()),
            ("end_char", pa.int64()),
            ("confidence", pa.float64()),
            ("relation_confidence", pa.float64()),
            ("normalized", normalized),
        ]
    )
    entity = pa.struct(
        [
            ("label", pa.string()),
            ("start", pa.int64()),
            ("end", pa.int64()),
            ("text", pa.string()),
            ("confidence", pa.float64()),
            ("assertion", pa.string()),
            ("section", pa.string()),
        ]
    )
    medication = pa.struct(
        [
            ("id", pa.string()),
            ("text", pa.string()),
            ("start_char", pa.int64()),
            ("end_char", pa.int64()),
            ("confidence", pa.float64()),
            ("status", pa.string()),
            ("assertion", pa.string()),
            ("section", pa.string()),
            (
                "concept",
                pa.struct(
                    [
                        ("id", pa.int64()),
                        ("code", pa.string()),
                        ("vocabulary", pa.string()),
                        ("name", pa.string()),
                        ("score", pa.float64()),
                        ("source_id", pa.int64()),
                    ]
                ),
            ),
            ("attributes", pa.struct([(label.lower(), pa.list_(attribute_value)) for label in ATTRIBUTE_LABELS])),
        ]
    )
    return pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),
            ("entities", pa.list_(entity)),
            ("medications", pa.list_(medication)),
            ("error", pa.string()),
        ]
    )
