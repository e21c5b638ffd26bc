"""Training and the library runs of the real-text benchmark, each in a process of its own."""

import json
import logging
import os
import random
import shutil
import subprocess
import sys
import tarfile
from io import BytesIO
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from spacy.tokens import DocBin
from spacy.vocab import Vocab

import clinical_ie.pipeline  # noqa: F401  (registers the extensions the DocBins carry)

from ..revisions import REPO_ROOT, git

logger = logging.getLogger(__name__)

LIBRARY_RUN = REPO_ROOT / "tools" / "realtext" / "library_run.py"


def library_folder(revision: Optional[str], parent: Path) -> Path:
    """A folder holding ``clinical_ie`` and ``configs`` as committed at ``revision`` (None: this
    checkout itself)."""
    if revision is None:
        return REPO_ROOT
    folder = parent / f"library-{revision}"
    if not folder.exists():
        archive = git("archive", "--format=tar", revision, "clinical_ie", "configs")
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(folder, filter="data")
    return folder


def run_in(library: Path, command: Sequence[str], log_name: str, log_dir: Path) -> None:
    """Run ``command`` in ``library`` (its working folder and first import path); its output goes
    to ``log_dir/<log_name>.log``, which names data folders but no note text."""
    env = dict(os.environ, PYTHONPATH=str(library))
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{log_name}.log"
    logger.info("%s: %s (log: %s)", log_name, " ".join(str(c) for c in command[:4]), log)
    with log.open("w", encoding="utf8") as out:
        result = subprocess.run(list(map(str, command)), cwd=library, env=env, stdout=out, stderr=subprocess.STDOUT)
    if result.returncode:
        tail = log.read_text(encoding="utf8").splitlines()[-20:]
        raise RuntimeError(f"{log_name} failed (exit {result.returncode}); end of {log}:\n" + "\n".join(tail))


def training_corpus(corpus: Path, folder: Path, max_words: Optional[int], seed: int = 0) -> Path:
    """``corpus`` itself, or with ``max_words``: a folder whose ``train.spacy`` holds whole training
    documents drawn in a seeded order until they reach ``max_words`` words (its ``dev.spacy`` and
    ``test.spacy`` are the corpus's)."""
    if max_words is None:
        return corpus
    train = folder / "train.spacy"
    if not train.exists():
        docs = list(DocBin(store_user_data=True).from_disk(corpus / "train.spacy").get_docs(Vocab()))
        random.Random(seed).shuffle(docs)
        chosen, words = [], 0
        for doc in docs:
            if words >= max_words:
                break
            chosen.append(doc)
            words += sum(not token.is_space for token in doc)
        folder.mkdir(parents=True, exist_ok=True)
        DocBin(docs=chosen, store_user_data=True).to_disk(train)
        for split in ("dev", "test"):
            shutil.copyfile(corpus / f"{split}.spacy", folder / f"{split}.spacy")
    return folder


def train(library: Path, corpus: Path, output: Path, max_epochs: int, transformer: Optional[str], log_dir: Path) -> Path:
    """``spacy train configs/default.cfg`` of ``library`` on ``corpus/{train,dev}.spacy`` with the
    short-run defaults (only the paths, the epochs and the transformer overridden); returns
    ``model-last``, the final model (what a short run must get right)."""
    model = output / "model-last"
    if model.exists():
        logger.info("reusing %s", model)
        return model
    command = [sys.executable, "-m", "spacy", "train", "configs/default.cfg", "--output", output,
               "--paths.train", corpus / "train.spacy", "--paths.dev", corpus / "dev.spacy",
               "--training.max_epochs", max_epochs]
    if transformer:
        command += ["--components.transformer.model.name", transformer]
    run_in(library, command, f"train-{output.name}", log_dir)
    return model


def library_run(library: Path, arguments: List, log_name: str, log_dir: Path) -> None:
    """``tools/realtext/library_run.py ARGUMENTS`` on ``library``."""
    run_in(library, [sys.executable, LIBRARY_RUN, *arguments], log_name, log_dir)


def read_json(path: Path) -> Dict:
    return json.loads(path.read_text(encoding="utf8"))
