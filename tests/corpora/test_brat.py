"""brat reader rules, bad input, the doc.ents rule and the writer."""

import pytest

from clinical_ie.pipeline.data_model import ENTITIES_SPANS_KEY
from clinical_ie.corpora.brat import brat_ann_lines, read_brat_document, read_brat_folder, write_brat_document
from clinical_ie.corpora.conversion_report import ConversionError, ConversionReport

from tests.util import ann_line, write_bytes

TEXT = "Patient given aspirin 81mg p.o. q.d.\nInsulin Pen x7days for rash.\n"


def read(tmp_path, report, text, ann_lines, labels=None, name="note"):
    """Write ``name.txt`` / ``name.ann`` and read them back."""
    txt = write_bytes(tmp_path / f"{name}.txt", text)
    ann = write_bytes(tmp_path / f"{name}.ann", "".join(line + "\n" for line in ann_lines))
    return read_brat_document(txt, ann, report, labels=labels)


def entities(doc):
    return [(span.label_, span.text) for span in doc.spans[ENTITIES_SPANS_KEY]]


def assert_arithmetic(report):
    assert report.entities_read == report.entities_kept + sum(report.entities_dropped.values())
    assert report.relations_read == report.relations_kept + sum(report.relations_dropped.values())


def test_entities_relations_and_data_model(tmp_path, report):
    lines = [
        ann_line("T1", "Drug", TEXT, (14, 21)),
        ann_line("T2", "Strength", TEXT, (22, 26)),
        ann_line("T3", "Frequency", TEXT, (32, 36)),
        "R1\tStrength-Drug Arg1:T2 Arg2:T1",
        "R2\tFrequency-Drug Arg2:T1 Arg1:T3",
    ]
    doc = read(tmp_path, report, TEXT, lines)
    assert doc.text == TEXT
    assert doc._.doc_id == "note"
    assert entities(doc) == [("Drug", "aspirin"), ("Strength", "81mg"), ("Frequency", "q.d.")]
    assert [span.id_ for span in doc.spans[ENTITIES_SPANS_KEY]] == ["T1", "T2", "T3"]
    assert [(e.label_, e.text) for e in doc.ents] == entities(doc)
    assert doc._.brat_entities[0] == {"id": "T1", "label": "Drug", "fragments": [[14, 21]]}
    assert doc._.relations == [
        {"id": "R1", "type": "Strength-Drug", "arg1": "T2", "arg2": "T1"},
        {"id": "R2", "type": "Frequency-Drug", "arg1": "T3", "arg2": "T1"},
    ]
    assert all(token.is_sent_start is not None for token in doc)
    assert report.documents == 1 and report.entities_kept == 3 and report.relations_kept == 2
    assert report.alignment_rate == 1.0 and report.misaligned == 0
    assert_arithmetic(report)


def test_crlf_offsets_stay_exact(tmp_path, report):
    text = "Line one\r\nGiven aspirin\r\n"
    doc = read(tmp_path, report, text, [ann_line("T1", "Drug", text, (16, 23))])
    assert doc.text == text
    assert entities(doc) == [("Drug", "aspirin")]
    assert not report.text_mismatches


def test_discontinuous_entity_keeps_fragments(tmp_path, report):
    text = "insulin glargine and lispro"
    doc = read(tmp_path, report, text, [ann_line("T1", "Drug", text, (0, 7), (21, 27))])
    assert doc._.brat_entities[0]["fragments"] == [[0, 7], [21, 27]]
    assert entities(doc) == [("Drug", text)]
    assert not report.text_mismatches


def test_text_field_whitespace_is_normalised_but_mismatch_reported(tmp_path, report):
    text = "BID (2 times\na day) and more"
    lines = [
        "T1\tFrequency 0 19\tBID (2 times a day)",
        "T2\tFrequency 24 28\twrong",
    ]
    doc = read(tmp_path, report, text, lines)
    assert [e["id"] for e in doc._.brat_entities] == ["T1", "T2"]
    assert [(i.line, i.reason) for i in report.text_mismatches] == [(2, "text_mismatch")]
    assert "wrong" not in str(report.to_dict()) and "more" not in str(report.to_dict())


def test_ents_rule_prefers_ade_and_drug_then_longer(tmp_path, report):
    text = "Insulin Pen for hyperkalemia and rash caused by lisinopril"
    lines = [
        ann_line("T1", "Drug", text, (0, 11)),
        ann_line("T2", "Form", text, (8, 11)),
        ann_line("T3", "Reason", text, (16, 28)),
        ann_line("T4", "ADE", text, (16, 28)),
        ann_line("T5", "Reason", text, (33, 47)),
        ann_line("T6", "ADE", text, (33, 37)),
        ann_line("T7", "Drug", text, (48, 58)),
        ann_line("T8", "Drug", text, (48, 58)),
    ]
    doc = read(tmp_path, report, text, lines)
    assert len(doc.spans[ENTITIES_SPANS_KEY]) == 8
    assert [(e.label_, e.text) for e in doc.ents] == [
        ("Drug", "Insulin Pen"),
        ("ADE", "hyperkalemia"),
        ("ADE", "rash"),
        ("Drug", "lisinopril"),
    ]
    assert report.entities_not_in_ents == {"overlap:Drug": 1, "overlap:ADE": 2, "duplicate": 1}
    assert report.by_label["Form"] == {"read": 1, "kept": 1}
    assert report.by_label["Drug"]["in_ents"] == 2


def test_misaligned_boundary_is_expanded_and_counted(tmp_path, report):
    text = "took aspirinX daily"
    doc = read(tmp_path, report, text, [ann_line("T1", "Drug", text, (5, 12))])
    assert entities(doc) == [("Drug", "aspirinX")]
    assert doc._.brat_entities[0]["fragments"] == [[5, 12]]
    assert report.misaligned == 1 and report.boundaries == 2 and report.boundaries_aligned == 1


def test_labels_restrict_kept_entities_and_their_relations(tmp_path, report):
    lines = [
        ann_line("T1", "Drug", TEXT, (14, 21)),
        ann_line("T2", "Strength", TEXT, (22, 26)),
        "R1\tStrength-Drug Arg1:T2 Arg2:T1",
    ]
    doc = read(tmp_path, report, TEXT, lines, labels={"Drug"})
    assert entities(doc) == [("Drug", "aspirin")]
    assert doc._.relations == []
    assert report.entities_dropped == {"label_not_selected": 1}
    assert report.relations_dropped == {"argument_dropped": 1}
    assert not report.problems
    assert_arithmetic(report)


def test_other_annotation_lines_are_counted(tmp_path, report):
    lines = [
        ann_line("T1", "Drug", TEXT, (14, 21)),
        "#1\tAnnotatorNotes T1\tsome note",
        "N1\tReference T1 RxNorm:1191\taspirin",
        "E1\tAdministration:T1",
        "",
    ]
    read(tmp_path, report, TEXT, lines)
    assert report.other_annotations == {"note": 1, "normalization": 1, "event": 1}
    assert not report.problems


def test_attributes_are_kept_and_assertions_set(tmp_path, report):
    """A and M lines stay on their entity (an event's on its trigger); those naming an assertion
    set the gold span._.assertion; every attribute read is kept or counted as dropped."""
    lines = [
        ann_line("T1", "Drug", TEXT, (14, 21)),  # aspirin
        ann_line("T2", "Strength", TEXT, (22, 26)),  # 81mg
        ann_line("T3", "Drug", TEXT, (37, 48)),  # Insulin Pen
        ann_line("T4", "Reason", TEXT, (60, 64)),  # rash
        ann_line("T5", "Person", TEXT, (0, 7)),  # Patient: dropped, its label is not selected
        "A1\tNegation T1",
        "A2\tPOLARITY E1 NEG",
        "E1\tDisorder:T4",
        "M3\tTEMPORALITY T3 HISTORICAL",
        "A4\tSeverity T2 mild",
        "A5\tAssertion T2 possible",
        "A6\tNegation T9",
        "A7\tUncertainty T5",
        "A8\tbroken",
    ]
    doc = read(tmp_path, report, TEXT, lines, labels={"Drug", "Strength", "Reason"})
    assertions = {(span.label_, span.text): span._.assertion for span in doc.spans[ENTITIES_SPANS_KEY]}
    assert assertions[("Drug", "aspirin")] == "absent"
    assert assertions[("Reason", "rash")] == "absent"
    assert assertions[("Drug", "Insulin Pen")] == "historical"
    assert assertions[("Strength", "81mg")] == "possible"
    kept = {entry["id"]: entry for entry in doc._.brat_entities}
    assert kept["T2"]["attributes"] == {"Severity": "mild", "Assertion": "possible"}
    assert kept["T1"]["attributes"] == {"Negation": True}
    assert report.attributes_read == 8
    assert report.attributes_kept == {"assertion": 4, "other": 1}
    assert report.attributes_dropped == {"missing_entity": 1, "bad_syntax": 1, "entity_dropped": 1}
    assert sorted(issue.line for issue in report.problems) == [12, 14]


def test_written_assertions_and_statuses_read_back(tmp_path, report):
    doc = read(tmp_path, report, TEXT, [ann_line("T1", "Drug", TEXT, (14, 21)), ann_line("T2", "Reason", TEXT, (60, 64))])
    drug, reason = doc.spans[ENTITIES_SPANS_KEY]
    drug._.assertion, drug._.med_status, reason._.assertion = "present", "discontinued", "absent"
    lines = brat_ann_lines(doc)
    assert "A1\tAssertion T1 present" in lines and "A2\tStatus T1 discontinued" in lines
    assert "A3\tAssertion T2 absent" in lines
    again = read(tmp_path, ConversionReport("brat"), TEXT, lines, name="again")
    assert [span._.assertion for span in again.spans[ENTITIES_SPANS_KEY]] == ["present", "absent"]
    assert again._.brat_entities[0]["attributes"]["Status"] == "discontinued"


@pytest.mark.parametrize(
    "line, reason",
    [
        ("T1\tDrug 14 210\taspirin", "offset_out_of_range"),
        ("T1\tDrug 21 14\taspirin", "bad_offsets"),
        ("T1\tDrug 14 x21\taspirin", "bad_syntax"),
        ("T1 Drug 14 21 aspirin", "bad_syntax"),
        ("Q1\tsomething", "bad_syntax"),
        ("R1\tStrength-Drug Arg1:T2", "bad_syntax"),
        ("R1\tStrength-Drug Arg1:T2 Arg2:T9", "missing_entity"),
    ],
)
def test_bad_lines_are_skipped_and_located(tmp_path, line, reason):
    lines = [ann_line("T2", "Strength", TEXT, (22, 26)), line]
    report = ConversionReport("brat")
    doc = read(tmp_path, report, TEXT, lines)
    assert doc is not None and ("Strength", "81mg") in entities(doc)
    assert [(p.file, p.line, p.reason) for p in report.problems] == [("note.ann", 2, reason)]
    assert_arithmetic(report)
    with pytest.raises(ConversionError) as error:
        read(tmp_path, ConversionReport("brat", strict=True), TEXT, lines)
    assert (error.value.file, error.value.line, error.value.reason) == ("note.ann", 2, reason)
    assert str(error.value).startswith("note.ann:2: ")


def test_duplicate_entity_id_is_a_problem(tmp_path, report):
    lines = [ann_line("T1", "Drug", TEXT, (14, 21)), ann_line("T1", "Strength", TEXT, (22, 26))]
    doc = read(tmp_path, report, TEXT, lines)
    assert entities(doc) == [("Drug", "aspirin")]
    assert report.entities_dropped == {"duplicate_id": 1}
    assert [(p.line, p.reason) for p in report.problems] == [(2, "duplicate_id")]


def test_unpaired_files_are_problems(tmp_path, report):
    write_bytes(tmp_path / "only_text.txt", TEXT)
    write_bytes(tmp_path / "only_ann.ann", ann_line("T1", "Drug", TEXT, (14, 21)) + "\n")
    read(tmp_path, ConversionReport("brat"), TEXT, [], name="paired")
    docs = list(read_brat_folder(tmp_path, report))
    assert [doc._.doc_id for doc in docs] == ["paired"]
    assert sorted((p.file, p.reason) for p in report.problems) == [
        ("only_ann.ann", "missing_txt"),
        ("only_text.txt", "missing_ann"),
    ]
    with pytest.raises(ConversionError, match="missing_txt"):
        list(read_brat_folder(tmp_path, ConversionReport("brat", strict=True)))


def test_non_utf8_and_empty_files(tmp_path, report):
    write_bytes(tmp_path / "latin.txt", "line one\nna\xefve\n".encode("latin-1"))
    write_bytes(tmp_path / "latin.ann", "")
    write_bytes(tmp_path / "empty.txt", b"")
    write_bytes(tmp_path / "empty.ann", "")
    write_bytes(tmp_path / "no_entities.txt", TEXT)
    write_bytes(tmp_path / "no_entities.ann", b"")
    docs = list(read_brat_folder(tmp_path, report))
    assert [doc._.doc_id for doc in docs] == ["no_entities"]
    assert sorted((p.file, p.line, p.reason) for p in report.problems) == [
        ("empty.txt", 0, "empty_file"),
        ("latin.txt", 2, "not_utf8"),
    ]
    assert ("no_entities.ann", "empty_file") in [(w.file, w.reason) for w in report.warnings]


@pytest.mark.parametrize("offsets_count_bom", [False, True])
def test_bom_is_removed_and_offsets_follow_the_text_fields(tmp_path, report, offsets_count_bom):
    shift = int(offsets_count_bom)
    lines = [f"T1\tDrug {14 + shift} {21 + shift}\taspirin", f"T2\tStrength {22 + shift} {26 + shift}\t81mg"]
    doc = read(tmp_path, report, "\ufeff" + TEXT, lines)
    assert doc.text == TEXT
    assert entities(doc) == [("Drug", "aspirin"), ("Strength", "81mg")]
    assert not report.text_mismatches
    reasons = [w.reason for w in report.warnings]
    assert reasons == (["bom", "bom_offsets"] if offsets_count_bom else ["bom"])


def test_writer_round_trip_keeps_fragments_and_relations(tmp_path, report):
    text = "insulin glargine and lispro 10 units\r\ngiven"
    lines = [
        ann_line("T4", "Drug", text, (0, 7), (21, 27)),
        ann_line("T2", "Drug", text, (0, 16)),
        ann_line("T3", "Dosage", text, (28, 36)),
        "R7\tDosage-Drug Arg1:T3 Arg2:T4",
    ]
    doc = read(tmp_path / "in", report, text, lines)
    ann_path = write_brat_document(doc, tmp_path / "out")
    assert (tmp_path / "out" / "note.txt").read_bytes() == text.encode("utf8")
    written = ann_path.read_text(encoding="utf8").splitlines()
    assert written == [
        "T1\tDrug 0 16\tinsulin glargine",
        "T2\tDrug 0 7;21 27\tinsulin lispro",
        "T3\tDosage 28 36\t10 units",
        "R1\tDosage-Drug Arg1:T3 Arg2:T2",
    ]
    again = read_brat_document(tmp_path / "out" / "note.txt", ann_path, ConversionReport("brat", strict=True))
    assert brat_ann_lines(again) == written


def test_writer_accepts_predicted_spans_without_ids(tmp_path, report):
    doc = read(tmp_path, report, TEXT, [ann_line("T1", "Drug", TEXT, (14, 21))])
    predicted = [doc.char_span(22, 26, label="Strength")]
    assert brat_ann_lines(doc, spans=predicted, relations=[]) == ["T1\tStrength 22 26\t81mg"]
    doc.ents = predicted
    del doc.spans[ENTITIES_SPANS_KEY]
    assert brat_ann_lines(doc) == ["T1\tStrength 22 26\t81mg"]


def test_long_note_converts_with_line_sentences(tmp_path, report):
    line = "Given aspirin 81mg p.o. q.d. for pain and fever today.\n"
    text = line * 1200
    lines = [ann_line(f"T{i}", "Drug", text, (i * len(line) + 6, i * len(line) + 13)) for i in range(1200)]
    doc = read(tmp_path, report, text, lines)
    assert sum(not token.is_space for token in doc) > 12000
    assert len(list(doc.sents)) == 1200
    assert len(doc.ents) == 1200 and report.alignment_rate == 1.0
