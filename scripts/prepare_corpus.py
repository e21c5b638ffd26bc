"""Convert a corpus folder in its distributed layout into train / dev / test DocBins."""

import logging
from pathlib import Path
from typing import Optional

import typer

from clinical_ie.corpora import ConversionError
from clinical_ie.corpora.catalog import KNOWN_CORPORA, SCHEMES
from clinical_ie.corpora.layout import CorpusLayoutError
from clinical_ie.corpora.prepare import prepare_corpus


def main(
    root: Path = typer.Argument(..., help="Data folder holding the split folders"),
    output_dir: Path = typer.Argument(..., help="Where train/dev/test.spacy and reports go"),
    dataset: str = typer.Option(..., help=f"the corpus's name, written to doc._.corpus (a safe name; known: {', '.join(KNOWN_CORPORA)})"),
    scheme: Optional[str] = typer.Option(None, help=f"how the files are read: {' or '.join(SCHEMES)} (default: a known corpus's)"),
    seed: int = typer.Option(0, help="Seed of the dev split"),
    dev_fraction: float = typer.Option(0.1, help="Share of training documents for dev (when the corpus has no dev split)"),
    strict: bool = typer.Option(False, help="Fail at the first problem instead of skipping and counting it"),
):
    """Convert every split, print each conversion report, write them as JSON."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        reports = prepare_corpus(dataset, root, output_dir, seed, dev_fraction, strict, scheme=scheme)
    except (ConversionError, CorpusLayoutError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--dataset / --scheme")
    for split, report in reports.items():
        typer.echo(f"\n== {dataset} {split} ==")
        typer.echo(report.format_table())


if __name__ == "__main__":
    typer.run(main)
