"""Temperature calibration of CRF span confidences: the fit, a pipeline calibrated on held-out
documents, and the before_to_disk callback inside ``spacy train``."""

import math
import random

import numpy
import pytest
import spacy
from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.util import load_model_from_config
from thinc.api import Adam, fix_random_seed

import clinical_ie.pipeline.crf_ner
from clinical_ie.pipeline.crf_ner.span_calibration import apply_span_calibration, log_odds
from clinical_ie.training.calibration import (
    calibrate_pipeline,
    create_confidence_calibration,
    fit_isotonic,
    fit_platt,
    fit_temperature,
    head_spans,
    span_nll,
    span_probabilities,
)
from tests.util import crf_pipeline_config

DRUGS = ["aspirin", "heparin", "warfarin", "insulin", "lasix", "zosyn"]
FILLER = ["the", "patient", "was", "given", "and", "then", "on", "admission", "for", "pain"]


def ambiguous_examples(nlp, n_docs: int, seed: int):
    """Drugs always labelled; the word "cold" is a Reason in half of its occurrences at random, so no
    model can be sure of it: some predicted spans are wrong whatever the training."""
    rng = random.Random(seed)
    examples = []
    for _ in range(n_docs):
        words, ents = [], []
        for _ in range(3):
            words += rng.sample(FILLER, 3)
            words += ["take", rng.choice(DRUGS)]
            ents.append(("Drug", len(words) - 1, len(words)))
            words += ["for", "cold"]
            if rng.random() < 0.5:
                ents.append(("Reason", len(words) - 1, len(words)))
        reference = Doc(nlp.vocab, words=words)
        reference.ents = [Span(reference, s, e, label) for label, s, e in ents]
        examples.append(Example(nlp.make_doc(reference.text), reference))
    return examples


@pytest.fixture(scope="module")
def trained():
    fix_random_seed(0)
    nlp = load_model_from_config(crf_pipeline_config(width=32, depth=1, embed_size=500, maxout_pieces=2), auto_fill=True)
    train = ambiguous_examples(nlp, 40, seed=0)
    nlp.initialize(lambda: train)
    optimizer = Adam(0.01)
    for step in range(60):
        nlp.update(train[(step * 8) % len(train):][:8], sgd=optimizer)
    return nlp


def test_fit_recovers_a_known_temperature():
    rng = numpy.random.default_rng(0)
    logits = rng.normal(0, 4, 20_000)
    correct = rng.random(len(logits)) < 1 / (1 + numpy.exp(-logits / 2.0))  # true temperature 2
    temperature = fit_temperature(lambda t: 1 / (1 + numpy.exp(-logits / t)), correct)
    assert temperature == pytest.approx(2.0, rel=0.05)


def test_platt_recovers_a_known_slope_and_intercept():
    rng = numpy.random.default_rng(0)
    probabilities = 1 / (1 + numpy.exp(-rng.normal(1, 3, 20_000)))
    truth = 1 / (1 + numpy.exp(-(0.5 * log_odds(probabilities) - 0.3)))
    fitted = fit_platt(probabilities, rng.random(len(truth)) < truth)
    assert fitted["method"] == "platt"
    assert fitted["slope"] == pytest.approx(0.5, abs=0.03) and fitted["intercept"] == pytest.approx(-0.3, abs=0.05)


def test_platt_never_reverses_the_ranking():
    """Correctness that falls as the posterior rises gets a flat map at the base rate, not a
    negative slope."""
    probabilities = numpy.linspace(0.05, 0.95, 200)
    correct = probabilities < 0.3
    fitted = fit_platt(probabilities, correct)
    assert fitted["slope"] == 0.0
    assert apply_span_calibration(numpy.array([0.1, 0.9]), fitted) == pytest.approx([correct.mean()] * 2)


def test_smoothed_isotonic_is_non_decreasing_and_interpolates():
    rng = numpy.random.default_rng(1)
    probabilities = rng.random(1_000)
    correct = rng.random(1_000) < probabilities ** 2
    fitted = fit_isotonic(probabilities, correct, min_block=20)
    assert fitted["method"] == "isotonic"
    assert numpy.all(numpy.diff(fitted["y"]) >= 0) and numpy.all(numpy.diff(fitted["x"]) > 0)
    assert len(fitted["x"]) <= 1_000 // 20
    grid = numpy.linspace(0, 1, 101)
    mapped = apply_span_calibration(grid, fitted)
    assert numpy.all(numpy.diff(mapped) >= 0)
    assert numpy.abs(apply_span_calibration(numpy.array([0.5]), fitted)[0] - 0.25) < 0.1


def test_unknown_calibration_method():
    with pytest.raises(ValueError, match="calibration method"):
        create_confidence_calibration(lambda nlp: [], method="beta")
    with pytest.raises(ValueError, match="span calibration method"):
        apply_span_calibration(numpy.array([0.5]), {"method": "beta"})


@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_span_calibration_maps_posteriors_and_keeps_the_spans(trained, tmp_path, method):
    nlp = trained
    head = nlp.get_pipe("ner")
    saved = {key: head.cfg[key] for key in ("temperature", "span_calibration", "calibration")}
    texts = [eg.reference.text for eg in ambiguous_examples(nlp, 5, seed=3)]
    summary = calibrate_pipeline(nlp, ambiguous_examples(nlp, 40, seed=1), min_spans=20, method=method)["ner"]
    assert "skipped" not in summary and summary["method"] == method
    assert head.cfg["temperature"] == 1.0 and head.cfg["span_calibration"]["method"] == method
    assert summary["nll_after"] <= summary["nll_before"]
    held_out = ambiguous_examples(nlp, 5, seed=3)
    for _ in nlp.pipe(eg.predicted for eg in held_out):
        pass
    posteriors = span_probabilities(head, head_spans(head, held_out), 1.0)
    nlp.to_disk(tmp_path / "model")
    loaded = spacy.load(tmp_path / "model")
    confidences = [e._.confidence for doc in loaded.pipe(texts) for e in doc.ents]
    numpy.testing.assert_allclose(confidences, apply_span_calibration(posteriors, head.cfg["span_calibration"]), rtol=1e-6)
    head.cfg.update(saved)  # the other tests start from the trained head as it was


def test_nll_of_correctness():
    assert span_nll(numpy.array([0.5, 0.5]), numpy.array([True, False])) == pytest.approx(math.log(2))


def test_calibration_on_held_out_documents_keeps_the_spans(trained):
    nlp = trained
    head = nlp.get_pipe("ner")
    texts = [eg.reference.text for eg in ambiguous_examples(nlp, 5, seed=3)]
    before = [[(e.start, e.end, e.label_, e._.confidence) for e in doc.ents] for doc in nlp.pipe(texts)]
    dev = ambiguous_examples(nlp, 40, seed=1)
    summary = calibrate_pipeline(nlp, dev, min_spans=20)["ner"]
    assert "skipped" not in summary, summary
    assert head.cfg["temperature"] == summary["temperature"] != 1.0
    assert summary["nll_after"] <= summary["nll_before"]
    assert summary["ece_after"] < summary["ece_before"]
    after = [[(e.start, e.end, e.label_, e._.confidence) for e in doc.ents] for doc in nlp.pipe(texts)]
    assert [[s[:3] for s in doc] for doc in after] == [[s[:3] for s in doc] for doc in before]
    assert any(a[3] != pytest.approx(b[3]) for da, db in zip(after, before) for a, b in zip(da, db))
    # the head's confidences are the span probabilities at the fitted temperature
    held_out = ambiguous_examples(nlp, 5, seed=3)
    for _ in nlp.pipe(eg.predicted for eg in held_out):
        pass
    spans = head_spans(head, held_out)
    expected = span_probabilities(head, spans, head.cfg["temperature"])
    numpy.testing.assert_allclose([s[3] for doc in after for s in doc], expected, rtol=1e-6)


def test_too_few_spans_leave_the_temperature_alone(trained):
    nlp = trained
    summary = calibrate_pipeline(nlp, ambiguous_examples(nlp, 1, seed=4), min_spans=50)["ner"]
    assert summary["skipped"].startswith("3 dev spans") or "fewer than 50" in summary["skipped"]
    assert nlp.get_pipe("ner").cfg["temperature"] == 1.0


def test_temperature_and_summary_survive_saving(trained, tmp_path):
    nlp = trained
    calibrate_pipeline(nlp, ambiguous_examples(nlp, 40, seed=1))
    nlp.to_disk(tmp_path / "model")
    loaded = spacy.load(tmp_path / "model")
    assert loaded.get_pipe("ner").cfg["temperature"] == nlp.get_pipe("ner").cfg["temperature"]
    assert loaded.get_pipe("ner").cfg["calibration"]["n_spans"] > 0


def test_callback_reads_its_corpus_and_returns_the_pipeline(trained):
    nlp = trained
    seen = []

    def corpus(pipeline):
        seen.append(pipeline)
        return ambiguous_examples(pipeline, 40, seed=2)

    assert create_confidence_calibration(corpus, min_spans=20)(nlp) is nlp
    assert seen == [nlp]
    assert nlp.get_pipe("ner").cfg["calibration"]["n_spans"] >= 20


def test_confidence_threshold_at_load_time_drops_less_confident_spans(trained, tmp_path):
    nlp = trained
    nlp.to_disk(tmp_path / "model")
    texts = [eg.reference.text for eg in ambiguous_examples(nlp, 10, seed=5)]
    everything = [e._.confidence for doc in spacy.load(tmp_path / "model").pipe(texts) for e in doc.ents]
    threshold = float(numpy.median(everything))
    strict = spacy.load(tmp_path / "model", config={"components": {"ner": {"confidence_threshold": threshold}}})
    kept = [e._.confidence for doc in strict.pipe(texts) for e in doc.ents]
    assert kept and all(c >= threshold for c in kept)
    assert sorted(kept) == sorted(c for c in everything if c >= threshold)
    with pytest.raises(ValueError, match="confidence_threshold"):
        clinical_ie.pipeline.crf_ner.set_confidence_threshold(strict, 1.5)


def test_annotate_confidence_threshold(trained, tmp_path):
    from clinical_ie.annotate import AnnotationSettings, read_annotations, run_annotation

    nlp = trained
    nlp.to_disk(tmp_path / "model")
    notes = tmp_path / "notes"
    notes.mkdir()
    for i, eg in enumerate(ambiguous_examples(nlp, 6, seed=6)):
        (notes / f"n{i}.txt").write_text(eg.reference.text, encoding="utf8")
    confidences = {}
    for threshold in (0.0, 0.9):
        run_annotation(tmp_path / "model", notes, tmp_path / f"out{threshold}",
                       AnnotationSettings(confidence_threshold=threshold, log_every=0))
        confidences[threshold] = [e["confidence"] for r in read_annotations(tmp_path / f"out{threshold}") for e in r["entities"]]
    assert sorted(confidences[0.9]) == sorted(c for c in confidences[0.0] if c >= 0.9)
    assert len(confidences[0.9]) < len(confidences[0.0])
