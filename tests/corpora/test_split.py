"""Dev split and SamBD sentence down-sampling."""

import pytest
from spacy.tokens import Doc

from clinical_ie.pipeline.data_model import ENTITIES_SPANS_KEY
from clinical_ie.corpora.brat import brat_ann_lines, read_brat_document
from clinical_ie.corpora.handover import handover_doc
from clinical_ie.corpora.conversion_report import ConversionReport
from clinical_ie.corpora.split import downsample_sentences, split_dev, split_off
from clinical_ie.pipeline.tokenizer import shared_clinical_english

from tests.util import ann_line, write_bytes


def named_docs(count):
    vocab = shared_clinical_english().vocab
    docs = []
    for i in range(count):
        doc = Doc(vocab, words=["note", str(i)])
        doc._.doc_id = f"note{i:03d}"
        docs.append(doc)
    return docs


def ids(docs):
    return [doc._.doc_id for doc in docs]


def test_split_dev_is_deterministic_and_order_independent():
    docs = named_docs(50)
    train, dev = split_dev(docs, fraction=0.1, seed=0)
    assert len(dev) == 5 and len(train) == 45
    assert set(ids(train)).isdisjoint(ids(dev))
    assert ids(train) == sorted(ids(train))
    assert ids(split_dev(docs, 0.1, 0)[1]) == ids(dev)
    assert sorted(ids(split_dev(docs[::-1], 0.1, 0)[1])) == sorted(ids(dev))
    assert ids(split_dev(docs, 0.1, 1)[1]) != ids(dev)


@pytest.mark.parametrize("fraction", [-0.1, 1.0])
def test_split_dev_rejects_bad_fractions(fraction):
    with pytest.raises(ValueError):
        split_dev(named_docs(3), fraction=fraction)


TEXT = "Admitted.\nNo complaints.\nGiven aspirin 81mg.\nSlept well.\nInsulin Pen q.d.\nHome.\n"


@pytest.fixture
def brat_doc(tmp_path):
    lines = [
        ann_line("T1", "Drug", TEXT, (31, 38)),
        ann_line("T2", "Strength", TEXT, (39, 43)),
        ann_line("T3", "Drug", TEXT, (57, 68)),
        ann_line("T4", "Form", TEXT, (65, 68)),
        ann_line("T5", "Frequency", TEXT, (69, 73)),
        "R1\tStrength-Drug Arg1:T2 Arg2:T1",
        "R2\tFrequency-Drug Arg1:T5 Arg2:T3",
    ]
    txt = write_bytes(tmp_path / "note.txt", TEXT)
    ann = write_bytes(tmp_path / "note.ann", "\n".join(lines) + "\n")
    return read_brat_document(txt, ann, ConversionReport("brat", strict=True))


def test_downsampling_keeps_entity_sentences_and_moves_annotation(brat_doc):
    report = ConversionReport("brat")
    sampled = downsample_sentences(brat_doc, ratio=0.0, seed=0, report=report)
    assert sampled.text == "Given aspirin 81mg.\nInsulin Pen q.d.\n"
    assert sampled._.doc_id == "note"
    assert [(s.label_, s.text, s.id_) for s in sampled.spans[ENTITIES_SPANS_KEY]] == [
        (s.label_, s.text, s.id_) for s in brat_doc.spans[ENTITIES_SPANS_KEY]
    ]
    assert [e.text for e in sampled.ents] == [e.text for e in brat_doc.ents]
    assert sampled._.relations == brat_doc._.relations
    assert [line.split("\t", 1)[1] for line in brat_ann_lines(sampled)][:2] == [
        "Drug 6 13\taspirin",
        "Strength 14 18\t81mg",
    ]
    assert all(t.is_sent_start is not None for t in sampled)
    assert report.sampling["sentences"] == {
        "total": 6, "with_entities": 2, "without_entities": 4, "without_kept": 0,
    }
    assert report.sampling["tokens_after"] == len(sampled)


def test_downsampling_ratio_one_keeps_everything_and_seed_decides(brat_doc):
    assert downsample_sentences(brat_doc, ratio=1.0, seed=0).text == TEXT
    half = [downsample_sentences(brat_doc, ratio=0.5, seed=seed).text for seed in range(8)]
    assert half == [downsample_sentences(brat_doc, ratio=0.5, seed=seed).text for seed in range(8)]
    assert len(set(half)) > 1


def test_downsampling_keeps_handover_categories_aligned(tmp_path):
    sentences = [[("Bed", "NA", "NA"), ("4", "PatientIntroduction_CurrentBed", "NA")], [("ok", "NA", "NA")]]
    doc = handover_doc(shared_clinical_english().vocab, "output1", sentences)
    sampled = downsample_sentences(doc, ratio=0.0, seed=0)
    assert [t.text for t in sampled] == ["Bed", "4", "\n"]
    assert sampled._.token_categories == ["NA", "PatientIntroduction_CurrentBed", "NA"]
    assert sampled._.baseline_categories == ["NA", "NA", "NA"]
    assert [e.text for e in sampled.ents] == ["4"]


def test_split_off_takes_a_count_by_seed():
    docs = named_docs(40)
    rest, chosen = split_off(docs, 25, seed=3)
    assert len(chosen) == 25 and len(rest) == 15 and set(ids(rest)).isdisjoint(ids(chosen))
    assert sorted(ids(split_off(docs[::-1], 25, 3)[1])) == sorted(ids(chosen))
    assert split_dev(docs, 0.25, 3)[1] == split_off(docs, 10, 3)[1]
    with pytest.raises(ValueError):
        split_off(docs, 41)
