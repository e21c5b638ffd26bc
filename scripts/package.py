"""Package a trained pipeline as en_clinical_ie (model wheel + sdist + clinical-ie wheel)."""

from pathlib import Path
from typing import List

import typer

from clinical_ie.packaging import package_pipeline


def main(
    model_dir: Path = typer.Argument(..., help="Trained pipeline folder (e.g. training/n2c2/model-best)"),
    output_dir: Path = typer.Argument(..., help="Where the wheels and sdist go (e.g. packages/)"),
    train: List[Path] = typer.Option(..., "--train", help="Training DocBin(s): searched for in the built files"),
    metrics: List[Path] = typer.Option([], "--metrics", help="metrics/<dataset>.json from evaluate (repeatable)"),
    name: str = typer.Option("clinical_ie", "--name", help="Package name without the 'en_' prefix"),
    version: str = typer.Option("0.1.0", "--version", help="Package version"),
):
    """Prune training strings, write meta and model card, build and audit the package."""
    artifacts = package_pipeline(model_dir, output_dir, name, version, train, metrics)
    for artifact in artifacts:
        typer.echo(f"built {artifact}")


if __name__ == "__main__":
    typer.run(main)
