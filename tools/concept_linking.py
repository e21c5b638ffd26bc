"""How well and how fast ``clinical_concept_linker`` codes Drug mentions.

**Quality** (``--vocabulary``, default the Eunomia excerpt of the tests): the gold Drug mentions
of the sample corpus (``assets/sample/n2c2/{train,test}``). A mention *is in the vocabulary* when
one of the names the sample generator uses for its drug (``tools/sample/words/n2c2.json``: e.g.
``aspirin``, ``Aspirin``, ``ASA``), or its own text, is a concept name of the vocabulary (case
aside). Reported: the share of those mentions linked, the share whose first concept is one of
those named concepts (an automatic check), and how many mentions *not* in the vocabulary were
linked anyway (all wrong). The hand check: 100 of the in-vocabulary mentions (seeded sample)
with their note context and first concept go to ``--check`` (TSV); a person fills ``verdict``
(:data:`VERDICTS`) and the next run counts them, keeping a verdict only while the mention's
concept is the one judged; the share linked correctly is ``correct`` of all sampled.

**Speed and size** (``--names``, default 300,000): a vocabulary of that many drug names written
in Athena's format (tab-separated ``CONCEPT.csv`` and ``CONCEPT_SYNONYM.csv``: RxNorm-shaped
clinical and branded drug names over real and generated ingredient names), read and indexed;
the index's serialized size; mentions per second linking every gold Drug mention of the sample
(median of 3 passes), and the same mentions with their middle letter dropped (so that they take
the fuzzy path); and for comparison rapidfuzz's ``process.extractOne`` (``fuzz.ratio``, cut
off at 80) over the same names, where rapidfuzz is installed.

Writes ``benchmarks/concept-linking.{json,md}``.
"""

import csv
import json
import random
import statistics
import tempfile
from pathlib import Path
from time import perf_counter
from typing import Dict, List, Optional, Tuple

import typer

from clinical_ie.pipeline.concepts.index import ConceptIndex, normalize
from clinical_ie.pipeline.concepts.vocabulary import read_vocabulary

from .dosage_coverage import DEFAULT_FOLDERS, gold_mentions
from .reports import write_report
from .revisions import REPO_ROOT

EUNOMIA = REPO_ROOT / "tests" / "pipeline" / "concepts" / "eunomia"
WORDS = REPO_ROOT / "tools" / "sample" / "words" / "n2c2.json"
CHECK = REPO_ROOT / "benchmarks" / "concept-linking-check.tsv"
REPORT = REPO_ROOT / "benchmarks" / "concept-linking"
VERDICTS = ("correct", "wrong", "uncoded")
"""A hand verdict: the first concept is right, is wrong, or the mention got none."""
CHECK_COLUMNS = ("note", "start", "mention", "context", "concept_id", "concept_name", "score", "verdict")
CHECK_SIZE = 100
FORMS = ("Oral Tablet", "Oral Capsule", "Injectable Solution", "Oral Solution", "Extended Release Oral Tablet",
         "Topical Cream", "Transdermal System", "Inhalation Powder", "Rectal Suppository", "Chewable Tablet")
UNITS = ("MG", "MG/ML", "MCG", "UNT/ML", "MG/HR")
SYLLABLES = ("ba", "ce", "di", "fo", "ga", "hex", "ka", "lo", "mi", "na", "pro", "qui", "ra", "sa", "ta", "vi", "xa", "zo",
             "tin", "mab", "pril", "sar", "lol", "zol", "cin", "vir", "stat", "done", "pam", "mide", "nib", "parin")


def drug_groups() -> Dict[str, List[str]]:
    """Lower-cased drug name -> every name the sample generator uses for that drug."""
    groups = json.loads(WORDS.read_text(encoding="utf8"))["drugs"]
    return {name.lower(): [n.lower() for n in group[0]] for group in groups for name in group[0]}


def quality(vocabulary_path: Path, check_path: Path, min_score: float, seed: int) -> Dict[str, object]:
    """Share linked, share linked to a named concept, out-of-vocabulary links, hand check."""
    vocabulary = read_vocabulary(vocabulary_path)
    index = ConceptIndex.build(vocabulary)
    by_name: Dict[str, set] = {}
    for concept in vocabulary.concepts:
        by_name.setdefault(concept.name.lower(), set()).add(concept.concept_id)
    groups = drug_groups()
    inside, outside = [], []
    for folder in DEFAULT_FOLDERS:
        for note, entity, text in gold_mentions([folder], ["Drug"]):
            names = set(groups.get(text.lower(), [])) | {text.lower()}
            expected = set().union(*(by_name.get(name, set()) for name in names))
            concepts = index.lookup(text, min_score)
            mention = {"note": f"{folder.name}/{note}", "start": entity.start, "mention": text, "expected": expected,
                       "concept": concepts[0] if concepts else None}
            (inside if expected else outside).append(mention)
    linked = [m for m in inside if m["concept"]]
    named = [m for m in linked if m["concept"]["id"] in m["expected"] or m["concept"]["source_id"] in m["expected"]]
    sample = random.Random(seed).sample(inside, min(CHECK_SIZE, len(inside)))
    hand = hand_check(sample, check_path)
    return {
        "vocabulary_concepts": len(vocabulary.concepts),
        "mentions": len(inside) + len(outside),
        "mentions_in_vocabulary": len(inside),
        "linked": len(linked),
        "share_linked": len(linked) / len(inside) if inside else None,
        "linked_to_a_named_concept": len(named),
        "share_linked_to_a_named_concept": len(named) / len(inside) if inside else None,
        "mentions_not_in_vocabulary": len(outside),
        "linked_not_in_vocabulary": sum(m["concept"] is not None for m in outside),
        "linked_not_in_vocabulary_examples": sorted({f"{m['mention']} -> {m['concept']['name']}" for m in outside if m["concept"]}),
        "not_linked_in_vocabulary": sorted({m["mention"] for m in inside if not m["concept"]}),
        "hand_check": hand,
    }


def _context(note: str, start: int, width: int = 40) -> str:
    folder, stem = note.split("/")
    text = (REPO_ROOT / "assets" / "sample" / "n2c2" / folder / f"{stem}.txt").read_text(encoding="utf8")
    return " ".join(text[max(0, start - width) : start + width].split())


def hand_check(sample: List[dict], path: Path) -> Dict[str, object]:
    """Write ``sample`` to ``path`` keeping the verdicts of rows whose concept is unchanged; count them."""
    judged: Dict[Tuple[str, str, str], str] = {}
    if path.exists():
        with open(path, encoding="utf8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                judged[(row["note"], row["start"], row["concept_id"])] = row["verdict"]
    rows = []
    for mention in sorted(sample, key=lambda m: (m["note"], m["start"])):
        concept = mention["concept"] or {}
        concept_id = "" if not concept else str(concept["id"])
        verdict = judged.get((mention["note"], str(mention["start"]), concept_id), "")
        rows.append({
            "note": mention["note"], "start": mention["start"], "mention": mention["mention"],
            "context": _context(mention["note"], mention["start"]), "concept_id": concept_id,
            "concept_name": concept.get("name", ""), "score": concept.get("score", ""),
            "verdict": verdict if verdict in VERDICTS else "",
        })
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf8", newline="") as handle:
        writer = csv.DictWriter(handle, CHECK_COLUMNS, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    counts = {verdict: sum(row["verdict"] == verdict for row in rows) for verdict in VERDICTS}
    return {"mentions": len(rows), "unjudged": sum(not row["verdict"] for row in rows), **counts,
            "share_correct": counts["correct"] / len(rows) if rows else None}


def generated_vocabulary(folder: Path, names: int, seed: int) -> None:
    """``names`` RxNorm-shaped drug names in Athena's format: ingredients (the sample's drugs and
    generated ones), their clinical drugs, branded drugs and a synonym per tenth concept."""
    rng = random.Random(seed)
    real = sorted({name for group in drug_groups().values() for name in group})
    made = set()
    while len(made) < names // 60:
        made.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    ingredients = real + sorted(made - set(real))
    columns = ("concept_id", "concept_name", "domain_id", "vocabulary_id", "concept_class_id", "standard_concept",
               "concept_code", "valid_start_date", "valid_end_date", "invalid_reason")
    with open(folder / "CONCEPT.csv", "w", encoding="utf8") as concepts, open(folder / "CONCEPT_SYNONYM.csv", "w", encoding="utf8") as synonyms:
        concepts.write("\t".join(columns) + "\n")
        synonyms.write("concept_id\tconcept_synonym_name\tlanguage_concept_id\n")
        written = 0
        for concept_id in range(1, names + 1):
            ingredient = ingredients[(concept_id - 1) % len(ingredients)]
            if concept_id <= len(ingredients):
                name, concept_class = ingredient, "Ingredient"
            else:
                strength = f"{rng.choice((0.5, 1, 2.5, 5, 10, 20, 25, 40, 50, 100, 250, 500, 1000))} {rng.choice(UNITS)}"
                name, concept_class = f"{ingredient} {strength} {rng.choice(FORMS)}", "Clinical Drug"
                if rng.random() < 0.3:
                    name, concept_class = f"{name} [{ingredient[:4].title()}{rng.choice(SYLLABLES)}]", "Branded Drug"
            concepts.write(f"{concept_id}\t{name}\tDrug\tRxNorm\t{concept_class}\tS\t{concept_id}\t20000101\t20991231\t\n")
            written += 1
            if concept_id % 10 == 0 and written < names:
                synonyms.write(f"{concept_id}\t{name.upper()}\t4180186\n")
                written += 1
            if written >= names:
                break


def speed(names: int, seed: int, min_score: float, rapidfuzz_mentions: int) -> Dict[str, object]:
    """Index build time and size, and linking rate, for a generated vocabulary of ``names`` names."""
    mentions = [text for _, _, text in gold_mentions(DEFAULT_FOLDERS, ["Drug"])]
    with tempfile.TemporaryDirectory() as folder:
        generated_vocabulary(Path(folder), names, seed)
        started = perf_counter()
        vocabulary = read_vocabulary(Path(folder))
        read_seconds = perf_counter() - started
        index = ConceptIndex.build(vocabulary)
        build_seconds = perf_counter() - started - read_seconds
    data = index.to_bytes()
    started = perf_counter()
    ConceptIndex.from_bytes(data)
    load_seconds = perf_counter() - started
    passes, linked = [], 0
    for _ in range(3):
        started = perf_counter()
        linked = sum(bool(index.lookup(text, min_score)) for text in mentions)
        passes.append(perf_counter() - started)
    exact = sum(normalize(text) in index.key_ids for text in mentions)
    misspelt = [text[: len(text) // 2] + text[len(text) // 2 + 1 :] for text in mentions]  # one letter dropped: fuzzy
    started = perf_counter()
    misspelt_linked = sum(bool(index.lookup(text, min_score)) for text in misspelt)
    misspelt_seconds = perf_counter() - started
    result = {
        "names": len(vocabulary.names), "concepts": len(vocabulary.concepts), "normalized_names": len(index.keys),
        "read_seconds": read_seconds, "build_seconds": build_seconds, "index_bytes": len(data), "load_seconds": load_seconds,
        "mentions": len(mentions), "exact_matches": exact, "linked": linked,
        "mentions_per_second": len(mentions) / statistics.median(passes),
        "misspelt_linked": misspelt_linked, "misspelt_mentions_per_second": len(misspelt) / misspelt_seconds,
    }
    try:
        from rapidfuzz import fuzz, process
    except ImportError:
        return {**result, "rapidfuzz": "not installed"}
    keys = index.keys
    sample = mentions[:rapidfuzz_mentions]
    started = perf_counter()
    for text in sample:
        process.extractOne(normalize(text), keys, scorer=fuzz.ratio, score_cutoff=80)
    return {**result, "rapidfuzz_extract_one_mentions_per_second": len(sample) / (perf_counter() - started),
            "rapidfuzz_mentions": len(sample)}


def markdown(report: Dict[str, object]) -> str:
    q, s = report["quality"], report["speed"]
    hand = q["hand_check"]
    lines = [
        "# Concept linking", "",
        f"`python -m tools.concept_linking` (min_score {report['min_score']}, seed {report['seed']}).", "",
        f"## Quality: sample gold Drug mentions, vocabulary {report['vocabulary']} ({q['vocabulary_concepts']} drug concepts)", "",
        "| | |", "| --- | --- |",
        f"| gold Drug mentions | {q['mentions']} |",
        f"| in the vocabulary | {q['mentions_in_vocabulary']} |",
        f"| linked | {q['linked']} ({q['share_linked']:.1%}) |",
        f"| linked to a concept their drug's names name (automatic) | {q['linked_to_a_named_concept']} ({q['share_linked_to_a_named_concept']:.1%}) |",
        f"| hand check: correct of {hand['mentions']} sampled in-vocabulary mentions | {hand['correct']} ({(hand['share_correct'] or 0):.1%}); "
        f"wrong {hand['wrong']}, uncoded {hand['uncoded']}, unjudged {hand['unjudged']} |",
        f"| mentions not in the vocabulary, linked anyway (wrong) | {q['linked_not_in_vocabulary']} of {q['mentions_not_in_vocabulary']} |",
        "", f"In the vocabulary but not linked: {', '.join(q['not_linked_in_vocabulary']) or 'none'}. "
        f"Linked though not in the vocabulary: {'; '.join(q['linked_not_in_vocabulary_examples']) or 'none'}.", "",
        f"## Speed and size: a generated vocabulary of {s['names']:,} names in Athena's format", "",
        "| | |", "| --- | --- |",
        f"| concepts / distinct normalized names | {s['concepts']:,} / {s['normalized_names']:,} |",
        f"| read / index build | {s['read_seconds']:.1f} s / {s['build_seconds']:.1f} s |",
        f"| index size (serialized, compressed) | {s['index_bytes'] / 2**20:.1f} MiB; load {s['load_seconds']:.2f} s |",
        f"| linking the sample's {s['mentions']} gold Drug mentions | {s['mentions_per_second']:,.0f} mentions/s "
        f"({s['exact_matches']} exact, {s['linked']} linked) |",
        f"| the same mentions with their middle letter dropped (the fuzzy path) | {s['misspelt_mentions_per_second']:,.0f} mentions/s "
        f"({s['misspelt_linked']} linked) |",
    ]
    if "rapidfuzz_extract_one_mentions_per_second" in s:
        lines.append(f"| rapidfuzz `extractOne` (`fuzz.ratio`) over the same names, {s['rapidfuzz_mentions']} mentions | "
                     f"{s['rapidfuzz_extract_one_mentions_per_second']:,.1f} mentions/s |")
    return "\n".join(lines) + "\n"


def main(
    vocabulary: Path = typer.Option(EUNOMIA, help="Athena export folder or RXNCONSO.RRF for the quality figures"),
    check: Path = typer.Option(CHECK, help="hand-check TSV (verdicts kept where the concept is unchanged)"),
    names: int = typer.Option(300_000, help="names of the generated vocabulary for speed and size"),
    min_score: float = typer.Option(0.8, help="the linker's min_score"),
    seed: int = typer.Option(0, help="seed of the hand-check sample and the generated vocabulary"),
    rapidfuzz_mentions: int = typer.Option(200, help="mentions timed with rapidfuzz's extractOne (0: none)"),
    output: Optional[Path] = typer.Option(REPORT, help="report stem (.json and .md)"),
) -> None:
    """Quality on the sample's gold Drug mentions, speed and index size on a generated vocabulary."""
    report = {
        "vocabulary": "Eunomia excerpt" if vocabulary == EUNOMIA else vocabulary.name,
        "min_score": min_score, "seed": seed,
        "quality": quality(vocabulary, check, min_score, seed),
        "speed": speed(names, seed, min_score, rapidfuzz_mentions),
    }
    write_report(output, report, markdown(report))
    typer.echo(markdown(report))


if __name__ == "__main__":
    typer.run(main)
