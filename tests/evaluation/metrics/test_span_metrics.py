"""Entity scores against hand-computed counts (n2c2 official-script semantics)."""

import pytest
import spacy
from hypothesis import given
from hypothesis import strategies as st
from spacy.tokens import Doc, Span, SpanGroup

import clinical_ie.pipeline  # noqa: F401  (registers the extensions)
from clinical_ie.evaluation.metrics.spans import (
    MISSED,
    SPURIOUS,
    Counts,
    EntitySpan,
    count_matches,
    gold_entity_spans,
    overlap_confusion,
    predicted_entity_spans,
    score_spans,
    spans_match,
)

DRUG_A = EntitySpan("Drug", 0, 5)
DRUG_B = EntitySpan("Drug", 10, 15)


def counts(scores, mode, label=None):
    """(tp, fp, fn) of one label, or micro when ``label`` is None."""
    block = scores[mode]["micro"] if label is None else scores[mode]["per_label"][label]
    return block["tp"], block["fp"], block["fn"]


def test_perfect_predictions_score_one():
    scores = score_spans([[DRUG_A, DRUG_B]], [[DRUG_A, DRUG_B]])
    for mode in ("strict", "lenient"):
        for average in ("micro", "label_macro", "document_macro"):
            assert scores[mode][average]["f1"] == 1.0


def test_no_predictions():
    scores = score_spans([[DRUG_A, DRUG_B]], [[]])
    assert counts(scores, "strict") == (0, 0, 2)
    assert counts(scores, "lenient") == (0, 0, 2)
    assert scores["lenient"]["micro"]["precision"] == 0.0
    assert scores["lenient"]["micro"]["f1"] == 0.0


def test_label_with_no_gold_scores_zero_and_lowers_label_macro():
    scores = score_spans([[DRUG_A]], [[DRUG_A, EntitySpan("Route", 20, 22)]])
    assert scores["labels"] == ["Drug", "Route"]
    assert counts(scores, "strict", "Route") == (0, 1, 0)
    assert scores["strict"]["per_label"]["Route"]["f1"] == 0.0
    assert scores["strict"]["label_macro"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    # micro: tp 1, fp 1, fn 0
    assert scores["strict"]["micro"]["precision"] == 0.5
    assert scores["strict"]["micro"]["recall"] == 1.0


def test_wrong_label_on_right_span_is_one_fp_and_one_fn():
    scores = score_spans([[DRUG_A]], [[EntitySpan("Form", 0, 5)]])
    assert counts(scores, "strict") == (0, 1, 1)
    assert counts(scores, "lenient") == (0, 1, 1)


def test_overlapping_predictions_of_one_gold_count_once():
    # Both overlap gold 0-10; the exact one comes first in (start, end) order.
    gold = [EntitySpan("Drug", 0, 10)]
    predicted = [EntitySpan("Drug", 0, 10), EntitySpan("Drug", 5, 12)]
    scores = score_spans([gold], [predicted])
    assert counts(scores, "strict") == (1, 1, 0)  # 5-12 matches nothing strictly
    assert counts(scores, "lenient") == (1, 0, 0)  # 5-12 is a dropped duplicate


def test_prediction_overlapping_two_gold_is_one_tp_and_one_fn():
    scores = score_spans([[DRUG_A, DRUG_B]], [[EntitySpan("Drug", 3, 12)]])
    assert counts(scores, "lenient") == (1, 0, 1)
    assert counts(scores, "strict") == (0, 1, 2)
    assert scores["lenient"]["micro"]["precision"] == 1.0
    assert scores["lenient"]["micro"]["recall"] == 0.5


def test_prediction_claiming_a_matched_gold_is_dropped():
    # 3-12 claims both gold entities first, so the exact 10-15 is a duplicate.
    scores = score_spans([[DRUG_A, DRUG_B]], [[EntitySpan("Drug", 3, 12), DRUG_B]])
    assert counts(scores, "lenient") == (1, 0, 1)
    assert counts(scores, "strict") == (1, 1, 1)


def test_same_label_overlapping_gold_against_itself_loses_a_lenient_tp():
    # Official rule: the first prediction claims both overlapping gold entities, so the
    # second (an exact match of the second gold) is a dropped duplicate.
    gold = [EntitySpan("Drug", 0, 11), EntitySpan("Drug", 0, 20)]
    scores = score_spans([gold], [gold])
    assert counts(scores, "strict") == (2, 0, 0)
    assert counts(scores, "lenient") == (1, 0, 1)


def test_exact_duplicate_predictions_count_once():
    scores = score_spans([[DRUG_A]], [[DRUG_A, DRUG_A]])
    assert counts(scores, "strict") == (1, 0, 0)
    assert counts(scores, "lenient") == (1, 0, 0)


def test_duplicate_false_positives_each_count():
    spurious = EntitySpan("Drug", 30, 35)
    assert counts(score_spans([[DRUG_A]], [[DRUG_A, spurious, spurious]]), "strict") == (1, 2, 0)


def test_empty_document_scores_zero_in_document_macro_only():
    scores = score_spans([[DRUG_A], []], [[DRUG_A], []])
    assert scores["n_documents"] == 2
    assert scores["strict"]["micro"]["f1"] == 1.0
    assert scores["strict"]["document_macro"]["f1"] == 0.5


def test_no_documents():
    scores = score_spans([], [])
    assert scores["labels"] == []
    assert scores["strict"]["micro"]["f1"] == 0.0
    assert scores["strict"]["document_macro"]["f1"] == 0.0


def test_document_macro_is_mean_of_document_scores():
    # doc 1: tp 1, fn 1 -> P 1, R .5; doc 2: tp 1, fp 1 -> P .5, R 1
    gold = [[DRUG_A, DRUG_B], [DRUG_A]]
    predicted = [[DRUG_A], [DRUG_A, DRUG_B]]
    scores = score_spans(gold, predicted)
    assert scores["strict"]["document_macro"]["precision"] == pytest.approx(0.75)
    assert scores["strict"]["document_macro"]["recall"] == pytest.approx(0.75)
    assert scores["strict"]["document_macro"]["f1"] == pytest.approx(2 / 3)
    assert scores["strict"]["micro"]["precision"] == pytest.approx(2 / 3)


def test_label_macro_averages_per_label_scores():
    gold = [[DRUG_A, EntitySpan("Route", 20, 22)]]
    predicted = [[DRUG_A]]
    scores = score_spans(gold, predicted, labels=["Drug", "Route"])
    assert scores["strict"]["label_macro"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    assert scores["strict"]["micro"]["f1"] == pytest.approx(2 / 3)


def test_labels_argument_restricts_scoring():
    scores = score_spans([[DRUG_A, EntitySpan("Route", 20, 22)]], [[DRUG_A]], labels=["Drug"])
    assert list(scores["strict"]["per_label"]) == ["Drug"]
    assert counts(scores, "strict") == (1, 0, 0)


def test_lenient_needs_a_shared_character():
    touching = EntitySpan("Drug", 5, 8)
    assert not spans_match(DRUG_A, touching, "lenient")
    assert spans_match(DRUG_A, EntitySpan("Drug", 4, 8), "lenient")
    with pytest.raises(ValueError, match="match mode"):
        spans_match(DRUG_A, DRUG_A, "partial")


def test_mismatched_document_counts_raise():
    with pytest.raises(ValueError, match="1 gold documents but 2 predicted"):
        score_spans([[DRUG_A]], [[], []])


def test_counts_ratios_and_addition():
    assert Counts(2, 1, 1) + Counts(1, 0, 2) == Counts(3, 1, 3)
    assert Counts().as_dict() == {"tp": 0, "fp": 0, "fn": 0, "precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_overlap_confusion_with_missed_and_spurious():
    gold = [[DRUG_A, EntitySpan("Reason", 10, 15), EntitySpan("ADE", 10, 15), EntitySpan("Form", 40, 45)]]
    predicted = [[EntitySpan("Drug", 0, 5), EntitySpan("Reason", 11, 14), EntitySpan("Route", 30, 32)]]
    assert overlap_confusion(gold, predicted) == {
        "Drug": {"Drug": 1},
        "Reason": {"Reason": 1},
        "ADE": {"Reason": 1},
        "Form": {MISSED: 1},
        SPURIOUS: {"Route": 1},
    }


span_strategy = st.builds(
    lambda label, start, length: EntitySpan(label, start, start + length),
    st.sampled_from(["Drug", "Form"]),
    st.integers(0, 30),
    st.integers(1, 6),
)


@given(st.lists(span_strategy, max_size=8), st.lists(span_strategy, max_size=8))
def test_counts_are_consistent(gold, predicted):
    for mode in ("strict", "lenient"):
        c = count_matches(gold, predicted, lambda g, p: spans_match(g, p, mode))
        assert c.tp + c.fn == len(gold)
        assert 0 <= c.tp <= min(len(gold), len(predicted))
        assert c.tp + c.fp <= len(predicted)


@given(st.lists(span_strategy, max_size=8))
def test_distinct_spans_against_themselves_score_one_strictly(spans):
    spans = sorted(set(spans))
    c = count_matches(spans, spans, lambda g, p: spans_match(g, p, "strict"))
    assert (c.tp, c.fp, c.fn) == (len(spans), 0, 0)


@pytest.fixture
def doc():
    nlp = spacy.blank("en")
    return Doc(nlp.vocab, words=["Insulin", "Pen", "daily", "for", "pain"], spaces=[True, True, True, True, False])


def test_gold_spans_prefer_brat_entities_and_collapse_fragments(doc):
    doc._.brat_entities = [
        {"id": "T1", "label": "Drug", "fragments": [[0, 11]]},
        {"id": "T2", "label": "Form", "fragments": [[8, 11]]},
        {"id": "T3", "label": "Frequency", "fragments": [[12, 17], [22, 26]]},
    ]
    doc.spans["entities"] = [Span(doc, 0, 1, label="Drug")]
    assert gold_entity_spans(doc) == [
        EntitySpan("Drug", 0, 11),
        EntitySpan("Form", 8, 11),
        EntitySpan("Frequency", 12, 26),
    ]


def test_gold_spans_from_span_group_then_ents(doc):
    doc.ents = [Span(doc, 4, 5, label="Reason")]
    assert gold_entity_spans(doc) == [EntitySpan("Reason", 22, 26)]
    doc.spans["entities"] = [Span(doc, 1, 2, label="Form"), Span(doc, 0, 2, label="Drug")]
    assert gold_entity_spans(doc) == [EntitySpan("Drug", 0, 11), EntitySpan("Form", 8, 11)]


def test_predicted_spans_from_ents_or_span_group(doc):
    doc.ents = [Span(doc, 0, 2, label="Drug")]
    doc.spans["candidates"] = SpanGroup(doc, spans=[Span(doc, 1, 2, label="Form"), Span(doc, 1, 2, label="Form")])
    assert predicted_entity_spans(doc) == [EntitySpan("Drug", 0, 11)]
    assert predicted_entity_spans(doc, "candidates") == [EntitySpan("Form", 8, 11)] * 2
    assert predicted_entity_spans(doc, "absent") == []
