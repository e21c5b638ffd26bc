"""Trainable pipeline components; importing this package registers them with spaCy."""

from .crf_ner import CRFEntityRecognizer, build_crf_tagger, make_crf_ner, make_crf_scorer

__all__ = ["CRFEntityRecognizer", "build_crf_tagger", "make_crf_ner", "make_crf_scorer"]
