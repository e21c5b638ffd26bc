"""Token-level BIO classification report (Belkadi et al. 2022).

Every token gets a tag ``B-<label>``, ``I-<label>`` or ``O`` from a doc's ``doc.ents``;
B and I tags of one label are distinct classes ("BIO-strict"). The report matches
scikit-learn's ``classification_report(output_dict=True)`` over the pooled tags of all
documents: precision, recall, F1 and support per tag (0.0 for a zero denominator), the
accuracy, and the unweighted (``macro_avg``) and support-weighted (``weighted_avg``)
means over all tags seen in gold or prediction, ``O`` included as scikit-learn does.
The same means without ``O`` are given as ``macro_avg_entity_tags`` and
``weighted_avg_entity_tags``.
"""

from collections import Counter
from typing import Optional, Dict, List, Sequence

from spacy.tokens import Doc

OUTSIDE_TAG = "O"


def bio_tags(doc: Doc, spans_key: Optional[str] = None) -> List[str]:
    """The BIO tag of each token from ``doc.ents``, or from the non-overlapping span group
    ``doc.spans[spans_key]`` (tokens outside every span are ``O``)."""
    if spans_key is None:
        return [
            f"{token.ent_iob_}-{token.ent_type_}" if token.ent_iob_ in ("B", "I") else OUTSIDE_TAG
            for token in doc
        ]
    tags = [OUTSIDE_TAG] * len(doc)
    for span in doc.spans.get(spans_key, []):
        tags[span.start : span.end] = [f"B-{span.label_}"] + [f"I-{span.label_}"] * (len(span) - 1)
    return tags


def bio_classification_report(
    gold_tags: Sequence[Sequence[str]], predicted_tags: Sequence[Sequence[str]]
) -> Dict[str, object]:
    """Per-tag precision / recall / F1 / support with accuracy and averages.

    ``gold_tags[i]`` and ``predicted_tags[i]`` are the tags of document ``i``, one per
    token; documents must have the same number of tokens in both.
    """
    if len(gold_tags) != len(predicted_tags):
        raise ValueError(f"{len(gold_tags)} gold documents but {len(predicted_tags)} predicted")
    pairs = []
    for i, (gold, predicted) in enumerate(zip(gold_tags, predicted_tags)):
        if len(gold) != len(predicted):
            raise ValueError(
                f"Document {i}: {len(gold)} gold tags but {len(predicted)} predicted tags;"
                " predictions must keep the gold tokenization"
            )
        pairs.extend(zip(gold, predicted))
    support = Counter(g for g, _ in pairs)
    predicted_count = Counter(p for _, p in pairs)
    correct = Counter(g for g, p in pairs if g == p)
    tags = sorted(set(support) | set(predicted_count))
    per_tag = {tag: _tag_scores(correct[tag], predicted_count[tag], support[tag]) for tag in tags}
    entity_tags = [tag for tag in tags if tag != OUTSIDE_TAG]
    return {
        "per_tag": per_tag,
        "accuracy": sum(correct.values()) / len(pairs) if pairs else 0.0,
        "macro_avg": _average(per_tag, tags, weighted=False),
        "weighted_avg": _average(per_tag, tags, weighted=True),
        "macro_avg_entity_tags": _average(per_tag, entity_tags, weighted=False),
        "weighted_avg_entity_tags": _average(per_tag, entity_tags, weighted=True),
    }


def _tag_scores(n_correct: int, n_predicted: int, n_gold: int) -> Dict[str, float]:
    precision = n_correct / n_predicted if n_predicted else 0.0
    recall = n_correct / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": n_gold}


def _average(per_tag: Dict[str, Dict[str, float]], tags: Sequence[str], weighted: bool) -> Dict[str, float]:
    weights = [per_tag[tag]["support"] if weighted else 1 for tag in tags]
    total = sum(weights)
    averages = {
        name: sum(w * per_tag[tag][name] for w, tag in zip(weights, tags)) / total if total else 0.0
        for name in ("precision", "recall", "f1")
    }
    averages["support"] = sum(per_tag[tag]["support"] for tag in tags)
    return averages
