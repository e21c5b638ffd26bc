"""``python -m tools.sample assets/sample --seed 0``: write the synthetic sample corpus and its README.md."""

from pathlib import Path

import typer

from .generator import write_sample


def main(
    out_dir: Path = typer.Argument(..., help="output folder, e.g. assets/sample"),
    seed: int = typer.Option(0, help="random seed (0: the committed sample)"),
) -> None:
    """Write the synthetic sample corpus (n2c2 brat + nursing handover) and its README.md."""
    counts = write_sample(out_dir, seed)
    for name, number in sorted(counts["files"].items()):
        typer.echo(f"{name}: {number} files")


if __name__ == "__main__":
    typer.run(main)
