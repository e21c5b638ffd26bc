"""Convert a folder of brat (n2c2) or nursing-handover files into one DocBin + report."""

import logging
from pathlib import Path
from typing import Optional

import typer

from clinical_ie.corpora import ConversionError, convert_folder

app = typer.Typer(add_completion=False, help=__doc__)


def _run(source_format: str, report_path: Path, **options) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        report = convert_folder(source_format, **options)
    except ConversionError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1)
    report.write_json(report_path)
    typer.echo(report.format_table())


@app.command()
def brat(
    input_dir: Path = typer.Argument(
        ..., exists=True, file_okay=False, help="Folder of NAME.txt + NAME.ann"
    ),
    output: Path = typer.Argument(..., help="DocBin to write (.spacy)"),
    report: Path = typer.Option(..., "--report", help="Report JSON to write"),
    labels: Optional[str] = typer.Option(None, "--labels", help="Comma-separated labels to keep"),
    strict: bool = typer.Option(False, "--strict", help="Fail at the first problem"),
    sample_ratio: Optional[float] = typer.Option(
        None, "--sample-ratio", help="SamBD: share of entity-free sentences kept"
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the sentence sampling"),
) -> None:
    """Convert n2c2 / brat standoff pairs."""
    _run(
        "brat",
        report,
        input_dir=input_dir,
        output=output,
        strict=strict,
        labels=labels.split(",") if labels else None,
        sample_ratio=sample_ratio,
        seed=seed,
    )


@app.command()
def handover(
    input_dir: Path = typer.Argument(
        ..., exists=True, file_okay=False, help="Folder of token files (*.txt)"
    ),
    output: Path = typer.Argument(..., help="DocBin to write (.spacy)"),
    report: Path = typer.Option(..., "--report", help="Report JSON to write"),
    strict: bool = typer.Option(False, "--strict", help="Fail at the first problem"),
) -> None:
    """Convert nursing-handover token files."""
    _run("handover", report, input_dir=input_dir, output=output, strict=strict)


if __name__ == "__main__":
    app()
