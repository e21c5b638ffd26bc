"""Where the developer tools write what they measured."""

import json
from pathlib import Path
from typing import Dict


def write_report(stem: Path, report: Dict, markdown: str) -> None:
    """Write ``report`` to ``<stem>.json`` and ``markdown`` to ``<stem>.md``, creating the folder."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_name(stem.name + ".json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf8")
    stem.with_name(stem.name + ".md").write_text(markdown, encoding="utf8")
