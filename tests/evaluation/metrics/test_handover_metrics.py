"""CLEF eHealth 2016 handover scores against hand-computed values."""

import pytest
import spacy
from spacy.tokens import Doc, Span

import clinical_ie.pipeline  # noqa: F401  (registers the extensions)
from clinical_ie.pipeline.labels import HANDOVER_TRAINING_CATEGORIES
from clinical_ie.evaluation.metrics.handover import predicted_token_categories, score_handover, training_categories

GENDER = "PatientIntroduction_Gender"
BED = "PatientIntroduction_CurrentBed"
AGE = "PatientIntroduction_Ageinyears"


def test_hand_computed_macro_with_na_apart_and_category_without_gold():
    gold = [[GENDER, "NA", BED, BED], ["NA", GENDER]]
    predicted = [[GENDER, GENDER, BED, "NA"], ["NA", "NA"]]
    scores = score_handover(gold, predicted, macro_categories=[GENDER, BED, AGE])
    # Gender: tp 1, fp 1, fn 1 -> .5/.5/.5; Bed: tp 1, fn 1 -> 1/.5/.667; Age: no gold -> 0
    assert scores["per_category"][GENDER]["f1"] == 0.5
    assert scores["per_category"][BED]["f1"] == pytest.approx(2 / 3)
    assert scores["per_category"][AGE]["f1"] == 0.0
    assert scores["categories_without_gold"] == [AGE]
    assert scores["macro"]["precision"] == pytest.approx((0.5 + 1 + 0) / 3)
    assert scores["macro"]["recall"] == pytest.approx((0.5 + 0.5 + 0) / 3)
    assert scores["macro"]["f1"] == pytest.approx((0.5 + 2 / 3 + 0) / 3)
    # NA: tp 1 (doc 2 token 1), fp 2, fn 1
    assert (scores["NA"]["tp"], scores["NA"]["fp"], scores["NA"]["fn"]) == (1, 2, 1)
    assert "NA" not in scores["per_category"]
    assert scores["micro"]["tp"] == 2


def test_predicted_category_outside_macro_set_is_reported_not_averaged():
    scores = score_handover([[GENDER]], [["PatientIntroduction_Title"]], macro_categories=[GENDER])
    assert scores["per_category"]["PatientIntroduction_Title"]["fp"] == 1
    assert scores["macro"]["f1"] == 0.0
    assert scores["macro_categories"] == [GENDER]


def test_all_na_prediction_and_default_categories():
    scores = score_handover([[GENDER, "NA"]], [["NA", "NA"]])
    assert scores["macro_categories"] == list(HANDOVER_TRAINING_CATEGORIES)
    assert scores["macro"]["f1"] == 0.0
    assert len(scores["categories_without_gold"]) == len(HANDOVER_TRAINING_CATEGORIES) - 1
    assert scores["NA"]["recall"] == 1.0


def test_invalid_input_raises():
    with pytest.raises(ValueError, match="NA"):
        score_handover([["NA"]], [["NA"]], macro_categories=["NA"])
    with pytest.raises(ValueError, match="Document 0"):
        score_handover([["NA", "NA"]], [["NA"]])


def test_categories_from_docs():
    nlp = spacy.blank("en")
    doc = Doc(nlp.vocab, words=["He", "is", "in", "bed", "5"])
    doc.ents = [Span(doc, 0, 1, label=GENDER), Span(doc, 4, 5, label=BED)]
    assert predicted_token_categories(doc) == [GENDER, "NA", "NA", "NA", BED]
    doc._.token_categories = [GENDER, "NA", "NA", BED, BED]
    empty = Doc(nlp.vocab, words=[])
    assert training_categories([doc, empty]) == sorted([GENDER, BED])


def test_newline_separator_tokens_are_not_scored():
    """The converter's sentence-separating newline tokens are no file tokens: never counted."""
    import spacy

    from clinical_ie.evaluation.metrics import gold_token_categories, predicted_token_categories

    nlp = spacy.blank("en")
    doc = Doc(nlp.vocab, words=["Bed", "5", "\n", "He"], spaces=[True, False, False, False])
    doc._.token_categories = ["PatientIntroduction_CurrentBed"] * 2 + ["NA", "NA"]
    assert gold_token_categories(doc) == ["PatientIntroduction_CurrentBed"] * 2 + ["NA"]
    assert predicted_token_categories(doc) == ["NA", "NA", "NA"]


def test_categories_from_a_span_group():
    """A multi-task head writes doc.spans[key], not doc.ents: categories come from there."""
    import spacy
    from spacy.tokens import Span

    from clinical_ie.evaluation.metrics import predicted_token_categories
    from clinical_ie.evaluation.metrics.tokens import bio_tags

    nlp = spacy.blank("en")
    doc = Doc(nlp.vocab, words=["Bed", "5", "\n", "John"], spaces=[True, False, False, False])
    doc.spans["handover"] = [Span(doc, 0, 2, label="PatientIntroduction_CurrentBed")]
    assert predicted_token_categories(doc, "handover") == ["PatientIntroduction_CurrentBed"] * 2 + ["NA"]
    assert predicted_token_categories(doc) == ["NA"] * 3
    assert bio_tags(doc, "handover") == [
        "B-PatientIntroduction_CurrentBed", "I-PatientIntroduction_CurrentBed", "O", "O"
    ]
