"""The official-semantics brat scorer, and the brat files that evaluate and annotate write, checked
with it against the gold folder: entities and relations agree with metrics/n2c2.json to 4 decimals."""

import json
from pathlib import Path

import pytest
import spacy
from spacy.language import Language
from spacy.tokens import DocBin

import clinical_ie.pipeline  # noqa: F401  (registers the extensions)
from clinical_ie.annotate import run_annotation
from clinical_ie.annotate.run import AnnotationSettings
from clinical_ie.evaluation.brat_scoring import BratFormatError, read_official_ann, score_brat_folders
from clinical_ie.evaluation.evaluate import evaluate
from clinical_ie.corpora.brat import brat_ann_lines, read_brat_folder
from clinical_ie.corpora.conversion_report import ConversionReport
from clinical_ie.pipeline.tokenizer import clinical_english
from clinical_ie.evaluation.metrics.spans import MATCH_MODES
from tests.util import SAMPLE_NOTES

SAMPLE_N2C2_TEST = SAMPLE_NOTES
DRUGS = ["aspirin", "metoprolol", "lisinopril", "vancomycin", "prednisone", "warfarin", "heparin", "furosemide",
         "metformin", "omeprazole", "atorvastatin", "lorazepam", "oxycodone", "senna", "Lasix", "Coumadin"]


@Language.component("test_ents_to_medication_group")
def ents_to_medication_group(doc):
    """Stand-in for a NER head with ``spans_key = "medication"`` and ``set_ents = true``."""
    doc.spans["medication"] = list(doc.ents)
    return doc


@pytest.fixture(scope="module")
def group_relation_pipeline(tmp_path_factory) -> Path:
    """Rule entities written to doc.ents and doc.spans["medication"], then an untrained relation
    component reading the group and linking every candidate (threshold 0)."""
    nlp = clinical_english()
    ruler = nlp.add_pipe("entity_ruler")
    nlp.add_pipe("test_ents_to_medication_group")
    nlp.add_pipe(
        "clinical_medication_relations",
        name="relations",
        config={"spans_key": "medication", "threshold": 0.0, "model": {"tok2vec": {"width": 16, "depth": 1}}},
    )
    for label in ("Strength-Drug", "Frequency-Drug"):
        nlp.get_pipe("relations").add_label(label)
    nlp.initialize()
    ruler.add_patterns(
        [
            {"label": "Drug", "pattern": [{"LOWER": {"IN": [d.lower() for d in DRUGS]}}]},
            {"label": "Strength", "pattern": [{"LIKE_NUM": True}, {"LOWER": {"IN": ["mg", "mcg"]}}]},
            {"label": "Frequency", "pattern": [{"LOWER": {"IN": ["daily", "bid", "tid", "qid", "qhs"]}}]},
        ]
    )
    path = tmp_path_factory.mktemp("pipeline") / "group_relations"
    nlp.to_disk(path)
    return path


@pytest.fixture(scope="module")
def sample_test_docbin(tmp_path_factory) -> Path:
    docs = list(read_brat_folder(SAMPLE_N2C2_TEST, ConversionReport("brat")))
    path = tmp_path_factory.mktemp("corpus") / "test.spacy"
    DocBin(docs=docs, store_user_data=True).to_disk(path)
    return path


def test_evaluate_brat_files_score_as_metrics_json_says(tmp_path, group_relation_pipeline, sample_test_docbin):
    evaluate(group_relation_pipeline, sample_test_docbin, "n2c2", tmp_path / "metrics",
             brat_dir=tmp_path / "brat", spans_key="medication")
    metrics = json.loads((tmp_path / "metrics" / "n2c2.json").read_text())
    official = score_brat_folders(SAMPLE_N2C2_TEST, tmp_path / "brat")
    assert official["documents"] == metrics["n_documents"] == 12
    assert metrics["relations"]["strict"]["micro"]["tp"] > 0
    for mode in MATCH_MODES:
        ours = {"entities": metrics["spans"][mode]["micro"], "relations": metrics["relations"][mode]["micro"]}
        for target in ("entities", "relations"):
            for key in ("precision", "recall", "f1"):
                assert round(official[target][mode][key], 4) == round(ours[target][key], 4), (target, mode, key)


def test_annotate_brat_files_carry_every_relation(tmp_path, group_relation_pipeline):
    nlp = spacy.load(group_relation_pipeline)
    notes = sorted(SAMPLE_N2C2_TEST.glob("*.txt"))
    expected = {path.stem: len(nlp(path.read_text(encoding="utf8"))._.relations) for path in notes}
    run_annotation(group_relation_pipeline, SAMPLE_N2C2_TEST, tmp_path / "out",
                   AnnotationSettings(brat=True, log_every=0, batch_size=4))
    written = {name: len(read_official_ann(tmp_path / "out" / "brat" / f"{name}.ann").relations) for name in expected}
    assert written == expected
    assert sum(expected.values()) > 0


def test_text_field_never_holds_a_tab_or_line_break():
    nlp = clinical_english()
    doc = nlp.make_doc("take aspirin\t81 mg\r\ndaily")
    doc.ents = [doc.char_span(5, 18, label="Drug")]
    (line,) = brat_ann_lines(doc, doc.ents, [])
    assert line == "T1\tDrug 5 18\taspirin 81 mg"
    assert line.count("\t") == 2


def write_ann(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.ann"
    path.write_text(text, encoding="utf8")
    return path


def test_reading_rules_of_the_official_script(tmp_path):
    path = write_ann(
        tmp_path, "a",
        "T1\tDrug 10 15;20 25\tfoo bar\nT2\tStrength 0 4\t5 mg\nR1\tStrength-Drug Arg2:T1 Arg1:T2\n#1\tAnnotatorNotes T1\tx\n",
    )
    document = read_official_ann(path)
    assert [tuple(e) for e in document.entities] == [("Drug", 10, 25), ("Strength", 0, 4)]
    (relation,) = document.relations
    assert relation.arg1.type == "Drug"  # the first argument listed is Arg1, whatever its role says


@pytest.mark.parametrize(
    "line, reason",
    [
        ("T1\tDrug 5 18\taspirin\t81 mg", "3 tab-separated fields"),
        ("T1\tDrug 0 1;2 3;4 5;6 7\tabcd", "at most 3 fragments"),
        ("R1\tStrength-Drug Arg1:T9 Arg2:T8", "name no T line"),
    ],
)
def test_unreadable_lines_are_errors_with_file_and_line(tmp_path, line, reason):
    path = write_ann(tmp_path, "bad", "T8\tDrug 0 3\tabc\n" + line + "\n")
    with pytest.raises(BratFormatError, match=reason) as error:
        read_official_ann(path)
    assert "bad.ann:2" in str(error.value)


def test_only_documents_in_both_folders_are_scored_with_duplicates_dropped(tmp_path):
    write_ann(tmp_path / "gold", "a", "T1\tDrug 0 10\taspirin xx\nT2\tDrug 20 30\tlisinopril\n")
    write_ann(tmp_path / "gold", "b", "T1\tDrug 0 10\tmissing pred\n")
    # Two predictions overlap gold T1: one TP, the other a dropped duplicate; one FP; T2 missed.
    write_ann(tmp_path / "sys", "a", "T1\tDrug 0 4\taspi\nT2\tDrug 5 10\tin xx\nT3\tDrug 40 45\tother\n")
    scores = score_brat_folders(tmp_path / "gold", tmp_path / "sys")
    assert scores["documents"] == 1
    lenient = scores["entities"]["lenient"]
    assert (lenient["tp"], lenient["fp"], lenient["fn"]) == (1, 1, 1)
    strict = scores["entities"]["strict"]
    assert (strict["tp"], strict["fp"], strict["fn"]) == (0, 3, 2)
