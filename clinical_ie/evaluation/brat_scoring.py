"""Score a folder of brat predictions against a gold folder as the official n2c2 2018 script does.

An independent implementation of the counting rules of the organisers' ``track2-evaluate-ver4.py``
(written from its documented behaviour, none of its code), so that the brat files ``evaluate`` and
``annotate --brat`` write can be checked against the official numbers without running it:

- documents: the ``.ann`` names present in *both* folders (a gold file without a prediction file is
  not scored);
- ``T`` lines: ``id<TAB>type offsets<TAB>text``, exactly three tab-separated fields (a tab in the
  text crashes the official script: here it is an error naming file and line); the entity spans
  from the first fragment's start to the last fragment's end *as written*, and the official script
  reads at most three fragments (more is an error here);
- ``R`` lines: ``id<TAB>type Arg1:<id> Arg2:<id>``; the first argument listed is Arg1;
- an id written twice keeps its last line; other lines are ignored;
- per document and mode, system items are taken in file order; an item matching a gold item that an
  earlier system item already matched is a duplicate and is dropped (it still claims the other gold
  items it matches); TP = remaining system items matching some gold item, FP = remaining system
  items - TP, FN = gold items - TP. Entities match on type and span (strict: same start and end;
  lenient: a character in common); relations on type and both arguments in the same mode;
- micro scores pool the counts over documents; a ratio with a zero denominator is 0.

Run ``python -m clinical_ie.evaluation.brat_scoring GOLD_DIR SYSTEM_DIR`` for the table.
"""

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, NamedTuple, Sequence, Union

from .metrics.spans import MATCH_MODES, Counts

MAX_FRAGMENTS = 3
"""Fragments of one entity that the official script can read."""


class BratFormatError(ValueError):
    """An ``.ann`` line the official script could not read, located by file and line."""


class OfficialEntity(NamedTuple):
    """An entity as the official script sees it: type, first start, last end."""

    type: str
    start: int
    end: int


class OfficialRelation(NamedTuple):
    """A relation as the official script sees it: type and its two entities."""

    type: str
    arg1: OfficialEntity
    arg2: OfficialEntity


@dataclass
class OfficialDocument:
    """The entities and relations of one ``.ann`` file, in file order."""

    entities: List[OfficialEntity] = field(default_factory=list)
    relations: List[OfficialRelation] = field(default_factory=list)


def read_official_ann(path: Union[str, Path]) -> OfficialDocument:
    """Read one ``.ann`` file with the official script's reading rules (see the module docstring)."""
    path = Path(path)
    entities: Dict[str, OfficialEntity] = {}
    relation_lines: Dict[str, tuple] = {}
    with open(path, encoding="utf8") as ann:
        for number, raw in enumerate(ann, start=1):
            line = raw.strip()
            if line.startswith("T"):
                fields = line.split("\t")
                if len(fields) != 3:
                    raise BratFormatError(f"{path.name}:{number}: a T line needs 3 tab-separated fields, found {len(fields)}")
                parts = fields[1].split(" ")
                if not 3 <= len(parts) <= MAX_FRAGMENTS + 2:
                    raise BratFormatError(
                        f"{path.name}:{number}: expected 'type start end' with at most {MAX_FRAGMENTS} fragments"
                    )
                try:
                    entities[fields[0].strip()] = OfficialEntity(parts[0], int(parts[1]), int(parts[-1]))
                except ValueError:
                    raise BratFormatError(f"{path.name}:{number}: offsets are not integers") from None
            elif line.startswith("R"):
                fields = line.split("\t")
                parts = fields[1].split(" ") if len(fields) == 2 else []
                if len(parts) != 3 or not all(":" in part for part in parts[1:]):
                    raise BratFormatError(f"{path.name}:{number}: expected 'R<id><TAB><type> Arg1:<id> Arg2:<id>'")
                relation_lines[fields[0].strip()] = (number, parts[0], parts[1].split(":")[1], parts[2].split(":")[1])
    document = OfficialDocument(entities=list(entities.values()))
    for number, relation_type, arg1, arg2 in relation_lines.values():
        missing = [arg for arg in (arg1, arg2) if arg not in entities]
        if missing:
            raise BratFormatError(f"{path.name}:{number}: relation argument(s) {missing} name no T line")
        document.relations.append(OfficialRelation(relation_type, entities[arg1], entities[arg2]))
    return document


def entities_match(gold: OfficialEntity, system: OfficialEntity, mode: str) -> bool:
    """The official entity match: same type, and same span (strict) or a shared character (lenient)."""
    if gold.type != system.type:
        return False
    if mode == "strict":
        return (gold.start, gold.end) == (system.start, system.end)
    return gold.start < system.end and system.start < gold.end


def relations_match(gold: OfficialRelation, system: OfficialRelation, mode: str) -> bool:
    """The official relation match: same type and both arguments matching in ``mode``."""
    return (
        gold.type == system.type
        and entities_match(gold.arg1, system.arg1, mode)
        and entities_match(gold.arg2, system.arg2, mode)
    )


def official_counts(gold: Sequence, system: Sequence, matches) -> Counts:
    """TP / FP / FN of one document in the official formulation: prune duplicates from the system
    items in order, then count the kept items that match a gold item. Written apart from
    :func:`clinical_ie.evaluation.metrics.spans.count_matches` on purpose: it is the cross-check of that code."""
    claimed: List[int] = []
    kept = []
    for item in system:
        hits = [i for i, g in enumerate(gold) if matches(g, item)]
        if any(i in claimed for i in hits):
            claimed.extend(i for i in hits if i not in claimed)
            continue
        claimed.extend(hits)
        kept.append(item)
    tp = sum(1 for item in kept if any(matches(g, item) for g in gold))
    return Counts(tp=tp, fp=len(kept) - tp, fn=len(gold) - tp)


def score_brat_folders(gold_dir: Union[str, Path], system_dir: Union[str, Path]) -> Dict[str, object]:
    """Micro counts and scores of ``system_dir`` against ``gold_dir``: ``{"documents": n,
    "entities": {mode: Counts.as_dict()}, "relations": {mode: ...}}`` for both modes."""
    gold_dir, system_dir = Path(gold_dir), Path(system_dir)
    names = sorted({p.name for p in gold_dir.glob("*.ann")} & {p.name for p in system_dir.glob("*.ann")})
    pairs = [(read_official_ann(gold_dir / name), read_official_ann(system_dir / name)) for name in names]
    result: Dict[str, object] = {"documents": len(names)}
    for target, matches in (("entities", entities_match), ("relations", relations_match)):
        result[target] = {
            mode: sum(
                (
                    official_counts(getattr(gold, target), getattr(system, target), lambda g, s, m=mode: matches(g, s, m))
                    for gold, system in pairs
                ),
                Counts(),
            ).as_dict()
            for mode in MATCH_MODES
        }
    return result


def format_scores(scores: Dict[str, object]) -> str:
    """The micro scores as a plain-text table."""
    lines = [f"{scores['documents']} documents", f"{'':<10} {'mode':<8} {'P':>7} {'R':>7} {'F1':>7}"]
    for target in ("entities", "relations"):
        for mode in MATCH_MODES:
            s = scores[target][mode]
            lines.append(f"{target:<10} {mode:<8} {s['precision']:7.4f} {s['recall']:7.4f} {s['f1']:7.4f}")
    return "\n".join(lines)


def main(argv: Sequence[str] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("gold_dir", type=Path, help="folder of gold NAME.ann files")
    parser.add_argument("system_dir", type=Path, help="folder of predicted NAME.ann files")
    parser.add_argument("--json", action="store_true", help="print the counts and scores as JSON")
    args = parser.parse_args(argv)
    scores = score_brat_folders(args.gold_dir, args.system_dir)
    print(json.dumps(scores, indent=2) if args.json else format_scores(scores))


if __name__ == "__main__":
    main()
