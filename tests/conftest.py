"""Shared fixtures: offline environment and a tiny random BERT built at test time."""

import os
import string
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_X_DISABLE_META", "true")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = REPO_ROOT / "assets" / "sample"

_WORDS = """
the a an of and or to in on for with at by from is was are be been patient pt
mg mcg ml units tablet tab tabs capsule cap po iv sc im prn daily bid tid qid q.d.
q.h.s. qhs x7days days weeks for hours once twice nightly morning evening
aspirin metformin lisinopril heparin insulin warfarin vancomycin furosemide
metoprolol atorvastatin amoxicillin prednisone oxycodone acetaminophen
nausea rash pain fever infection hypertension diabetes bleeding hypotension
discharge admission medications history hospital course allergies
he she his her bed room dr doctor nurse shift status diet wound obs
""".split()


def _build_tiny_bert(path: Path, cased: bool = False) -> Path:
    """A random 2-layer BERT (weights seeded) with a WordPiece vocab trained on the sample notes.
    ``cased``: the vocabulary keeps case and the folder has no tokenizer config, as
    Bio_ClinicalBERT's Hub folder (its tokenizer then lowercases unless told not to)."""
    import torch
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    corpus = list(_WORDS)
    if SAMPLE_DIR.exists():
        corpus += [p.read_text(encoding="utf8") for p in sorted(SAMPLE_DIR.rglob("*.txt"))]
    corpus += [" ".join(string.ascii_letters + string.digits + string.punctuation)]
    wordpiece = BertWordPieceTokenizer(lowercase=not cased)
    wordpiece.train_from_iterator(corpus, vocab_size=1500, min_frequency=1, show_progress=False)
    path.mkdir(parents=True, exist_ok=True)
    wordpiece.save_model(str(path))
    tokenizer = BertTokenizerFast(vocab_file=str(path / "vocab.txt"), do_lower_case=not cased)
    tokenizer.save_pretrained(str(path))
    if cased:
        for name in ("tokenizer_config.json", "tokenizer.json", "special_tokens_map.json"):
            (path / name).unlink(missing_ok=True)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=128,
        max_position_embeddings=512,
    )
    with torch.random.fork_rng():
        torch.manual_seed(0)
        BertModel(config).save_pretrained(str(path))
    return path


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    """Path of a 2-layer, 64-wide random BERT with a WordPiece vocab, saved locally."""
    return _build_tiny_bert(tmp_path_factory.mktemp("tiny_bert"))


@pytest.fixture(scope="session")
def tiny_cased_bert(tmp_path_factory) -> Path:
    """Like ``tiny_bert`` with a cased vocabulary and no tokenizer config (the Bio_ClinicalBERT trap)."""
    return _build_tiny_bert(tmp_path_factory.mktemp("tiny_cased_bert"), cased=True)


RULE_DRUGS = [
    "aspirin", "metoprolol", "lisinopril", "vancomycin", "prednisone", "warfarin", "oxycodone",
    "lactulose", "senna", "diltiazem", "heparin", "omeprazole", "atorvastatin", "amoxicillin",
]


@pytest.fixture(scope="session")
def relation_pipeline(tmp_path_factory) -> Path:
    """A saved pipeline without a transformer: rule-based Drug/Strength entities, then an
    (untrained) relation component that links every candidate (threshold 0)."""
    from clinical_ie.io.tokenizer import clinical_english

    nlp = clinical_english()
    ruler = nlp.add_pipe("entity_ruler")
    nlp.add_pipe(
        "clinical_medication_relations",
        name="relations",
        config={"threshold": 0.0, "model": {"tok2vec": {"width": 16, "depth": 1}}},
    )
    nlp.get_pipe("relations").add_label("Strength-Drug")
    nlp.initialize()  # before the patterns: it empties the ruler
    ruler.add_patterns(
        [
            {"label": "Drug", "pattern": [{"LOWER": {"IN": RULE_DRUGS}}]},
            {"label": "Strength", "pattern": [{"LIKE_NUM": True}, {"LOWER": "mg"}]},
        ]
    )
    path = tmp_path_factory.mktemp("pipeline") / "relation_pipeline"
    nlp.to_disk(path)
    return path
