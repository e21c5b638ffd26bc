"""The whole `spacy project run all` workflow on the sample corpus with a tiny random BERT."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import spacy

from clinical_ie.evaluation.brat_scoring import score_brat_folders
from clinical_ie.pipeline.data_model import ASSERTION_VALUES, MEDICATION_STATUS_VALUES
from tests.util import REPO_ROOT


PROJECT_FILES = (
    "project.yml", "configs", "scripts", "clinical_ie", "tools", "setup.cfg", "pyproject.toml", "README.md", "LICENSE",
    "assets/sample",
)


def copy_project(destination: Path) -> Path:
    """The project's own files (no outputs, no bytecode) in a fresh folder."""
    for name in PROJECT_FILES:
        source = REPO_ROOT / name
        target = destination / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
    return destination


def run_spacy_project(project: Path, workflow: str, *overrides: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "WANDB_MODE": "offline"}
    return subprocess.run(
        [sys.executable, "-m", "spacy", "project", "run", workflow, str(project), *overrides],
        capture_output=True, text=True, env=env, cwd=project,
    )


@pytest.fixture(scope="module")
def workflow_run(tiny_bert, tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("project"))
    result = run_spacy_project(
        project, "all", f"--vars.transformer={tiny_bert}", "--vars.max_epochs=1", "--vars.max_steps=12",
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return project, result


def test_all_prints_what_it_uses(workflow_run):
    _, result = workflow_run
    assert "Transformer:" in result.stdout
    assert "Device: CPU" in result.stdout
    assert "Data n2c2: synthetic sample corpus" in result.stdout


def test_all_leaves_every_output(workflow_run):
    project, _ = workflow_run
    for path in (
        "corpus/n2c2/train.spacy", "corpus/n2c2/dev.spacy", "corpus/n2c2/test.spacy",
        "corpus/handover/train.spacy", "corpus/handover/dev.spacy", "corpus/handover/test.spacy",
        "training/multitask/model-best", "training/multitask/model-last",
        "metrics/n2c2.json", "metrics/n2c2.md", "metrics/handover.json", "metrics/handover.md",
        "metrics/n2c2-errors/index.html", "metrics/handover-errors/index.html",
        "packages/en_clinical_ie-0.1.0-py3-none-any.whl", "packages/en_clinical_ie-0.1.0.tar.gz",
    ):
        assert (project / path).exists(), path
    assert list((project / "packages").glob("clinical_ie-*.whl"))
    assert json.loads((project / "metrics" / "n2c2.json").read_text())


def test_packaged_pipeline_loads_and_tags(workflow_run):
    project, _ = workflow_run
    model_dir = project / "packages" / "en_clinical_ie-0.1.0" / "en_clinical_ie" / "en_clinical_ie-0.1.0"
    nlp = spacy.load(model_dir)
    assert nlp.pipe_names == ["transformer", "ner", "handover", "relations", "sections", "context"]
    doc = nlp("Discharge Medications:\n1. Metformin 500 mg PO BID\n2. aspirin 81mg tablet daily")
    assert len(doc) > 10
    assert set(nlp.get_pipe("ner").labels) >= {"Drug", "Strength", "ADE"}
    assert set(nlp.get_pipe("handover").labels) >= {"PatientIntroduction_Lastname", "Medication_Medicine"}
    assert all(ent.label_ in nlp.get_pipe("ner").labels for ent in doc.ents)
    assert "medication" in doc.spans and "handover" in doc.spans
    assert isinstance(doc._.medications, list)
    assert [section.label_ for section in doc.spans["sections"]] == ["discharge_medications"]
    assert all(span._.assertion in ASSERTION_VALUES for span in doc.spans["medication"])
    assert all(record.section == "discharge_medications" and record.status in MEDICATION_STATUS_VALUES
               for record in doc._.medications)
    assert {"ner", "handover"} <= set(nlp.meta["labels"])
    assert any(key.startswith("handover_clef_macro") for key in nlp.meta["performance"])
    # the sample's dataset names: the heads learned from them, and the licence notes name the sample, not n2c2
    assert [row["corpus"] for row in nlp.meta["training_corpora"]] == ["sample-handover", "sample-n2c2"]
    assert "data-use agreement" not in nlp.meta["license_notes"] and "MIT, like the code" in nlp.meta["license_notes"]


def test_brat_predictions_score_as_the_metrics_say(workflow_run):
    """The official-semantics check of metrics/n2c2-brat against the gold folder agrees with
    metrics/n2c2.json on entities and relations, strict and lenient, to 4 decimals."""
    project, _ = workflow_run
    metrics = json.loads((project / "metrics" / "n2c2.json").read_text())
    official = score_brat_folders(project / "assets" / "sample" / "n2c2" / "test", project / "metrics" / "n2c2-brat")
    for mode in ("strict", "lenient"):
        for target, ours in (("entities", metrics["spans"][mode]["micro"]), ("relations", metrics["relations"][mode]["micro"])):
            for key in ("precision", "recall", "f1"):
                assert round(official[target][mode][key], 4) == round(ours[key], 4), (target, mode, key)


def test_trained_heads_are_calibrated_on_dev(workflow_run):
    project, _ = workflow_run
    nlp = spacy.load(project / "training" / "multitask" / "model-best")
    for name in ("ner", "handover"):
        calibration = nlp.get_pipe(name).cfg["calibration"]
        assert calibration["method"] == "temperature" and calibration["n_spans"] >= 0
        assert nlp.get_pipe(name).cfg["temperature"] == calibration["temperature"]
    metrics = json.loads((project / "metrics" / "n2c2.json").read_text())
    assert 0.0 <= metrics["calibration"]["ece"] <= 1.0
    assert (project / "metrics" / "n2c2_reliability.png").exists()


def test_second_run_skips_up_to_date_steps(workflow_run, tiny_bert):
    project, _ = workflow_run
    result = run_spacy_project(
        project, "all", f"--vars.transformer={tiny_bert}", "--vars.max_epochs=1", "--vars.max_steps=12",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for step in ("convert-n2c2", "convert-handover", "train", "evaluate", "package"):
        assert f"Skipping '{step}': nothing changed" in result.stdout, step


def test_a_code_change_reruns_the_steps_that_run_that_code(workflow_run, tiny_bert):
    """A step's deps list its code: after a change to the evaluation library, a rerun redoes
    evaluate and package (which ships the library) and skips the steps that do not run it."""
    project, _ = workflow_run
    report = project / "clinical_ie" / "evaluation" / "report.py"
    report.write_text(report.read_text(encoding="utf8") + "\n# changed\n", encoding="utf8")
    result = run_spacy_project(
        project, "all", f"--vars.transformer={tiny_bert}", "--vars.max_epochs=1", "--vars.max_steps=12",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for step in ("evaluate", "package"):
        assert f"Skipping '{step}'" not in result.stdout, step
    for step in ("convert-n2c2", "convert-handover", "train"):
        assert f"Skipping '{step}': nothing changed" in result.stdout, step


def test_loading_the_packaged_model_imports_only_the_pipeline_room(workflow_run):
    project, _ = workflow_run
    model_dir = project / "packages" / "en_clinical_ie-0.1.0" / "en_clinical_ie" / "en_clinical_ie-0.1.0"
    check = (
        "import spacy, sys; nlp = spacy.load(sys.argv[1]); nlp('Metformin 500 mg PO BID');"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('clinical_ie'))))"
    )
    result = subprocess.run([sys.executable, "-c", check, str(model_dir)], capture_output=True, text=True, cwd=project.parent)
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = result.stdout.split()
    assert "clinical_ie.pipeline.relations.component" in loaded
    assert all(m == "clinical_ie" or m.startswith("clinical_ie.pipeline") for m in loaded), loaded


def test_wandb_run_holds_no_data_path_or_note_text(workflow_run):
    project, _ = workflow_run
    runs = list((project / "wandb").glob("offline-run-*"))
    assert runs, "training logged no offline wandb run"
    needles = [b"assets/sample", b"corpus/n2c2", b"train.spacy", b"SYNTHETIC", b"Discharge Medications"]
    for path in (project / "wandb").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not [n for n in needles if n in data], path.relative_to(project)
