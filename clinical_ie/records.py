"""Structured medication records: one per Drug mention, with its linked attributes.

``doc._.medications`` (registered by :func:`register_medications_extension`, which the
relation component calls) is computed on access from the doc's entities and
``doc._.relations``; nothing is stored. Entities are :func:`entity_spans`; relation arguments
are entity ids (``span.id_``), Arg1 the attribute and Arg2 the Drug.

:func:`note_record` turns an annotated note into the JSON-serializable record that the
annotation command writes, one per note.
"""

from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional

from spacy.tokens import Doc, Span

from .extensions import ENTITIES_SPANS_KEY
from .labels import N2C2_ENTITY_LABELS
from .pipeline.dosage import normalized

ATTRIBUTE_LABELS = tuple(label for label in N2C2_ENTITY_LABELS if label != "Drug")
"""Entity labels that relate to a Drug; a record's attribute keys are these, lower-cased."""


def entity_spans(doc: Doc) -> List[Span]:
    """Every entity of ``doc``: ``doc.spans["entities"]`` when set (gold), else ``doc.ents``."""
    return list(doc.spans[ENTITIES_SPANS_KEY]) if ENTITIES_SPANS_KEY in doc.spans else list(doc.ents)


@dataclass(frozen=True)
class AttributeValue:
    """An attribute mention linked to a Drug.

    ``confidence``: the entity's (``span._.confidence``); ``relation_confidence``: the link's
    (the relation's ``confidence``); None where not predicted (gold annotation).
    """

    label: str
    text: str
    start_char: int
    end_char: int
    confidence: Optional[float]
    relation_confidence: Optional[float]

    def to_dict(self) -> Dict[str, object]:
        """Its fields and ``normalized``: the text parsed by
        :func:`clinical_ie.pipeline.dosage.normalized` (None for labels without a parser)."""
        return {**asdict(self), "normalized": normalized(self.label, self.text)}


@dataclass(frozen=True)
class MedicationRecord:
    """A Drug mention and its attributes, keyed by lower-cased label (``strength``, ...,
    ``ade``; every key present), each a list in document order."""

    id: str
    text: str
    start_char: int
    end_char: int
    confidence: Optional[float]
    attributes: Dict[str, List[AttributeValue]] = field(
        default_factory=lambda: {label.lower(): [] for label in ATTRIBUTE_LABELS}
    )

    def to_dict(self) -> Dict[str, object]:
        """A JSON-serializable dict (attribute values as :meth:`AttributeValue.to_dict`)."""
        return {
            "id": self.id,
            "text": self.text,
            "start_char": self.start_char,
            "end_char": self.end_char,
            "confidence": self.confidence,
            "attributes": {key: [value.to_dict() for value in values] for key, values in self.attributes.items()},
        }


def medication_records(doc: Doc) -> List[MedicationRecord]:
    """One :class:`MedicationRecord` per Drug of :func:`entity_spans`, in document order.

    Raises ValueError when a relation names an entity id that no entity has.
    """
    entities = entity_spans(doc)
    by_id = {span.id_: span for span in entities if span.id_}
    records = {
        span.id_ or f"#{i}": MedicationRecord(span.id_, span.text, span.start_char, span.end_char, span._.confidence)
        for i, span in enumerate(entities)
        if span.label_ == "Drug"
    }
    for relation in doc._.relations or []:
        missing = [arg for arg in (relation["arg1"], relation["arg2"]) if arg not in by_id]
        if missing:
            raise ValueError(
                f"Document {doc._.doc_id!r}: relation {relation.get('id')!r} names unknown entities {missing}"
            )
        attribute = by_id[relation["arg1"]]
        record = records.get(relation["arg2"])
        if record is None or attribute.label_ not in ATTRIBUTE_LABELS:
            continue
        record.attributes[attribute.label_.lower()].append(
            AttributeValue(
                attribute.label_,
                attribute.text,
                attribute.start_char,
                attribute.end_char,
                attribute._.confidence,
                relation.get("confidence"),
            )
        )
    for record in records.values():
        for values in record.attributes.values():
            values.sort(key=lambda value: (value.start_char, value.end_char))
    return list(records.values())


def register_medications_extension() -> None:
    """Register the ``doc._.medications`` getter (idempotent)."""
    if not Doc.has_extension("medications"):
        Doc.set_extension("medications", getter=medication_records)


def note_record(doc_id: str, doc: Doc) -> Dict[str, object]:
    """The JSON-serializable record of one annotated note.

    ``id``; ``entities``: ``{label, start, end, text, confidence}`` per entity
    (:func:`entity_spans`); ``medications``: :func:`medication_records` as dicts;
    ``error``: None.
    """
    return {
        "id": doc_id,
        "entities": [
            {
                "label": span.label_,
                "start": span.start_char,
                "end": span.end_char,
                "text": span.text,
                "confidence": span._.confidence,
            }
            for span in entity_spans(doc)
        ],
        "medications": [record.to_dict() for record in medication_records(doc)],
        "error": None,
    }
