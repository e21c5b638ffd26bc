"""Convert a corpus folder in its distributed layout into train / dev / test DocBins."""

import logging
from pathlib import Path

import typer

from clinical_ie.corpora import ConversionError
from clinical_ie.corpora.layout import CorpusLayoutError
from clinical_ie.corpora.prepare import prepare_corpus


def main(
    corpus: str = typer.Argument(..., help="n2c2 or handover"),
    root: Path = typer.Argument(..., help="Data folder holding the split folders"),
    output_dir: Path = typer.Argument(..., help="Where train/dev/test.spacy and reports go"),
    seed: int = typer.Option(0, help="Seed of the dev split"),
    dev_fraction: float = typer.Option(0.1, help="Share of training documents for dev (when the corpus has no dev split)"),
    strict: bool = typer.Option(False, help="Fail at the first problem instead of skipping and counting it"),
):
    """Convert every split, print each conversion report, write them as JSON."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        reports = prepare_corpus(corpus, root, output_dir, seed, dev_fraction, strict)
    except (ConversionError, CorpusLayoutError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1)
    for split, report in reports.items():
        typer.echo(f"\n== {corpus} {split} ==")
        typer.echo(report.format_table())


if __name__ == "__main__":
    typer.run(main)
