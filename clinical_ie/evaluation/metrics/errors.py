"""What each entity and relation of a document counts as, for error analysis.

Built on the matching rules of :mod:`.spans` and :mod:`.relations`. Each prediction is judged
against one gold entity, its *partner*:

- ``tp``: a gold entity with the same label and offsets (a strict match);
- ``boundary``: else a gold entity with the same label that it overlaps (a lenient match
  only); the partner is the one it shares most characters with;
- ``label``: else a gold entity of another label that it overlaps (label confusion);
- ``fp``: else none (a false positive, overlapping no gold entity).

Each gold entity no prediction takes as partner is a false negative, ``fn``. So the
predictions that are not ``tp`` are the strict false positives, the ``label`` and ``fp``
ones the lenient false positives, and the gold entities without a ``tp`` prediction the strict
false negatives (up to the duplicates :func:`~.spans.count_matches` drops).
"""

from typing import List, NamedTuple, Optional, Sequence

from .relations import RelationTuple, relations_match
from .spans import EntitySpan, spans_match, spans_overlap

ENTITY_OUTCOMES = ("tp", "boundary", "label", "fp", "fn")


class EntityOutcome(NamedTuple):
    """A prediction with its partner gold entity, or a gold entity no prediction took."""

    kind: str
    gold: Optional[EntitySpan]
    predicted: Optional[EntitySpan]


class RelationOutcome(NamedTuple):
    """A relation: ``tp`` (gold and predicted match strictly), ``missed`` (gold) or ``spurious``
    (predicted)."""

    kind: str
    relation: RelationTuple


def classify_entities(gold: Sequence[EntitySpan], predicted: Sequence[EntitySpan]) -> List[EntityOutcome]:
    """One outcome per prediction (in order), then one ``fn`` per gold entity that is no
    prediction's partner (in order)."""
    outcomes = [judge_prediction(gold, p) for p in predicted]
    partners = {o.gold for o in outcomes}
    return outcomes + [EntityOutcome("fn", g, None) for g in gold if g not in partners]


def judge_prediction(gold: Sequence[EntitySpan], predicted: EntitySpan) -> EntityOutcome:
    """The outcome of one prediction against a document's gold entities."""
    for kind, is_partner in (
        ("tp", lambda g: spans_match(g, predicted, "strict")),
        ("boundary", lambda g: spans_match(g, predicted, "lenient")),
        ("label", lambda g: spans_overlap(g, predicted)),
    ):
        candidates = [g for g in gold if is_partner(g)]
        if candidates:
            return EntityOutcome(kind, max(candidates, key=lambda g: shared_characters(g, predicted)), predicted)
    return EntityOutcome("fp", None, predicted)


def shared_characters(a: EntitySpan, b: EntitySpan) -> int:
    """How many characters two entities have in common."""
    return max(0, min(a.end, b.end) - max(a.start, b.start))


def classify_relations(gold: Sequence[RelationTuple], predicted: Sequence[RelationTuple]) -> List[RelationOutcome]:
    """Each prediction ``tp`` or ``spurious`` (in order), then each gold relation no prediction
    matches strictly, ``missed``."""
    outcomes = [
        RelationOutcome("tp" if any(relations_match(g, p, "strict") for g in gold) else "spurious", p)
        for p in predicted
    ]
    return outcomes + [
        RelationOutcome("missed", g) for g in gold if not any(relations_match(g, p, "strict") for p in predicted)
    ]
