"""Fixtures of the evaluation tests: the hand-made note as a gold DocBin and a rule pipeline that
predicts some of its entities (both from :mod:`tests.util`)."""

from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin

import clinical_ie.pipeline  # noqa: F401  (registers the extensions)
from clinical_ie.corpora.brat import read_brat_document
from clinical_ie.corpora.conversion_report import ConversionReport
from tests.util import RULER_PATTERNS, write_note


@pytest.fixture
def gold_path(tmp_path) -> Path:
    """A DocBin of the hand-made note, as the brat converter writes it."""
    write_note(tmp_path / "brat")
    report = ConversionReport("brat", strict=True)
    doc = read_brat_document(tmp_path / "brat" / "note1.txt", tmp_path / "brat" / "note1.ann", report)
    path = tmp_path / "test.spacy"
    DocBin(docs=[doc], store_user_data=True).to_disk(path)
    return path


@pytest.fixture
def ruler_model(tmp_path) -> Path:
    """A saved blank pipeline whose entity ruler predicts ``RULER_PATTERNS``."""
    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler").add_patterns(RULER_PATTERNS)
    nlp.to_disk(tmp_path / "ruler_model")
    return tmp_path / "ruler_model"
