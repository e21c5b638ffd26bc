"""Scores of per-mention categorical values: assertion and medication status.

Gold and predicted values are parallel sequences, one value per mention.
"""

from collections import Counter
from typing import Dict, Hashable, Sequence


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
