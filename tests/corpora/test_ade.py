"""ADE corpus reader: document offsets to sentence offsets, accounting, bad lines, strict mode."""

import pytest

from clinical_ie.corpora.ade import read_ade_corpus
from clinical_ie.corpora.conversion_report import ConversionError, ConversionReport
from clinical_ie.pipeline.data_model import ENTITIES_SPANS_KEY

from tests.util import write_bytes

# Synthetic lines in the corpus's format: the document is "PMID\n\nTitle\n\nAbstract"; the first
# sentence starts at document offset 9, the second at 60.
S1 = "Rash after amoxicillin and rash again."
S2 = "She took 500 mg amoxicillin daily."


def rel(pmid, sentence, start, text, drug, nth=0):
    """A line locating ``text`` (its ``nth`` occurrence) and ``drug`` in ``sentence`` at document offset ``start``."""
    at = [i for i in range(len(sentence)) if sentence.startswith(text, i)][nth]
    drug_at = sentence.index(drug)
    return f"{pmid}|{sentence}|{text}|{start + at}|{start + at + len(text)}|{drug}|{start + drug_at}|{start + drug_at + len(drug)}"


def write_corpus(folder, ae_lines, dose_lines=()):
    write_bytes(folder / "DRUG-AE.rel", "".join(line + "\n" for line in ae_lines))
    write_bytes(folder / "DRUG-DOSE.rel", "".join(line + "\n" for line in dose_lines))
    return folder


def assert_arithmetic(report):
    assert report.entities_read == report.entities_kept + sum(report.entities_dropped.values())
    assert report.relations_read == report.relations_kept + sum(report.relations_dropped.values())


def spans(doc):
    return [(span.label_, span.text) for span in doc.spans[ENTITIES_SPANS_KEY]]


def test_offsets_labels_relations_and_sentences(tmp_path):
    folder = write_corpus(
        tmp_path,
        [rel("111", S1, 9, "Rash", "amoxicillin"), rel("111", S1, 9, "rash", "amoxicillin"), rel("111", S2, 60, "daily", "amoxicillin")],
        [rel("111", S2, 60, "500 mg", "amoxicillin")],
    )
    report = ConversionReport("ade", strict=True)
    [doc] = list(read_ade_corpus(folder, report))
    assert doc.text == S1 + "\n" + S2
    assert doc._.doc_id == "111" and doc._.corpus == "ade"
    assert sorted(spans(doc)) == sorted([
        ("ADE", "Rash"), ("Drug", "amoxicillin"), ("ADE", "rash"), ("ADE", "daily"), ("Dose", "500 mg"), ("Drug", "amoxicillin"),
    ])
    for entry in doc._.brat_entities:
        (start, end), = entry["fragments"]
        assert doc.text[start:end] in {"Rash", "rash", "amoxicillin", "daily", "500 mg"}
    assert {entry["source_label"] for entry in doc._.brat_entities} == {"adverse_effect", "drug", "dose"}
    assert [relation["type"] for relation in doc._.relations] == ["ADE-Drug", "ADE-Drug", "ADE-Drug", "Dose-Drug"]
    assert [sent.text.strip() for sent in doc.sents] == [S1, S2]
    assert report.entities_read == 8 and report.entities_dropped == {"duplicate_mention": 2}
    assert report.relations_kept == 4
    assert_arithmetic(report)


def test_a_mention_whose_offsets_disagree_is_dropped_and_located(tmp_path):
    bad = rel("7", S1, 9, "Rash", "amoxicillin").split("|")
    bad[3], bad[4] = "10", "14"  # one character off: not the text "Rash"
    lines = [rel("7", S1, 9, "rash", "amoxicillin"), rel("7", S1, 9, "Rash", "amoxicillin"), "|".join(bad)]
    folder = write_corpus(tmp_path, lines)
    report = ConversionReport("ade")
    [doc] = list(read_ade_corpus(folder, report))
    assert ("ADE", "Rash") in spans(doc)
    assert report.entities_dropped["offset_mismatch"] == 1
    assert [(p.file, p.line, p.reason) for p in report.problems] == [("DRUG-AE.rel", 3, "offset_mismatch")]
    assert report.relations_dropped == {"argument_dropped": 1}
    assert_arithmetic(report)
    with pytest.raises(ConversionError, match=r"DRUG-AE.rel:3: offset_mismatch"):
        list(read_ade_corpus(folder, ConversionReport("ade", strict=True)))


def test_malformed_line_names_file_and_line(tmp_path):
    folder = write_corpus(tmp_path, [rel("5", S1, 0, "rash", "amoxicillin")], ["5|a sentence|500 mg|x|6|drug|1|5"])
    report = ConversionReport("ade")
    docs = list(read_ade_corpus(folder, report))
    assert len(docs) == 1
    assert [(p.file, p.line, p.reason) for p in report.problems] == [("DRUG-DOSE.rel", 1, "bad_syntax")]
    assert report.entities_dropped == {"bad_syntax": 2} and report.relations_dropped == {"bad_syntax": 1}
    assert_arithmetic(report)
    with pytest.raises(ConversionError, match=r"DRUG-DOSE.rel:1: bad_syntax"):
        list(read_ade_corpus(folder, ConversionReport("ade", strict=True)))


def test_missing_file_is_a_problem(tmp_path):
    write_bytes(tmp_path / "DRUG-AE.rel", rel("5", S1, 0, "rash", "amoxicillin") + "\n")
    report = ConversionReport("ade")
    assert len(list(read_ade_corpus(tmp_path, report))) == 1
    assert [(p.file, p.reason) for p in report.problems] == [("DRUG-DOSE.rel", "missing_file")]
