"""Token-level BIO classification report against hand-computed values and scikit-learn."""

import pytest
import spacy
from spacy.tokens import Doc, Span

from clinical_ie.evaluation.metrics.tokens import bio_classification_report, bio_tags

GOLD = [["B-Drug", "I-Drug", "O", "B-Route"], ["O", "B-Drug"]]
PREDICTED = [["B-Drug", "O", "O", "B-Route"], ["B-Drug", "B-Drug"]]


def test_bio_tags_from_ents():
    nlp = spacy.blank("en")
    doc = Doc(nlp.vocab, words=["take", "insulin", "pen", "po"])
    doc.ents = [Span(doc, 1, 3, label="Drug"), Span(doc, 3, 4, label="Route")]
    assert bio_tags(doc) == ["O", "B-Drug", "I-Drug", "B-Route"]
    assert bio_tags(Doc(nlp.vocab, words=["unset"])) == ["O"]


def test_hand_computed_report():
    report = bio_classification_report(GOLD, PREDICTED)
    # B-Drug: gold 2, predicted 3, correct 2; I-Drug: gold 1, predicted 0;
    # O: gold 2, predicted 2, correct 1; B-Route: 1 / 1 / 1.
    b_drug = report["per_tag"]["B-Drug"]
    assert (b_drug["precision"], b_drug["recall"], b_drug["support"]) == (pytest.approx(2 / 3), 1.0, 2)
    assert b_drug["f1"] == pytest.approx(0.8)
    assert report["per_tag"]["I-Drug"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert report["per_tag"]["O"]["f1"] == 0.5
    assert report["per_tag"]["B-Route"]["f1"] == 1.0
    assert report["accuracy"] == pytest.approx(4 / 6)
    assert report["macro_avg"]["f1"] == pytest.approx((0.8 + 0 + 0.5 + 1) / 4)
    assert report["weighted_avg"]["f1"] == pytest.approx((2 * 0.8 + 0 + 2 * 0.5 + 1) / 6)
    assert report["macro_avg_entity_tags"]["f1"] == pytest.approx((0.8 + 0 + 1) / 3)
    assert report["weighted_avg_entity_tags"]["support"] == 4


def test_matches_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    flat_gold = [t for doc in GOLD for t in doc]
    flat_predicted = [t for doc in PREDICTED for t in doc]
    expected = metrics.classification_report(flat_gold, flat_predicted, output_dict=True, zero_division=0)
    report = bio_classification_report(GOLD, PREDICTED)
    for tag, scores in report["per_tag"].items():
        assert scores["precision"] == pytest.approx(expected[tag]["precision"])
        assert scores["recall"] == pytest.approx(expected[tag]["recall"])
        assert scores["f1"] == pytest.approx(expected[tag]["f1-score"])
    for ours, theirs in (("macro_avg", "macro avg"), ("weighted_avg", "weighted avg")):
        assert report[ours]["f1"] == pytest.approx(expected[theirs]["f1-score"])
    assert report["accuracy"] == pytest.approx(expected["accuracy"])


def test_no_predicted_entities_and_empty_documents():
    report = bio_classification_report([["B-Drug", "O"], []], [["O", "O"], []])
    assert report["per_tag"]["B-Drug"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert report["accuracy"] == 0.5
    empty = bio_classification_report([[]], [[]])
    assert empty["per_tag"] == {} and empty["accuracy"] == 0.0 and empty["macro_avg"]["f1"] == 0.0


def test_token_count_mismatch_raises():
    with pytest.raises(ValueError, match="Document 0: 2 gold tags but 1 predicted"):
        bio_classification_report([["O", "O"]], [["O"]])
