"""Entity-level scores as the official n2c2 2018 Track 2 script computes them.

An entity is an :class:`EntitySpan` ``(label, start, end)`` in character offsets; a
discontinuous entity is collapsed to its first start and last end, as the official
script does. Two entities match

- **strict**: same label, same start and same end;
- **lenient**: same label and at least one character in common.

Matching follows ``track2-evaluate-ver4.py`` (see :func:`count_matches`): predictions
are taken in order; a prediction that matches a gold entity already matched by an
earlier prediction is a *duplicate* and is dropped (neither true nor false positive).
Each remaining prediction that matches some gold entity is one true positive, the
other remaining predictions are false positives, and ``fn = n_gold - tp``. Hence

- several predictions overlapping one gold entity: one TP, the others dropped;
- one prediction overlapping two gold entities: one TP and one FN;
- a prediction with the right span but the wrong label: one FP and one FN.

The result does not depend on the order of gold entities but, in such tangles, on the
order of predictions: they are sorted by ``(start, end, label)``, the order in which
:func:`clinical_ie.evaluation.evaluate.write_brat_predictions` writes them, so the official
script run on those files gives the same counts. One consequence of the official
rule: with two overlapping gold entities of one label, lenient can count fewer true
positives than strict (a prediction claiming both makes the other a duplicate).
"""

from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple, TypeVar

from spacy.tokens import Doc

from ...pipeline.data_model import ENTITIES_SPANS_KEY, group_spans

MATCH_MODES = ("strict", "lenient")
MISSED = "missed"
SPURIOUS = "spurious"

Item = TypeVar("Item")


class EntitySpan(NamedTuple):
    """An entity as character offsets: ``text[start:end]`` is labelled ``label``."""

    label: str
    start: int
    end: int


@dataclass
class Counts:
    """True positives, false positives and false negatives, with the scores they give.

    A ratio whose denominator is zero is 0.0, as in the official n2c2 script.
    """

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> Dict[str, float]:
        """Counts, precision, recall and F1 as a plain dict."""
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
        }


def mean_scores(counts: Iterable[Counts]) -> Dict[str, float]:
    """Unweighted mean of precision, recall and F1 over ``counts`` (0.0 each if empty)."""
    counts = list(counts)
    if not counts:
        return {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    return {
        name: sum(getattr(c, name) for c in counts) / len(counts)
        for name in ("precision", "recall", "f1")
    }


def count_matches(
    gold: Sequence[Item], predicted: Sequence[Item], matches: Callable[[Item, Item], bool]
) -> Counts:
    """Count TP / FP / FN of ``predicted`` against ``gold`` the way the n2c2 script does.

    ``matches(gold_item, predicted_item)`` decides a match. A prediction matching any
    gold item already claimed by an earlier prediction is dropped as a duplicate; it
    still claims the other gold items it matches.
    """
    claimed = [False] * len(gold)
    kept = []
    for pred in predicted:
        is_duplicate = False
        for i, g in enumerate(gold):
            if matches(g, pred):
                is_duplicate |= claimed[i]
                claimed[i] = True
        if not is_duplicate:
            kept.append(pred)
    tp = sum(1 for pred in kept if any(matches(g, pred) for g in gold))
    return Counts(tp=tp, fp=len(kept) - tp, fn=len(gold) - tp)


def spans_match(gold: EntitySpan, predicted: EntitySpan, mode: str) -> bool:
    """Whether two entities match in ``mode`` (``"strict"`` or ``"lenient"``)."""
    if gold.label != predicted.label:
        return False
    if mode == "strict":
        return gold.start == predicted.start and gold.end == predicted.end
    if mode == "lenient":
        return spans_overlap(gold, predicted)
    raise ValueError(f"Unknown match mode {mode!r}; expected one of {MATCH_MODES}")


def spans_overlap(a: EntitySpan, b: EntitySpan) -> bool:
    """Whether two entities share at least one character (labels ignored)."""
    return a.start < b.end and b.start < a.end


def gold_entity_spans(doc: Doc) -> List[EntitySpan]:
    """Every gold entity of ``doc``, overlapping ones included, sorted.

    Taken from ``doc._.brat_entities`` when set (the offsets as read, so scores equal
    the official script's), else from ``doc.spans["entities"]``, else from ``doc.ents``.
    """
    if doc._.brat_entities:
        spans = [brat_entity_span(entity) for entity in doc._.brat_entities]
    elif ENTITIES_SPANS_KEY in doc.spans:
        spans = [EntitySpan(s.label_, s.start_char, s.end_char) for s in doc.spans[ENTITIES_SPANS_KEY]]
    else:
        spans = [EntitySpan(s.label_, s.start_char, s.end_char) for s in doc.ents]
    return sorted(spans, key=lambda s: (s.start, s.end, s.label))


def brat_entity_span(entity: dict) -> EntitySpan:
    """A ``doc._.brat_entities`` entry from its first fragment's start to its last fragment's end."""
    fragments = entity["fragments"]
    return EntitySpan(entity["label"], min(f[0] for f in fragments), max(f[1] for f in fragments))


def predicted_entity_spans(doc: Doc, spans_key: Optional[str] = None) -> List[EntitySpan]:
    """The predicted spans of ``doc`` (:func:`~clinical_ie.pipeline.data_model.group_spans`) as entities."""
    return [EntitySpan(s.label_, s.start_char, s.end_char) for s in group_spans(doc, spans_key)]


def score_spans(
    gold_docs: Sequence[Sequence[EntitySpan]],
    predicted_docs: Sequence[Sequence[EntitySpan]],
    labels: Optional[Sequence[str]] = None,
) -> Dict[str, object]:
    """Strict and lenient scores of predicted against gold entities, document by document.

    ``gold_docs[i]`` and ``predicted_docs[i]`` are the entities of document ``i``.
    ``labels`` (default: every label in gold or predictions, sorted) are the labels
    reported and averaged. Returns, per mode, ``per_label`` counts and scores,
    ``micro`` (pooled counts), ``label_macro`` (mean over ``labels``) and
    ``document_macro`` (mean over documents of each document's all-label scores: what
    the official script calls "macro"; a document without gold or predictions scores 0).
    """
    if labels is None:
        labels = sorted({s.label for doc in (*gold_docs, *predicted_docs) for s in doc})
    result: Dict[str, object] = {"labels": list(labels), "n_documents": len(gold_docs)}
    for mode in MATCH_MODES:
        per_label, per_document = count_matches_by_label(
            gold_docs, predicted_docs, labels, lambda g, p: spans_match(g, p, mode)
        )
        result[mode] = {
            "per_label": {label: counts.as_dict() for label, counts in per_label.items()},
            "micro": sum(per_label.values(), Counts()).as_dict(),
            "label_macro": mean_scores(per_label.values()),
            "document_macro": mean_scores(per_document),
        }
    return result


def count_matches_by_label(
    gold_docs: Sequence[Sequence[Item]],
    predicted_docs: Sequence[Sequence[Item]],
    labels: Sequence[str],
    matches: Callable[[Item, Item], bool],
) -> Tuple[Dict[str, Counts], List[Counts]]:
    """:func:`count_matches` per label (an item's first field) and document.

    Returns the counts per label summed over documents, and the counts per document
    summed over ``labels``. Items whose label is not in ``labels`` are ignored.
    """
    if len(gold_docs) != len(predicted_docs):
        raise ValueError(f"{len(gold_docs)} gold documents but {len(predicted_docs)} predicted")
    per_label = {label: Counts() for label in labels}
    per_document = []
    for gold, predicted in zip(gold_docs, predicted_docs):
        document_counts = Counts()
        for label in labels:
            counts = count_matches(
                [item for item in gold if item[0] == label],
                [item for item in predicted if item[0] == label],
                matches,
            )
            per_label[label] += counts
            document_counts += counts
        per_document.append(document_counts)
    return per_label, per_document


def overlap_confusion(
    gold_docs: Sequence[Sequence[EntitySpan]], predicted_docs: Sequence[Sequence[EntitySpan]]
) -> Dict[str, Dict[str, int]]:
    """Confusion of labels over overlapping entities: ``{gold_label: {predicted_label: n}}``.

    Each (gold, predicted) pair sharing a character adds one to its labels' cell. A gold
    entity overlapping no prediction adds one to ``[gold_label][MISSED]``; a prediction
    overlapping no gold entity adds one to ``[SPURIOUS][predicted_label]``.
    """
    confusion: Dict[str, Dict[str, int]] = {}

    def add(gold_label: str, predicted_label: str) -> None:
        row = confusion.setdefault(gold_label, {})
        row[predicted_label] = row.get(predicted_label, 0) + 1

    for gold, predicted in zip(gold_docs, predicted_docs):
        for g in gold:
            overlapping = [p for p in predicted if spans_overlap(g, p)]
            for p in overlapping:
                add(g.label, p.label)
            if not overlapping:
                add(g.label, MISSED)
        for p in predicted:
            if not any(spans_overlap(g, p) for g in gold):
                add(SPURIOUS, p.label)
    return confusion
