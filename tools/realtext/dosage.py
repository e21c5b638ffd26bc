"""How much of real Strength, Dosage, Frequency and Duration text the dosage parser reads.

Per label: the gold mentions of the corpora and the share whose text
:func:`clinical_ie.pipeline.dosage.parse_attribute` reads whole (:data:`READ_AS` for labels of
other names). A seeded sample of parsed
mentions is written (outside the repository: it holds corpus text) for checking by hand; a
checked sample (each line's ``correct`` set to true or false) gives the parser's error rate.
"""

import json
import random
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from clinical_ie.evaluation.metrics.spans import gold_entity_spans
from clinical_ie.pipeline.dosage import PARSERS, normalized

CHECK_SAMPLE_SIZE = 50

READ_AS = {"Dose": ("Strength", "Dosage")}
"""Labels of other corpora whose strings the parser reads as one of these n2c2 labels (the ADE
corpus's ``Dose`` holds amounts like n2c2's Strength and counts like its Dosage)."""


def parse_mention(label: str, text: str):
    """The first reading of ``text`` by the parsers of its label (None: none reads it)."""
    for parser_label in READ_AS.get(label, (label,)):
        found = normalized(parser_label, text)
        if found is not None:
            return found
    return None


def gold_mentions(docs_by_corpus: Dict[str, Sequence]) -> List[Dict[str, str]]:
    """``{corpus, label, text}`` of every gold entity whose label the parser reads."""
    mentions = []
    for corpus, docs in docs_by_corpus.items():
        for doc in docs:
            for span in gold_entity_spans(doc):
                if span.label in PARSERS or span.label in READ_AS:
                    mentions.append({"corpus": corpus, "label": span.label, "text": doc.text[span.start:span.end]})
    return mentions


def parse_share(mentions: Sequence[Dict[str, str]]) -> Dict[str, Dict[str, object]]:
    """Per label and corpus: mentions, mentions parsed, share parsed."""
    result: Dict[str, Dict[str, object]] = {}
    for mention in mentions:
        row = result.setdefault(f"{mention['corpus']}/{mention['label']}", {"mentions": 0, "parsed": 0})
        row["mentions"] += 1
        row["parsed"] += parse_mention(mention["label"], mention["text"]) is not None
    for row in result.values():
        row["share"] = row["parsed"] / row["mentions"]
    return result


def write_check_sample(mentions: Sequence[Dict[str, str]], path: Path, seed: int = 0) -> None:
    """A seeded sample of :data:`CHECK_SAMPLE_SIZE` parsed mentions with what the parser made of
    them and ``correct: null``, for a person to fill in."""
    parsed = [m for m in mentions if parse_mention(m["label"], m["text"]) is not None]
    sample = random.Random(seed).sample(parsed, min(CHECK_SAMPLE_SIZE, len(parsed)))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf8") as out:
        for mention in sample:
            record = dict(mention, parsed=parse_mention(mention["label"], mention["text"]), correct=None)
            out.write(json.dumps(record) + "\n")


def checked_error_rate(path: Optional[Path]) -> Optional[Dict[str, object]]:
    """Mentions checked and the share found wrong, from a filled-in check sample (None: no file)."""
    if path is None or not path.exists():
        return None
    verdicts = [json.loads(line)["correct"] for line in path.read_text(encoding="utf8").splitlines() if line.strip()]
    checked = [v for v in verdicts if v is not None]
    return {"checked": len(checked), "wrong": checked.count(False), "error_rate": checked.count(False) / len(checked) if checked else None}
