"""Whole-folder conversion: the sample corpus, the report, the DocBin and the CLI."""

import json

import pytest
import typer
from typer.testing import CliRunner

from clinical_ie.pipeline.data_model import ENTITIES_SPANS_KEY
from clinical_ie.corpora import convert_folder, read_docbin
from clinical_ie.corpora.brat import brat_ann_lines

from tests.util import SAMPLE_DIR, load_script, write_bytes

SAMPLE = SAMPLE_DIR
needs_sample = pytest.mark.skipif(not SAMPLE.exists(), reason="assets/sample not generated")


def assert_report_arithmetic(report):
    data = report.to_dict()
    assert data["entities_read"] == data["entities_kept"] + sum(data["entities_dropped"].values())
    assert data["relations_read"] == data["relations_kept"] + sum(data["relations_dropped"].values())
    assert data["attributes_read"] == sum(data["attributes_kept"].values()) + sum(data["attributes_dropped"].values())
    assert sum(counts["kept"] for counts in data["by_label"].values()) == data["entities_kept"]
    in_ents = sum(counts["in_ents"] for counts in data["by_label"].values())
    assert in_ents + sum(data["entities_not_in_ents"].values()) == data["entities_kept"]


def ann_entity_lines(path):
    """``(label, offsets)`` of the ``T`` lines of a ``.ann`` file."""
    lines = path.read_text(encoding="utf8").splitlines()
    return sorted(tuple(line.split("\t")[1].split(" ", 1)) for line in lines if line.startswith("T"))


@needs_sample
@pytest.mark.parametrize("split", ["train", "test"])
def test_sample_n2c2_converts_aligned_and_round_trips(tmp_path, split):
    folder = SAMPLE / "n2c2" / split
    report = convert_folder("brat", folder, tmp_path / "out.spacy", strict=True)
    assert_report_arithmetic(report)
    assert report.documents == len(list(folder.glob("*.txt")))
    assert report.alignment_rate >= 0.995
    assert not report.problems and not report.text_mismatches
    docs = read_docbin(tmp_path / "out.spacy")
    assert len(docs) == report.documents
    for doc in docs:
        assert doc.text == (folder / f"{doc._.doc_id}.txt").read_bytes().decode("utf8")
        assert all(token.is_sent_start is not None for token in doc)
        assert doc.ents and len(doc.spans[ENTITIES_SPANS_KEY]) == len(doc._.brat_entities)
        assert {s.id_ for s in doc.spans[ENTITIES_SPANS_KEY]} == {e["id"] for e in doc._.brat_entities}
        assert doc._.relations is not None and doc._.token_categories is None
        rebuilt = sorted(tuple(line.split("\t")[1].split(" ", 1)) for line in brat_ann_lines(doc) if line[0] == "T")
        assert rebuilt == ann_entity_lines(folder / f"{doc._.doc_id}.ann")


@needs_sample
def test_sample_handover_converts(tmp_path):
    folder = SAMPLE / "handover" / "train"
    report = convert_folder("handover", folder, tmp_path / "out.spacy", strict=True)
    assert_report_arithmetic(report)
    docs = read_docbin(tmp_path / "out.spacy")
    assert len(docs) == report.documents == len(list(folder.glob("*.txt")))
    assert sum(len(doc) for doc in docs) == report.tokens
    assert sum(sum(not t.is_space for t in doc) for doc in docs) == report.handover_tokens
    for doc in docs:
        assert len(doc._.token_categories) == len(doc._.baseline_categories) == len(doc)
        assert all(token.is_sent_start is not None for token in doc)
        assert [(e.start, e.end) for e in doc.ents] == [(s.start, s.end) for s in doc.spans[ENTITIES_SPANS_KEY]]


@needs_sample
def test_sampling_reported_and_deterministic(tmp_path):
    folder = SAMPLE / "n2c2" / "test"
    first = convert_folder("brat", folder, tmp_path / "a.spacy", sample_ratio=0.3, seed=1)
    second = convert_folder("brat", folder, tmp_path / "b.spacy", sample_ratio=0.3, seed=1)
    assert first.sampling == second.sampling
    assert first.sampling["tokens_after"] < first.sampling["tokens_before"]
    assert (tmp_path / "a.spacy").read_bytes() == (tmp_path / "b.spacy").read_bytes()
    assert first.entities_kept == sum(len(doc.spans[ENTITIES_SPANS_KEY]) for doc in read_docbin(tmp_path / "a.spacy"))


SECRET = "Zyxwquorp"


def bad_brat_folder(tmp_path):
    text = f"{SECRET} given aspirin 5mg\n"
    write_bytes(tmp_path / "in" / "a.txt", text)
    write_bytes(tmp_path / "in" / "a.ann", f"T1\tDrug 16 23\taspirin\nT2\tDrug 0 500\t{SECRET}\nT3\tDrug 0 9\tX{SECRET}\n")
    write_bytes(tmp_path / "in" / "b.ann", "")
    return tmp_path / "in"


def test_cli_report_has_no_note_text_and_strict_fails_in_one_line(tmp_path):
    convert = load_script("convert")
    runner = CliRunner()
    folder = bad_brat_folder(tmp_path)
    result = runner.invoke(convert.app, ["brat", str(folder), str(tmp_path / "o.spacy"), "--report", str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["problems"]["by_reason"] == {"missing_txt": 1, "offset_out_of_range": 1}
    assert data["text_mismatches"]["count"] == 1
    assert data["entities_dropped"] == {"offset_out_of_range": 1}
    assert SECRET not in (tmp_path / "r.json").read_text() and SECRET not in result.output
    assert "entities read 3, kept 2" in result.output
    strict = runner.invoke(
        convert.app, ["brat", str(folder), str(tmp_path / "s.spacy"), "--report", str(tmp_path / "s.json"), "--strict"]
    )
    assert strict.exit_code == 1
    assert strict.output.strip().splitlines() == ["error: a.ann:2: offset_out_of_range: offset 500 past the end of the text (28 characters)"]
    assert not (tmp_path / "s.spacy").exists()


def test_cli_help_and_labels(tmp_path):
    convert = load_script("convert")
    runner = CliRunner()
    for command in ([], ["brat"], ["handover"]):
        assert runner.invoke(convert.app, command + ["--help"]).exit_code == 0
    folder = bad_brat_folder(tmp_path)
    result = runner.invoke(
        convert.app,
        ["brat", str(folder), str(tmp_path / "o.spacy"), "--report", str(tmp_path / "r.json"), "--labels", "Strength"],
    )
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "r.json").read_text())["entities_dropped"]["label_not_selected"] == 2


def handover_line(token, gold="NA", predicted="NA"):
    """A 19-field handover line."""
    return "\t".join([token] + ["x"] * 16 + [gold, predicted])


NEW_CATEGORY = "Future_Handover/Escalation"


def handover_corpus(root, test_category):
    """train/, validation/, test/ folders; train uses NEW_CATEGORY, test ``test_category``."""
    write_bytes(root / "train" / "output1.txt", f"{handover_line('He')}\n{handover_line('rings', NEW_CATEGORY)}\n")
    write_bytes(root / "validation" / "output101.txt", f"{handover_line('She', 'PatientIntroduction_Gender')}\n")
    write_bytes(root / "test" / "output201.txt", f"{handover_line('rings', test_category, NEW_CATEGORY)}\n")
    return root


def test_prepare_accepts_in_test_the_categories_found_in_training(tmp_path):
    from clinical_ie.corpora.prepare import prepare_corpus

    reports = prepare_corpus("handover", handover_corpus(tmp_path / "in", NEW_CATEGORY), tmp_path / "out")
    assert [(w.file, w.line, w.reason) for w in reports["train"].warnings] == [("output1.txt", 2, "new_category")]
    assert not any(report.problems for report in reports.values())
    assert [list(doc._.token_categories) for doc in read_docbin(tmp_path / "out" / "test.spacy")] == [[NEW_CATEGORY]]
    unknown = prepare_corpus("handover", handover_corpus(tmp_path / "in2", "Future_Other"), tmp_path / "out2")
    assert [(p.file, p.line, p.reason) for p in unknown["test"].problems] == [("output201.txt", 1, "unknown_category")]
    assert read_docbin(tmp_path / "out2" / "test.spacy") == []
    assert_report_arithmetic(unknown["test"])


def test_cli_strict_fails_on_a_gold_column_without_categories(tmp_path):
    folder = tmp_path / "in"
    write_bytes(folder / "train" / "output1.txt", f"{handover_line('He')}\n{handover_line(SECRET, 'PRP')}\n")
    write_bytes(folder / "test" / "output2.txt", f"{handover_line('He')}\n")
    expected = ["error: output1.txt:2: unknown_category: gold field (field 18 of 19) holds an upper-case tag, not a CLEF category"]
    runner = CliRunner()
    convert = runner.invoke(
        load_script("convert").app,
        ["handover", str(folder / "train"), str(tmp_path / "o.spacy"), "--report", str(tmp_path / "r.json"), "--strict"],
    )
    assert convert.exit_code == 1 and convert.output.strip().splitlines() == expected
    app = typer.Typer()
    app.command()(load_script("prepare_corpus").main)
    prepare = runner.invoke(app, [str(folder), str(tmp_path / "corpus"), "--dataset", "handover", "--strict"])
    assert prepare.exit_code == 1 and prepare.output.strip().splitlines() == expected
    lenient = runner.invoke(
        load_script("convert").app,
        ["handover", str(folder / "train"), str(tmp_path / "o.spacy"), "--report", str(tmp_path / "r.json")],
    )
    assert lenient.exit_code == 0, lenient.output
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["problems"]["by_reason"] == {"unknown_category": 1} and data["documents"] == 0
    assert SECRET not in (tmp_path / "r.json").read_text() and SECRET not in lenient.output
