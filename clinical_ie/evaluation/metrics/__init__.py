"""Scores from gold and predicted annotation: plain numbers, no models, no files.

- :mod:`.spans`: entity strict / lenient scores per label, micro, label-macro and
  document-macro (the official n2c2 2018 "macro"), and a label confusion over overlaps.
- :mod:`.tokens`: token-level BIO classification report (Belkadi et al. 2022).
- :mod:`.handover`: CLEF eHealth 2016 nursing-handover token categories.
- :mod:`.relations`: relation strict / lenient scores per type and micro.
"""

from .handover import (
    gold_token_categories,
    predicted_token_categories,
    score_handover,
    training_categories,
)
from .relations import RelationTuple, doc_relations, score_relations
from .spans import (
    Counts,
    EntitySpan,
    gold_entity_spans,
    overlap_confusion,
    predicted_entity_spans,
    score_spans,
)
from .tokens import bio_classification_report, bio_tags

__all__ = [
    "Counts",
    "EntitySpan",
    "RelationTuple",
    "bio_classification_report",
    "bio_tags",
    "doc_relations",
    "gold_entity_spans",
    "gold_token_categories",
    "overlap_confusion",
    "predicted_entity_spans",
    "predicted_token_categories",
    "score_handover",
    "score_relations",
    "score_spans",
    "training_categories",
]
