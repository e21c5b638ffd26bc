"""``python -m tools.realtext``: see :mod:`tools.realtext`."""

import logging
from pathlib import Path
from typing import Dict, List, Optional

import spacy
import typer

from clinical_ie.evaluation.evaluate import read_docs

from ..calibration_study import study as calibration_study
from ..reports import write_report
from ..revisions import REPO_ROOT, git
from . import assertion, dosage, runs, spans
from .report import markdown

DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "realtext"
SHORT_RUN_EPOCHS = 6
"""The epochs of the sample workflow (project.yml ``max_epochs``)."""


def benchmark_corpus(
    library: Path, corpus: Path, work: Path, max_epochs: int, transformer: Optional[str],
    max_train_words: Optional[int], compare_calibrations: bool,
) -> Dict:
    training = runs.training_corpus(corpus, work / "corpora" / corpus.name, max_train_words)
    model = runs.train(library, training, work / "models" / corpus.name, max_epochs, transformer, work / "logs")
    predictions = work / "predictions" / f"{corpus.name}.json"
    runs.library_run(library, ["spans", model, corpus / "test.spacy", predictions], f"predict-{corpus.name}", work / "logs")
    result = runs.read_json(predictions)
    nlp = spacy.blank("en")
    gold = read_docs(corpus / "test.spacy", nlp.vocab)
    train = read_docs(training / "train.spacy", nlp.vocab)
    dev = read_docs(training / "dev.spacy", nlp.vocab)
    heads = {
        name: spans.score_head(gold, result["calibrated"][name], result["uncalibrated"][name])
        for name in result["calibrated"]
    }
    result = {
        "documents": {"train": len(train), "dev": len(dev), "test": len(gold)},
        "train_words": sum(not token.is_space for doc in train for token in doc),
        "model": str(model.relative_to(work)),
        "calibration": result["calibration"],
        "heads": heads,
    }
    if compare_calibrations:
        result["calibration_methods"] = {
            name: calibration_study(model, corpus / "dev.spacy", corpus / "test.spacy", name) for name in heads
        }
    return result


def main(
    corpora: List[Path] = typer.Argument(..., help="annotated corpus folders, each with train.spacy, dev.spacy and test.spacy"),
    bioscope: Optional[Path] = typer.Option(None, help="BioScope DocBin (clinical part) for negation and speculation"),
    notes: List[Path] = typer.Option([], help="JSON Lines files of real notes (a `text` field) for the speed measure"),
    work: Path = typer.Option(Path("training/realtext"), help="where models, predictions and logs go (not committed)"),
    output: Path = typer.Option(DEFAULT_OUTPUT, help="report stem: writes OUTPUT.json and OUTPUT.md"),
    max_epochs: int = typer.Option(SHORT_RUN_EPOCHS, help="training epochs (the sample workflow's by default)"),
    max_train_words: Optional[int] = typer.Option(None, help="train on a seeded sample of whole training documents of about this many words"),
    notes_per_file: int = typer.Option(100, help="notes timed from each --notes file (its first ones)"),
    transformer: Optional[str] = typer.Option(None, help="transformer name or folder (default: the config's)"),
    library_revision: Optional[str] = typer.Option(None, help="measure the library and configs as committed at this revision"),
    dosage_checked: Optional[Path] = typer.Option(None, help="a filled-in dosage check sample (see tools.realtext.dosage)"),
) -> None:
    """Train, score and time the default config on public real corpora; write the report."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    work = work.resolve()
    if library_revision:
        library_revision = git("rev-parse", "--short", library_revision).decode().strip()
        work = work / library_revision
    library = runs.library_folder(library_revision, work)
    report: Dict[str, object] = {
        "library": library_revision or git("rev-parse", "--short", "HEAD").decode().strip(),
        "max_epochs": max_epochs,
        "max_train_words": max_train_words,
        "transformer": transformer or "configs/default.cfg",
        "corpora": {},
    }
    nlp = spacy.blank("en")
    for corpus in corpora:
        logging.info("corpus %s", corpus.name)
        report["corpora"][corpus.name] = benchmark_corpus(
            library, corpus.resolve(), work, max_epochs, transformer, max_train_words,
            compare_calibrations=library_revision is None,
        )
    mentions = dosage.gold_mentions(
        {corpus.name: [doc for split in ("train", "dev", "test") for doc in read_docs(corpus / f"{split}.spacy", nlp.vocab)]
         for corpus in corpora}
    )
    dosage.write_check_sample(mentions, work / "dosage-check-sample.jsonl")
    report["dosage"] = {"parsed": dosage.parse_share(mentions), "checked": dosage.checked_error_rate(dosage_checked)}
    if bioscope:
        targets = work / "predictions" / "bioscope-assertion.json"
        runs.library_run(library, ["assertion", bioscope.resolve(), targets], "assertion-bioscope", work / "logs")
        ours = runs.read_json(targets)
        gold = read_docs(bioscope, nlp.vocab)
        report["bioscope"] = assertion.score_assertion(gold, ours, assertion.negspacy_negated(gold, ours))
    if notes:
        model = work / "models" / corpora[0].name / "model-last"
        timings = work / "predictions" / "speed.json"
        runs.library_run(library, ["speed", model, notes_per_file, *[n.resolve() for n in notes], timings], "speed", work / "logs")
        report["speed"] = dict(runs.read_json(timings), model=corpora[0].name)
    write_report(output, report, markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    typer.run(main)
