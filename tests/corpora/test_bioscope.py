"""BioScope reader: cue and scope offsets, parts, the clinical merge with CMC texts, bad input."""

import pytest

from clinical_ie.corpora.bioscope import read_bioscope_file, read_bioscope_folder
from clinical_ie.corpora.conversion_report import ConversionError, ConversionReport
from clinical_ie.corpora.sentence_docs import CORPUS_PART_KEY

from tests.util import write_bytes

# Synthetic files in the corpus's formats.
ABSTRACTS = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE Annotation PUBLIC "-//BIOSCOPE//DTD  SCOPE ANNOTATION 1.0//EN" "BioScope.dtd">
<Annotation><DocumentSet>
<Document type="Biological_abstract"><DocID type="PMID"> 123 </DocID>
<DocumentPart type="AbstractText">
<sentence id="S1.1">These data <xcope id="X1.1.1"><cue type="speculation" ref="X1.1.1">suggest</cue> that <xcope id="X1.1.2">IL-2 is <cue type="negation" ref="X1.1.2">not</cue> needed</xcope></xcope>.</sentence>
<sentence id="S1.2">It binds <xcope id="X1.2.1"><cue type="speculation" ref="X1.2.1">either</cue> A <cue type="speculation" ref="X1.2.1">or</cue> B</xcope>.</sentence>
</DocumentPart></Document>
</DocumentSet></Annotation>
"""
CLINICAL = """<?xml version="1.0" encoding="utf-8"?>
<Annotation><DocumentSet>
<Document type="Medical_record"><DocID type="CMC_DOCID">9001</DocID>
<DocumentPart type="Impression">
<sentence id="S1.1">
    <xcope id="X1.1.1"><cue type="negation" ref="X1.1.1">*</cue> * *</xcope>.
</sentence>
<sentence id="S1.2"><xcope id="X1.2.1"><cue type="speculation" ref="X1.2.1">*</cue> *-*</xcope>.</sentence>
</DocumentPart>
<DocumentPart type="History"><sentence id="S1.3">*-* * *.</sentence></DocumentPart>
</Document>
</DocumentSet></Annotation>
"""
CMC = """<?xml version='1.0' standalone='yes'?>
<docs><doc id="9001" type="RADIOLOGY_REPORT"><texts>
<text origin="R" type="CLINICAL_HISTORY">Four-year old cough.</text>
<text origin="R" type="IMPRESSION">No focal pneumonia. Possible re-demonstration.</text>
</texts></doc></docs>
"""
GROUPS = ("negation_cues", "negation_scopes", "speculation_cues", "speculation_scopes")


def marks(doc):
    return {key: [(span.text, span.id_) for span in doc.spans[key]] for key in GROUPS}


def assert_arithmetic(report):
    assert report.entities_read == report.entities_kept + sum(report.entities_dropped.values())


def test_cues_and_scopes_keep_exact_offsets(tmp_path):
    report = ConversionReport("bioscope", strict=True)
    [doc] = list(read_bioscope_file(write_bytes(tmp_path / "abstracts.xml", ABSTRACTS), report))
    assert doc.text == "These data suggest that IL-2 is not needed.\nIt binds either A or B."
    assert doc._.doc_id == "123" and doc._.corpus == "bioscope" and doc.user_data[CORPUS_PART_KEY] == "abstracts"
    assert marks(doc) == {
        "negation_cues": [("not", "X1.1.2")],
        "negation_scopes": [("IL-2 is not needed", "X1.1.2")],
        "speculation_cues": [("suggest", "X1.1.1"), ("either", "X1.2.1"), ("or", "X1.2.1")],
        "speculation_scopes": [("suggest that IL-2 is not needed", "X1.1.1"), ("either A or B", "X1.2.1")],
    }
    assert [span._.assertion for span in doc.spans["negation_scopes"]] == ["absent"]
    assert [span._.assertion for span in doc.spans["speculation_scopes"]] == ["possible", "possible"]
    assert [s.text.strip() for s in doc.sents] == ["These data suggest that IL-2 is not needed.", "It binds either A or B."]
    assert report.entities_kept == 7 and report.by_label["speculation_cue"]["kept"] == 3
    assert not doc.ents and not list(doc.spans["entities"])
    assert_arithmetic(report)


def test_clinical_words_come_from_the_cmc_report(tmp_path):
    write_bytes(tmp_path / "clinical_merger" / "clinical_records_anon.xml", CLINICAL)
    cmc = write_bytes(tmp_path / "cmc.xml", CMC)
    report = ConversionReport("bioscope", strict=True)
    [doc] = list(read_bioscope_folder(tmp_path, report, clinical_texts=[cmc], parts=["clinical"]))
    assert doc.text == "No focal pneumonia.\nPossible re-demonstration.\nFour-year old cough."
    assert doc.user_data[CORPUS_PART_KEY] == "clinical"
    assert marks(doc) == {
        "negation_cues": [("No", "X1.1.1")],
        "negation_scopes": [("No focal pneumonia", "X1.1.1")],
        "speculation_cues": [("Possible", "X1.2.1")],
        "speculation_scopes": [("Possible re-demonstration", "X1.2.1")],
    }
    assert_arithmetic(report)


def test_clinical_part_without_or_against_its_words_is_counted(tmp_path):
    path = write_bytes(tmp_path / "clinical_records_anon.xml", CLINICAL)
    report = ConversionReport("bioscope")
    assert list(read_bioscope_file(path, report, part="clinical")) == []
    assert [(p.line, p.reason) for p in report.problems] == [(3, "text_redacted")]
    assert report.entities_dropped == {"text_redacted": 4}
    other = {"9001": {"IMPRESSION": "No focal pneumonia. Possible.", "CLINICAL_HISTORY": "Four-year old cough."}}
    report = ConversionReport("bioscope")
    assert list(read_bioscope_file(path, report, part="clinical", clinical_texts=other)) == []
    assert [(p.line, p.reason) for p in report.problems] == [(5, "text_mismatch")]
    assert report.entities_dropped == {"text_mismatch": 4}
    assert_arithmetic(report)
    with pytest.raises(ConversionError, match=r"clinical_records_anon.xml:5: text_mismatch"):
        list(read_bioscope_file(path, ConversionReport("bioscope", strict=True), part="clinical", clinical_texts=other))


def test_scope_without_cue_and_bad_xml_are_located(tmp_path):
    text = ABSTRACTS.replace('<cue type="negation" ref="X1.1.2">not</cue>', "not")
    report = ConversionReport("bioscope")
    [doc] = list(read_bioscope_file(write_bytes(tmp_path / "a.xml", text), report))
    assert [(p.file, p.line, p.reason) for p in report.problems] == [("a.xml", 6, "scope_without_cue")]
    assert not doc.spans["negation_scopes"]
    assert_arithmetic(report)
    broken = write_bytes(tmp_path / "b.xml", ABSTRACTS.replace("</sentence>\n<sentence", "<sentence", 1))
    report = ConversionReport("bioscope")
    assert list(read_bioscope_file(broken, report)) == []
    assert [(p.file, p.line, p.reason) for p in report.problems] == [("b.xml", 7, "bad_xml")]
    with pytest.raises(ConversionError, match=r"b.xml:7: bad_xml"):
        list(read_bioscope_file(broken, ConversionReport("bioscope", strict=True)))
