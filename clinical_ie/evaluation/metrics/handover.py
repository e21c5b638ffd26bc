"""Nursing-handover scores, CLEF eHealth 2016 Task 1 style.

Each token has one category (``NA`` outside any). Per category, a token is a true
positive when gold and prediction both give it that category, a false positive when only
the prediction does and a false negative when only the gold does. The headline score is
the unweighted mean of per-category precision, recall and F1 over the categories that
occur in training (``NA`` excluded and reported on its own). A macro category with no
gold token in the test data has recall and F1 0 and still counts in the mean; the
result lists those categories.
"""

from typing import Dict, Iterable, List, Optional, Sequence

from spacy.tokens import Doc

from ...pipeline.labels import HANDOVER_OUTSIDE, HANDOVER_TRAINING_CATEGORIES
from .spans import Counts, mean_scores


def predicted_token_categories(doc: Doc, spans_key: Optional[str] = None) -> List[str]:
    """Category of each file token: the label of the predicted span covering it (from
    ``doc.ents``, or ``doc.spans[spans_key]``), else ``NA``. The converter's
    sentence-separating newline tokens are not file tokens and are skipped."""
    categories = [token.ent_type_ or HANDOVER_OUTSIDE for token in doc]
    if spans_key is not None:
        categories = [HANDOVER_OUTSIDE] * len(doc)
        for span in doc.spans.get(spans_key, []):
            categories[span.start : span.end] = [span.label_] * len(span)
    return [category for token, category in zip(doc, categories) if not token.is_space]


def gold_token_categories(doc: Doc) -> List[str]:
    """Gold category of each file token (newline separator tokens skipped)."""
    return [category for token, category in zip(doc, doc._.token_categories) if not token.is_space]


def training_categories(docs: Iterable[Doc]) -> List[str]:
    """Sorted gold categories other than ``NA`` found in the docs' ``token_categories``."""
    return sorted(
        {c for doc in docs for c in (doc._.token_categories or []) if c != HANDOVER_OUTSIDE}
    )


def score_handover(
    gold_categories: Sequence[Sequence[str]],
    predicted_categories: Sequence[Sequence[str]],
    macro_categories: Sequence[str] = HANDOVER_TRAINING_CATEGORIES,
) -> Dict[str, object]:
    """Token-level per-category scores with the CLEF macro average over ``macro_categories``.

    ``gold_categories[i]`` and ``predicted_categories[i]`` hold one category per token of
    document ``i``. Returns ``per_category`` (every category seen or averaged, ``NA``
    aside), ``macro`` (mean over ``macro_categories``), ``micro`` (pooled over
    ``macro_categories``), ``NA`` and ``categories_without_gold`` (macro categories with
    no gold token).
    """
    if len(gold_categories) != len(predicted_categories):
        raise ValueError(
            f"{len(gold_categories)} gold documents but {len(predicted_categories)} predicted"
        )
    if HANDOVER_OUTSIDE in macro_categories:
        raise ValueError(f"{HANDOVER_OUTSIDE!r} must not be among the macro-averaged categories")
    counts: Dict[str, Counts] = {c: Counts() for c in macro_categories}
    for i, (gold, predicted) in enumerate(zip(gold_categories, predicted_categories)):
        if len(gold) != len(predicted):
            raise ValueError(
                f"Document {i}: {len(gold)} gold categories but {len(predicted)} predicted;"
                " predictions must keep the gold tokenization"
            )
        for g, p in zip(gold, predicted):
            if g == p:
                counts[g] = counts.get(g, Counts()) + Counts(tp=1)
            else:
                counts[g] = counts.get(g, Counts()) + Counts(fn=1)
                counts[p] = counts.get(p, Counts()) + Counts(fp=1)
    outside = counts.pop(HANDOVER_OUTSIDE, Counts())
    macro_counts = [counts[c] for c in macro_categories]
    return {
        "macro_categories": list(macro_categories),
        "macro": mean_scores(macro_counts),
        "micro": sum(macro_counts, Counts()).as_dict(),
        HANDOVER_OUTSIDE: outside.as_dict(),
        "per_category": {c: counts[c].as_dict() for c in sorted(counts)},
        "categories_without_gold": [c for c in macro_categories if counts[c].tp + counts[c].fn == 0],
    }
