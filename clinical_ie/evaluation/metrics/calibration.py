"""Calibration of span confidences: is a span given confidence p correct with probability p?

A predicted span is *correct* when a gold entity has its exact offsets and label (the strict
match of :mod:`.spans`). Scores over the pooled predicted spans of a corpus:

- expected calibration error (ECE, Guo et al. 2017): confidences cut into ``n_bins`` equal-width
  bins of [0, 1] (the last bin includes 1.0); ECE = sum over bins of (spans in bin / all spans)
  x |accuracy in bin - mean confidence in bin|;
- the reliability table behind it (one row per bin);
- precision, recall and span counts among the spans at or above confidence thresholds, so that a
  user can pick the threshold that gives the precision they need.
"""

from typing import Dict, List, Sequence, Tuple

from .spans import EntitySpan

DEFAULT_THRESHOLDS = (0.5, 0.7, 0.9, 0.95)
DEFAULT_BINS = 10


def span_correctness(
    gold_docs: Sequence[Sequence[EntitySpan]], predicted_docs: Sequence[Sequence[Tuple[EntitySpan, float]]]
) -> List[Tuple[float, bool]]:
    """``(confidence, correct)`` per predicted span, pooled over documents.

    ``predicted_docs[i]`` holds ``(span, confidence)`` pairs of document ``i``; spans without a
    confidence must be left out by the caller.
    """
    if len(gold_docs) != len(predicted_docs):
        raise ValueError(f"{len(gold_docs)} gold documents but {len(predicted_docs)} predicted")
    pooled = []
    for gold, predicted in zip(gold_docs, predicted_docs):
        gold_set = set(gold)
        pooled.extend((float(confidence), span in gold_set) for span, confidence in predicted)
    return pooled


def reliability_bins(outcomes: Sequence[Tuple[float, bool]], n_bins: int = DEFAULT_BINS) -> List[Dict[str, float]]:
    """One row per equal-width confidence bin: ``low``, ``high``, ``count``, ``mean_confidence``,
    ``accuracy`` (the last two None for an empty bin)."""
    rows = []
    for b in range(n_bins):
        low, high = b / n_bins, (b + 1) / n_bins
        inside = [(c, ok) for c, ok in outcomes if low <= c < high or (b == n_bins - 1 and c == 1.0)]
        rows.append(
            {
                "low": low,
                "high": high,
                "count": len(inside),
                "mean_confidence": sum(c for c, _ in inside) / len(inside) if inside else None,
                "accuracy": sum(ok for _, ok in inside) / len(inside) if inside else None,
            }
        )
    return rows


def expected_calibration_error(outcomes: Sequence[Tuple[float, bool]], n_bins: int = DEFAULT_BINS) -> float:
    """ECE over equal-width bins (0.0 with no spans)."""
    total = len(outcomes)
    return sum(
        row["count"] / total * abs(row["accuracy"] - row["mean_confidence"])
        for row in reliability_bins(outcomes, n_bins)
        if row["count"]
    ) if total else 0.0


def precision_at_thresholds(
    outcomes: Sequence[Tuple[float, bool]], n_gold: int, thresholds: Sequence[float] = DEFAULT_THRESHOLDS
) -> Dict[str, Dict[str, float]]:
    """Per threshold t (as a string key): ``kept`` spans with confidence >= t, their
    ``precision`` and the strict ``recall`` they give over ``n_gold`` gold entities."""
    result = {}
    for threshold in thresholds:
        kept = [ok for confidence, ok in outcomes if confidence >= threshold]
        correct = sum(kept)
        result[f"{threshold:g}"] = {
            "kept": len(kept),
            "precision": correct / len(kept) if kept else 0.0,
            "recall": correct / n_gold if n_gold else 0.0,
        }
    return result


def calibration_report(
    outcomes: Sequence[Tuple[float, bool]],
    n_gold: int,
    n_bins: int = DEFAULT_BINS,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
) -> Dict[str, object]:
    """``n_spans``, ``ece``, ``bins`` (:func:`reliability_bins`) and ``thresholds``
    (:func:`precision_at_thresholds`)."""
    return {
        "n_spans": len(outcomes),
        "n_bins": n_bins,
        "ece": expected_calibration_error(outcomes, n_bins),
        "bins": reliability_bins(outcomes, n_bins),
        "thresholds": precision_at_thresholds(outcomes, n_gold, thresholds),
    }
