"""Evaluate a trained pipeline on a gold DocBin: metrics JSON, Markdown report, plots, error pages, brat."""

from pathlib import Path
from typing import Optional

import typer

from clinical_ie.corpora.catalog import SCHEMES, check_dataset_name, check_scheme
from clinical_ie.evaluation.evaluate import evaluate


def main(
    model: str = typer.Argument(..., help="trained pipeline directory or installed package name"),
    gold: Path = typer.Argument(..., help="gold DocBin (.spacy) written by the converters"),
    dataset: str = typer.Option(..., help="any safe name (letters, digits, _ . -): names the outputs <dataset>.json / .md"),
    scheme: Optional[str] = typer.Option(None, help=f"scoring scheme, {' or '.join(SCHEMES)} (default: that of the gold documents' corpus)"),
    output_dir: Path = typer.Option(Path("metrics"), help="where the JSON, report and plots go"),
    brat_dir: Optional[Path] = typer.Option(None, help="also write predictions as brat .txt/.ann here"),
    gpu_id: int = typer.Option(-1, help="GPU to use; -1 for CPU"),
    train: Optional[Path] = typer.Option(None, help="training DocBin: its handover categories form the CLEF macro average"),
    batch_size: int = typer.Option(8, help="documents per nlp.pipe batch"),
    spans_key: Optional[str] = typer.Option(None, help="score the head writing doc.spans[KEY] (a multi-task pipeline) instead of doc.ents"),
    no_text: bool = typer.Option(False, "--no-text", help="error pages show each token's shape (Xxxxx, dd), not the note text"),
) -> None:
    """Predict the gold documents' tokens with MODEL and write every score of DATASET."""
    for check, value, option in ((check_dataset_name, dataset, "--dataset"), (check_scheme, scheme, "--scheme")):
        try:
            if value is not None:
                check(value)
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint=option)
    scores = evaluate(model, gold, dataset, output_dir, brat_dir=brat_dir, gpu_id=gpu_id, train_path=train,
                      batch_size=batch_size, spans_key=spans_key, no_text=no_text, scheme=scheme)
    entities = scores["spans"]
    typer.echo(
        f"{dataset} (scheme {scores['scheme']}): lenient micro F1 {entities['lenient']['micro']['f1']:.4f},"
        f" strict micro F1 {entities['strict']['micro']['f1']:.4f}"
        f" -> {output_dir / (dataset + '.json')}"
    )
    if "handover" in scores:
        typer.echo(f"handover CLEF macro F1 {scores['handover']['macro']['f1']:.4f}")


if __name__ == "__main__":
    typer.run(main)
