"""Tokens and transformer wordpieces per note with the clinical tokenizer at a git revision and now.

For the sample n2c2 notes (train and test) it counts, per note and for each tokenizer on the same
notes: spaCy tokens; the wordpieces of the tokens (each token's text through the transformer's
Hugging Face tokenizer, no special tokens); and what spacy-transformers feeds the encoder: the
config's span getter (strided windows of 128 spaCy tokens, stride 96, in configs/default.cfg),
each window's text tokenized with its special tokens, as ``huggingface_tokenize`` does. It prints
mean and total per note, and the tokenizers' speed in words per CPU second of this process
(whitespace-separated words, the same count for both; CPU time, since the machine may be shared;
each repeat a fresh tokenizer, so its cache starts cold; best of --repeats) on the notes and on
the notes with their placeholders removed (the path without placeholders).
--revision-notes also counts the revision's tokenizer on the revision's own notes.

Usage: python -m tools.wordpieces [--notes assets/sample/n2c2] [--revision HEAD]
       [--config configs/default.cfg] [--repeats 5] [--revision-notes] [--output F.json]
"""

import json
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

import spacy
import typer
from spacy.tokens import Doc

from clinical_ie.pipeline.tokenizer import PLACEHOLDER, create_clinical_tokenizer, make_clinical_tokenizer
from clinical_ie.pipeline.transformer import resolve_transformer

from .revisions import REPO_ROOT, committed_paths, git, module_at_revision

TOKENIZER_PATHS = ("clinical_ie/pipeline/tokenizer.py", "clinical_ie/io/tokenizer.py")
REGISTERED_NAME = "clinical_ie.ClinicalTokenizer.v1"

Factory = Callable[[spacy.Language], Callable[[str], Doc]]


def revision_factory(revision: str) -> Factory:
    """``make_clinical_tokenizer`` of the tokenizer module as committed at ``revision``."""
    module = module_at_revision(revision, TOKENIZER_PATHS, "tokenizer_at_revision")
    # importing it registered its factory under the current one's name: put the current one back
    spacy.registry.tokenizers.register(REGISTERED_NAME, func=create_clinical_tokenizer)
    return module.make_clinical_tokenizer


def folder_notes(folder: Path) -> Dict[str, str]:
    """{split/stem: text} of the ``.txt`` notes of ``folder``'s train and test splits."""
    return {
        f"{path.parent.name}/{path.stem}": path.read_bytes().decode("utf8")
        for split in ("train", "test")
        for path in sorted((folder / split).glob("*.txt"))
    }


def revision_notes(revision: str, folder: Path) -> Dict[str, str]:
    """:func:`folder_notes` of ``folder`` as committed at ``revision``."""
    paths = committed_paths(revision, folder.resolve().relative_to(REPO_ROOT).as_posix())
    return {
        f"{Path(path).parent.name}/{Path(path).stem}": git("show", f"{revision}:{path}").decode("utf8")
        for path in sorted(paths)
        if path.endswith(".txt") and Path(path).parent.name in ("train", "test")
    }


def tokenizer_for(factory: Factory):
    """A fresh blank English tokenizer built by ``factory`` (its cache empty)."""
    nlp = spacy.blank("en")
    return factory(nlp)


def counts(factory: Factory, notes: Dict[str, str], wordpiece_tokenizer, get_spans) -> Dict[str, List[int]]:
    """Per note: spaCy tokens, wordpieces of the tokens, windows, wordpieces of the windows."""
    tokenizer = tokenizer_for(factory)
    result = {"tokens": [], "token_wordpieces": [], "windows": [], "window_wordpieces": [], "longest_window": []}
    for text in notes.values():
        doc = tokenizer(text)
        assert doc.text == text
        windows = get_spans([doc])[0]
        token_pieces = wordpiece_tokenizer([t.text for t in doc], add_special_tokens=False)["input_ids"]
        window_pieces = wordpiece_tokenizer([span.text for span in windows], add_special_tokens=True)["input_ids"]
        result["tokens"].append(len(doc))
        result["token_wordpieces"].append(sum(map(len, token_pieces)))
        result["windows"].append(len(windows))
        result["window_wordpieces"].append(sum(map(len, window_pieces)))
        result["longest_window"].append(max(map(len, window_pieces)))
    return result


def words_per_second(factory: Factory, texts: List[str], repeats: int) -> float:
    """Whitespace-separated words tokenized per CPU second, best of ``repeats`` fresh tokenizers."""
    words = sum(len(text.split()) for text in texts)
    best = float("inf")
    for _ in range(repeats):
        tokenizer = tokenizer_for(factory)
        start = time.process_time()
        for text in texts:
            tokenizer(text)
        best = min(best, time.process_time() - start)
    return words / best


def transformer_settings(config_path: Path):
    """(Hugging Face tokenizer, span getter, span getter settings, transformer name) of the config."""
    from transformers import AutoTokenizer

    model = spacy.util.load_config(config_path, interpolate=True)["components"]["transformer"]["model"]
    tokenizer = AutoTokenizer.from_pretrained(resolve_transformer(model["name"]), **model.get("tokenizer_config", {}))
    get_spans = spacy.registry.resolve({"get_spans": model["get_spans"]})["get_spans"]
    return tokenizer, get_spans, dict(model["get_spans"]), model["name"]


def main(
    notes_dir: Path = typer.Option(REPO_ROOT / "assets" / "sample" / "n2c2", "--notes", help="brat folder with train/ and test/"),
    revision: str = typer.Option("HEAD", help="git revision of the tokenizer to compare"),
    config: Path = typer.Option(REPO_ROOT / "configs" / "default.cfg", help="config whose transformer and span getter to use"),
    repeats: int = typer.Option(5, help="timing repeats, best kept"),
    revision_notes_too: bool = typer.Option(False, "--revision-notes", help="also count the revision's tokenizer on the revision's own notes"),
    output: Optional[Path] = typer.Option(None, help="write the numbers as JSON here"),
) -> None:
    """Tokens and wordpieces per note, and tokenizer speed, at a git revision and now."""
    wordpiece_tokenizer, get_spans, span_settings, transformer = transformer_settings(config)
    notes = folder_notes(notes_dir)
    runs = {f"{revision} tokenizer": revision_factory(revision), "current tokenizer": make_clinical_tokenizer}
    rows = {name: counts(factory, notes, wordpiece_tokenizer, get_spans) for name, factory in runs.items()}
    if revision_notes_too:
        old_notes = revision_notes(revision, notes_dir)
        rows[f"{revision} tokenizer, {revision} notes"] = counts(
            runs[f"{revision} tokenizer"], old_notes, wordpiece_tokenizer, get_spans)
    texts = list(notes.values())
    without_placeholders = [PLACEHOLDER.sub("", text) for text in texts]
    speed = {name: {"notes": words_per_second(factory, texts, repeats),
                    "notes without placeholders": words_per_second(factory, without_placeholders, repeats)}
             for name, factory in runs.items()}

    print(f"{len(notes)} notes ({notes_dir}), span getter {span_settings}, "
          f"wordpieces by {transformer}'s tokenizer\n")
    print("| tokenizer | tokens/note | token wordpieces/note | windows/note | window wordpieces/note "
          "| window wordpieces, total | longest window |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, row in rows.items():
        n = len(row["tokens"])
        print(f"| {name} | {sum(row['tokens']) / n:.1f} | {sum(row['token_wordpieces']) / n:.1f} "
              f"| {sum(row['windows']) / n:.2f} | {sum(row['window_wordpieces']) / n:.1f} "
              f"| {sum(row['window_wordpieces'])} | {max(row['longest_window'])} |")
    print("\n| tokenizer | words/s, notes | words/s, notes without placeholders |\n| --- | --- | --- |")
    for name, speeds in speed.items():
        print(f"| {name} | {speeds['notes']:,.0f} | {speeds['notes without placeholders']:,.0f} |")
    if output:
        output.write_text(json.dumps({"notes": str(notes_dir), "span_getter": span_settings, "transformer": transformer,
                                           "per_note": rows, "words_per_second": speed}, indent=1))


if __name__ == "__main__":
    typer.run(main)
