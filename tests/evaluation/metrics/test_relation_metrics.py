"""Relation scores against hand-computed values."""

import pytest
import spacy
from spacy.tokens import Doc

import clinical_ie.pipeline  # noqa: F401  (registers the extensions)
from clinical_ie.evaluation.metrics.relations import RelationTuple, doc_relations, score_relations
from clinical_ie.evaluation.metrics.spans import EntitySpan

DRUG = EntitySpan("Drug", 0, 7)
STRENGTH = EntitySpan("Strength", 8, 13)
ROUTE = EntitySpan("Route", 14, 16)
STRENGTH_DRUG = RelationTuple("Strength-Drug", STRENGTH, DRUG)
ROUTE_DRUG = RelationTuple("Route-Drug", ROUTE, DRUG)


def micro(scores, mode):
    block = scores[mode]["micro"]
    return block["tp"], block["fp"], block["fn"]


def test_strict_and_lenient_argument_matching():
    shifted = RelationTuple("Strength-Drug", EntitySpan("Strength", 8, 11), DRUG)
    scores = score_relations([[STRENGTH_DRUG, ROUTE_DRUG]], [[shifted]])
    assert micro(scores, "strict") == (0, 1, 2)
    assert micro(scores, "lenient") == (1, 0, 1)
    assert scores["lenient"]["per_type"]["Strength-Drug"]["f1"] == 1.0
    assert scores["lenient"]["per_type"]["Route-Drug"]["recall"] == 0.0
    assert scores["types"] == ["Route-Drug", "Strength-Drug"]


def test_wrong_type_or_argument_label_does_not_match():
    wrong_type = RelationTuple("Dosage-Drug", STRENGTH, DRUG)
    wrong_label = RelationTuple("Strength-Drug", EntitySpan("Dosage", 8, 13), DRUG)
    scores = score_relations([[STRENGTH_DRUG]], [[wrong_type, wrong_label]])
    assert micro(scores, "lenient") == (0, 2, 1)


def test_no_predictions_duplicates_and_empty_documents():
    assert micro(score_relations([[STRENGTH_DRUG], []], [[], []]), "strict") == (0, 0, 1)
    assert micro(score_relations([[STRENGTH_DRUG]], [[STRENGTH_DRUG, STRENGTH_DRUG]]), "strict") == (1, 0, 0)
    assert score_relations([[]], [[]])["strict"]["micro"]["f1"] == 0.0


def test_doc_relations_resolve_ids_and_collapse_fragments():
    doc = Doc(spacy.blank("en").vocab, words=["aspirin", "325mg", "po"])
    doc._.brat_entities = [
        {"id": "T1", "label": "Drug", "fragments": [[0, 7]]},
        {"id": "T2", "label": "Strength", "fragments": [[8, 11], [11, 13]]},
        {"id": "T3", "label": "Route", "fragments": [[14, 16]]},
    ]
    doc._.relations = [
        {"id": "R2", "type": "Route-Drug", "arg1": "T3", "arg2": "T1"},
        {"id": "R1", "type": "Strength-Drug", "arg1": "T2", "arg2": "T1"},
    ]
    assert doc_relations(doc) == [ROUTE_DRUG, STRENGTH_DRUG]
    doc._.relations = [{"id": "R1", "type": "Strength-Drug", "arg1": "T9", "arg2": "T1"}]
    with pytest.raises(ValueError, match="T9"):
        doc_relations(doc)
    assert doc_relations(Doc(doc.vocab, words=["x"])) == []
