"""Shared fixtures: an offline environment, tiny random BERTs and a rule-based relation pipeline
(helpers in :mod:`tests.util`)."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_X_DISABLE_META", "true")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

from tests.util import build_relation_pipeline, build_tiny_bert  # noqa: E402  (after the environment)


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    """Path of a 2-layer, 64-wide random BERT with a WordPiece vocab, saved locally."""
    return build_tiny_bert(tmp_path_factory.mktemp("tiny_bert"))


@pytest.fixture(scope="session")
def tiny_cased_bert(tmp_path_factory) -> Path:
    """Like ``tiny_bert`` with a cased vocabulary and no tokenizer config (the Bio_ClinicalBERT trap)."""
    return build_tiny_bert(tmp_path_factory.mktemp("tiny_cased_bert"), cased=True)


@pytest.fixture(scope="session")
def relation_pipeline(tmp_path_factory) -> Path:
    """A saved pipeline without a transformer: rule-based Drug/Strength entities, then an
    (untrained) relation component that links every candidate (threshold 0)."""
    return build_relation_pipeline(tmp_path_factory.mktemp("pipeline") / "relation_pipeline")
