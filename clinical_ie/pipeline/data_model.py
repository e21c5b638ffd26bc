"""The data model: Doc and Span extensions, the spans a doc carries, medication records.

Extension values live in ``doc.user_data`` (spaCy stores them there), so they survive
``DocBin(store_user_data=True)``. :func:`register_extensions` registers them (idempotent);
importing :mod:`clinical_ie.pipeline` does so. ``docs/data-model.md`` lists them:

- ``doc._.doc_id``: the document's identifier (file stem), never a path.
- ``doc._.corpus``: the corpus the document comes from, the dataset name given at conversion
  (``n2c2``, ``handover``, ``sample-n2c2``... or a user's own); heads whose ``task`` names
  another corpus do not learn from it.
- ``doc._.pretokenized``: True when the tokens are the source file's own (handover);
  training then keeps them (``clinical_ie.corpora.readers``) instead of re-tokenizing the
  text. None otherwise.
- ``doc._.brat_entities``: every gold entity as read, ``{"id", "label", "fragments"}``
  with ``fragments`` a list of ``[start_char, end_char]`` (discontinuous entities have
  several).
- ``doc._.relations``: ``{"id", "type", "arg1", "arg2"}`` (and ``confidence`` when
  predicted) with entity ids; argument order as in the source: Arg1 the attribute, Arg2 the
  Drug.
- ``doc._.token_categories`` / ``doc._.baseline_categories``: per-token gold and organisers'
  categories of nursing-handover documents.
- ``span._.confidence``: a predicted span's marginal probability.
- ``span._.assertion``: ``present``, ``absent``, ``possible``, ``hypothetical``, ``historical``
  or ``family`` (``clinical_context``, or gold from brat attributes).
- ``span._.med_status``: a medication's ``active``, ``discontinued``, ``held``, ``allergy``,
  ``absent``, ``planned`` or ``conditional`` (``clinical_context``).
- ``span._.concepts``: ranked vocabulary concepts of a Drug (``clinical_concept_linker``):
  ``{"id", "code", "vocabulary", "name", "score", "source_id"}`` each.
  These four are stored per offsets *and label* (:data:`LABELLED_SPAN_VALUES`).
- ``span._.section``: the section holding the span (``doc.spans["sections"]``), computed.
- ``doc._.medications``: :class:`MedicationRecord` per Drug, computed on access from the
  doc's entities and ``doc._.relations``; nothing is stored.
"""

from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Tuple

from spacy.tokens import Doc, Span
from spacy.training import Example

from .dosage import normalized
from .labels import N2C2_ENTITY_LABELS

ENTITIES_SPANS_KEY = "entities"
"""``doc.spans`` key holding every gold entity, overlapping ones included."""

SECTIONS_SPANS_KEY = "sections"
"""``doc.spans`` key of the note's sections (``clinical_sections``); ``span._.section`` reads it."""

DOC_EXTENSIONS = (
    "doc_id",
    "corpus",
    "pretokenized",
    "brat_entities",
    "relations",
    "token_categories",
    "baseline_categories",
)

ATTRIBUTE_LABELS = tuple(label for label in N2C2_ENTITY_LABELS if label != "Drug")
"""Entity labels that relate to a Drug; a record's attribute keys are these, lower-cased."""

ASSERTION_VALUES = ("present", "absent", "possible", "hypothetical", "historical", "family")
"""What ``span._.assertion`` says of a mention."""

MEDICATION_STATUS_VALUES = ("active", "discontinued", "held", "allergy", "absent", "planned", "conditional")
"""What ``span._.med_status`` says of a medication."""


# --- values a component sets on a span --------------------------------------------------

LABELLED_SPAN_VALUES = ("confidence", "assertion", "med_status", "concepts")
"""Span extensions stored per offsets *and label*: spaCy keys a span extension's value by
character offsets only, so two spans at the same offsets with different labels (two heads'
predictions, a Drug and a Reason) would otherwise share one value."""


def _value_key(name: str, span: Span) -> Tuple[str, int, int, str]:
    return (f"clinical_ie.{name}", span.start_char, span.end_char, span.label_)


def labelled_span_value(name: str):
    """Getter and setter of the span extension ``name`` stored per offsets and label."""

    def get(span: Span):
        return span.doc.user_data.get(_value_key(name, span))

    def set_(span: Span, value) -> None:
        span.doc.user_data[_value_key(name, span)] = value

    return get, set_


def span_section(span: Span) -> Optional[str]:
    """``span._.section``: the label of the section of ``doc.spans["sections"]`` (set by
    ``clinical_sections``) holding the span's first token, or None."""
    for section in span.doc.spans.get(SECTIONS_SPANS_KEY, ()):
        if section.start <= span.start < section.end:
            return section.label_
    return None


# --- the spans a doc carries ------------------------------------------------------------

def entity_spans(doc: Doc) -> List[Span]:
    """Every entity of ``doc``: ``doc.spans["entities"]`` when set (gold), else ``doc.ents``."""
    return list(doc.spans[ENTITIES_SPANS_KEY]) if ENTITIES_SPANS_KEY in doc.spans else list(doc.ents)


def head_spans(doc: Doc, spans_key: Optional[str]) -> List[Span]:
    """A head's spans in a doc: ``doc.spans[spans_key]`` when the doc has that group, else
    ``doc.ents``. Gold comes from the reference this way (converted corpora carry their task's
    entities in ``doc.ents``); predictions, from where the head wrote them."""
    if spans_key is not None and spans_key in doc.spans:
        return list(doc.spans[spans_key])
    return list(doc.ents)


def group_spans(doc: Doc, spans_key: Optional[str] = None) -> List[Span]:
    """``doc.ents``, or ``doc.spans[spans_key]`` (none when the doc has no such group), sorted by
    start, end and label: the predicted spans of the head that writes there."""
    spans = doc.ents if spans_key is None else doc.spans.get(spans_key, [])
    return sorted(spans, key=lambda s: (s.start_char, s.end_char, s.label_))


def annotated_for(example: Example, task: Optional[str]) -> bool:
    """Whether the example's gold annotates a head of ``task``.

    A document from another corpus (``reference._.corpus`` set and different from ``task``)
    says nothing about that head's labels: it must not teach it "O"."""
    corpus = example.reference._.corpus
    return task is None or corpus is None or corpus == task


# --- medication records -----------------------------------------------------------------

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
    ``ade``; every key present), each a list in document order.

    ``status`` (``span._.med_status``: taken, stopped, held, refused...), ``assertion``
    (``span._.assertion``) and ``section`` (``span._.section``): None where no component set them.
    ``concept``: the first of ``span._.concepts`` (``clinical_concept_linker``), None where uncoded.
    """

    id: str
    text: str
    start_char: int
    end_char: int
    confidence: Optional[float]
    status: Optional[str] = None
    assertion: Optional[str] = None
    section: Optional[str] = None
    concept: Optional[Dict[str, object]] = None
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
            "status": self.status,
            "assertion": self.assertion,
            "section": self.section,
            "concept": self.concept,
            "attributes": {key: [value.to_dict() for value in values] for key, values in self.attributes.items()},
        }


def medication_records(doc: Doc) -> List[MedicationRecord]:
    """One :class:`MedicationRecord` per Drug of :func:`entity_spans`, in document order.

    Raises ValueError when a relation names an entity id that no entity has.
    """
    entities = entity_spans(doc)
    by_id = {span.id_: span for span in entities if span.id_}
    records = {
        span.id_ or f"#{i}": MedicationRecord(
            span.id_, span.text, span.start_char, span.end_char, span._.confidence,
            status=span._.med_status, assertion=span._.assertion, section=span._.section,
            concept=(span._.concepts or [None])[0],
        )
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


def note_record(doc_id: str, doc: Doc) -> Dict[str, object]:
    """The JSON-serializable record of one annotated note.

    ``id``; ``entities``: ``{label, start, end, text, confidence, assertion, section}`` per entity
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
                "assertion": span._.assertion,
                "section": span._.section,
            }
            for span in entity_spans(doc)
        ],
        "medications": [record.to_dict() for record in medication_records(doc)],
        "error": None,
    }


# --- registration -----------------------------------------------------------------------

def register_extensions() -> None:
    """Register the project's ``Doc`` and ``Span`` extensions (idempotent)."""
    for name in DOC_EXTENSIONS:
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=None)
    if not Doc.has_extension("medications"):
        Doc.set_extension("medications", getter=medication_records)
    for name in LABELLED_SPAN_VALUES:
        if not Span.has_extension(name):
            getter, setter = labelled_span_value(name)
            Span.set_extension(name, getter=getter, setter=setter)
    if not Span.has_extension("section"):
        Span.set_extension("section", getter=span_section)
