"""Trainable pipeline components; importing this package registers them with spaCy."""

from .crf_ner import CRFEntityRecognizer, build_crf_tagger, make_crf_ner, make_crf_scorer
from .relations import (
    MedicationRelationExtractor,
    build_relation_classifier,
    make_medication_relations,
    make_relation_scorer,
)

__all__ = [
    "CRFEntityRecognizer",
    "MedicationRelationExtractor",
    "build_crf_tagger",
    "build_relation_classifier",
    "make_crf_ner",
    "make_crf_scorer",
    "make_medication_relations",
    "make_relation_scorer",
]
