"""Packaging: the wheel installs into a fresh venv, loads offline, and holds no note text."""

import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path, PurePosixPath

import pytest
import spacy
from spacy.tokens import Doc, DocBin
from spacy.training import Example

from tools.packaging import artifact_files, find_strings_in_artifacts, package_pipeline
from tests.util import EUNOMIA_VOCABULARY, REPO_ROOT


SECRET_NAME = "Zorblaxquintavius"  # made up; appears only in the training note below
TRAIN_TEXTS = [
    f"Patient {SECRET_NAME} was given aspirin 81 mg daily for pain.",
    "Started metformin 500 mg PO BID for diabetes.",
    "Heparin 5000 units SC q8h for DVT prophylaxis.",
]
TRAIN_CORPORA = ["n2c2", "ward7", "n2c2"]
"""The training notes' corpora: a known one and a user's own."""
MODEL_LICENSE = "CC-BY-NC-4.0"
TRAIN_ENTS = [
    [("aspirin", "Drug"), ("81 mg", "Strength"), ("daily", "Frequency"), ("pain", "Reason")],
    [("metformin", "Drug"), ("500 mg", "Strength"), ("PO", "Route"), ("BID", "Frequency"), ("diabetes", "Reason")],
    [("Heparin", "Drug"), ("5000 units", "Strength"), ("SC", "Route"), ("q8h", "Frequency")],
]


def annotated(nlp, text, ents) -> Doc:
    doc = nlp.make_doc(text)
    doc.ents = [doc.char_span(text.index(t), text.index(t) + len(t), label=label) for t, label in ents]
    return doc


@pytest.fixture(scope="module")
def trained_pipeline(tiny_bert, tmp_path_factory):
    """A tiny transformer + CRF pipeline trained a few steps on notes naming SECRET_NAME."""
    workdir = tmp_path_factory.mktemp("packaging")
    config = spacy.util.load_config(
        REPO_ROOT / "configs" / "default.cfg",
        overrides={"components.transformer.model.name": str(tiny_bert)},
    )
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    docs = [annotated(nlp, text, ents) for text, ents in zip(TRAIN_TEXTS, TRAIN_ENTS)]
    for doc, corpus in zip(docs, TRAIN_CORPORA):
        doc._.corpus = corpus
    examples = [Example(nlp.make_doc(doc.text), doc) for doc in docs]
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(3):
        nlp.update(examples, sgd=optimizer)
    assert SECRET_NAME in nlp.vocab.strings
    model_dir = workdir / "model"
    nlp.to_disk(model_dir)
    train_path = workdir / "train.spacy"
    DocBin(docs=docs, store_user_data=True).to_disk(train_path)
    return model_dir, train_path, workdir


@pytest.fixture(scope="module")
def built_package(trained_pipeline):
    model_dir, train_path, workdir = trained_pipeline
    artifacts = package_pipeline(model_dir, workdir / "packages", "clinical_ie", "0.1.0", [train_path], license=MODEL_LICENSE,
                                 vocabulary=EUNOMIA_VOCABULARY)
    return artifacts, workdir


def test_unpruned_pipeline_would_leak(trained_pipeline):
    """The leak is real: spaCy's own save keeps the name (so the next test can fail)."""
    model_dir, _, _ = trained_pipeline
    assert SECRET_NAME.encode() in (model_dir / "vocab" / "strings.json").read_bytes()


def test_artifacts_built(built_package):
    artifacts, _ = built_package
    names = sorted(a.name for a in artifacts)
    assert "en_clinical_ie-0.1.0-py3-none-any.whl" in names
    assert "en_clinical_ie-0.1.0.tar.gz" in names
    assert any(n.startswith("clinical_ie-") and n.endswith(".whl") for n in names)


def test_secret_name_in_no_file_of_any_artifact(built_package):
    artifacts, _ = built_package
    for artifact in artifacts:
        for name, data in artifact_files(artifact).items():
            assert SECRET_NAME.encode() not in data, f"{artifact.name}:{name}"
            assert SECRET_NAME.lower().encode() not in data.lower(), f"{artifact.name}:{name}"


def test_leak_search_finds_planted_string(tmp_path):
    wheel = tmp_path / "x-0.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("x/data.bin", b"\x00\x01" + SECRET_NAME.encode() + b"\x02")
    assert find_strings_in_artifacts([wheel], {SECRET_NAME, "absent"}) == {SECRET_NAME: [f"{wheel.name}:x/data.bin"]}


def test_meta_describes_model(built_package):
    artifacts, _ = built_package
    wheel = next(a for a in artifacts if a.name.startswith("en_clinical_ie"))
    files = artifact_files(wheel)
    meta = json.loads(next(data for name, data in files.items() if name.endswith("en_clinical_ie-0.1.0/meta.json")))
    assert meta["name"] == "clinical_ie" and meta["lang"] == "en"
    assert any(r.startswith("clinical-ie") for r in meta["requirements"])
    assert any(r.startswith("spacy-transformers") for r in meta["requirements"])
    assert any(r.startswith("transformers==") for r in meta["requirements"])
    for key in ("license_notes", "intended_use", "limitations", "base_transformer", "training_data"):
        assert meta[key]
    assert meta["license"] == MODEL_LICENSE and MODEL_LICENSE in meta["license_notes"]
    assert [row["corpus"] for row in meta["training_corpora"]] == ["n2c2", "ward7"]
    assert "n2c2: the n2c2 data-use agreement" in meta["license_notes"]
    assert "ward7: not known to this package" in meta["license_notes"]
    assert "packager's to respect" in meta["license_notes"]
    assert meta["concept_vocabulary"] == {"format": "OHDSI Athena export", "concepts": 245, "normalized_names": 244}
    assert str(EUNOMIA_VOCABULARY) not in json.dumps(meta)
    readme = next(data for name, data in files.items() if name.endswith("en_clinical_ie-0.1.0/README.md")).decode()
    assert "pip install" in readme and "spacy.load(\"en_clinical_ie\")" in readme
    terms = readme.split("## Training data and its terms")[1].split("\n## ")[0]
    assert "| `n2c2` | n2c2 2018 Track 2" in terms and "| `ward7` | a user-provided corpus |" in terms


def test_both_wheels_carry_the_licence(built_package):
    artifacts, _ = built_package
    for wheel in (a for a in artifacts if a.suffix == ".whl"):
        files = artifact_files(wheel)
        licences = [name for name in files if ".dist-info/" in name and name.rsplit("/", 1)[-1] == "LICENSE"]
        assert licences, (wheel.name, sorted(files)[-8:])
        text = files[licences[0]].decode("utf8")
        assert text.startswith("MIT License") and "Permission is hereby granted" in text
        metadata = files[next(name for name in files if name.endswith(".dist-info/METADATA"))].decode("utf8")
        if wheel.name.startswith("en_clinical_ie"):
            assert f"The model en_clinical_ie 0.1.0 (the weights in this package): {MODEL_LICENSE}." in text
            assert f"License: {MODEL_LICENSE}" in metadata
            sources = next(data for name, data in files.items() if name.endswith("en_clinical_ie-0.1.0/LICENSES_SOURCES"))
            assert b"ward7: a user-provided corpus" in sources and b"n2c2: n2c2 2018 Track 2" in sources
        else:
            assert "License: MIT" in metadata


def fresh_venv_with_dependencies(path: Path) -> Path:
    """A new venv that sees this environment's installed packages but not this checkout."""
    venv.EnvBuilder(with_pip=False).create(path)
    python = path / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    parent_site = [p for p in sys.path if p.endswith("site-packages")][0]
    # A plain path entry: the parent's .pth files (this checkout's editable install) are not run.
    Path(site, "parent_env.pth").write_text(parent_site + "\n")
    return python


def test_wheel_installs_and_loads_in_fresh_venv(built_package, tmp_path):
    artifacts, _ = built_package
    python = fresh_venv_with_dependencies(tmp_path / "venv")
    wheels = [str(a) for a in artifacts if a.suffix == ".whl"]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", "--force-reinstall", *wheels],
        check=True, env=env, cwd=tmp_path,
    )
    check = (
        "import spacy, clinical_ie, json, sys;"
        "nlp = spacy.load('en_clinical_ie');"
        "loaded = sorted(m for m in sys.modules if m.startswith('clinical_ie'));"
        "doc = nlp('Started metformin 500 mg PO BID for diabetes.');"
        "print(json.dumps({'loaded': loaded, 'file': clinical_ie.__file__, 'meta': nlp.meta, 'pipes': nlp.pipe_names,"
        " 'ents': [(e.text, e.label_, e._.confidence) for e in doc.ents], 'n': len(list(nlp.pipe(['a b'] * 20, batch_size=4))),"
        " 'aspirin': nlp.get_pipe('concept_linker').index.lookup('Aspirin')[0]['id']}))"
    )
    result = subprocess.run([str(python), "-c", check], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert str(REPO_ROOT) not in out["file"]  # the installed library, not this checkout
    # loading the model imports the runtime room only
    assert out["loaded"] and all(m == "clinical_ie" or m.startswith("clinical_ie.pipeline") for m in out["loaded"]), out["loaded"]
    assert out["pipes"] == ["transformer", "ner", "concept_linker"]
    assert out["aspirin"] == 1112807  # the index built in with --vocabulary, read offline
    assert set(out["meta"]["labels"]["ner"]) == {"Drug", "Strength", "Frequency", "Reason", "Route"}
    assert out["n"] == 20
    info = subprocess.run([str(python), "-m", "spacy", "info", "en_clinical_ie"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert info.returncode == 0 and "clinical_ie" in info.stdout, info.stderr[-2000:]


def test_library_wheel_holds_the_library_only(built_package):
    """The clinical-ie wheel users install carries clinical_ie (and its data files), no tool: no
    sample generator, benchmark, packaging code or test."""
    artifacts, _ = built_package
    library = next(a for a in artifacts if a.name.startswith("clinical_ie-"))
    names = list(artifact_files(library))
    modules = [name for name in names if name.endswith(".py")]
    assert any(name == "clinical_ie/pipeline/crf_ner/component.py" for name in modules)
    assert all(name.startswith("clinical_ie/") for name in modules), modules
    tool_parts = ("sample", "packaging", "tools", "tests")  # a reader such as corpora/mtsamples.py is no tool
    assert not [
        name for name in modules
        if any(part in tool_parts or part.startswith("benchmark") for part in PurePosixPath(name).with_suffix("").parts)
    ]
    data_files = ("context/triggers.jsonl", "sections/headers.jsonl", "dosage/units.jsonl", "dosage/frequencies.jsonl")
    assert {f"clinical_ie/pipeline/{path}" for path in data_files} <= set(names)
    definitions = ("drug-mention", "attribute-mention", "annotation-error")
    assert {f"clinical_ie/annotate/structure_definitions/StructureDefinition-{name}.json" for name in definitions} <= set(names)

