"""Clinical tokenizer rules, serialization, and line-based sentence starts."""

import pytest
import spacy

from clinical_ie.io.tokenizer import clinical_english, set_line_sentence_starts


@pytest.fixture(scope="module")
def nlp():
    return clinical_english()


@pytest.mark.parametrize(
    "text, tokens",
    [
        ("5mg", ["5", "mg"]),
        ("x7days", ["x", "7", "days"]),
        ("/day", ["/", "day"]),
        ("2-3", ["2", "-", "3"]),
        ("tab(s)", ["tab", "(", "s", ")"]),
        ("tab(s):", ["tab", "(", "s", ")", ":"]),
        ("500mg/day", ["500", "mg", "/", "day"]),
        ("1-2tabs", ["1", "-", "2", "tabs"]),
        ("q4-6h", ["q", "4", "-", "6", "h"]),
        ("q12h.", ["q", "12", "h", "."]),
        ("Tylenol#3", ["Tylenol", "#", "3"]),
        ("1.Insulin", ["1", ".", "Insulin"]),
        ("3.enoxaparin", ["3", ".", "enoxaparin"]),
        ("vitamin K.", ["vitamin", "K", "."]),
        ("q.i.d..", ["q.i.d", ".", "."]),
        ("<3 days", ["<", "3", "days"]),
        ("2.5mg", ["2.5", "mg"]),
    ],
)
def test_clinical_splits(nlp, text, tokens):
    assert [t.text for t in nlp(text)] == tokens


@pytest.mark.parametrize(
    "text, tokens",
    [
        ("take q.d. now", ["take", "q.d", ".", "now"]),
        ("b.i.d.", ["b.i.d", "."]),
        ("the 2nd dose", ["the", "2nd", "dose"]),
        ("1/2 tab", ["1/2", "tab"]),
        ("on 10/12/2019", ["on", "10/12/2019"]),
        ("Dr. Smith", ["Dr.", "Smith"]),
        ("don't", ["do", "n't"]),
        ("see https://example.org/a", ["see", "https://example.org/a"]),
        ("hypertension", ["hypertension"]),
    ],
)
def test_ordinary_words_stay_whole(nlp, text, tokens):
    assert [t.text for t in nlp(text)] == tokens


@pytest.mark.parametrize("gold", ["q.d", "q.d."])
def test_latin_abbreviation_aligns_with_or_without_final_period(nlp, gold):
    doc = nlp("aspirin q.d. now")
    assert doc.char_span(8, 8 + len(gold)) is not None


def test_tokenizer_is_registered_and_serializes(tmp_path, nlp):
    assert spacy.registry.tokenizers.get("clinical_ie.ClinicalTokenizer.v1")
    nlp.to_disk(tmp_path / "pipeline")
    loaded = spacy.load(tmp_path / "pipeline")
    assert loaded.config["nlp"]["tokenizer"]["@tokenizers"] == "clinical_ie.ClinicalTokenizer.v1"
    plain = spacy.blank("en")
    plain.tokenizer.from_bytes(nlp.tokenizer.to_bytes())
    for pipeline in (loaded, plain):
        assert [t.text for t in pipeline("x7days tab(s) q12h.")] == [
            "x", "7", "days", "tab", "(", "s", ")", "q", "12", "h", ".",
        ]


def _sentences(doc):
    return [sentence.text_with_ws for sentence in doc.sents]


def test_sentences_follow_lines_and_final_punctuation(nlp):
    doc = nlp("Aspirin 81 mg.\nPlan: home. Then rest. then eat\n\n  Lasix q.d. Done")
    set_line_sentence_starts(doc)
    assert all(token.is_sent_start is not None for token in doc)
    assert _sentences(doc) == [
        "Aspirin 81 mg.\n",
        "Plan: home. ",
        "Then rest. then eat\n\n  ",
        "Lasix q.d. ",
        "Done",
    ]


def test_no_sentence_starts_inside_a_kept_span(nlp):
    doc = nlp("given heparin\nfor rash.")
    set_line_sentence_starts(doc)
    assert len(_sentences(doc)) == 2
    set_line_sentence_starts(doc, keep_together=[doc[1:4]])
    assert _sentences(doc) == ["given heparin\nfor rash."]


def test_sentence_starts_on_empty_and_whitespace_first_docs(nlp):
    empty = nlp("")
    set_line_sentence_starts(empty)
    doc = nlp("\n\nfoo")
    set_line_sentence_starts(doc)
    assert [t.is_sent_start for t in doc] == [True, True]
