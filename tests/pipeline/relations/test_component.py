"""The clinical_medication_relations component: candidates, gradients, training, serialization."""

import numpy
import pytest
import spacy
from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.util import load_model_from_config
from thinc.api import Adam, NumpyOps, fix_random_seed

from clinical_ie.pipeline.base import default_model_config
from clinical_ie.pipeline.relations.candidates import candidate_pairs, token_gap
from clinical_ie.pipeline.relations.model import DEFAULT_RELATION_MODEL, range_means, range_means_backward
from clinical_ie.evaluation.evaluate import read_docs
from clinical_ie.pipeline.labels import N2C2_RELATION_TYPES
from tests.util import SAMPLE_DIR, listening, transformer_pipeline_config


RELATION_HEAD = {
    "factory": "clinical_medication_relations",
    "max_distance": 60,
    "max_candidates_per_entity": 3,
    "model": listening(default_model_config(DEFAULT_RELATION_MODEL), hidden_width=32, distance_width=8),
}


def hand_made_doc(words, entities, sent_starts=None):
    """A doc of ``words`` with ``entities`` ``(label, start, end)`` as ``doc.ents``."""
    doc = Doc(spacy.blank("en").vocab, words=words, sent_starts=sent_starts)
    doc.ents = [Span(doc, start, end, label) for label, start, end in entities]
    return doc


def labelled_pairs(doc, **limits):
    ents = list(doc.ents)
    pairs = candidate_pairs(ents, N2C2_RELATION_TYPES, **limits)
    return [(ents[a].text, ents[d].text) for a, d in pairs]


def test_candidates_cross_sentences_and_pair_only_attributes_with_drugs():
    words = "Started aspirin 81 mg . It was given for chest pain".split()
    sent_starts = [True, False, False, False, False, True, False, False, False, False, False]
    doc = hand_made_doc(words, [("Drug", 1, 2), ("Strength", 2, 4), ("Reason", 9, 11)], sent_starts)
    assert len(list(doc.sents)) == 2
    assert labelled_pairs(doc, max_distance=60, max_candidates_per_entity=4) == [
        ("81 mg", "aspirin"),
        ("chest pain", "aspirin"),
    ]


def test_candidates_obey_distance_cap_and_keep_nearest_drugs():
    words = ["w"] * 40
    # Drugs at tokens 0, 10, 20 and 35; a Route at 12: gaps of 11, 1, 7 and 22 tokens.
    entities = [("Drug", 0, 1), ("Drug", 10, 11), ("Route", 12, 13), ("Drug", 20, 21), ("Drug", 35, 36)]
    doc = hand_made_doc(words, entities)
    ents = list(doc.ents)
    assert [token_gap(ents[2], ents[i]) for i in (0, 1, 3, 4)] == [11, 1, 7, 22]
    nearest = lambda **limits: [ents[d].start for _, d in candidate_pairs(ents, N2C2_RELATION_TYPES, **limits)]
    assert nearest(max_distance=60, max_candidates_per_entity=10) == [10, 20, 0, 35]
    assert nearest(max_distance=11, max_candidates_per_entity=10) == [10, 20, 0]
    assert nearest(max_distance=10, max_candidates_per_entity=10) == [10, 20]
    assert nearest(max_distance=60, max_candidates_per_entity=2) == [10, 20]
    # Only attributes whose relation type is known are paired.
    assert candidate_pairs(ents, ["Strength-Drug"], max_distance=60, max_candidates_per_entity=4) == []


def test_range_means_backward_is_the_gradient_of_range_means():
    ops = NumpyOps()
    rng = numpy.random.default_rng(0)
    rows = rng.normal(size=(7, 3)).astype("float32")
    starts, ends = numpy.array([0, 2, 4, 5], dtype="int32"), numpy.array([2, 5, 4, 7], dtype="int32")
    d_means = rng.normal(size=(4, 3)).astype("float32")

    def objective(x):
        prefix = numpy.concatenate([numpy.zeros((1, 3)), numpy.cumsum(x, axis=0, dtype="float64")])
        return float((range_means(numpy, prefix, starts, ends) * d_means).sum())

    numeric = numpy.zeros_like(rows)
    for index in numpy.ndindex(rows.shape):
        step = numpy.zeros_like(rows, dtype="float64")
        step[index] = 1e-3
        numeric[index] = (objective(rows + step) - objective(rows - step)) / 2e-3
    analytic = range_means_backward(ops, d_means, starts, ends, len(rows))
    numpy.testing.assert_allclose(analytic, numeric, rtol=1e-3, atol=1e-4)


def relation_examples(nlp, split, n_docs):
    """Examples of the first ``n_docs`` sample notes of ``split`` (converted on the fly)."""
    from clinical_ie.corpora.brat import read_brat_folder
    from clinical_ie.corpora.conversion_report import ConversionReport

    docs = list(read_brat_folder(SAMPLE_DIR / "n2c2" / split, ConversionReport("brat")))[:n_docs]
    return [Example(nlp.make_doc(doc.text), doc) for doc in docs]


def with_gold_entities(nlp, examples):
    """Fresh docs of the examples' texts with the gold ``doc.ents`` and no relations."""
    docs = []
    for eg in examples:
        doc = nlp.make_doc(eg.reference.text)
        doc.ents = [
            doc.char_span(e.start_char, e.end_char, e.label_, alignment_mode="expand") for e in eg.reference.ents
        ]
        docs.append(doc)
    return docs


def relation_scores(nlp, examples):
    """Relation scores with gold entities as input."""
    predicted = list(nlp.pipe(with_gold_entities(nlp, examples)))
    return nlp.get_pipe("relations").score([Example(p, eg.reference) for p, eg in zip(predicted, examples)])


@pytest.fixture(scope="module")
def trained_nlp(tiny_bert):
    fix_random_seed(0)
    config = transformer_pipeline_config(tiny_bert, {"relations": RELATION_HEAD}, clinical_tokenizer=True)
    nlp = load_model_from_config(config, auto_fill=True)
    train_examples = relation_examples(nlp, "train", 12)
    dev_examples = relation_examples(nlp, "test", 4)
    nlp.initialize(lambda: train_examples)
    untrained = relation_scores(nlp, dev_examples)
    optimizer = Adam(0.002)
    for _ in range(6):
        for start in range(0, len(train_examples), 3):
            nlp.update(train_examples[start : start + 3], sgd=optimizer)
    return nlp, untrained, dev_examples


def test_training_through_transformer_listener_lifts_relation_f1(trained_nlp):
    nlp, untrained, dev_examples = trained_nlp
    scores = relation_scores(nlp, dev_examples)
    assert set(nlp.get_pipe("relations").labels) == set(N2C2_RELATION_TYPES)
    assert {"rel_strict_f", "rel_lenient_f", "rel_strict_per_type", "rel_lenient_per_type"} <= set(scores)
    assert set(scores["rel_lenient_per_type"]) == set(N2C2_RELATION_TYPES)
    assert untrained["rel_lenient_f"] < 0.6
    assert scores["rel_lenient_f"] > 0.7
    assert scores["rel_lenient_f"] > untrained["rel_lenient_f"] + 0.25


def test_annotations_name_entities_and_link_them(trained_nlp):
    nlp, _, dev_examples = trained_nlp
    doc = with_gold_entities(nlp, dev_examples[:1])[0]
    doc.ents[0]._.confidence = 0.75
    doc = nlp(doc)
    assert [e.id_ for e in doc.ents] == [f"T{i}" for i in range(1, len(doc.ents) + 1)]
    assert doc.ents[0]._.confidence == 0.75
    assert doc._.relations
    by_id = {e.id_: e for e in doc.ents}
    for relation in doc._.relations:
        attribute, drug = by_id[relation["arg1"]], by_id[relation["arg2"]]
        assert relation["type"] == f"{attribute.label_}-Drug" and drug.label_ == "Drug"
        assert 0.5 <= relation["confidence"] <= 1.0
    assert len(doc._.medications) == sum(e.label_ == "Drug" for e in doc.ents)


def test_no_entities_no_relations(trained_nlp):
    nlp, _, _ = trained_nlp
    doc = nlp("Nothing to see here.")
    assert doc._.relations == [] and doc._.medications == []


def test_save_and_load_give_identical_relations(trained_nlp, tmp_path):
    nlp, _, dev_examples = trained_nlp

    def relations(pipeline):
        return [doc._.relations for doc in pipeline.pipe(with_gold_entities(pipeline, dev_examples))]

    expected = relations(nlp)
    assert any(expected)
    nlp.to_disk(tmp_path / "pipeline")
    loaded = spacy.load(tmp_path / "pipeline")
    assert loaded.get_pipe("relations").cfg["max_candidates_per_entity"] == 3
    assert relations(loaded) == expected
    from_bytes = load_model_from_config(nlp.config, auto_fill=True).from_bytes(nlp.to_bytes())
    assert relations(from_bytes) == expected


def test_gold_relations_from_docbin_train_the_component(tmp_path):
    """The converters' DocBin (gold in ``doc._.relations`` and ``doc.spans["entities"]``) trains
    a standalone component; its scorer reads the gold relations through the metrics module."""
    from clinical_ie.corpora.prepare import prepare_corpus
    from clinical_ie.pipeline.tokenizer import clinical_english

    prepare_corpus("n2c2", SAMPLE_DIR / "n2c2", tmp_path, 0, 0.1, False)
    fix_random_seed(0)
    nlp = clinical_english()
    small_model = {"model": {"tok2vec": {"width": 32, "depth": 1}}}
    nlp.add_pipe("clinical_medication_relations", name="relations", config=small_model)
    gold = read_docs(tmp_path / "train.spacy", nlp.vocab)[:10]
    examples = [Example(nlp.make_doc(doc.text), doc) for doc in gold]
    nlp.initialize(lambda: examples)
    optimizer = Adam(0.002)
    for _ in range(4):
        for start in range(0, len(examples), 2):
            nlp.update(examples[start : start + 2], sgd=optimizer)
    assert relation_scores(nlp, examples)["rel_strict_f"] > 0.8
    # A batch without candidates still runs the model (a shared encoder waits for its backward pass).
    losses = nlp.update([Example(nlp.make_doc("No medications."), nlp.make_doc("No medications."))], sgd=optimizer)
    assert losses["relations"] == 0.0
