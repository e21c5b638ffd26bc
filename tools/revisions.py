"""Code and files as committed at a git revision, to measure the current code against it."""

import importlib.util
import subprocess
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Sequence

REPO_ROOT = Path(__file__).resolve().parent.parent


def git(*args: str) -> bytes:
    """Output of a git command run in the repository."""
    return subprocess.run(["git", *args], cwd=REPO_ROOT, check=True, capture_output=True).stdout


def committed_paths(revision: str, folder: str) -> list:
    """Files under ``folder`` (relative to the repository) at ``revision``."""
    return git("ls-tree", "-r", "--name-only", revision, "--", folder).decode("utf8").split()


def module_at_revision(revision: str, paths: Sequence[str], name: str) -> ModuleType:
    """The first of ``paths`` that exists at ``revision``, imported as module ``name`` (a module
    that moved between revisions is found under its older path too)."""
    for path in paths:
        if committed_paths(revision, path):
            source = git("show", f"{revision}:{path}")
            break
    else:
        raise FileNotFoundError(f"none of {', '.join(paths)} exists at {revision}")
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / f"{name}.py"
        file.write_bytes(source)
        spec = importlib.util.spec_from_file_location(name, file)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module
