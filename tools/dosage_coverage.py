"""Share of gold Strength, Dosage, Frequency and Duration strings that the dosage parser reads.

Reads the T lines of every NAME.ann beside a NAME.txt in the given brat folders (default: the
sample n2c2 train and test folders), takes each entity's text field (``T1<TAB>Strength 10
16<TAB>500 mg``: fragments joined by one space; the note's text at the offsets where a line has
no text field), parses it with clinical_ie.pipeline.dosage.parse_attribute
and prints, per label, the mentions parsed out of all and every distinct string not parsed
(with its count), so a reviewer can judge what is missed.
"""

from collections import Counter
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Tuple

import typer

from clinical_ie.corpora.brat import BratEntity, brat_pairs, fragment_text, parse_ann
from clinical_ie.corpora.conversion_report import ConversionReport
from clinical_ie.pipeline.dosage import PARSERS, parse_attribute

from .revisions import REPO_ROOT

DEFAULT_FOLDERS = [REPO_ROOT / "assets" / "sample" / "n2c2" / "train", REPO_ROOT / "assets" / "sample" / "n2c2" / "test"]


def gold_mentions(folders: Iterable[Path], labels: Iterable[str]) -> Iterator[Tuple[str, BratEntity, str]]:
    """``(note stem, entity, text)`` of every gold entity of ``labels`` in the brat ``folders``;
    the text is the T line's text field (fragments joined by one space), or the note's text at
    the offsets where a line has none."""
    labels = set(labels)
    report = ConversionReport("brat")
    for folder in folders:
        for txt_path, ann_path in brat_pairs(folder, report):
            entities = parse_ann(ann_path.read_text(encoding="utf8"), ann_path.name, report).entities
            note = txt_path.read_bytes().decode("utf8")  # no newline translation: offsets index it
            for entity in entities:
                if entity.label in labels:
                    yield txt_path.stem, entity, entity.ann_text if entity.ann_text is not None else fragment_text(note, entity.fragments)


def gold_strings(folders: Iterable[Path]) -> Dict[str, Counter]:
    """Label -> Counter of the entity texts of that label, over the labels the parser reads."""
    strings: Dict[str, Counter] = {label: Counter() for label in PARSERS}
    for _, entity, text in gold_mentions(folders, PARSERS):
        strings[entity.label][text] += 1
    return strings


def coverage_report(strings: Dict[str, Counter]) -> List[str]:
    """Lines: per label, mentions parsed / all (share), distinct strings parsed / all, then each
    distinct string not parsed with its count."""
    lines = []
    for label, counts in strings.items():
        unparsed = {text: count for text, count in counts.items() if parse_attribute(label, text) is None}
        total, missed = sum(counts.values()), sum(unparsed.values())
        share = (total - missed) / total if total else 0.0
        lines.append(
            f"{label}: {total - missed}/{total} mentions parsed ({share:.1%}); "
            f"{len(counts) - len(unparsed)}/{len(counts)} distinct strings"
        )
        lines += [f"  not parsed: {text!r} x{count}" for text, count in sorted(unparsed.items(), key=lambda item: (-item[1], item[0]))]
    return lines


def main(
    folders: List[Path] = typer.Argument(None, help="brat folders (default: the sample n2c2 train and test)"),
) -> None:
    """Per label, the share of gold strings the dosage parser reads, and those it does not."""
    typer.echo("\n".join(coverage_report(gold_strings(folders or DEFAULT_FOLDERS))))


if __name__ == "__main__":
    typer.run(main)
