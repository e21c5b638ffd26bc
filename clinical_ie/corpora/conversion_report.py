"""Conversion report and the error raised for bad input in strict mode.

The report holds counts, reasons, file names and line numbers only, never note text.
Entity arithmetic: ``entities_read == entities_kept + sum(entities_dropped.values())``;
likewise for relations.
"""

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Tuple


class ConversionError(Exception):
    """Bad input data, located by file name and line (0: the whole file)."""

    def __init__(self, file: str, line: int, reason: str, detail: str):
        self.file = file
        self.line = line
        self.reason = reason
        self.detail = detail
        super().__init__(f"{file}:{line}: {reason}: {detail}")


@dataclass
class Issue:
    """One located problem or warning: file name, line (0: whole file), reason, detail."""

    file: str
    line: int
    reason: str
    detail: str

    def to_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "reason": self.reason, "detail": self.detail}


def _issue_summary(issues: list) -> dict:
    return {
        "count": len(issues),
        "by_reason": dict(Counter(issue.reason for issue in issues)),
        "items": [issue.to_dict() for issue in issues],
    }


@dataclass
class ConversionReport:
    """Counts of one conversion run; ``strict`` turns the first problem into an error.

    A *problem* is bad input: the item is skipped (or, in strict mode,
    :class:`ConversionError` is raised). A *warning* is noted and the item kept.
    """

    source_format: str
    strict: bool = False
    documents: int = 0
    tokens: int = 0
    handover_tokens: int = 0
    entities_read: int = 0
    entities_kept: int = 0
    entities_dropped: Counter = field(default_factory=Counter)
    by_label: dict = field(default_factory=lambda: defaultdict(Counter))
    entities_not_in_ents: Counter = field(default_factory=Counter)
    boundaries: int = 0
    boundaries_aligned: int = 0
    misaligned: int = 0
    relations_read: int = 0
    relations_kept: int = 0
    relations_dropped: Counter = field(default_factory=Counter)
    attributes_read: int = 0
    attributes_kept: Counter = field(default_factory=Counter)
    attributes_dropped: Counter = field(default_factory=Counter)
    other_annotations: Counter = field(default_factory=Counter)
    text_mismatches: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    sampling: Optional[dict] = None
    seconds: float = 0.0

    def problem(self, file: str, line: int, reason: str, detail: str) -> None:
        """Record bad input; raise :class:`ConversionError` instead in strict mode."""
        if self.strict:
            raise ConversionError(file, line, reason, detail)
        self.problems.append(Issue(file, line, reason, detail))

    def warn(self, file: str, line: int, reason: str, detail: str) -> None:
        """Record a warning (the item is kept, also in strict mode)."""
        self.warnings.append(Issue(file, line, reason, detail))

    def entity_read(self, label: str) -> None:
        self.entities_read += 1
        self.by_label[label]["read"] += 1

    def entity_kept(self, label: str) -> None:
        self.entities_kept += 1
        self.by_label[label]["kept"] += 1

    def entity_dropped(self, reason: str) -> None:
        self.entities_dropped[reason] += 1

    def entity_in_ents(self, label: str) -> None:
        self.by_label[label]["in_ents"] += 1

    def entity_not_in_ents(self, reason: str) -> None:
        self.entities_not_in_ents[reason] += 1

    def boundaries_checked(self, aligned_start: bool, aligned_end: bool) -> None:
        """Count the two boundaries of a kept entity; a span with either off is misaligned."""
        self.boundaries += 2
        self.boundaries_aligned += aligned_start + aligned_end
        self.misaligned += not (aligned_start and aligned_end)

    def relation_dropped(self, reason: str) -> None:
        self.relations_dropped[reason] += 1

    def attribute_dropped(self, reason: str) -> None:
        self.attributes_dropped[reason] += 1

    @property
    def alignment_rate(self) -> float:
        """Share of entity boundaries on token boundaries (1.0 with no entities)."""
        return self.boundaries_aligned / self.boundaries if self.boundaries else 1.0

    def to_dict(self) -> dict:
        """The JSON-ready report."""
        return {
            "format": self.source_format,
            "strict": self.strict,
            "documents": self.documents,
            "tokens": self.tokens,
            "handover_tokens": self.handover_tokens,
            "entities_read": self.entities_read,
            "entities_kept": self.entities_kept,
            "entities_dropped": dict(self.entities_dropped),
            "by_label": {
                label: {key: counts[key] for key in ("read", "kept", "in_ents")}
                for label, counts in sorted(self.by_label.items())
            },
            "entities_not_in_ents": dict(self.entities_not_in_ents),
            "misaligned": self.misaligned,
            "boundaries": self.boundaries,
            "boundaries_aligned": self.boundaries_aligned,
            "alignment_rate": self.alignment_rate,
            "relations_read": self.relations_read,
            "relations_kept": self.relations_kept,
            "relations_dropped": dict(self.relations_dropped),
            "attributes_read": self.attributes_read,
            "attributes_kept": dict(self.attributes_kept),
            "attributes_dropped": dict(self.attributes_dropped),
            "other_annotations": dict(self.other_annotations),
            "text_mismatches": _issue_summary(self.text_mismatches),
            "problems": _issue_summary(self.problems),
            "warnings": _issue_summary(self.warnings),
            "sampling": self.sampling,
            "seconds": round(self.seconds, 3),
        }

    def write_json(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf8")

    def format_table(self) -> str:
        """The report as a plain-text table for the console."""
        lines = [
            f"{self.source_format}: {self.documents} documents, {self.tokens} tokens"
            f" in {self.seconds:.1f} s",
            f"entities read {self.entities_read}, kept {self.entities_kept},"
            f" dropped {sum(self.entities_dropped.values())} {dict(self.entities_dropped)}",
            f"{'label':<50} {'read':>7} {'kept':>7} {'in_ents':>7}",
        ]
        for label, counts in sorted(self.by_label.items()):
            lines.append(
                f"{label:<50} {counts['read']:>7} {counts['kept']:>7} {counts['in_ents']:>7}"
            )
        lines += [
            f"not in doc.ents: {dict(self.entities_not_in_ents)}",
            f"alignment: {self.boundaries_aligned}/{self.boundaries} boundaries"
            f" ({self.alignment_rate:.4%}), misaligned entities {self.misaligned}",
            f"relations read {self.relations_read}, kept {self.relations_kept},"
            f" dropped {dict(self.relations_dropped)}",
        ]
        if self.attributes_read:
            lines.append(
                f"attributes read {self.attributes_read}, kept {dict(self.attributes_kept)},"
                f" dropped {dict(self.attributes_dropped)}"
            )
        if self.handover_tokens:
            lines.append(f"handover tokens: {self.handover_tokens}")
        if self.other_annotations:
            lines.append(f"other annotation lines: {dict(self.other_annotations)}")
        if self.sampling:
            lines.append(f"sampling: {self.sampling}")
        for title, issues in (
            ("text mismatches", self.text_mismatches),
            ("problems", self.problems),
            ("warnings", self.warnings),
        ):
            if issues:
                lines.append(f"{title}: {dict(Counter(issue.reason for issue in issues))}")
                lines += [
                    f"  {i.file}:{i.line}: {i.reason}: {i.detail}" for i in issues[:20]
                ]
                if len(issues) > 20:
                    lines.append(f"  ... {len(issues) - 20} more in the JSON report")
        return "\n".join(lines)


def read_note_file(
    path: Path, report: ConversionReport, empty_ok: bool = False
) -> Optional[Tuple[str, bool]]:
    """Read a UTF-8 file byte-exactly (no newline translation, like ``newline=""``).

    Returns ``(text, had_bom)``: a leading BOM is removed and reported as a warning
    (reason ``bom``). Non-UTF-8 bytes, and an empty file unless ``empty_ok`` (then a
    warning), are a problem and give ``None``.
    """
    path = Path(path)
    data = path.read_bytes()
    if not data:
        if not empty_ok:
            report.problem(path.name, 0, "empty_file", "file is empty")
            return None
        report.warn(path.name, 0, "empty_file", "file is empty")
    try:
        text = data.decode("utf8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        report.problem(path.name, line, "not_utf8", f"byte {error.start} is not UTF-8")
        return None
    had_bom = text.startswith("\ufeff")
    if had_bom:
        report.warn(path.name, 1, "bom", "byte-order mark removed")
    return text[had_bom:], had_bom
