"""Say which transformer, device and data a run uses, and stop early if one is missing."""

from pathlib import Path

import typer
from wasabi import msg

from clinical_ie.io.layout import CorpusLayoutError, find_split_dirs
from clinical_ie.transformer import TransformerUnavailable, resolve_transformer


def main(
    transformer: str = typer.Option(..., help="Transformer: Hub id, local folder or packaged-model name"),
    gpu_id: int = typer.Option(-1, help="GPU id, -1 for CPU"),
    n2c2_dir: Path = typer.Option(..., help="n2c2 2018 Track 2 data folder"),
    handover_dir: Path = typer.Option(..., help="Nursing-handover data folder"),
    config: Path = typer.Option(..., help="Training config"),
):
    """Check the transformer can be loaded now (no Hub retries later) and the data folders exist."""
    try:
        source = resolve_transformer(transformer)
    except TransformerUnavailable as err:
        msg.fail("Transformer not available", str(err), exits=1)
    where = "local files" if Path(source).is_dir() else "Hugging Face Hub"
    msg.info(f"Transformer: {transformer} ({where})")
    msg.info(f"Device: {_describe_device(gpu_id)}")
    msg.info(f"Config: {config.name}")
    for corpus, root in (("n2c2", n2c2_dir), ("handover", handover_dir)):
        try:
            splits = find_split_dirs(corpus, root)
        except CorpusLayoutError as err:
            msg.fail(f"{corpus} data missing", str(err), exits=1)
        kind = "synthetic sample corpus" if "sample" in root.parts else "user-provided data"
        counts = ", ".join(f"{split}: {sum(_count_docs(d) for d in dirs)} documents" for split, dirs in splits.items())
        msg.info(f"Data {corpus}: {kind} ({counts})")


def _describe_device(gpu_id: int) -> str:
    if gpu_id < 0:
        return "CPU"
    import torch

    if not torch.cuda.is_available():
        msg.fail(f"gpu_id={gpu_id} but no CUDA device is visible to torch {torch.__version__}", exits=1)
    return f"GPU {gpu_id} ({torch.cuda.get_device_name(gpu_id)})"


def _count_docs(folder: Path) -> int:
    names = {p.stem for p in folder.iterdir() if p.is_file() and p.suffix in {".txt", ".ann", ""}}
    return len(names)


if __name__ == "__main__":
    typer.run(main)
