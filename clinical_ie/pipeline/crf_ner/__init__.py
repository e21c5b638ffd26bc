"""``clinical_crf_ner``: a linear-chain CRF NER head (the algorithm in :mod:`.crf`, the
architecture in :mod:`.model`, the component in :mod:`.component`, its scorer in :mod:`.scorer`)."""

from .component import ContentScores, CRFEntityRecognizer, content_tokens, make_crf_ner, set_confidence_threshold
from .model import build_crf_tagger
from .scorer import make_crf_scorer, score_crf_spans

__all__ = [
    "ContentScores",
    "CRFEntityRecognizer",
    "content_tokens",
    "build_crf_tagger",
    "make_crf_ner",
    "make_crf_scorer",
    "score_crf_spans",
    "set_confidence_threshold",
]
