"""Relation scores as the official n2c2 2018 Track 2 script computes them.

A relation is a :class:`RelationTuple` ``(type, arg1, arg2)`` with both arguments
:class:`~clinical_ie.evaluation.metrics.spans.EntitySpan`. Two relations match when their types are
equal and each argument matches the other's in the same mode (strict: same label and
offsets; lenient: same label and a character in common). Counting, duplicates included,
is :func:`~clinical_ie.evaluation.metrics.spans.count_matches`, as for entities.

A later relation component can pass its predictions as such tuples, or set
``doc._.relations`` on predicted Docs with argument ids that are the ``span.id_`` of
predicted entities (the ids :func:`clinical_ie.corpora.brat.write_brat_document` follows).
"""

from typing import Dict, List, NamedTuple, Optional, Sequence

from spacy.tokens import Doc

from ...pipeline.data_model import ENTITIES_SPANS_KEY
from .spans import MATCH_MODES, Counts, EntitySpan, brat_entity_span, count_matches_by_label, spans_match


class RelationTuple(NamedTuple):
    """A typed relation between two entities, argument order as in brat (Arg1, Arg2)."""

    type: str
    arg1: EntitySpan
    arg2: EntitySpan


def relations_match(gold: RelationTuple, predicted: RelationTuple, mode: str) -> bool:
    """Whether two relations have the same type and matching arguments in ``mode``."""
    return (
        gold.type == predicted.type
        and spans_match(gold.arg1, predicted.arg1, mode)
        and spans_match(gold.arg2, predicted.arg2, mode)
    )


def doc_relations(doc: Doc) -> List[RelationTuple]:
    """``doc._.relations`` with their argument ids resolved to entities, in order.

    The order is the one written to brat, so duplicates are dropped as the official
    script drops them.

    An id names an entry of ``doc._.brat_entities`` or else a span of ``doc.ents`` or
    ``doc.spans["entities"]`` whose ``span.id_`` it is (how predicted entities are named).
    """
    entities = entities_by_id(doc)
    relations = []
    for relation in doc._.relations or []:
        missing = [arg for arg in (relation["arg1"], relation["arg2"]) if arg not in entities]
        if missing:
            raise ValueError(
                f"Document {doc._.doc_id!r}: relation {relation.get('id')!r} names unknown entities {missing}"
            )
        relations.append(
            RelationTuple(relation["type"], entities[relation["arg1"]], entities[relation["arg2"]])
        )
    return relations


def entities_by_id(doc: Doc) -> Dict[str, EntitySpan]:
    """Entities of ``doc`` by id: ``doc._.brat_entities`` over spans with an ``id_``."""
    spans = [*doc.ents, *doc.spans.get(ENTITIES_SPANS_KEY, [])]
    entities = {s.id_: EntitySpan(s.label_, s.start_char, s.end_char) for s in spans if s.id_}
    entities.update((entity["id"], brat_entity_span(entity)) for entity in doc._.brat_entities or [])
    return entities


def score_relations(
    gold_docs: Sequence[Sequence[RelationTuple]],
    predicted_docs: Sequence[Sequence[RelationTuple]],
    types: Optional[Sequence[str]] = None,
) -> Dict[str, object]:
    """Strict and lenient scores per relation type and micro-averaged.

    ``gold_docs[i]`` and ``predicted_docs[i]`` are the relations of document ``i``;
    ``types`` (default: every type in gold or predictions, sorted) are those reported.
    """
    if types is None:
        types = sorted({r.type for doc in (*gold_docs, *predicted_docs) for r in doc})
    result: Dict[str, object] = {"types": list(types)}
    for mode in MATCH_MODES:
        per_type, _ = count_matches_by_label(
            gold_docs, predicted_docs, types, lambda g, p: relations_match(g, p, mode)
        )
        result[mode] = {
            "per_type": {t: counts.as_dict() for t, counts in per_type.items()},
            "micro": sum(per_type.values(), Counts()).as_dict(),
        }
    return result
