"""Say which transformer, device and data a run uses, and stop early if one is missing."""

from pathlib import Path

import spacy
import typer
from wasabi import msg

from clinical_ie.corpora.layout import CorpusLayoutError, find_split_dirs
from clinical_ie.pipeline.transformer import TransformerUnavailable, load_tokenizer, resolve_transformer, tokenizer_casing


def main(
    transformer: str = typer.Option(..., help="Transformer: Hub id, local folder or packaged-model name"),
    gpu_id: int = typer.Option(-1, help="GPU id, -1 for CPU"),
    n2c2_dir: Path = typer.Option(..., help="n2c2 2018 Track 2 data folder (brat)"),
    handover_dir: Path = typer.Option(..., help="Nursing-handover data folder"),
    n2c2_dataset: str = typer.Option("n2c2", help="dataset name of the brat corpus (its doc._.corpus)"),
    handover_dataset: str = typer.Option("handover", help="dataset name of the handover corpus"),
    config: Path = typer.Option(..., help="Training config"),
):
    """Check the transformer can be loaded now (no Hub retries later) and the data folders exist."""
    try:
        source = resolve_transformer(transformer)
    except TransformerUnavailable as err:
        msg.fail("Transformer not available", str(err), exits=1)
    where = "local files" if Path(source).is_dir() else "Hugging Face Hub"
    msg.info(f"Transformer: {transformer} ({where})")
    _check_tokenizer(transformer, config)
    msg.info(f"Device: {_describe_device(gpu_id)}")
    msg.info(f"Config: {config.name}")
    for corpus, scheme, root, dataset in (("n2c2", "brat", n2c2_dir, n2c2_dataset),
                                          ("handover", "handover", handover_dir, handover_dataset)):
        try:
            splits = find_split_dirs(scheme, root)
        except CorpusLayoutError as err:
            msg.fail(f"{corpus} data missing", str(err), exits=1)
        sample = "sample" in root.parts
        if dataset.startswith("sample") and not sample:
            msg.fail(f"{corpus} data is user-provided but its dataset name is {dataset!r}",
                     "The model's licence notes would call it the synthetic sample: name it "
                     f"(--vars.{corpus}_dataset={corpus} for the real {corpus} data).", exits=1)
        kind = "synthetic sample corpus" if sample else "user-provided data"
        counts = ", ".join(f"{split}: {sum(_count_docs(d) for d in dirs)} documents" for split, dirs in splits.items())
        msg.info(f"Data {corpus}: {kind}, dataset {dataset} ({counts})")


def _check_tokenizer(transformer: str, config: Path) -> None:
    """Say whether the tokenizer, loaded with the config's tokenizer options, lowercases; fail
    when it lowercases a cased vocabulary."""
    options = spacy.util.load_config(config)["components"]["transformer"]["model"].get("tokenizer_config", {})
    tokenizer = load_tokenizer(transformer, dict(options))
    casing = tokenizer_casing(tokenizer)
    vocabulary = "cased" if casing.cased_vocabulary else "uncased"
    msg.info(f"Tokenizer: {'lowercases' if casing.lowercases else 'keeps case'}, {vocabulary} vocabulary,"
             f" 'Metoprolol' -> {tokenizer.tokenize('Metoprolol')}")
    if casing.lowercases and casing.cased_vocabulary:
        msg.fail(
            "The tokenizer lowercases the notes but the vocabulary is cased",
            "Set do_lower_case = false in [components.transformer.model.tokenizer_config].",
            exits=1,
        )


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
