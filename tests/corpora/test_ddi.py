"""DDI corpus reader: sentence offsets (end inclusive, discontinuous), labels, pairs, bad XML."""

import pytest

from clinical_ie.corpora.conversion_report import ConversionError, ConversionReport
from clinical_ie.corpora.ddi import read_ddi_document, read_ddi_folder
from clinical_ie.pipeline.data_model import ENTITIES_SPANS_KEY

from tests.util import write_bytes

# Synthetic, in the corpus's format.
DOC = """<?xml version="1.0" encoding="UTF-8"?>
<document id="DDI-DrugBank.d1">
    <sentence id="DDI-DrugBank.d1.s0" text="Aspirin and Coumadin interact.&#xd;&#xa;">
        <entity id="DDI-DrugBank.d1.s0.e0" charOffset="0-6"
            type="drug" text="Aspirin"/>
        <entity id="DDI-DrugBank.d1.s0.e1" charOffset="12-19"
            type="brand" text="Coumadin"/>
        <pair id="DDI-DrugBank.d1.s0.p0" e1="DDI-DrugBank.d1.s0.e0" e2="DDI-DrugBank.d1.s0.e1" ddi="true" type="effect"/>
    </sentence>
    <sentence id="DDI-DrugBank.d1.s1" text="Beta- and alpha-blockers and MPTP.">
        <entity id="DDI-DrugBank.d1.s1.e0" charOffset="0-3;16-23" type="group" text="Beta-blockers"/>
        <entity id="DDI-DrugBank.d1.s1.e1" charOffset="10-23" type="group" text="alpha-blockers"/>
        <entity id="DDI-DrugBank.d1.s1.e2" charOffset="29-32" type="drug_n" text="MPTP"/>
        <pair id="DDI-DrugBank.d1.s1.p0" e1="DDI-DrugBank.d1.s1.e1" e2="DDI-DrugBank.d1.s1.e2" ddi="false"/>
    </sentence>
</document>
"""


def assert_arithmetic(report):
    assert report.entities_read == report.entities_kept + sum(report.entities_dropped.values())
    assert report.relations_read == report.relations_kept + sum(report.relations_dropped.values())


def test_offsets_labels_pairs_and_sentences(tmp_path):
    report = ConversionReport("ddi", strict=True)
    doc = read_ddi_document(write_bytes(tmp_path / "d1.xml", DOC), report)
    first = "Aspirin and Coumadin interact.\r\n"
    assert doc.text == first + "\nBeta- and alpha-blockers and MPTP."
    assert doc._.doc_id == "DDI-DrugBank.d1" and doc._.corpus == "ddi"
    spans = [(s.label_, s.text) for s in doc.spans[ENTITIES_SPANS_KEY]]
    assert spans == [("Drug", "Aspirin"), ("Drug", "Coumadin"), ("group", "Beta- and alpha-blockers"), ("group", "alpha-blockers"), ("drug_n", "MPTP")]
    beta = doc._.brat_entities[2]
    assert [doc.text[s:e] for s, e in beta["fragments"]] == ["Beta", "blockers"] and beta["source_label"] == "group"
    assert doc._.brat_entities[1]["source_label"] == "brand"
    assert doc._.relations == [{"id": "DDI-DrugBank.d1.s0.p0", "type": "effect", "arg1": "DDI-DrugBank.d1.s0.e0", "arg2": "DDI-DrugBank.d1.s0.e1"}]
    assert report.other_annotations == {"negative_pair": 1}
    assert [s.text.strip() for s in doc.sents] == ["Aspirin and Coumadin interact.", "Beta- and alpha-blockers and MPTP."]
    assert report.entities_kept == 5 and report.text_mismatches[0].reason == "text_mismatch"  # "Beta-blockers"
    assert_arithmetic(report)


def test_bad_offsets_and_unknown_pair_entity_are_located(tmp_path):
    text = DOC.replace('charOffset="29-32"', 'charOffset="29-99"').replace('e2="DDI-DrugBank.d1.s0.e1" ddi="true"', 'e2="nope" ddi="true"')
    path = write_bytes(tmp_path / "d1.xml", text)
    report = ConversionReport("ddi")
    doc = read_ddi_document(path, report)
    assert [(p.file, p.line, p.reason) for p in report.problems] == [("d1.xml", 13, "offset_out_of_range"), ("d1.xml", 8, "missing_entity")]
    assert report.entities_dropped == {"offset_out_of_range": 1} and report.relations_dropped == {"missing_entity": 1}
    assert len(doc.spans[ENTITIES_SPANS_KEY]) == 4
    assert_arithmetic(report)
    with pytest.raises(ConversionError, match=r"d1.xml:13: offset_out_of_range"):
        read_ddi_document(path, ConversionReport("ddi", strict=True))


def test_malformed_xml_names_file_and_line(tmp_path):
    write_bytes(tmp_path / "sub" / "good.xml", DOC)
    write_bytes(tmp_path / "sub" / "bad.xml", DOC.replace("</sentence>\n</document>", "</document>"))
    report = ConversionReport("ddi")
    docs = list(read_ddi_folder(tmp_path, report))
    assert [doc._.doc_id for doc in docs] == ["DDI-DrugBank.d1"]
    [problem] = report.problems
    assert (problem.file, problem.line, problem.reason) == ("bad.xml", 15, "bad_xml")
    with pytest.raises(ConversionError, match=r"bad.xml:15: bad_xml"):
        list(read_ddi_folder(tmp_path, ConversionReport("ddi", strict=True)))
