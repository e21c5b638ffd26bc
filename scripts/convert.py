"""Convert a folder of brat (n2c2), nursing-handover, ADE, DDI or BioScope files into one DocBin +
report; write MTSamples reports as JSON Lines notes."""

import logging
from pathlib import Path
from typing import List, Optional

import typer

from clinical_ie.corpora import ConversionError, ConversionReport, convert_folder
from clinical_ie.corpora.mtsamples import read_mtsamples_csv, write_notes_by_length

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


@app.command()
def ade(
    input_dir: Path = typer.Argument(..., exists=True, file_okay=False, help="Folder of DRUG-AE.rel + DRUG-DOSE.rel"),
    output: Path = typer.Argument(..., help="DocBin to write (.spacy)"),
    report: Path = typer.Option(..., "--report", help="Report JSON to write"),
    strict: bool = typer.Option(False, "--strict", help="Fail at the first problem"),
) -> None:
    """Convert the ADE corpus (one document per PubMed abstract)."""
    _run("ade", report, input_dir=input_dir, output=output, strict=strict)


@app.command()
def ddi(
    input_dir: Path = typer.Argument(..., exists=True, file_okay=False, help="Folder of DDI XML files (sub-folders read too)"),
    output: Path = typer.Argument(..., help="DocBin to write (.spacy)"),
    report: Path = typer.Option(..., "--report", help="Report JSON to write"),
    strict: bool = typer.Option(False, "--strict", help="Fail at the first problem"),
) -> None:
    """Convert DDI corpus 2013 XML files."""
    _run("ddi", report, input_dir=input_dir, output=output, strict=strict)


@app.command()
def bioscope(
    input_dir: Path = typer.Argument(..., exists=True, file_okay=False, help="BioScope folder (abstracts.xml, full_papers.xml, clinical_merger/)"),
    output: Path = typer.Argument(..., help="DocBin to write (.spacy)"),
    report: Path = typer.Option(..., "--report", help="Report JSON to write"),
    clinical_text: Optional[List[Path]] = typer.Option(None, "--clinical-text", help="CMC 2007 challenge file with the clinical words (repeat for each)"),
    part: Optional[List[str]] = typer.Option(None, "--part", help="Keep only this part: clinical, abstracts, papers (repeatable)"),
    strict: bool = typer.Option(False, "--strict", help="Fail at the first problem"),
) -> None:
    """Convert BioScope: negation and speculation cues and scopes."""
    _run("bioscope", report, input_dir=input_dir, output=output, strict=strict,
         clinical_texts=clinical_text or (), parts=part or None)


@app.command()
def mtsamples(
    csv_path: Path = typer.Argument(..., exists=True, dir_okay=False, help="mtsamples.csv"),
    output_dir: Path = typer.Argument(..., help="Folder for notes-<length>.jsonl"),
    report: Path = typer.Option(..., "--report", help="Report JSON to write"),
    strict: bool = typer.Option(False, "--strict", help="Fail at the first problem"),
) -> None:
    """Write MTSamples reports as JSON Lines notes (id, text, specialty...), one file per length band
    (under 200, 200-500, over 500 words), for annotate and the speed benchmark."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    conversion = ConversionReport("mtsamples", strict=strict)
    try:
        counts = write_notes_by_length(read_mtsamples_csv(csv_path, conversion), output_dir)
    except ConversionError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1)
    conversion.write_json(report)
    typer.echo(conversion.format_table())
    typer.echo(f"notes per file: {counts}")


if __name__ == "__main__":
    app()
