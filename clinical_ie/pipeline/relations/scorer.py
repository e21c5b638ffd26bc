"""``clinical_ie.relation_scorer.v1``: micro relation P/R/F, strict and lenient, as the official
n2c2 script counts them."""

from typing import Callable, Dict, Iterable, Optional, Sequence

from spacy.training import Example
from spacy.util import registry


def score_relation_examples(examples: Iterable[Example], *, labels: Optional[Sequence[str]] = None, **cfg) -> Dict:
    """Micro ``rel_<mode>_p/r/f`` and ``rel_<mode>_per_type`` (mode ``strict`` / ``lenient``) of
    ``predicted._.relations`` against ``reference._.relations``, via
    :func:`clinical_ie.evaluation.metrics.relations.score_relations` (types: ``labels``, else every type seen)."""
    # The metrics are the evaluation package's; imported here, when training or evaluation
    # scores, so that loading a pipeline imports nothing outside clinical_ie.pipeline.
    from ...evaluation.metrics.relations import doc_relations, score_relations
    from ...evaluation.metrics.spans import MATCH_MODES

    examples = list(examples)
    scores = score_relations(
        [doc_relations(eg.reference) for eg in examples],
        [doc_relations(eg.predicted) for eg in examples],
        types=list(labels) if labels else None,
    )
    result: Dict[str, object] = {}
    for mode in MATCH_MODES:
        micro = scores[mode]["micro"]
        result[f"rel_{mode}_p"] = micro["precision"]
        result[f"rel_{mode}_r"] = micro["recall"]
        result[f"rel_{mode}_f"] = micro["f1"]
        result[f"rel_{mode}_per_type"] = {
            t: {"p": c["precision"], "r": c["recall"], "f": c["f1"]} for t, c in scores[mode]["per_type"].items()
        }
    return result


@registry.scorers("clinical_ie.relation_scorer.v1")
def make_relation_scorer() -> Callable:
    return score_relation_examples
