"""The clinical_crf_ner component in a pipeline: training, span groups, serialization."""

import random

import pytest
import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.util import load_model_from_config
from thinc.api import Adam, fix_random_seed

from clinical_ie.pipeline.base import default_model_config
from clinical_ie.pipeline.crf_ner.model import DEFAULT_CRF_MODEL
from tests.util import crf_pipeline_config, listening, transformer_pipeline_config


TOK2VEC_SIZE = {"width": 64, "depth": 2, "embed_size": 1000, "maxout_pieces": 3}
"""The stand-alone encoder of the tests without a transformer."""

CRF_HEAD = {
    "factory": "clinical_crf_ner",
    "max_span_length": {"Strength": 3},
    "model": listening(default_model_config(DEFAULT_CRF_MODEL), hidden_width=32),
}


DRUGS = "aspirin metformin lisinopril heparin insulin warfarin vancomycin furosemide".split()
FILLER = "the patient was stable on the ward with no pain and good diet overnight".split()


def medication_examples(nlp: Language, n_docs: int, seed: int):
    """Docs like "... take 5 mg of aspirin daily ..." with Drug and Strength entities."""
    rng = random.Random(seed)
    examples = []
    for _ in range(n_docs):
        words, ents = [], []
        for _ in range(rng.randint(1, 3)):
            words += rng.sample(FILLER, rng.randint(2, 6))
            dose = str(rng.choice([5, 10, 20, 40, 250]))
            start = len(words)
            words += ["take", dose, "mg", "of", rng.choice(DRUGS), "daily"]
            ents += [("Strength", start + 1, start + 3), ("Drug", start + 4, start + 5)]
        reference = Doc(nlp.vocab, words=words)
        reference.ents = [Span(reference, s, e, label) for label, s, e in ents]
        examples.append(Example(nlp.make_doc(reference.text), reference))
    return examples


def train(nlp: Language, examples, n_updates: int):
    """``n_updates`` steps of 4 examples each, after ``nlp.initialize``."""
    optimizer = Adam(0.001)
    for step in range(n_updates):
        batch = examples[(step * 4) % len(examples) :][:4]
        nlp.update(batch, sgd=optimizer)


@pytest.fixture(scope="module")
def trained_transformer_nlp(tiny_bert):
    fix_random_seed(0)  # the weights' initialization must not depend on which tests ran before
    nlp = load_model_from_config(transformer_pipeline_config(tiny_bert, {"ner": CRF_HEAD}), auto_fill=True)
    train_examples = medication_examples(nlp, 16, seed=0)
    dev_examples = medication_examples(nlp, 8, seed=1)
    nlp.initialize(lambda: train_examples)
    untrained_f = nlp.evaluate(dev_examples)["ents_f"]
    train(nlp, train_examples, n_updates=40)
    return nlp, untrained_f, dev_examples


def test_training_through_transformer_listener_learns(trained_transformer_nlp):
    nlp, untrained_f, dev_examples = trained_transformer_nlp
    scores = nlp.evaluate(dev_examples)
    assert untrained_f < 0.3
    assert scores["ents_f"] > 0.8
    assert set(scores["ents_per_type"]) == {"Drug", "Strength"}
    doc = nlp("take 20 mg of heparin daily")
    assert [(e.text, e.label_) for e in doc.ents] == [("20 mg", "Strength"), ("heparin", "Drug")]
    assert all(0.5 < e._.confidence <= 1.0 for e in doc.ents)


def test_decoder_span_constraints_from_cfg(trained_transformer_nlp):
    nlp, _, _ = trained_transformer_nlp
    ner = nlp.get_pipe("ner")
    text = "take 20 mg of heparin daily and 40 mg of insulin"
    try:
        ner.cfg["allowed_labels"] = ["Drug"]
        assert {e.label_ for e in nlp(text).ents} == {"Drug"}
        ner.cfg["allowed_labels"], ner.cfg["max_span_length"] = None, {"Strength": 1}
        assert all(len(e) == 1 for e in nlp(text).ents if e.label_ == "Strength")
    finally:
        ner.cfg["allowed_labels"], ner.cfg["max_span_length"] = None, {"Strength": 3}


def predictions(nlp: Language, texts):
    return [[(e.start, e.end, e.label_, e._.confidence) for e in doc.ents] for doc in nlp.pipe(texts)]


def test_save_and_load_give_identical_predictions(trained_transformer_nlp, tmp_path):
    nlp, _, dev_examples = trained_transformer_nlp
    texts = [eg.reference.text for eg in dev_examples]
    expected = predictions(nlp, texts)
    assert any(expected)
    nlp.to_disk(tmp_path / "pipeline")
    assert predictions(spacy.load(tmp_path / "pipeline"), texts) == expected
    from_bytes = load_model_from_config(nlp.config, auto_fill=True).from_bytes(nlp.to_bytes())
    assert from_bytes.get_pipe("ner").labels == ("Drug", "Strength")
    assert from_bytes.get_pipe("ner").cfg["max_span_length"] == {"Strength": 3}
    assert predictions(from_bytes, texts) == expected


def test_tok2vec_head_with_spans_key_writes_span_group_and_scores():
    nlp = load_model_from_config(crf_pipeline_config(spans_key="meds", **TOK2VEC_SIZE), auto_fill=True)
    examples = medication_examples(nlp, 16, seed=2)
    for eg in examples:
        ref = eg.reference
        # Overlapping gold: "<dose> mg of <drug>" as a Dose covers Strength and Drug; longer wins.
        ref.spans["meds"] = list(ref.ents) + [Span(ref, e.start, e.end + 2, "Dose") for e in ref.ents if e.label_ == "Strength"]
        ref.ents = []
    ner = nlp.get_pipe("ner")
    nlp.initialize(lambda: examples)
    train(nlp, examples, n_updates=40)
    assert ner.labels == ("Dose", "Drug", "Strength")
    doc = nlp("the patient was stable take 10 mg of warfarin daily")
    assert not doc.ents
    assert [(s.text, s.label_) for s in doc.spans["meds"]] == [("10 mg of warfarin", "Dose")]
    assert doc.spans["meds"][0]._.confidence > 0.5
    scores = nlp.evaluate(examples)
    assert {"spans_meds_p", "spans_meds_r", "spans_meds_f", "spans_meds_per_type"} <= set(scores)
    # Each medication has three overlapping gold spans; the head can predict only one of them.
    assert scores["spans_meds_p"] > 0.8 and scores["spans_meds_r"] == pytest.approx(scores["spans_meds_p"] / 3)


def test_labels_from_initialize_settings_and_empty_docs():
    nlp = load_model_from_config(crf_pipeline_config(**TOK2VEC_SIZE), auto_fill=True)
    nlp.config["initialize"]["components"]["ner"] = {"labels": ["Strength", "Drug", "Route"]}
    examples = medication_examples(nlp, 4, seed=3)
    nlp.initialize(lambda: examples)
    ner = nlp.get_pipe("ner")
    assert ner.labels == ner.label_data == ("Strength", "Drug", "Route")
    with pytest.raises(ValueError):
        ner.add_label("Form")
    empty = Doc(nlp.vocab, words=[])
    losses = nlp.update(examples[:2] + [Example(empty, empty)], sgd=Adam(0.001))
    assert losses["ner"] > 0
    docs = list(nlp.pipe(["", "take 5 mg of aspirin daily"]))
    assert len(docs[0].ents) == 0 and len(docs[1]) == 6


def test_scaled_learn_rate_multiplies_the_step():
    """The head's first Adam step is learn_rate_scale times the base step."""
    import numpy
    from thinc.api import Adam, fix_random_seed

    from clinical_ie.pipeline.base import ScaledLearnRate

    gradient = numpy.asarray([0.5, -2.0, 1.0], dtype="f")
    steps = {}
    for scale in (1.0, 10.0):
        weights = numpy.zeros(3, dtype="f")
        optimizer = ScaledLearnRate(Adam(learn_rate=0.001, L2=0.0, grad_clip=0.0), scale)
        new_weights, _ = optimizer((1, "W"), weights.copy(), gradient.copy())
        steps[scale] = new_weights - weights
        assert optimizer.learn_rate == 0.001
    numpy.testing.assert_allclose(steps[10.0], 10 * steps[1.0], rtol=1e-5)
