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

Usage: python benchmarks/wordpieces.py [--notes assets/sample/n2c2] [--revision HEAD]
       [--config configs/default.cfg] [--repeats 5] [--revision-notes] [--output F.json]
"""

import argparse
import importlib.util
import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

import spacy
from spacy.tokens import Doc

from clinical_ie.io.tokenizer import PLACEHOLDER, create_clinical_tokenizer, make_clinical_tokenizer
from clinical_ie.transformer import resolve_transformer

REPO_ROOT = Path(__file__).resolve().parent.parent
TOKENIZER_SOURCE = "clinical_ie/io/tokenizer.py"
REGISTERED_NAME = "clinical_ie.ClinicalTokenizer.v1"

Factory = Callable[[spacy.Language], Callable[[str], Doc]]


def git(*args: str) -> bytes:
    """Output of a git command run in the repository."""
    return subprocess.run(["git", *args], cwd=REPO_ROOT, check=True, capture_output=True).stdout


def revision_factory(revision: str) -> Factory:
    """``make_clinical_tokenizer`` of ``clinical_ie/io/tokenizer.py`` as committed at ``revision``."""
    with tempfile.NamedTemporaryFile("wb", suffix=".py", delete=False) as handle:
        handle.write(git("show", f"{revision}:{TOKENIZER_SOURCE}"))
    spec = importlib.util.spec_from_file_location("tokenizer_at_revision", handle.name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    Path(handle.name).unlink()
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
    relative = folder.resolve().relative_to(REPO_ROOT).as_posix()
    paths = git("ls-tree", "-r", "--name-only", revision, "--", relative).decode("utf8").split()
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


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=Path, default=REPO_ROOT / "assets" / "sample" / "n2c2",
                        help="brat folder with train/ and test/ (default: assets/sample/n2c2)")
    parser.add_argument("--revision", default="HEAD", help="git revision of the tokenizer to compare (default HEAD)")
    parser.add_argument("--config", type=Path, default=REPO_ROOT / "configs" / "default.cfg",
                        help="config whose transformer and span getter to use (default configs/default.cfg)")
    parser.add_argument("--repeats", type=int, default=5, help="timing repeats, best kept (default 5)")
    parser.add_argument("--revision-notes", action="store_true",
                        help="also count the revision's tokenizer on the revision's own notes")
    parser.add_argument("--output", type=Path, help="write the numbers as JSON here")
    args = parser.parse_args(argv)

    wordpiece_tokenizer, get_spans, span_settings, transformer = transformer_settings(args.config)
    notes = folder_notes(args.notes)
    runs = {f"{args.revision} tokenizer": revision_factory(args.revision), "current tokenizer": make_clinical_tokenizer}
    rows = {name: counts(factory, notes, wordpiece_tokenizer, get_spans) for name, factory in runs.items()}
    if args.revision_notes:
        old_notes = revision_notes(args.revision, args.notes)
        rows[f"{args.revision} tokenizer, {args.revision} notes"] = counts(
            runs[f"{args.revision} tokenizer"], old_notes, wordpiece_tokenizer, get_spans)
    texts = list(notes.values())
    without_placeholders = [PLACEHOLDER.sub("", text) for text in texts]
    speed = {name: {"notes": words_per_second(factory, texts, args.repeats),
                    "notes without placeholders": words_per_second(factory, without_placeholders, args.repeats)}
             for name, factory in runs.items()}

    print(f"{len(notes)} notes ({args.notes}), span getter {span_settings}, "
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
    if args.output:
        args.output.write_text(json.dumps({"notes": str(args.notes), "span_getter": span_settings, "transformer": transformer,
                                           "per_note": rows, "words_per_second": speed}, indent=1))


if __name__ == "__main__":
    main()
