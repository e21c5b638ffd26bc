"""The real-text benchmark's parts: span scores, BioScope assertion, dosage share, the library runs
in a process of their own, the training sample and the report."""

import json

import pytest
import spacy
from spacy.tokens import DocBin, Span
from spacy.util import load_model_from_config

import clinical_ie.pipeline  # noqa: F401
from clinical_ie.pipeline.tokenizer import create_clinical_tokenizer
from tests.util import crf_pipeline_config
from tools.realtext import assertion, dosage, runs, spans
from tools.realtext.report import markdown
from tools.revisions import REPO_ROOT


@pytest.fixture
def nlp():
    return spacy.blank("en")


def gold_doc(nlp, text, entities):
    doc = nlp.make_doc(text)
    doc.spans["entities"] = [doc.char_span(s, e, label=label) for label, s, e in entities]
    return doc


def test_score_head_counts_boundaries_whitespace_edges_and_calibration(nlp):
    gold = [gold_doc(nlp, "take aspirin 500 mg now", [("Drug", 5, 12), ("Strength", 13, 19)])]
    # [start, end, label, confidence, first token is space, last token is space]
    calibrated = [[[5, 12, "Drug", 0.9, False, False], [13, 16, "Strength", 0.6, False, False], [19, 23, "Drug", 0.2, True, False]]]
    uncalibrated = [[[5, 12, "Drug", 0.99, False, False], [13, 16, "Strength", 0.9, False, False], [19, 23, "Drug", 0.8, True, False]]]
    scores = spans.score_head(gold, calibrated, uncalibrated)
    assert scores["strict"]["tp"] == 1 and scores["strict"]["fp"] == 2 and scores["strict"]["fn"] == 1
    assert scores["lenient"]["tp"] == 2
    assert scores["outcomes"] == {"tp": 1, "boundary": 1, "fp": 1}
    assert scores["boundary_errors"] == {"shorter": 1, "longer": 0, "shifted": 0}
    assert scores["boundary_share"] == pytest.approx(1 / 3)
    assert scores["whitespace_edges"] == 1
    assert scores["calibration_before"]["ece"] > scores["calibration_after"]["ece"]


@pytest.mark.parametrize(
    "gold, predicted, kind",
    [((0, 10), (2, 8), "shorter"), ((2, 8), (0, 10), "longer"), ((0, 6), (3, 9), "shifted")],
)
def test_boundary_kind(gold, predicted, kind):
    assert spans.boundary_kind(spans.EntitySpan("X", *gold), spans.EntitySpan("X", *predicted)) == kind


def bioscope_docbin(nlp, path):
    text = "No pleural effusion is seen.\nFindings consistent with pneumonia.\nThe heart is normal."
    doc = nlp.make_doc(text)
    for token in doc:
        token.is_sent_start = token.i == 0 or doc[token.i - 1].text == "\n"
    doc.spans["negation_cues"] = [doc.char_span(0, 2)]
    doc.spans["negation_scopes"] = [doc.char_span(0, 27)]
    doc.spans["speculation_cues"] = [doc.char_span(38, 53)]
    doc.spans["speculation_scopes"] = [doc.char_span(38, 63)]
    doc._.doc_id = "r1"
    DocBin(docs=[doc], store_user_data=True).to_disk(path)
    return doc


def test_assertion_of_bioscope_targets_ours_and_negspacy(nlp, tmp_path):
    gold = bioscope_docbin(nlp, tmp_path / "bio.spacy")
    runs.library_run(REPO_ROOT, ["assertion", tmp_path / "bio.spacy", tmp_path / "out.json"], "assertion", tmp_path / "logs")
    ours = runs.read_json(tmp_path / "out.json")
    words = [gold.text[s:e] for s, e, _ in ours[0]["targets"]]
    assert words == ["pleural", "effusion", "seen", "Findings", "pneumonia", "heart", "normal"]  # no cue word, no stop word
    scores = assertion.score_assertion([gold], ours, assertion.negspacy_negated([gold], ours))
    assert (scores["n_negated"], scores["n_speculated"]) == (3, 1)
    assert scores["ours"]["negation"]["tp"] >= 2 and scores["ours"]["speculation"]["f1"] == 1.0
    assert set(scores["negspacy"]) == {"negation"}


def test_spans_run_in_its_own_process_with_and_without_calibration(tmp_path):
    nlp = load_model_from_config(crf_pipeline_config(width=16, depth=1, embed_size=200, maxout_pieces=2), auto_fill=True)
    nlp.tokenizer = create_clinical_tokenizer()(nlp)
    text = "take 1500\u2009mg daily"
    reference = nlp.make_doc(text)
    reference.ents = [Span(reference, 1, 4, "Strength")]
    from spacy.training import Example

    nlp.initialize(lambda: [Example(nlp.make_doc(text), reference)])
    nlp.get_pipe("ner").cfg["temperature"] = 2.0
    nlp.to_disk(tmp_path / "model")
    reference._.doc_id = "d1"
    DocBin(docs=[reference], store_user_data=True).to_disk(tmp_path / "gold.spacy")
    runs.library_run(REPO_ROOT, ["spans", tmp_path / "model", tmp_path / "gold.spacy", tmp_path / "p.json"], "spans", tmp_path / "logs")
    result = json.loads((tmp_path / "p.json").read_text())
    assert result["doc_ids"] == ["d1"] and result["calibration"]["ner"]["temperature"] == 2.0
    assert len(result["calibrated"]["ner"][0]) == len(result["uncalibrated"]["ner"][0])
    for span in result["calibrated"]["ner"][0]:
        assert span[4] is False and span[5] is False  # no edge on the thin space


def test_a_failing_run_names_its_log(tmp_path):
    with pytest.raises(RuntimeError, match="spans failed .*spans.log"):
        runs.library_run(REPO_ROOT, ["spans", tmp_path / "no-model", tmp_path / "g", tmp_path / "o"], "spans", tmp_path)


def test_library_folder_of_a_revision(tmp_path):
    folder = runs.library_folder("HEAD", tmp_path)
    assert (folder / "clinical_ie" / "pipeline" / "crf_ner" / "crf.py").is_file()
    assert (folder / "configs" / "default.cfg").is_file()
    assert runs.library_folder(None, tmp_path) == REPO_ROOT


def test_training_sample_of_whole_documents(nlp, tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    docs = [nlp.make_doc(" ".join(["word"] * 10)) for _ in range(10)]
    for split in ("train", "dev", "test"):
        DocBin(docs=docs, store_user_data=True).to_disk(corpus / f"{split}.spacy")
    assert runs.training_corpus(corpus, tmp_path / "s", None) == corpus
    sample = runs.training_corpus(corpus, tmp_path / "s", 25)
    assert len(list(DocBin().from_disk(sample / "train.spacy").get_docs(nlp.vocab))) == 3
    assert (sample / "test.spacy").read_bytes() == (corpus / "test.spacy").read_bytes()


def test_dosage_share_reads_other_corpora_labels(nlp, tmp_path):
    docs = [gold_doc(nlp, "500 mg/m2 and high-dose and 2 tabs", [("Dose", 0, 9), ("Dose", 14, 23), ("Dosage", 28, 34)])]
    mentions = dosage.gold_mentions({"ade": docs})
    share = dosage.parse_share(mentions)
    assert share["ade/Dose"] == {"mentions": 2, "parsed": 1, "share": 0.5}
    assert share["ade/Dosage"]["parsed"] == 1
    dosage.write_check_sample(mentions, tmp_path / "check.jsonl")
    lines = [json.loads(line) for line in (tmp_path / "check.jsonl").read_text().splitlines()]
    assert len(lines) == 2 and all(line["correct"] is None and line["parsed"] for line in lines)
    lines[0]["correct"], lines[1]["correct"] = True, False
    (tmp_path / "check.jsonl").write_text("\n".join(json.dumps(line) for line in lines))
    assert dosage.checked_error_rate(tmp_path / "check.jsonl") == {"checked": 2, "wrong": 1, "error_rate": 0.5}


def test_report_is_numbers_only(nlp):
    gold = [gold_doc(nlp, "take aspirin now", [("Drug", 5, 12)])]
    head = spans.score_head(gold, [[[5, 12, "Drug", 0.9, False, False]]], [[[5, 12, "Drug", 0.99, False, False]]])
    report = {
        "library": "abc1234", "max_epochs": 6, "max_train_words": 100, "transformer": "configs/default.cfg",
        "corpora": {"toy": {"documents": {"train": 1, "dev": 1, "test": 1}, "calibration": {"ner": {"temperature": 1.5, "calibration": {"method": "temperature", "n_spans": 30}}}, "heads": {"ner": head}}},
        "dosage": {"parsed": {"toy/Strength": {"mentions": 2, "parsed": 1, "share": 0.5}}, "checked": None},
    }
    page = markdown(report)
    assert "| ner | 1 | 1 | 1.000 / 1.000 / 1.000 |" in page and "aspirin" not in page
    assert "toy/Strength | 2 | 1 | 0.500" in page
