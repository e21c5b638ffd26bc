"""``clinical_ie.crf_scorer.v1``: span P/R/F of a CRF head over the examples of its task."""

from typing import Callable, Dict, Iterable, Optional

from spacy.scorer import Scorer
from spacy.training import Example
from spacy.util import registry

from ..data_model import annotated_for, head_spans


def score_crf_spans(
    examples: Iterable[Example], *, spans_key: Optional[str] = None, task: Optional[str] = None, **kwargs
) -> Dict:
    """``ents_p/r/f/per_type`` (head writing ``doc.ents``), or ``spans_<key>_p/r/f/per_type``
    (head writing ``doc.spans[spans_key]``), over the examples annotated for ``task``."""
    prefix = "ents" if spans_key is None else f"spans_{spans_key}"
    return Scorer.score_spans(
        [eg for eg in examples if annotated_for(eg, task)],
        attr=prefix,
        getter=lambda doc, attr: head_spans(doc, spans_key),
        has_annotation=lambda doc: True,
        allow_overlap=True,
    )


@registry.scorers("clinical_ie.crf_scorer.v1")
def make_crf_scorer() -> Callable:
    return score_crf_spans
