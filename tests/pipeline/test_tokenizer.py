"""Clinical tokenizer rules, placeholders, serialization, and line-based sentence starts."""

import pickle

import pytest
import spacy
from spacy.attrs import ORTH
from spacy.tokens import Doc
from spacy.training import Example

from clinical_ie.pipeline.tokenizer import PLACEHOLDER, clinical_english, set_line_sentence_starts


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
        ("q.i.d..", ["q.i.d.", "."]),
        ("<3 days", ["<", "3", "days"]),
        ("2.5mg", ["2.5", "mg"]),
        ("steroids;alcohol*;antacids", ["steroids", ";", "alcohol", "*", ";", "antacids"]),
        ("cisplatin.1", ["cisplatin", ".", "1"]),
        ("1500\u200amg/d", ["1500", "\u200a", "mg", "/", "d"]),
        ("5-10 mg", ["5", "-", "10", "mg"]),
        ("(aspirin-induced)", ["(", "aspirin", "-", "induced", ")"]),
        ("co-trimoxazole", ["co", "-", "trimoxazole"]),
        ("aluminum- or", ["aluminum", "-", "or"]),
    ],
)
def test_clinical_splits(nlp, text, tokens):
    assert [t.text for t in nlp(text)] == tokens


@pytest.mark.parametrize(
    "text, tokens",
    [
        ("take q.d. now", ["take", "q.d.", "now"]),
        ("b.i.d.", ["b.i.d."]),
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


@pytest.mark.parametrize(
    "text, tokens",
    [
        ("take q.d.; then", ["take", "q.d.", ";", "then"]),
        ("p.o. q.h.s.", ["p.o.", "q.h.s."]),
        ("B.I.D., T.I.D.", ["B.I.D.", ",", "T.I.D."]),
        ("(q.i.d.)", ["(", "q.i.d.", ")"]),
        ("Q.D. P.O.", ["Q.D.", "P.O."]),
        ("q.4h. p.r.n.:", ["q.4h.", "p.r.n.", ":"]),
        ("q.a.m. q.p.m. q.o.d.", ["q.a.m.", "q.p.m.", "q.o.d."]),
        ("h.s. a.c. p.c.", ["h.s.", "a.c.", "p.c."]),
    ],
)
def test_dotted_dosing_abbreviations_stay_whole(nlp, text, tokens):
    assert [t.text for t in nlp(text)] == tokens


def test_latin_abbreviation_aligns_with_its_final_period(nlp):
    doc = nlp("aspirin q.d. now")
    assert len(doc.char_span(8, 12)) == 1
    assert doc.char_span(8, 11) is None  # gold "q.d" without the period: misaligned ...
    assert doc.char_span(8, 11, alignment_mode="expand").text == "q.d."  # ... and expanded


@pytest.mark.parametrize(
    "text, tokens",
    [
        ("on [**2115-2-22**] at [**Hospital1 18**].", ["on", "[**2115-2-22**]", "at", "[**Hospital1 18**]", "."]),
        ("Dr. [**Last Name (STitle) 1234**] called", ["Dr.", "[**Last Name (STitle) 1234**]", "called"]),
        ("call [**Telephone/Fax (1) 1234**].", ["call", "[**Telephone/Fax (1) 1234**]", "."]),
        ("on[**2115-2-22**]aspirin", ["on", "[**2115-2-22**]", "aspirin"]),
        ("([**Hospital 1234**]),", ["(", "[**Hospital 1234**]", ")", ","]),
        ("Attending:[**First Name3 (LF) 4443**]", ["Attending", ":", "[**First Name3 (LF) 4443**]"]),
        ("[**2115-2-22**]", ["[**2115-2-22**]"]),
        ("[**First Name8 (NamePattern2) 12**] [**Last Name (NamePattern1) 34**]",
         ["[**First Name8 (NamePattern2) 12**]", "[**Last Name (NamePattern1) 34**]"]),
        ("[**2115-2-22**][**Hospital1 18**]", ["[**2115-2-22**]", "[**Hospital1 18**]"]),
        ("Mr. ___ is ___.", ["Mr.", "___", "is", "___", "."]),
        ("Attending:___", ["Attending", ":", "___"]),
        ("Signed _____ q.d.", ["Signed", "_____", "q.d."]),
    ],
)
def test_placeholders_are_one_token(nlp, text, tokens):
    doc = nlp(text)
    assert [t.text for t in doc] == tokens
    assert doc.text == text


def test_placeholder_does_not_cross_a_line_break(nlp):
    for newline in ("\n", "\r\n"):
        text = f"[**Hospital1 18**]{newline}[**Hospital1{newline}18**]"
        tokens = [t.text for t in nlp(text)]
        assert tokens[:2] == ["[**Hospital1 18**]", newline]
        assert "[**Hospital1" not in tokens and not any(PLACEHOLDER.fullmatch(t) for t in tokens[2:])
        assert nlp(text).text == text


def test_placeholder_whitespace_is_spacys(nlp):
    text = " [**2115-2-22**] seen  [**Hospital1 18**]  by\n[**Last Name 1**]\nx [**A 1**] \n___ "
    doc = nlp(text)
    assert doc.text == text
    assert [(t.text, t.whitespace_) for t in doc] == [
        (" ", ""), ("[**2115-2-22**]", " "), ("seen", " "), (" ", ""), ("[**Hospital1 18**]", " "), (" ", ""),
        ("by", ""), ("\n", ""), ("[**Last Name 1**]", ""), ("\n", ""), ("x", " "), ("[**A 1**]", " "),
        ("\n", ""), ("___", " "),
    ]
    # the same tokens and whitespace as the rule-based tokenizer gives a one-word stand-in
    stand_in = PLACEHOLDER.sub("X", text)
    expected = [(t.text, t.whitespace_) for t in nlp.tokenizer.rule_based(stand_in)]
    assert [("X" if PLACEHOLDER.fullmatch(t.text) else t.text, t.whitespace_) for t in doc] == expected


def test_placeholders_through_pipe_explain_and_score(nlp):
    texts = ["on [**2115-2-22**], q.d.;", "no placeholder here", "Mr. ___ at [**Hospital1 18**]"]
    assert [[t.text for t in doc] for doc in nlp.tokenizer.pipe(texts)] == [[t.text for t in nlp(x)] for x in texts]
    explained = nlp.tokenizer.explain(texts[0])
    assert explained == [("TOKEN", "on"), ("PLACEHOLDER", "[**2115-2-22**]"), ("PREFIX", ","),
                         ("TOKEN_MATCH", "q.d."), ("SUFFIX", ";")]
    for text in texts:
        assert [token for _, token in nlp.tokenizer.explain(text)] == [t.text for t in nlp(text) if not t.is_space]
    reference = Doc(nlp.vocab, words=["Mr.", "___", "at", "[**Hospital1 18**]"], spaces=[True, True, True, False])
    assert nlp.tokenizer.score([Example(nlp(texts[2]), reference)])["token_acc"] == 1.0


def test_special_case_added_applies_between_placeholders():
    nlp = clinical_english()
    nlp.tokenizer.add_special_case("gtt.", [{ORTH: "gtt."}])
    assert [t.text for t in nlp("[**Hospital1 18**] gtt.[**2115-2-22**]")] == [
        "[**Hospital1 18**]", "gtt.", "[**2115-2-22**]",
    ]


def test_placeholders_survive_to_disk_load_and_pickle(tmp_path, nlp):
    text = "on[**2115-2-22**] at [**Hospital1 18**] q.d.; Mr. ___ b.i.d."
    tokens = ["on", "[**2115-2-22**]", "at", "[**Hospital1 18**]", "q.d.", ";", "Mr.", "___", "b.i.d."]
    nlp.to_disk(tmp_path / "pipeline")
    loaded = spacy.load(tmp_path / "pipeline")
    from_bytes = spacy.blank("en", config=nlp.config).from_bytes(nlp.to_bytes())
    for pipeline in (loaded, from_bytes, pickle.loads(pickle.dumps(nlp))):
        doc = pipeline(text)
        assert [t.text for t in doc] == tokens and doc.text == text


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
