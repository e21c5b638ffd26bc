"""The public real corpora through prepare_corpus and scripts/convert.py: splits and reports."""

import json

from typer.testing import CliRunner

from clinical_ie.corpora import read_docbin
from clinical_ie.corpora.prepare import prepare_corpus

from tests.corpora.test_ade import S1, rel, write_corpus
from tests.corpora.test_ddi import DOC
from tests.util import script_app, write_bytes


def ade_folder(path, documents=40):
    return write_corpus(path, [rel(str(1000 + i), S1, 9, "rash", "amoxicillin") for i in range(documents)])


def test_unsplit_corpus_gets_seeded_test_and_dev(tmp_path):
    reports = prepare_corpus("ade", ade_folder(tmp_path / "ade"), tmp_path / "out", seed=0, dev_size=5, test_fraction=0.25)
    splits = {name: read_docbin(tmp_path / "out" / f"{name}.spacy") for name in ("train", "dev", "test")}
    assert {name: len(docs) for name, docs in splits.items()} == {"train": 25, "dev": 5, "test": 10}
    all_ids = [doc._.doc_id for docs in splits.values() for doc in docs]
    assert len(set(all_ids)) == 40
    assert reports["all"].documents == 40 and (tmp_path / "out" / "report-all.json").exists()
    again = prepare_corpus("ade", ade_folder(tmp_path / "ade"), tmp_path / "out2", seed=0, dev_size=5, test_fraction=0.25)
    assert again["all"].documents == 40
    assert [d._.doc_id for d in read_docbin(tmp_path / "out2" / "test.spacy")] == [d._.doc_id for d in splits["test"]]


def test_ddi_layout_uses_its_own_test_split(tmp_path):
    root = tmp_path / "ddi"
    for i in range(4):
        write_bytes(root / "DDICorpus" / "Train" / "DrugBank" / f"t{i}.xml", DOC.replace("DDI-DrugBank.d1", f"DDI-DrugBank.d{i}"))
    write_bytes(root / "DDICorpus" / "Test" / "Test for DrugNER task" / "x.xml", DOC.replace("DDI-DrugBank.d1", "DDI-DrugBank.d9"))
    reports = prepare_corpus("ddi", root, tmp_path / "out", dev_size=1)
    assert set(reports) == {"train", "test"}
    sizes = {name: len(read_docbin(tmp_path / "out" / f"{name}.spacy")) for name in ("train", "dev", "test")}
    assert sizes == {"train": 3, "dev": 1, "test": 1}


def test_convert_subcommands_write_docbin_report_and_notes(tmp_path):
    runner = CliRunner()
    app = script_app("convert")
    result = runner.invoke(app, ["ade", str(ade_folder(tmp_path / "ade", 3)), str(tmp_path / "ade.spacy"), "--report", str(tmp_path / "r.json"), "--strict"])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "r.json").read_text())["documents"] == 3
    bad = write_bytes(tmp_path / "bad" / "DRUG-AE.rel", "1|broken line\n")
    write_bytes(bad.parent / "DRUG-DOSE.rel", "")
    result = runner.invoke(app, ["ade", str(bad.parent), str(tmp_path / "b.spacy"), "--report", str(tmp_path / "b.json"), "--strict"])
    assert result.exit_code == 1 and "DRUG-AE.rel:1: bad_syntax" in result.output
    csv_path = write_bytes(tmp_path / "m.csv", ",transcription\n0,A short note.\n")
    result = runner.invoke(app, ["mtsamples", str(csv_path), str(tmp_path / "notes"), "--report", str(tmp_path / "n.json")])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "notes" / "notes-under-200.jsonl").read_text()) == {"id": "0", "text": "A short note.", "specialty": "", "sample_name": "", "description": "", "keywords": ""}
