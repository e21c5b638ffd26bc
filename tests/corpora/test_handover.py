"""Nursing-handover reader rules and bad input."""

import re

import pytest

from clinical_ie.pipeline.data_model import ENTITIES_SPANS_KEY
from clinical_ie.corpora.handover import category_runs, read_handover_document, read_handover_folder
from clinical_ie.corpora.conversion_report import ConversionError, ConversionReport

from tests.util import write_bytes

ROOM = "PatientIntroduction_CurrentRoom"
NAME = "PatientIntroduction_GivenNames/Initials"


def token_line(token, gold="NA", predicted="NA", fields=19):
    """A handover line with ``fields`` tab-separated fields."""
    return "\t".join([token] + ["x"] * (fields - 3) + [gold, predicted])


SENTENCE_1 = [("In",), ("room",), ("13", ROOM, ROOM), ("John", NAME)]
SENTENCE_2 = [("Colin", NAME, NAME), ("'s",), ("fine", "NA", ROOM)]


def lines(sentence, fields=19):
    return [token_line(*parts, fields=fields) for parts in sentence]


def handover_file(tmp_path, sentences, trailing_blank=True, name="output1.txt"):
    text = "\n\n".join("\n".join(sentence_lines) for sentence_lines in sentences) + "\n"
    return write_bytes(tmp_path / name, text + ("\n" if trailing_blank else ""))


@pytest.mark.parametrize("trailing_blank", [True, False])
@pytest.mark.parametrize("fields", [3, 19, 20])
def test_document_tokens_text_and_categories(tmp_path, trailing_blank, fields):
    sentences = [lines(SENTENCE_1, fields), lines(SENTENCE_2, fields)]
    report = ConversionReport("handover")
    doc = read_handover_document(handover_file(tmp_path, sentences, trailing_blank), report)
    assert doc._.doc_id == "output1"
    assert doc.text == "In room 13 John\nColin 's fine"
    assert [t.text for t in doc if not t.is_space] == ["In", "room", "13", "John", "Colin", "'s", "fine"]
    assert [t.is_sent_start for t in doc] == [True, False, False, False, False, True, False, False]
    assert doc._.token_categories == ["NA", "NA", ROOM, NAME, "NA", NAME, "NA", "NA"]
    assert doc._.baseline_categories == ["NA", "NA", ROOM, "NA", "NA", NAME, "NA", ROOM]
    assert [(e.label_, e.text) for e in doc.ents] == [(ROOM, "13"), (NAME, "John"), (NAME, "Colin")]
    assert [(s.label_, s.text) for s in doc.spans[ENTITIES_SPANS_KEY]] == [
        (e.label_, e.text) for e in doc.ents
    ]
    assert report.handover_tokens == 7 and report.tokens == 8 and not report.problems
    assert report.entities_read == report.entities_kept == 3


def test_runs_join_same_category_and_end_at_sentence_starts():
    categories = ["NA", "A/B", "A/B", "C", "C", "C", "NA", "C"]
    starts = [True, False, False, False, False, True, False, False]
    assert category_runs(categories, starts) == [(1, 3, "A/B"), (3, 5, "C"), (5, 6, "C"), (7, 8, "C")]


@pytest.mark.parametrize(
    "bad_line, reason",
    [("lonely\tNA", "too_few_fields"), (token_line("extra", fields=20), "field_count"), (token_line(""), "empty_token")],
)
def test_bad_lines_are_skipped_and_located(tmp_path, bad_line, reason):
    sentence_lines = lines(SENTENCE_1)
    path = handover_file(tmp_path, [sentence_lines[:2] + [bad_line] + sentence_lines[2:]])
    report = ConversionReport("handover")
    doc = read_handover_document(path, report)
    assert [t.text for t in doc] == ["In", "room", "13", "John"]
    assert [(p.file, p.line, p.reason) for p in report.problems] == [("output1.txt", 3, reason)]
    with pytest.raises(ConversionError, match=f"output1.txt:3: {reason}"):
        read_handover_document(path, ConversionReport("handover", strict=True))


def test_bad_files_are_problems_and_bom_a_warning(tmp_path):
    write_bytes(tmp_path / "output1.txt", "\ufeff" + "\n".join(lines(SENTENCE_1)) + "\n")
    write_bytes(tmp_path / "output2.txt", b"")
    write_bytes(tmp_path / "output3.txt", "\n\n")
    write_bytes(tmp_path / "output4.txt", ("\n".join(lines(SENTENCE_1)) + "\ncaf\xe9\tNA\tNA\n").encode("latin-1"))
    report = ConversionReport("handover")
    docs = list(read_handover_folder(tmp_path, report))
    assert [doc._.doc_id for doc in docs] == ["output1"]
    assert docs[0][0].text == "In"
    assert [(w.file, w.reason) for w in report.warnings] == [("output1.txt", "bom")]
    assert [(p.file, p.line, p.reason) for p in report.problems] == [
        ("output2.txt", 0, "empty_file"),
        ("output3.txt", 0, "empty_file"),
        ("output4.txt", 5, "not_utf8"),
    ]


@pytest.mark.parametrize("tabbed_lines", ["all", "some"])
def test_trailing_tab_does_not_shift_the_category_columns(tmp_path, tabbed_lines):
    """A 20th, empty field (trailing tab) is stripped: gold stays the second-to-last real field."""
    sentence_lines = lines(SENTENCE_1 + SENTENCE_2)
    tabbed = [line + "\t" if tabbed_lines == "all" or i % 2 else line for i, line in enumerate(sentence_lines)]
    report = ConversionReport("handover")
    doc = read_handover_document(handover_file(tmp_path, [tabbed]), report)
    assert doc._.token_categories == ["NA", "NA", ROOM, NAME, NAME, "NA", "NA"]
    assert doc._.baseline_categories == ["NA", "NA", ROOM, "NA", NAME, "NA", ROOM]
    assert not report.problems and not report.warnings


SECRET = "Zyxwquorp"


@pytest.mark.parametrize(
    "gold, predicted, detail",
    [
        ("0.38", "NA", "gold field (field 18 of 19) holds a number, not a CLEF category"),
        ("NONE", "NA", "gold field (field 18 of 19) holds an upper-case tag, not a CLEF category"),
        (SECRET, "NA", "gold field (field 18 of 19) holds a value, not a CLEF category"),
        (ROOM, "PRP", "prediction field (field 19 of 19) holds an upper-case tag, not a CLEF category"),
    ],
)
def test_a_column_without_categories_drops_the_file_and_is_located(tmp_path, gold, predicted, detail):
    bad = [token_line("13", gold, predicted), token_line("John", gold, predicted)]
    path = handover_file(tmp_path, [lines(SENTENCE_1[:1]) + bad, lines(SENTENCE_2)])
    handover_file(tmp_path, [lines(SENTENCE_1)], name="output2.txt")
    report = ConversionReport("handover")
    docs = list(read_handover_folder(tmp_path, report))
    assert [doc._.doc_id for doc in docs] == ["output2"]
    assert [(p.file, p.line, p.reason, p.detail) for p in report.problems] == [
        ("output1.txt", 2, "unknown_category", detail),
        ("output1.txt", 3, "unknown_category", detail),
    ]
    assert SECRET not in str(report.to_dict()) and SECRET not in report.format_table()
    # output1's valid entities (Colin, plus 13/John when only the prediction is bad) are read and dropped
    dropped = 1 if gold != ROOM else 2
    assert report.entities_dropped == {"unknown_category": dropped}
    assert report.entities_read == report.entities_kept + dropped == 2 + dropped
    assert report.documents == 1 and report.tokens == len(docs[0])
    with pytest.raises(ConversionError, match="^" + re.escape(f"output1.txt:2: unknown_category: {detail}")):
        read_handover_document(path, ConversionReport("handover", strict=True))


def test_new_categories_training_warns_other_splits_need_them_from_training(tmp_path):
    new = "Future_Handover/Escalation"
    path = handover_file(tmp_path, [lines([("In",), ("room", new, new), ("13", new)])])
    training = ConversionReport("handover")
    doc = read_handover_document(path, training)
    assert doc._.token_categories == ["NA", new, new]
    assert [(w.file, w.line, w.reason) for w in training.warnings] == [("output1.txt", 2, "new_category")]
    assert f"'{new}'" in training.warnings[0].detail and not training.problems
    assert read_handover_document(path, ConversionReport("handover"), training_categories=[new]) is not None
    test = ConversionReport("handover")
    assert read_handover_document(path, test, training_categories=[ROOM]) is None
    assert [(p.line, p.reason) for p in test.problems] == [(2, "unknown_category"), (3, "unknown_category")]
    assert test.problems[0].detail == (
        f"gold field (field 18 of 19) holds '{new}', neither a CLEF category nor one of the training files;"
        f" prediction field (field 19 of 19) holds '{new}', neither a CLEF category nor one of the training files"
    )
