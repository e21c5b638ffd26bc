"""Split a training DocBin into train and a deterministic dev share (by seed)."""

from pathlib import Path

import typer

import clinical_ie  # noqa: F401  (registers the Doc extensions)
from clinical_ie.io import read_docbin, split_dev, write_docbin


def main(
    input_path: Path = typer.Argument(..., exists=True, dir_okay=False, help="Training DocBin"),
    train_out: Path = typer.Argument(..., help="Train DocBin to write"),
    dev_out: Path = typer.Argument(..., help="Dev DocBin to write"),
    fraction: float = typer.Option(0.1, "--fraction", help="Share of documents for dev"),
    seed: int = typer.Option(0, "--seed", help="Seed of the choice"),
) -> None:
    """Write TRAIN_OUT and DEV_OUT from IN (documents keep their order)."""
    train, dev = split_dev(read_docbin(input_path), fraction=fraction, seed=seed)
    write_docbin(train, train_out)
    write_docbin(dev, dev_out)
    typer.echo(f"train {len(train)} documents -> {train_out}")
    typer.echo(f"dev {len(dev)} documents -> {dev_out}")


if __name__ == "__main__":
    typer.run(main)
