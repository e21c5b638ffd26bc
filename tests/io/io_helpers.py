"""Helpers for hand-made brat and handover files."""

from pathlib import Path


def write_bytes(path: Path, data) -> Path:
    """Write ``data`` (str as UTF-8, or bytes) exactly, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf8") if isinstance(data, str) else data)
    return path


def ann_line(entity_id: str, label: str, text: str, *fragments) -> str:
    """A ``T`` line whose text field is the fragments of ``text`` joined by a space."""
    offsets = ";".join(f"{start} {end}" for start, end in fragments)
    return f"{entity_id}\t{label} {offsets}\t{' '.join(text[s:e] for s, e in fragments)}"
