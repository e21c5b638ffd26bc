"""Convert a corpus folder in its distributed layout into train / dev / test DocBins."""

import logging
from pathlib import Path
from typing import List, Optional

import typer

from clinical_ie.corpora import ConversionError
from clinical_ie.corpora.catalog import KNOWN_CORPORA, SCHEMES, SOURCE_FORMATS
from clinical_ie.corpora.layout import CorpusLayoutError
from clinical_ie.corpora.prepare import prepare_corpus


def main(
    root: Path = typer.Argument(..., help="Data folder holding the split folders (ade, bioscope: the corpus files)"),
    output_dir: Path = typer.Argument(..., help="Where train/dev/test.spacy and reports go"),
    dataset: str = typer.Option(..., help=f"the corpus's name, written to doc._.corpus (a safe name; known: {', '.join(KNOWN_CORPORA)})"),
    scheme: Optional[str] = typer.Option(None, help=f"how the documents are scored: {' or '.join(SCHEMES)} (default: a known corpus's)"),
    source_format: Optional[str] = typer.Option(None, "--format", help=f"how the files are read: {', '.join(SOURCE_FORMATS)} (default: a known corpus's, else the scheme)"),
    seed: int = typer.Option(0, help="Seed of the dev (and, for ade and bioscope, test) split"),
    dev_fraction: float = typer.Option(0.1, help="Share of training documents for dev (when the corpus has no dev split and --dev-size is not given)"),
    dev_size: Optional[int] = typer.Option(None, help="Number of training documents for dev (ade and bioscope: default 25)"),
    test_fraction: float = typer.Option(0.1, help="ade and bioscope (no test split of their own): share of documents for test"),
    clinical_text: Optional[List[Path]] = typer.Option(None, help="bioscope: a CMC 2007 challenge file with the clinical part's words (repeat for each)"),
    part: Optional[List[str]] = typer.Option(None, help="bioscope: keep only this part (clinical, abstracts, papers; repeatable)"),
    strict: bool = typer.Option(False, help="Fail at the first problem instead of skipping and counting it"),
):
    """Convert every split, print each conversion report, write them as JSON."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    options = {}
    if clinical_text or part:
        options = {"clinical_texts": clinical_text or (), "parts": part or None}
    try:
        reports = prepare_corpus(
            dataset, root, output_dir, seed, dev_fraction, strict, scheme=scheme, source_format=source_format,
            dev_size=dev_size, test_fraction=test_fraction, **options,
        )
    except (ConversionError, CorpusLayoutError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1)
    except (ValueError, TypeError) as error:
        raise typer.BadParameter(str(error), param_hint="--dataset / --scheme / --format / --clinical-text / --part")
    for split, report in reports.items():
        typer.echo(f"\n== {dataset} {split} ==")
        typer.echo(report.format_table())


if __name__ == "__main__":
    typer.run(main)
