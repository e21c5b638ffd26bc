"""Measurements of the annotation command (and the benchmarks): words and peak memory."""

import resource
from pathlib import Path

from spacy.tokens import Doc


def count_words(doc: Doc) -> int:
    """Tokens of ``doc`` that are not whitespace."""
    return sum(not token.is_space for token in doc)


def peak_rss_mib() -> float:
    """This process's resident-set high-water mark, MiB.

    Linux: ``VmHWM`` of ``/proc/self/status``, which starts afresh when a process starts a
    program. Not ``getrusage``'s ``ru_maxrss``: Linux carries that across ``execve``, so a
    spawned child would report its parent's peak. Elsewhere: ``ru_maxrss`` (bytes on macOS).
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
