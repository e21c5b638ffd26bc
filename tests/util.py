"""Helpers shared by the tests: paths, a tiny random BERT, transformer pipeline configs,
hand-made brat and handover files, the annotation tests' notes, a throwaway PostgreSQL server."""

import contextlib
import copy
import importlib.util
import json
import string
from pathlib import Path
from types import ModuleType
from typing import Dict, Iterator, Optional

from thinc.api import Config

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = REPO_ROOT / "assets" / "sample"
SAMPLE_NOTES = SAMPLE_DIR / "n2c2" / "test"
CONFIGS = REPO_ROOT / "configs"
EUNOMIA_VOCABULARY = REPO_ROOT / "tests" / "pipeline" / "concepts" / "eunomia"
"""Real RxNorm concepts from OHDSI's Eunomia example data, in Athena's format (see its README.md)."""


def load_script(name: str) -> ModuleType:
    """``scripts/<name>.py`` imported as a module (to call its ``main`` in-process)."""
    spec = importlib.util.spec_from_file_location(f"script_{name}", REPO_ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def script_app(name: str):
    """The typer app of ``scripts/<name>.py`` (its ``app``, or its ``main`` as ``typer.run`` runs
    it), for ``typer.testing.CliRunner().invoke``."""
    import typer

    module = load_script(name)
    app = getattr(module, "app", None)
    if app is None:
        app = typer.Typer(add_completion=False)
        app.command()(module.main)
    return app


# --- a tiny random BERT and pipelines on it ---------------------------------------------

_WORDS = """
the a an of and or to in on for with at by from is was are be been patient pt
mg mcg ml units tablet tab tabs capsule cap po iv sc im prn daily bid tid qid q.d.
q.h.s. qhs x7days days weeks for hours once twice nightly morning evening
aspirin metformin lisinopril heparin insulin warfarin vancomycin furosemide
metoprolol atorvastatin amoxicillin prednisone oxycodone acetaminophen
nausea rash pain fever infection hypertension diabetes bleeding hypotension
discharge admission medications history hospital course allergies
he she his her bed room dr doctor nurse shift status diet wound obs
""".split()


def build_tiny_bert(path: Path, cased: bool = False) -> Path:
    """A random 2-layer BERT (weights seeded) with a WordPiece vocab trained on the sample notes.
    ``cased``: the vocabulary keeps case and the folder has no tokenizer config, as
    Bio_ClinicalBERT's Hub folder (its tokenizer then lowercases unless told not to)."""
    import torch
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    corpus = list(_WORDS)
    if SAMPLE_DIR.exists():
        corpus += [p.read_text(encoding="utf8") for p in sorted(SAMPLE_DIR.rglob("*.txt"))]
    corpus += [" ".join(string.ascii_letters + string.digits + string.punctuation)]
    wordpiece = BertWordPieceTokenizer(lowercase=not cased)
    wordpiece.train_from_iterator(corpus, vocab_size=1500, min_frequency=1, show_progress=False)
    path.mkdir(parents=True, exist_ok=True)
    wordpiece.save_model(str(path))
    tokenizer = BertTokenizerFast(vocab_file=str(path / "vocab.txt"), do_lower_case=not cased)
    tokenizer.save_pretrained(str(path))
    if cased:
        for name in ("tokenizer_config.json", "tokenizer.json", "special_tokens_map.json"):
            (path / name).unlink(missing_ok=True)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=128,
        max_position_embeddings=512,
    )
    with torch.random.fork_rng():
        torch.manual_seed(0)
        BertModel(config).save_pretrained(str(path))
    return path


TRANSFORMER_LISTENER = {
    "@architectures": "spacy-transformers.TransformerListener.v1",
    "grad_factor": 1.0,
    "upstream": "transformer",
    "pooling": {"@layers": "reduce_mean.v1"},
}


def listening(model: Config, **settings) -> Dict:
    """A head's ``[model]`` block (its factory's default, imported by the test) listening to the
    ``transformer`` component, with ``settings`` overriding the head's own."""
    block = copy.deepcopy(dict(model))
    block.update(settings)
    block["tok2vec"] = dict(TRANSFORMER_LISTENER)
    return block


def crf_pipeline_config(*, width: int, depth: int, embed_size: int, maxout_pieces: int,
                        spans_key: Optional[str] = None) -> Config:
    """A pipeline config with one ``clinical_crf_ner`` head named ``ner`` on its own small
    ``HashEmbedCNN`` encoder (no transformer: quick to train)."""
    tok2vec = {
        "@architectures": "spacy.HashEmbedCNN.v2", "pretrained_vectors": None, "width": width, "depth": depth,
        "embed_size": embed_size, "window_size": 1, "maxout_pieces": maxout_pieces, "subword_features": True,
    }
    ner = {"factory": "clinical_crf_ner", "spans_key": spans_key,
           "model": {"@architectures": "clinical_ie.CRFTagger.v1", "tok2vec": tok2vec}}
    return Config({"nlp": {"lang": "en", "pipeline": ["ner"]}, "components": {"ner": ner}})


def transformer_pipeline_config(
    tiny_bert: Path,
    heads: Dict[str, Dict],
    *,
    architecture: str = "spacy-transformers.TransformerModel.v3",
    clinical_tokenizer: bool = False,
    max_batch_items: Optional[int] = 4096,
) -> Config:
    """A pipeline config: a ``transformer`` on ``tiny_bert`` (windows of 64 tokens, stride 48),
    then ``heads`` (name -> component block, e.g. with :func:`listening` models)."""
    transformer = {
        "factory": "transformer",
        "model": {
            "@architectures": architecture,
            "name": str(tiny_bert),
            "get_spans": {"@span_getters": "spacy-transformers.strided_spans.v1", "window": 64, "stride": 48},
            "tokenizer_config": {"use_fast": True},
        },
    }
    if architecture == "spacy-transformers.TransformerModel.v3":
        transformer["model"]["mixed_precision"] = False
    if max_batch_items is not None:
        transformer["max_batch_items"] = max_batch_items
    nlp = {"lang": "en", "pipeline": ["transformer", *heads]}
    if clinical_tokenizer:
        nlp["tokenizer"] = {"@tokenizers": "clinical_ie.ClinicalTokenizer.v1"}
    return Config({"nlp": nlp, "components": {"transformer": transformer, **copy.deepcopy(heads)}})


# --- hand-made corpus files -------------------------------------------------------------

def write_bytes(path: Path, data) -> Path:
    """Write ``data`` (str as UTF-8, or bytes) exactly, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf8") if isinstance(data, str) else data)
    return path


def ann_line(entity_id: str, label: str, text: str, *fragments) -> str:
    """A ``T`` line whose text field is the fragments of ``text`` joined by a space."""
    offsets = ";".join(f"{start} {end}" for start, end in fragments)
    return f"{entity_id}\t{label} {offsets}\t{' '.join(text[s:e] for s, e in fragments)}"


RULE_DRUGS = [
    "aspirin", "metoprolol", "lisinopril", "vancomycin", "prednisone", "warfarin", "oxycodone",
    "lactulose", "senna", "diltiazem", "heparin", "omeprazole", "atorvastatin", "amoxicillin",
]
"""Drugs the rule-based test pipeline (``relation_pipeline`` fixture) tags."""

def build_relation_pipeline(path: Path) -> Path:
    """Save at ``path`` a pipeline without a transformer: rule-based Drug/Strength entities, then
    an (untrained) relation component that links every candidate (threshold 0). The annotation
    tests' model; also ``python -c "from tests.util import build_relation_pipeline;
    build_relation_pipeline(PATH)"`` for the annotation benchmarks on a tiny model."""
    from clinical_ie.pipeline.tokenizer import clinical_english

    nlp = clinical_english()
    ruler = nlp.add_pipe("entity_ruler")
    nlp.add_pipe(
        "clinical_medication_relations",
        name="relations",
        config={"threshold": 0.0, "model": {"tok2vec": {"width": 16, "depth": 1}}},
    )
    nlp.get_pipe("relations").add_label("Strength-Drug")
    nlp.initialize()  # before the patterns: it empties the ruler
    ruler.add_patterns(
        [
            {"label": "Drug", "pattern": [{"LOWER": {"IN": RULE_DRUGS}}]},
            {"label": "Strength", "pattern": [{"LIKE_NUM": True}, {"LOWER": "mg"}]},
        ]
    )
    nlp.to_disk(path)
    return Path(path)


# --- a hand-made n2c2 note and rule predictions (evaluation tests) -------------------------

NOTE_TEXT = "Insulin Pen 10 units sc daily.\nLisinopril stopped for cough and rash.\n"
NOTE_ANN = """T1\tDrug 0 11\tInsulin Pen
T2\tForm 8 11\tPen
T3\tDosage 12 20\t10 units
T4\tRoute 21 23\tsc
T5\tFrequency 24 29\tdaily
T6\tDrug 31 41\tLisinopril
T7\tADE 54 59;64 68\tcough rash
T8\tReason 54 59\tcough
R1\tForm-Drug Arg1:T2 Arg2:T1
R2\tDosage-Drug Arg1:T3 Arg2:T1
R3\tRoute-Drug Arg1:T4 Arg2:T1
R4\tFrequency-Drug Arg1:T5 Arg2:T1
R5\tADE-Drug Arg1:T7 Arg2:T6
R6\tReason-Drug Arg1:T8 Arg2:T6
"""
# Predictions of the rule pipeline: Insulin Pen/Drug (exact), units/Dosage (inside
# "10 units"), sc/Route (exact), Lisinopril/Reason (wrong label), rash/ADE (inside the
# discontinuous ADE 54-68).
RULER_PATTERNS = [
    {"label": "Drug", "pattern": [{"ORTH": "Insulin"}, {"ORTH": "Pen"}]},
    {"label": "Dosage", "pattern": "units"},
    {"label": "Route", "pattern": "sc"},
    {"label": "Reason", "pattern": "Lisinopril"},
    {"label": "ADE", "pattern": "rash"},
]
NOTE_WORDS = {"insulin", "units", "daily", "lisinopril", "stopped", "cough", "rash"}


def write_note(folder: Path, stem: str = "note1") -> None:
    """``<stem>.txt`` and ``.ann`` of the note above in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.txt").write_text(NOTE_TEXT, encoding="utf8")
    (folder / f"{stem}.ann").write_text(NOTE_ANN, encoding="utf8")


# --- notes of the annotation tests ------------------------------------------------------

MAX_CHARS = 20_000
"""The note-length limit the annotation tests run with: the sample notes are shorter, LONG_NOTE longer."""
LONG_NOTE = "aspirin 81 mg daily. " * 1000
BAD_NOTES = {
    "empty": (b"", "empty note"),
    "blank": (b" \n\t\n", "empty note"),
    "latin1": ("aspirin caf\u00e9".encode("latin-1"), "not UTF-8"),
    "long": (LONG_NOTE.encode("utf8"), f"too long: {len(LONG_NOTE)} characters, limit {MAX_CHARS}"),
}
"""File contents of notes that get an error record, and the error."""
SECRET = "Zebulon Quackenbush"
"""A name in one note: it must never reach a log line."""


def folder_notes(folder: Path) -> list:
    """``(id, raw bytes)`` of every ``.txt`` of ``folder``, by name."""
    return [(path.stem, path.read_bytes()) for path in sorted(folder.glob("*.txt"))]


def annotate_command(model, notes, output, *options) -> list:
    """The annotation command line (``scripts/annotate.py``) with the tests' length limit."""
    import sys

    return [sys.executable, str(REPO_ROOT / "scripts" / "annotate.py"), str(model), str(notes), str(output),
            "--max-chars", str(MAX_CHARS), *options]


def copied_notes(notes_dir: Path, folder: Path, copies: int) -> Path:
    """``folder`` holding ``copies`` copies of the ``.txt`` notes of ``notes_dir`` (``NN_<name>``)."""
    folder.mkdir()
    for number in range(copies):
        for path in notes_dir.glob("*.txt"):
            (folder / f"{number:02d}_{path.name}").write_bytes(path.read_bytes())
    return folder


def kill_once_a_shard_is_listed(command: list, output: Path) -> dict:
    """Run ``command``, SIGKILL its process group once the manifest of ``output`` lists a shard;
    the manifest it left (asserted incomplete)."""
    import os
    import signal
    import subprocess
    import time

    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if (output / "manifest.json").exists() and manifest(output)["shards"]:
            break
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    killed = manifest(output)
    assert killed["shards"] and not killed["complete"], "the run ended before it could be killed"
    return killed


def small_settings(**overrides):
    """Annotation settings of the tests: small batches and shards, the tests' length limit, every
    progress line."""
    from clinical_ie.annotate import AnnotationSettings

    return AnnotationSettings(**{"batch_size": 3, "shard_size": 5, "max_chars": MAX_CHARS, "log_every": 0, **overrides})


def manifest(output: Path) -> dict:
    """The ``manifest.json`` of an annotation output folder."""
    from clinical_ie.annotate.output import MANIFEST_NAME

    return json.loads((output / MANIFEST_NAME).read_text(encoding="utf8"))



# --- processes killed at fail points (annotation fault-injection tests) ---------------------

CHILD_TIMEOUT = 180
"""Seconds a child process of the tests may run."""


def start_child(function, *args):
    """A child process running ``function(*args)``, forked from a server process that has
    imported the annotation code once: a process per kill without its imports each time
    (``function`` must be importable: module level)."""
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["clinical_ie.annotate", "tests.util"])
    process = context.Process(target=function, args=args)
    process.start()
    return process


def run_child(function, *args) -> int:
    """Exit status of ``function(*args)`` in a child process (see :func:`start_child`)."""
    process = start_child(function, *args)
    process.join(CHILD_TIMEOUT)
    if process.exitcode is None:
        process.kill()
        raise TimeoutError(f"the child process ran for more than {CHILD_TIMEOUT} s")
    return process.exitcode


def annotate_in_child(model: str, notes: str, output: str, settings, fail_at: Optional[str] = None) -> None:
    """``run_annotation`` with the fail point ``fail_at`` (``CLINICAL_IE_ANNOTATE_FAIL_AT``):
    the target of :func:`run_child`."""
    import os

    from clinical_ie.annotate import run_annotation
    from clinical_ie.annotate.fail_points import FAIL_AT_ENV

    if fail_at:
        os.environ[FAIL_AT_ENV] = fail_at
    run_annotation(model, notes, output, settings)


def hold_output_folder(model: str, notes: str, output: str, ready: str) -> None:
    """Enter (lock) the output folder of ``notes``, touch ``ready``, and wait to be killed."""
    import time

    from clinical_ie.annotate.inputs import scan_input
    from clinical_ie.annotate.output import ShardedOutput
    from clinical_ie.annotate.run import model_identity

    with ShardedOutput(output, scan_input(notes), model_identity(model), shard_size=2, max_chars=MAX_CHARS):
        Path(ready).touch()
        time.sleep(CHILD_TIMEOUT)


def output_state(output: Path) -> dict:
    """What a finished output folder holds: its manifest's shard entries (names, ranges,
    SHA-256), its records and its brat files (name: bytes)."""
    from clinical_ie.annotate import read_annotations

    return {
        "shards": manifest(output)["shards"],
        "records": list(read_annotations(output)),
        "brat": {path.name: path.read_bytes() for path in sorted((output / "brat").glob("*"))},
    }


def postgres_binaries() -> Optional[Path]:
    """The folder of ``initdb`` and ``pg_ctl``: on the PATH, else Debian's newest
    ``/usr/lib/postgresql/<version>/bin``; None without PostgreSQL."""
    import shutil

    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    folders = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    return next((folder for folder in reversed(folders) if (folder / "initdb").exists()), None)


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL server on a Unix socket in a new temporary folder; yields its
    database URL. Run as the ``postgres`` user when we are root (PostgreSQL refuses root).
    Raises RuntimeError saying why when it cannot start."""
    import os
    import shutil
    import subprocess
    import tempfile

    binaries = postgres_binaries()
    if binaries is None:
        raise RuntimeError("no PostgreSQL server binaries (apt-get install postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="clinical-ie-pg-"))
    prefix = []
    if os.geteuid() == 0:
        import pwd

        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(folder)
            raise RuntimeError("running as root and there is no 'postgres' user to run the server as") from None
        os.chown(folder, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data = folder / "data"
    try:
        for command in (
            [str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"],
            [str(binaries / "pg_ctl"), "-D", str(data), "-w", "-l", str(folder / "log"), "-o",
             f"-c listen_addresses='' -c unix_socket_directories='{folder}' -c fsync=off", "start"],
        ):
            result = subprocess.run(prefix + command, capture_output=True, text=True)
            if result.returncode != 0:
                raise RuntimeError(f"{Path(command[0]).name} failed: {(result.stderr or result.stdout).strip()[-300:]}")
        yield f"postgresql://postgres@/postgres?host={folder}"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(prefix + [str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
