"""Error classification of entities and relations: hand-computed cases, and agreement with the
strict and lenient counts of :func:`~clinical_ie.evaluation.metrics.score_spans`."""

from hypothesis import given
from hypothesis import strategies as st

from clinical_ie.evaluation.metrics import EntitySpan, RelationTuple, score_spans
from clinical_ie.evaluation.metrics.errors import EntityOutcome, RelationOutcome, classify_entities, classify_relations

DRUG = EntitySpan("Drug", 0, 11)
FORM = EntitySpan("Form", 8, 11)
DOSAGE = EntitySpan("Dosage", 12, 20)
ADE = EntitySpan("ADE", 54, 68)
REASON = EntitySpan("Reason", 54, 59)


def test_exact_match_is_a_true_positive_and_a_nested_gold_entity_is_missed():
    """The Drug prediction is judged against the Drug only; the Form inside it is a false negative,
    not a label confusion."""
    assert classify_entities([DRUG, FORM], [DRUG]) == [EntityOutcome("tp", DRUG, DRUG), EntityOutcome("fn", FORM, None)]


def test_boundary_error_pairs_the_same_label_before_another_label():
    rash = EntitySpan("ADE", 64, 68)
    assert classify_entities([REASON, ADE], [rash]) == [
        EntityOutcome("boundary", ADE, rash), EntityOutcome("fn", REASON, None)
    ]


def test_label_confusion_false_positive_and_false_negative():
    reason = EntitySpan("Reason", 0, 11)
    far = EntitySpan("Drug", 30, 35)
    assert classify_entities([DRUG, DOSAGE], [reason, far]) == [
        EntityOutcome("label", DRUG, reason), EntityOutcome("fp", None, far), EntityOutcome("fn", DOSAGE, None)
    ]


def test_partner_is_the_gold_entity_sharing_most_characters():
    left, right, predicted = EntitySpan("Drug", 0, 5), EntitySpan("Drug", 6, 20), EntitySpan("Drug", 3, 15)
    assert classify_entities([left, right], [predicted]) == [
        EntityOutcome("boundary", right, predicted), EntityOutcome("fn", left, None)
    ]


def test_two_predictions_inside_one_gold_entity_are_both_boundary_errors():
    ten, units = EntitySpan("Dosage", 12, 14), EntitySpan("Dosage", 15, 20)
    assert [o.kind for o in classify_entities([DOSAGE], [ten, units])] == ["boundary", "boundary"]


def test_the_hand_made_note_agrees_with_its_scores():
    """The evaluate test's note: strict TP 2, FP 3, FN 6; lenient FP 1."""
    gold = [DRUG, FORM, DOSAGE, EntitySpan("Route", 21, 23), EntitySpan("Frequency", 24, 29),
            EntitySpan("Drug", 31, 41), ADE, REASON]
    predicted = [DRUG, EntitySpan("Dosage", 15, 20), EntitySpan("Route", 21, 23), EntitySpan("Reason", 31, 41),
                 EntitySpan("ADE", 64, 68)]
    kinds = [o.kind for o in classify_entities(gold, predicted)]
    assert kinds == ["tp", "boundary", "tp", "label", "boundary", "fn", "fn", "fn"]
    assert_agrees_with_scores(gold, predicted)


spans = st.builds(
    lambda label, start, length: EntitySpan(label, start, start + length),
    st.sampled_from(["Drug", "Form", "ADE"]), st.integers(0, 30), st.integers(1, 8),
)


@given(st.sets(spans, max_size=8), st.sets(spans, max_size=8))
def test_outcomes_agree_with_strict_and_lenient_counts(gold, predicted):
    assert_agrees_with_scores(sorted(gold, key=lambda s: (s.start, s.end, s.label)),
                              sorted(predicted, key=lambda s: (s.start, s.end, s.label)))


def assert_agrees_with_scores(gold, predicted):
    """Distinct entities: non-``tp`` predictions are the strict FPs, ``label`` and ``fp`` ones the
    lenient FPs, gold entities without a ``tp`` prediction the strict FNs."""
    outcomes = classify_entities(gold, predicted)
    scores = score_spans([gold], [predicted])
    strict, lenient = scores["strict"]["micro"], scores["lenient"]["micro"]
    predictions = [o for o in outcomes if o.predicted is not None]
    assert [o.predicted for o in predictions] == list(predicted)
    assert strict["tp"] == sum(o.kind == "tp" for o in predictions)
    assert strict["fp"] == sum(o.kind != "tp" for o in predictions)
    assert strict["fn"] == len(gold) - len({o.gold for o in predictions if o.kind == "tp"})
    assert lenient["fp"] == sum(o.kind in ("label", "fp") for o in predictions)


def test_relations_matched_missed_and_spurious():
    strength = EntitySpan("Strength", 12, 18)
    matched = RelationTuple("Strength-Drug", strength, DRUG)
    missed = RelationTuple("Form-Drug", FORM, DRUG)
    wrong_argument = RelationTuple("Strength-Drug", EntitySpan("Strength", 12, 14), DRUG)
    assert classify_relations([matched, missed], [matched, wrong_argument]) == [
        RelationOutcome("tp", matched), RelationOutcome("spurious", wrong_argument), RelationOutcome("missed", missed)
    ]
