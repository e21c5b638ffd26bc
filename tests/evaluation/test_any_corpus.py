"""A brat corpus whose labels are not n2c2's, named as its owner likes: prepared with
``--scheme brat --dataset ward7`` and evaluated under that name, the reports naming the scheme
and the dataset."""

import json

import pytest
import spacy
from spacy.tokens import DocBin
from typer.testing import CliRunner

import clinical_ie.pipeline  # noqa: F401  (registers the extensions)
from clinical_ie.corpora.catalog import check_dataset_name, scheme_of
from clinical_ie.corpora.prepare import prepare_corpus
from clinical_ie.evaluation.evaluate import evaluate, read_docs
from tests.util import ann_line, script_app

NOTES = {
    "train": {"a1": "Pt reports chest pain radiating to left arm.\n", "a2": "Denies dyspnea. Knee swelling noted.\n"},
    "test": {
        "b1": "New onset chest pain at rest.\nMild knee swelling.\n",
        "b2": "Dyspnea on exertion; left arm numbness.\n",
    },
}
SYMPTOMS = ("chest pain", "dyspnea", "Dyspnea", "swelling", "numbness")
SITES = ("left arm", "knee", "Knee")


def write_ward_corpus(root):
    """Brat notes with ``Symptom`` and ``BodySite`` entities (every occurrence annotated)."""
    for split, notes in NOTES.items():
        folder = root / split
        folder.mkdir(parents=True)
        for stem, text in notes.items():
            lines = []
            for label, phrases in (("Symptom", SYMPTOMS), ("BodySite", SITES)):
                for phrase in phrases:
                    start = text.find(phrase)
                    if start >= 0:
                        lines.append(ann_line(f"T{len(lines) + 1}", label, text, (start, start + len(phrase))) + "\n")
            (folder / f"{stem}.txt").write_text(text, encoding="utf8")
            (folder / f"{stem}.ann").write_text("".join(lines), encoding="utf8")
    return root


@pytest.fixture
def ward_corpus(tmp_path):
    return write_ward_corpus(tmp_path / "ward7")


@pytest.fixture
def symptom_model(tmp_path):
    """A rule pipeline finding "chest pain" and "dyspnea" (Symptom) and "knee" (BodySite)."""
    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"}).add_patterns(
        [{"label": "Symptom", "pattern": "chest pain"}, {"label": "Symptom", "pattern": "dyspnea"},
         {"label": "BodySite", "pattern": "knee"}]
    )
    nlp.to_disk(tmp_path / "symptom_model")
    return tmp_path / "symptom_model"


def test_a_brat_corpus_of_other_labels_prepared_and_evaluated_under_its_own_name(tmp_path, ward_corpus, symptom_model):
    prepare = CliRunner().invoke(
        script_app("prepare_corpus"), [str(ward_corpus), str(tmp_path / "corpus"), "--scheme", "brat", "--dataset", "ward7"]
    )
    assert prepare.exit_code == 0, prepare.output
    docs = read_docs(tmp_path / "corpus" / "test.spacy", spacy.blank("en").vocab)
    assert {doc._.corpus for doc in docs} == {"ward7"}
    assert {ent.label_ for doc in docs for ent in doc.ents} == {"Symptom", "BodySite"}

    result = CliRunner().invoke(script_app("evaluate"), [str(symptom_model), str(tmp_path / "corpus" / "test.spacy"),
                                                         "--dataset", "ward7", "--output-dir", str(tmp_path / "metrics")])
    assert result.exit_code == 0, result.output
    assert "ward7 (scheme brat)" in result.output
    scores = json.loads((tmp_path / "metrics" / "ward7.json").read_text(encoding="utf8"))
    assert (scores["dataset"], scores["scheme"], scores["corpora"]) == ("ward7", "brat", ["ward7"])
    strict = scores["spans"]["strict"]
    # gold: chest pain, knee, swelling, dyspnea, left arm, numbness; predicted: chest pain, knee, dyspnea
    assert (strict["micro"]["tp"], strict["micro"]["fp"], strict["micro"]["fn"]) == (3, 0, 3)
    assert set(strict["per_label"]) == {"Symptom", "BodySite"}
    report = (tmp_path / "metrics" / "ward7.md").read_text(encoding="utf8")
    assert report.startswith("# Evaluation: ward7") and "Dataset `ward7`, scheme `brat`, corpus `ward7`." in report
    assert "n2c2" not in report.split("## Entities")[0]
    assert (tmp_path / "metrics" / "ward7-errors" / "index.html").exists()


def test_the_scheme_must_fit_the_documents(tmp_path, ward_corpus, symptom_model):
    prepare_corpus("ward7", ward_corpus, tmp_path / "corpus", scheme="brat")
    with pytest.raises(ValueError, match="carry no handover token categories"):
        evaluate(symptom_model, tmp_path / "corpus" / "test.spacy", "ward7", tmp_path / "metrics", scheme="handover")


def test_an_unknown_corpus_needs_its_scheme_and_a_safe_name(tmp_path, ward_corpus):
    with pytest.raises(ValueError, match="say its scheme"):
        prepare_corpus("ward7", ward_corpus, tmp_path / "corpus")
    for unsafe in ("../ward7", ".hidden", "ward 7", "", "a" * 65):
        with pytest.raises(ValueError, match="not safe"):
            check_dataset_name(unsafe)
    assert not (tmp_path / "corpus").exists()


def test_scheme_of_known_corpora():
    assert scheme_of(["n2c2", "sample-n2c2"]) == "brat"
    assert scheme_of(["sample-handover"]) == "handover"
    assert scheme_of(["ward7"]) is None and scheme_of([None]) is None
    assert scheme_of(["ward7"], "handover") == "handover"
    with pytest.raises(ValueError, match="several schemes"):
        scheme_of(["n2c2", "handover"])
    with pytest.raises(ValueError, match="not one of"):
        scheme_of(["n2c2"], "xml")


def test_handover_docbin_without_corpus_takes_the_scheme_its_categories_show(tmp_path):
    doc = spacy.blank("en")("Bed 4 stable .")
    doc._.token_categories = ["NA"] * len(doc)
    DocBin(docs=[doc], store_user_data=True).to_disk(tmp_path / "h.spacy")
    nlp = spacy.blank("en")
    nlp.to_disk(tmp_path / "blank")
    assert evaluate(tmp_path / "blank", tmp_path / "h.spacy", "mine", tmp_path / "m")["scheme"] == "handover"
