"""Scores of a CRF head's spans on a real corpus: F1, boundary errors, whitespace edges, calibration."""

from collections import Counter
from typing import Dict, List, Sequence

from clinical_ie.evaluation.metrics.calibration import calibration_report, span_correctness
from clinical_ie.evaluation.metrics.errors import classify_entities
from clinical_ie.evaluation.metrics.spans import EntitySpan, gold_entity_spans, score_spans

BOUNDARY_KINDS = ("shorter", "longer", "shifted")
"""A boundary error's prediction lies inside its gold entity, holds it, or neither."""


def boundary_kind(gold: EntitySpan, predicted: EntitySpan) -> str:
    if gold.start <= predicted.start and predicted.end <= gold.end:
        return "shorter"
    if predicted.start <= gold.start and gold.end <= predicted.end:
        return "longer"
    return "shifted"


def as_entities(spans: Sequence[Sequence]) -> List[EntitySpan]:
    return [EntitySpan(label, start, end) for start, end, label, *_ in spans]


def score_head(gold_docs: Sequence, calibrated: Sequence[Sequence], uncalibrated: Sequence[Sequence]) -> Dict[str, object]:
    """Scores of one head's predictions (per document, as written by ``library_run.py spans``)."""
    gold = [gold_entity_spans(doc) for doc in gold_docs]
    predicted = [as_entities(doc) for doc in calibrated]
    spans = score_spans(gold, predicted)
    outcomes = Counter()
    boundaries = Counter()
    for doc_gold, doc_predicted in zip(gold, predicted):
        for outcome in classify_entities(doc_gold, doc_predicted):
            outcomes[outcome.kind] += 1
            if outcome.kind == "boundary":
                boundaries[boundary_kind(outcome.gold, outcome.predicted)] += 1
    n_predicted = sum(len(doc) for doc in predicted)
    n_gold = sum(len(doc) for doc in gold)
    edges = sum(1 for doc in calibrated for span in doc if span[4] or span[5])

    def calibration(predictions):
        confident = [[(EntitySpan(label, start, end), confidence) for start, end, label, confidence, *_ in doc] for doc in predictions]
        return calibration_report(span_correctness(gold, confident), n_gold=n_gold)

    return {
        "n_gold": n_gold,
        "n_predicted": n_predicted,
        "strict": spans["strict"]["micro"],
        "lenient": spans["lenient"]["micro"],
        "per_label_strict_f1": {label: scores["f1"] for label, scores in spans["strict"]["per_label"].items()},
        "outcomes": dict(outcomes),
        "boundary_errors": {kind: boundaries[kind] for kind in BOUNDARY_KINDS},
        "boundary_share": outcomes["boundary"] / n_predicted if n_predicted else 0.0,
        "whitespace_edges": edges,
        "calibration_before": calibration(uncalibrated),
        "calibration_after": calibration(calibrated),
    }
