"""Turn a trained pipeline into the pip-installable ``en_clinical_ie`` package.

Steps (``package_pipeline``): load the trained pipeline, with ``--vocabulary`` add
``clinical_concept_linker`` and build its index from the user's vocabulary (the package ships no
vocabulary otherwise), drop the training notes' strings from the string store, clear data paths
from the config, write ``meta.json`` (licence notes from the training corpora's terms), a model
card, ``LICENSE`` and ``LICENSES_SOURCES``, run ``spacy package``, build this library's wheel
beside it, and audit every file of the built artifacts for strings of the training notes.
"""

import importlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

import spacy
import srsly
import typer
from spacy.cli.package import package as spacy_package
from spacy.language import Language
from spacy.tokens import DocBin
from wasabi import msg

import clinical_ie
from clinical_ie.corpora.catalog import corpus_terms
from clinical_ie.evaluation.evaluate import transformer_name

UNNAMED_CORPUS = "unlabelled corpus"
"""How the training data names documents without ``doc._.corpus``."""
INTENDED_USE = (
    "Research on medication and adverse-drug-event extraction from English clinical notes "
    "(discharge summaries). Not a medical device: do not use its output for clinical "
    "decisions without review by a clinician."
)
LIMITATIONS = (
    "Trained on one institution's notes (or on a small synthetic sample): expect lower "
    "accuracy on other note types, institutions and spelling conventions. Overlapping "
    "entities are resolved to one per token in doc.ents. Assertion (negation, uncertainty, "
    "history, family) and medication status come from rules (ConText triggers and section "
    "headers): they miss phrasings their trigger lists do not hold."
)
VOCABULARY_NOTE = (
    " The concept index (clinical_concept_linker) was built from a vocabulary the packager "
    "supplied; its licence (for RxNorm and OHDSI Athena exports, the terms of those sources) is "
    "the packager's to respect when distributing this package."
)
CONCEPT_LINKER = "concept_linker"
EXAMPLE_TEXT = "Discharge Medications:\n1. Metformin 500 mg PO BID\n2. aspirin 81mg tablet daily"


def add_concept_linker(nlp: Language, vocabulary: Path) -> Dict[str, object]:
    """Add ``clinical_concept_linker`` (last, named :data:`CONCEPT_LINKER`) with its index built
    from ``vocabulary``; what the meta says of it (counts and format, never the path)."""
    linker = nlp.add_pipe("clinical_concept_linker", name=CONCEPT_LINKER)
    linker.initialize(vocabulary=vocabulary)
    return {
        "format": "OHDSI Athena export" if Path(vocabulary).is_dir() else "RxNorm RXNCONSO.RRF",
        "concepts": len(linker.index),
        "normalized_names": len(linker.index.keys),
    }


def pipeline_labels(nlp: Language) -> Dict[str, List[str]]:
    """Labels of each component that has them."""
    return {
        name: sorted(pipe.labels)
        for name, pipe in nlp.pipeline
        if getattr(pipe, "labels", None)
    }


def write_pruned_pipeline(nlp: Language, output_dir: Path) -> int:
    """Save ``nlp`` with a string store reduced to its labels; return strings removed.

    spaCy writes every string it has seen (every token of every training note) to
    ``vocab/strings.json``. What the pipeline needs at load time is re-added by the
    components themselves (tokenizer special cases, labels in component configs); the
    labels are kept explicitly so that nothing depends on that.
    """
    nlp.to_disk(output_dir)
    strings_path = output_dir / "vocab" / "strings.json"
    before = len(srsly.read_json(strings_path))
    keep = sorted(pipeline_labels_flat(nlp))
    srsly.write_json(strings_path, keep)
    config_path = output_dir / "config.cfg"
    config = spacy.util.load_config(config_path, interpolate=False)
    for key in config["paths"]:
        config["paths"][key] = None
    config.to_disk(config_path)
    return before - len(keep)


def license_notes(license: str, corpora: Sequence[Dict[str, str]], base_transformer: str) -> str:
    """What binds the weights: the model's ``license``, the terms of each training corpus
    (:func:`~clinical_ie.corpora.catalog.corpus_terms` rows) and the base transformer's own."""
    terms = "; ".join(f"{row['corpus']}: {row['terms']}" for row in corpora) or "no training corpus was given"
    return (
        f"The model is released under {license}; the code (clinical-ie) is MIT-licensed. The weights are "
        f"derived from the training data, whose terms bind them too. Training corpora: {terms}. "
        f"The base transformer ({base_transformer}) keeps its own license."
    )


def build_meta(
    nlp: Language,
    name: str,
    version: str,
    evaluations: Dict[str, dict],
    training_data: str,
    corpora: Sequence[str] = (),
    license: str = "MIT",
) -> dict:
    """The package's ``meta.json``: provenance, labels, metrics, ``license``, the terms of the
    training ``corpora`` (their names) and use notes."""
    import transformers

    meta = dict(nlp.meta)
    base = None
    if "transformer" in nlp.pipe_names:
        base = transformer_name(nlp.config["components"]["transformer"]["model"]["name"])
    training_corpora = corpus_terms(corpora)
    meta.update(
        {
            "lang": "en",
            "name": name,
            "version": version,
            "description": (
                "Clinical information extraction with one shared transformer and a "
                "linear-chain CRF head per task: " + ", ".join(
                    f"{component} ({', '.join(labels[:3])}, ...)" for component, labels in pipeline_labels(nlp).items()
                ) + "."
            ),
            "author": "en_clinical_ie contributors",
            "license": license,
            "license_notes": license_notes(license, training_corpora, base),
            "intended_use": INTENDED_USE,
            "limitations": LIMITATIONS,
            "base_transformer": base,
            "training_data": training_data,
            "training_corpora": training_corpora,
            "labels": pipeline_labels(nlp),
            "spacy_version": spacy.util.get_minor_version_range(spacy.__version__),
            "requirements": [
                f"clinical-ie{spacy.util.get_minor_version_range(clinical_ie.__version__)}",
                f"spacy-transformers{spacy.util.get_minor_version_range(spacy.util.get_package_version('spacy-transformers'))}",
                f"transformers=={transformers.__version__}",
            ],
        }
    )
    if evaluations:
        meta["performance"] = {**meta.get("performance", {}), **headline_metrics(evaluations)}
        meta["evaluation"] = evaluations
    return meta


def count_training_corpora(docbin_paths: Iterable[Path], nlp: Language) -> Dict[str, Tuple[int, int, int]]:
    """Documents, tokens and entities of the training data per corpus (``doc._.corpus``,
    :data:`UNNAMED_CORPUS` where unset)."""
    counts: Dict[str, List[int]] = {}
    for path in docbin_paths:
        for doc in DocBin().from_disk(path).get_docs(nlp.vocab):
            tally = counts.setdefault(doc._.corpus or UNNAMED_CORPUS, [0, 0, 0])
            tally[0] += 1
            tally[1] += len(doc)
            tally[2] += len(doc.ents)
    return {corpus: tuple(tally) for corpus, tally in sorted(counts.items())}


def describe_training_data(counts: Dict[str, Tuple[int, int, int]]) -> str:
    """One line on the training data: documents, tokens and entities per corpus; no
    names of notes or paths."""
    return "; ".join(
        f"{corpus}: {docs} documents ({tokens:,} tokens, {ents:,} entities)"
        for corpus, (docs, tokens, ents) in counts.items()
    )


def headline_metrics(evaluations: Dict[str, dict]) -> Dict[str, float]:
    """The numbers shown in ``meta.performance`` and the model card, per evaluated dataset:
    entity P/R/F1 (strict and lenient: micro, label macro, document macro), relation
    lenient / strict micro F1, and the CLEF handover token macro-F1."""
    summary = {}
    for dataset, scores in evaluations.items():
        for mode in ("strict", "lenient"):
            for average in ("micro", "label_macro", "document_macro"):
                values = scores.get("spans", {}).get(mode, {}).get(average)
                for key in ("precision", "recall", "f1"):
                    if isinstance(values, dict) and key in values:
                        summary[f"{dataset}_{mode}_{average}_{key}"] = values[key]
            relations = scores.get("relations", {}).get(mode, {}).get("micro")
            if relations:
                summary[f"{dataset}_relations_{mode}_micro_f1"] = relations["f1"]
        if "handover" in scores:
            summary[f"{dataset}_clef_macro_f1"] = scores["handover"]["macro"]["f1"]
    return summary


def example_output(nlp: Language, text: str) -> str:
    """What the pipeline finds in ``text``: ``doc.ents``, every head's span group, and the
    medication records, one line each."""
    doc = nlp(text)
    lines = [f"doc.ents          {ent.text!r:22} {ent.label_:12} {ent._.confidence or 0:.3f}" for ent in doc.ents]
    for key, group in doc.spans.items():
        lines += [f"doc.spans[{key!r}] {span.text!r:22} {span.label_}" for span in group]
    for record in doc._.medications:
        found = {name: [a["text"] for a in values] for name, values in record.to_dict()["attributes"].items() if values}
        lines.append(f"doc._.medications {record.text!r}: {found}")
    return "\n".join(lines) or "(nothing found)"


def model_card(meta: dict, example: str, output: str) -> str:
    """The package README: what it is, how to install and use it, labels and metrics."""
    name = f"{meta['lang']}_{meta['name']}"
    metrics_rows = "\n".join(
        f"| {key} | {value:.3f} |" for key, value in sorted(headline_metrics(meta.get("evaluation", {})).items())
    ) or "| (no evaluation given) | |"
    label_rows = "\n".join(
        f"| `{component}` | {', '.join(f'`{label}`' for label in labels)} |"
        for component, labels in meta["labels"].items()
    )
    corpus_rows = "\n".join(
        f"| `{row['corpus']}` | {row['description']} | {row['terms']} |" for row in meta.get("training_corpora", [])
    ) or "| (none given) | | |"
    return f"""# {name} {meta['version']}

{meta['description']}

| | |
| --- | --- |
| base transformer | `{meta.get('base_transformer')}` |
| pipeline | {', '.join(f'`{p}`' for p in meta.get('pipeline', []))} |
| spaCy | `{meta['spacy_version']}` |
| requirements | {', '.join(f'`{r}`' for r in meta['requirements'])} |
| training data | {meta['training_data']} |

## Install and use

```bash
pip install packages/*.whl   # the model and the clinical-ie library it needs, in one step
```

```python
import spacy
nlp = spacy.load("{name}")
doc = nlp({example!r})
for ent in doc.ents:
    print(ent.text, ent.label_, round(ent._.confidence, 3))
```

Output of this package on that text:

```
{output}
```

## Labels

| component | labels |
| --- | --- |
{label_rows}

## Evaluation

| metric | value |
| --- | --- |
{metrics_rows}

## Training data and its terms

The model was trained on these corpora (`doc._.corpus` of the training documents); a model
falls under the terms of the data it learned from.

| corpus | what it is | terms |
| --- | --- | --- |
{corpus_rows}

## Privacy

The string store was reduced to the pipeline's labels before packaging, so the package
holds no token of the training notes; the packaging step searched every file of the
built wheel and sdist for the training notes' rare tokens and found none.

## License, intended use, limitations

- **License**: `{meta['license']}`. {meta['license_notes']}
- **Intended use**: {meta['intended_use']}
- **Limitations**: {meta['limitations']}
"""


def training_strings(docbin_paths: Iterable[Path], nlp: Language) -> Set[str]:
    """Token strings of the training notes with four or more characters and a letter."""
    strings = set()
    for path in docbin_paths:
        for doc in DocBin().from_disk(path).get_docs(nlp.vocab):
            strings.update(
                t.text for t in doc if len(t.text) >= 4 and any(c.isalpha() for c in t.text)
            )
    return strings


def artifact_files(artifact: Path) -> Dict[str, bytes]:
    """Every file inside a wheel (zip) or sdist (tar.gz), by name."""
    if artifact.suffix == ".whl" or artifact.suffix == ".zip":
        with zipfile.ZipFile(artifact) as archive:
            return {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}
    with tarfile.open(artifact) as archive:
        return {
            member.name: archive.extractfile(member).read()
            for member in archive.getmembers()
            if member.isfile()
        }


def find_strings_in_artifacts(artifacts: Iterable[Path], strings: Set[str]) -> Dict[str, List[str]]:
    """Which of ``strings`` occur (as bytes, UTF-8) in which file of which artifact."""
    encoded = {s: s.encode("utf8") for s in strings}
    found: Dict[str, List[str]] = {}
    for artifact in artifacts:
        for name, data in artifact_files(artifact).items():
            for string, needle in encoded.items():
                if needle in data:
                    found.setdefault(string, []).append(f"{artifact.name}:{name}")
    return found


def reference_bytes(nlp: Language, written: Iterable[Path]) -> bytes:
    """Everything the package carries for reasons other than the training notes.

    The transformer's tokenizer files and full config, the tokenizer's rules and special
    cases, the labels, spaCy's package templates and the files ``written`` here (model
    card, meta). A training string that occurs in these (a vocabulary entry, a part of a
    key like ``no_repeat_ngram_size`` or of a label like ``PatientIntroduction_...``) is
    no evidence of a leak.
    """
    spacy_package_module = importlib.import_module("spacy.cli.package")
    blobs = [nlp.tokenizer.to_bytes(), "\n".join(sorted(pipeline_labels_flat(nlp))).encode("utf8")]
    blobs += [
        getattr(spacy_package_module, name).encode("utf8")
        for name in dir(spacy_package_module)
        if name.startswith("TEMPLATE_")
    ]
    blobs += [path.read_bytes() for path in written]
    if "transformer" in nlp.pipe_names:
        model = nlp.get_pipe("transformer").model
        with tempfile.TemporaryDirectory() as folder:
            model.tokenizer.save_pretrained(folder)
            blobs += [path.read_bytes() for path in sorted(Path(folder).iterdir()) if path.is_file()]
        blobs.append(model.transformer.config.to_json_string(use_diff=False).encode("utf8"))
    return b"\n".join(blobs)


def pipeline_labels_flat(nlp: Language) -> Set[str]:
    """Every label of every component."""
    return {label for labels in pipeline_labels(nlp).values() for label in labels}


LIBRARY_SOURCES = ("clinical_ie", "setup.cfg", "pyproject.toml", "README.md", "LICENSE")
"""What the library wheel is built from (setup.cfg reads README.md as its long description)."""


def source_checkout() -> Path:
    """The project checkout clinical_ie is installed from (editable), else FileNotFoundError."""
    source = Path(clinical_ie.__file__).resolve().parent.parent
    if not (source / "setup.cfg").exists():
        raise FileNotFoundError(
            f"clinical_ie is not installed from a source checkout ({source}); "
            "run packaging from the project checkout (pip install -e .)."
        )
    return source


def model_license_text(meta: dict) -> str:
    """The model package's ``LICENSE``: the code's licence text, then what binds the weights."""
    code_license = (source_checkout() / "LICENSE").read_text(encoding="utf8")
    return (
        f"{code_license.rstrip()}\n\n---\n\nThe model {meta['lang']}_{meta['name']} {meta['version']} "
        f"(the weights in this package): {meta['license']}.\n\n{meta['license_notes']}\n"
        "README.md, \"Training data and its terms\", lists each corpus.\n"
    )


def licenses_sources(meta: dict) -> str:
    """The package's ``LICENSES_SOURCES`` (spaCy's file for the terms of a model's data sources):
    each training corpus with its terms, and the base transformer."""
    corpora = [f"{row['corpus']}: {row['description']}\n  terms: {row['terms']}" for row in meta["training_corpora"]]
    base = f"base transformer: {meta.get('base_transformer')}\n  terms: its own license"
    return "\n\n".join([*corpora, base]) + "\n"


def build_library_wheel(output_dir: Path) -> Path:
    """Build this library's wheel (the custom code the model needs) into ``output_dir``.

    Built from a copy of :data:`LIBRARY_SOURCES`, so that the build's ``build/`` and
    ``*.egg-info`` folders never land in the checkout (a stale ``clinical_ie.egg-info`` there
    shadows the installed entry points for any Python started in the checkout).
    """
    source = source_checkout()
    with tempfile.TemporaryDirectory() as copy:
        for name in LIBRARY_SOURCES:
            if (source / name).is_dir():
                shutil.copytree(source / name, Path(copy) / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(source / name, Path(copy) / name)
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
             "--quiet", "--wheel-dir", str(output_dir), copy],
            check=True,
        )
    return next(output_dir.glob(f"clinical_ie-{clinical_ie.__version__}-*.whl"))


def package_pipeline(
    model_dir: Path,
    output_dir: Path,
    name: str,
    version: str,
    training_docbins: List[Path],
    metrics_paths: Sequence[Path] = (),
    license: str = "MIT",
    vocabulary: Optional[Path] = None,
) -> List[Path]:
    """Build the model wheel and sdist plus the library wheel into ``output_dir``; the model is
    released under ``license``, its licence notes naming the training corpora's terms; with
    ``vocabulary``, the model carries the concept linker's index of it.

    Fails if any distinctive string of the training notes is found in any built file.
    Returns the paths of the built artifacts.
    """
    output_dir.mkdir(parents=True, exist_ok=True)
    staging = output_dir / "pipeline"
    shutil.rmtree(staging, ignore_errors=True)
    nlp = spacy.load(model_dir)
    concept_vocabulary = add_concept_linker(nlp, vocabulary) if vocabulary is not None else None
    removed = write_pruned_pipeline(nlp, staging)
    msg.good(f"Removed {removed} training strings from the string store")
    pruned = spacy.load(staging)
    evaluations = {path.stem: json.loads(path.read_text(encoding="utf8")) for path in metrics_paths}
    counts = count_training_corpora(training_docbins, nlp)
    meta = build_meta(pruned, name, version, evaluations, describe_training_data(counts), list(counts), license)
    if concept_vocabulary is not None:
        meta["concept_vocabulary"] = concept_vocabulary
        meta["license_notes"] += VOCABULARY_NOTE
    srsly.write_json(staging / "meta.json", meta)
    (staging / "README.md").write_text(model_card(meta, EXAMPLE_TEXT, example_output(pruned, EXAMPLE_TEXT)), encoding="utf8")
    (staging / "LICENSE").write_text(model_license_text(meta), encoding="utf8")
    (staging / "LICENSES_SOURCES").write_text(licenses_sources(meta), encoding="utf8")

    spacy_package(staging, output_dir, name=name, version=version,
                  create_sdist=False, create_wheel=False, force=True, silent=False)
    package_dir = output_dir / f"en_{name}-{version}"
    shutil.rmtree(package_dir / "dist", ignore_errors=True)
    # Build here rather than in `spacy package`: no isolated build env, so no download.
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel", str(package_dir)],
        check=True, stdout=subprocess.DEVNULL,
    )
    model_artifacts = [
        Path(shutil.copy(built, output_dir / built.name))
        for built in sorted((package_dir / "dist").iterdir())
    ]
    library_wheel = build_library_wheel(output_dir)

    # The library wheel is this repository's code; only the model artifacts can carry notes.
    written = [staging / name for name in ("README.md", "meta.json", "LICENSE", "LICENSES_SOURCES")]
    reference = reference_bytes(pruned, written)
    suspects = {
        s for s in training_strings(training_docbins, nlp)
        if len(s) >= 6 and s.encode("utf8") not in reference
    }
    leaks = find_strings_in_artifacts(model_artifacts, suspects)
    if leaks:
        files = sorted({place for places in leaks.values() for place in places})
        raise RuntimeError(
            f"{len(leaks)} distinct training-note strings were found in {', '.join(files[:10])}; "
            "not shipping it (the strings are not printed: they are note text)."
        )
    msg.good(f"Searched {len(model_artifacts)} model artifacts for {len(suspects)} training-note strings: none found")
    shutil.rmtree(staging)
    return model_artifacts + [library_wheel]


def main(
    model_dir: Path = typer.Argument(..., help="trained pipeline folder (e.g. training/multitask/model-best)"),
    output_dir: Path = typer.Argument(..., help="where the wheels and sdist go (e.g. packages/)"),
    train: List[Path] = typer.Option(..., "--train", help="training DocBin(s): searched for in the built files"),
    metrics: List[Path] = typer.Option([], "--metrics", help="metrics/<dataset>.json from evaluate (repeatable)"),
    name: str = typer.Option("clinical_ie", "--name", help="package name without the 'en_' prefix"),
    version: str = typer.Option("0.1.0", "--version", help="package version"),
    license: str = typer.Option("MIT", "--license", help="the model's licence (meta.json, the wheel's metadata and LICENSE)"),
    vocabulary: Optional[Path] = typer.Option(
        None, "--vocabulary", help="build in clinical_concept_linker's index of this Athena export folder or RXNCONSO.RRF (its licence is yours)"
    ),
) -> None:
    """Prune training strings, write meta, model card and LICENSE, build and audit the package."""
    for artifact in package_pipeline(model_dir, output_dir, name, version, train, metrics, license, vocabulary):
        typer.echo(f"built {artifact}")


if __name__ == "__main__":
    typer.run(main)
