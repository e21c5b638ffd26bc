"""The configs: one source of truth (configs/default.cfg; the variants generated from it by
tools/create_configs.py), every config builds, and the variants differ from their parent only
where intended."""

import pytest
import spacy
from spacy.schemas import ConfigSchemaTraining
from spacy.util import registry
from thinc.api import Config

from tests.util import CONFIGS
from tools import create_configs

CONFIG_NAMES = sorted(path.stem for path in CONFIGS.glob("*.cfg"))

INTENDED = {
    ("default", "multitask"): (
        "components.handover.", "components.relations.", "components.sections.", "components.context.",
        "components.ner.set_ents", "components.ner.spans_key",
        "components.ner.task", "corpora.", "nlp.pipeline", "paths.", "training.score_weights.",
    ),
    ("multitask", "gpu"): (
        "nlp.batch_size", "training.batcher.size", "components.transformer.max_batch_items",
        "components.transformer.model.name", "components.transformer.model.mixed_precision",
        "components.transformer.model.grad_scaler_config", "components.transformer.model.get_spans.window",
        "components.transformer.model.get_spans.stride", "components.transformer.model.max_bucket_wordpieces",
        "components.transformer.model.tokenizer_config.do_lower_case",
        "components.transformer.model.tokenizer_config.model_max_length",
    ),
    ("default", "ner_builtin"): ("components.ner.", "training.before_to_disk"),
}
"""(parent, variant) -> the only config keys (or key prefixes) where the variant may differ."""


def flat(config, prefix=""):
    """{"section.key": value} of a config, nested sections flattened."""
    values = {}
    for key, value in config.items():
        if isinstance(value, dict) and value:
            values.update(flat(value, f"{prefix}{key}."))
        else:
            values[f"{prefix}{key}"] = value
    return values


def test_generated_configs_are_up_to_date():
    assert create_configs.main(["--check"]) == 0, "configs/*.cfg differ from tools/create_configs.py's output"


def test_every_variant_is_generated_and_checked():
    assert set(CONFIG_NAMES) == {create_configs.BASE, *create_configs.VARIANTS}
    assert {variant for _, variant in INTENDED} == set(create_configs.VARIANTS)


@pytest.mark.parametrize("parent, variant", sorted(INTENDED))
def test_variant_differs_from_its_parent_only_where_intended(parent, variant):
    read = lambda name: flat(Config().from_disk(CONFIGS / f"{name}.cfg", interpolate=False))  # noqa: E731
    base, derived = read(parent), read(variant)
    changed = {key for key in set(base) | set(derived) if base.get(key, "<absent>") != derived.get(key, "<absent>")}
    assert changed, f"{variant} is identical to {parent}"
    unintended = sorted(key for key in changed if not key.startswith(INTENDED[parent, variant]))
    assert not unintended, f"{variant} differs from {parent} at {unintended}"


@pytest.mark.parametrize("name", CONFIG_NAMES)
def test_config_builds_and_its_training_block_resolves(name, tiny_bert, tmp_path):
    raw = Config().from_disk(CONFIGS / f"{name}.cfg", interpolate=False)
    corpus = str(tmp_path / "corpus.spacy")  # readers open their files only when read
    overrides = {f"paths.{key}": corpus for key in raw["paths"] if key not in ("vectors", "init_tok2vec")}
    overrides["components.transformer.model.name"] = str(tiny_bert)
    config = spacy.util.load_config(CONFIGS / f"{name}.cfg", overrides=overrides, interpolate=True)
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    assert nlp.pipe_names == config["nlp"]["pipeline"]
    training = registry.resolve(nlp.config.interpolate()["training"], schema=ConfigSchemaTraining)
    assert training["max_steps"] == 0 and training["eval_frequency"] > 0
