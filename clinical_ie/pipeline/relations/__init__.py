"""``clinical_medication_relations``: links attributes to Drug mentions (candidate pairs in
:mod:`.candidates`, the architecture in :mod:`.model`, the component in :mod:`.component`,
its scorer in :mod:`.scorer`)."""

from .component import MedicationRelationExtractor, make_medication_relations
from .model import build_relation_classifier
from .scorer import make_relation_scorer, score_relation_examples

__all__ = [
    "MedicationRelationExtractor",
    "build_relation_classifier",
    "make_medication_relations",
    "make_relation_scorer",
    "score_relation_examples",
]
