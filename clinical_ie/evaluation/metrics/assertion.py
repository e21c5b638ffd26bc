"""Scores of per-mention categorical values: assertion and medication status.

Gold and predicted values are parallel sequences, one value per mention.
"""

from collections import Counter
from typing import Dict, Hashable, Optional, Sequence


def precision_recall_f1(gold: Sequence[Hashable], predicted: Sequence[Hashable], positive: Hashable) -> Dict[str, float]:
    """Precision, recall and F1 of ``positive`` (zero where undefined), with the counts."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold values but {len(predicted)} predicted")
    tp = sum(g == positive and p == positive for g, p in zip(gold, predicted))
    fp = sum(g != positive and p == positive for g, p in zip(gold, predicted))
    fn = sum(g == positive and p != positive for g, p in zip(gold, predicted))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


def accuracy(gold: Sequence[Hashable], predicted: Sequence[Hashable]) -> float:
    """The share of mentions whose predicted value is the gold one (0 for none)."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold values but {len(predicted)} predicted")
    return sum(g == p for g, p in zip(gold, predicted)) / len(gold) if gold else 0.0


def confusion(gold: Sequence[Hashable], predicted: Sequence[Hashable]) -> Dict[Hashable, Dict[Hashable, int]]:
    """gold value -> predicted value -> count."""
    counts = Counter(zip(gold, predicted))
    table: Dict[Hashable, Dict[Hashable, int]] = {}
    for (g, p), count in sorted(counts.items(), key=lambda item: (str(item[0][0]), str(item[0][1]))):
        table.setdefault(g, {})[p] = count
    return table


def score_assertions(
    gold: Sequence[Dict[Hashable, str]], predicted: Sequence[Dict[Hashable, Optional[str]]], default: str = "present"
) -> Dict[str, object]:
    """Assertion scores of the mentions found by both sides, per value, micro and macro.

    ``gold[i]`` / ``predicted[i]``: document ``i``'s mentions (any hashable key, e.g. an
    ``EntitySpan``: offsets and label, so a pair is a strict match) -> assertion; a gold mention
    without one has ``default`` (a corpus marks only the mentions that are not plain present).
    Predicted mentions without a value are left out. Per value: precision, recall and F1 of that
    value over the matched pairs; ``micro`` pools every value (it equals the accuracy); ``macro``
    is the mean F1 over the values that occur on either side. ``n_gold`` / ``n_matched`` say how
    many gold mentions there are and how many were found with a value.
    """
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold documents but {len(predicted)} predicted")
    gold_values, predicted_values = [], []
    for gold_doc, predicted_doc in zip(gold, predicted):
        for mention, value in gold_doc.items():
            if predicted_doc.get(mention) is not None:
                gold_values.append(value or default)
                predicted_values.append(predicted_doc[mention])
    values = sorted(set(gold_values) | set(predicted_values))
    per_value = {value: precision_recall_f1(gold_values, predicted_values, value) for value in values}
    tp = sum(scores["tp"] for scores in per_value.values())
    fp = sum(scores["fp"] for scores in per_value.values())
    fn = sum(scores["fn"] for scores in per_value.values())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {
        "n_gold": sum(len(doc) for doc in gold),
        "n_matched": len(gold_values),
        "per_value": per_value,
        "micro": {
            "precision": precision,
            "recall": recall,
            "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
            "tp": tp, "fp": fp, "fn": fn,
        },
        "macro": {"f1": sum(s["f1"] for s in per_value.values()) / len(per_value) if per_value else 0.0},
        "accuracy": accuracy(gold_values, predicted_values),
        "confusion": {str(g): {str(p): n for p, n in row.items()} for g, row in confusion(gold_values, predicted_values).items()},
    }
