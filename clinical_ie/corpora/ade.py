"""ADE corpus (Gurulingappa et al. 2012, ADE-Corpus-V2) reader: ``DRUG-AE.rel`` and ``DRUG-DOSE.rel``.

Each line of the two files is ``PubMed-ID|sentence|effect-or-dose|begin|end|drug|begin|end``
(pipe-delimited; offsets at the level of the annotated document ``PubMed-ID\\n\\nTitle\\n\\nAbstract``,
end exclusive). One Doc per PubMed ID (``doc._.doc_id``, ``doc._.corpus = "ade"``): its annotated
sentences in document order, joined by line breaks (the corpus ships no other text of the
abstract). A sentence's place in its document is the start that the document offsets of its
mentions agree on (the most frequent; a mention that disagrees, or whose text is not in the
sentence, is dropped as ``offset_mismatch``, a problem at its line).

Labels (``source_label`` keeps the corpus's column name):

- ``Adverse-Effect`` -> ``ADE`` (the n2c2 label of the same meaning);
- ``Drug`` -> ``Drug``;
- ``Dose`` -> ``Dose``, its own name: ADE doses mix amounts (``10 mg``, ``1500 mg/m2``), dose levels
  (``high-dose``, ``overdose``) and amounts with schedules (``60 mg twice daily``), none of them
  n2c2's Strength (strength of one unit) or Dosage (units taken) as such.

Relations (``doc._.relations``, Arg1 the attribute, Arg2 the Drug): ``ADE-Drug`` and ``Dose-Drug``.
A mention is the same entity as an earlier one with the same label and offsets (a drug in two
relations): the repeat is counted as ``duplicate_mention``; a repeated relation as ``duplicate``.
``ADE-NEG.txt`` (the sentences without an adverse effect) is not read: the corpus annotates no
drug there, so its sentences would teach a model that the drugs in them are not drugs.
"""

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

from spacy.language import Language
from spacy.tokens import Doc

from .brat import BratEntity
from .conversion_report import ConversionReport, read_note_file
from .sentence_docs import join_sentences, sentence_doc

CORPUS = "ade"
RELATION_FILES = {"DRUG-AE.rel": ("ADE", "adverse_effect"), "DRUG-DOSE.rel": ("Dose", "dose")}
"""File -> (label, source label) of its first entity; the second is always the drug."""
LINE_FORMAT = "expected 8 '|'-separated fields: PubMed-ID|sentence|text|begin|end|drug|begin|end"


@dataclass
class Mention:
    """One entity of a line: label, source label, text, document offsets, file, line."""

    label: str
    source_label: str
    text: str
    begin: int
    end: int
    file: str
    line: int


@dataclass
class RelationLine:
    """One line: its relation type and its two mentions (attribute first, then the drug)."""

    type: str
    attribute: Mention
    drug: Mention


def _parse_line(line: str, file: str, number: int, label: Tuple[str, str], report: ConversionReport):
    """``(pmid, sentence, RelationLine)`` of one line, or None (a problem, two entities and a
    relation read and dropped as ``bad_syntax``)."""
    fields = line.split("|")
    problem = None
    if len(fields) != 8:
        problem = f"{LINE_FORMAT}; got {len(fields)}"
    elif not all(re.fullmatch(r"\d+", fields[i].strip()) for i in (3, 4, 6, 7)):
        problem = f"{LINE_FORMAT}; an offset is not a number"
    if problem is not None:
        for _ in range(2):
            report.entity_read("(unparsed)")
            report.entity_dropped("bad_syntax")
        report.relations_read += 1
        report.relation_dropped("bad_syntax")
        report.problem(file, number, "bad_syntax", problem)
        return None
    pmid, sentence, text, begin, end, drug, drug_begin, drug_end = fields
    attribute = Mention(label[0], label[1], text, int(begin), int(end), file, number)
    drug = Mention("Drug", "drug", drug, int(drug_begin), int(drug_end), file, number)
    return pmid.strip(), sentence, RelationLine(f"{label[0]}-Drug", attribute, drug)


def read_ade_lines(folder: Path, report: ConversionReport) -> Dict[str, Dict[str, List[RelationLine]]]:
    """PubMed ID -> sentence -> its lines, from the relation files of ``folder`` (a missing file
    is a problem)."""
    documents: Dict[str, Dict[str, List[RelationLine]]] = defaultdict(lambda: defaultdict(list))
    for name, label in RELATION_FILES.items():
        path = Path(folder) / name
        if not path.is_file():
            report.problem(name, 0, "missing_file", f"no {name} in the folder")
            continue
        read = read_note_file(path, report, empty_ok=True)
        if read is None:
            continue
        for number, line in enumerate(read[0].split("\n"), start=1):
            line = line.rstrip("\r")
            if not line.strip():
                continue
            parsed = _parse_line(line, name, number, label, report)
            if parsed is not None:
                pmid, sentence, relation = parsed
                documents[pmid][sentence].append(relation)
    return documents


def _sentence_start(sentence: str, mentions: List[Mention]) -> Optional[int]:
    """The document offset of ``sentence`` that most mentions agree on (the smaller on a tie)."""
    votes = Counter()
    for mention in mentions:
        for match in re.finditer(re.escape(mention.text), sentence) if mention.text else ():
            votes[mention.begin - match.start()] += 1
    if not votes:
        return None
    return min(votes, key=lambda start: (-votes[start], start))


def _ade_document(
    pmid: str, sentences: Dict[str, List[RelationLine]], report: ConversionReport, nlp: Optional[Language]
) -> Doc:
    """The Doc of one PubMed ID from its sentences' lines."""
    placed = []
    for sentence, lines in sentences.items():
        mentions = [mention for line in lines for mention in (line.attribute, line.drug)]
        placed.append((_sentence_start(sentence, mentions), sentence, lines))
    placed.sort(key=lambda item: (item[0] is None, item[0] or 0, item[1]))
    _, offsets = join_sentences([sentence for _, sentence, _ in placed])
    entities, ids, relations, seen_relations = [], {}, [], set()
    for (start, sentence, lines), offset in zip(placed, offsets):
        for line in lines:
            line_ids = []
            for mention in (line.attribute, line.drug):
                local = None if start is None else mention.begin - start
                fits = local is not None and sentence[local:local + len(mention.text)] == mention.text
                fits = fits and mention.end - mention.begin == len(mention.text) and bool(mention.text)
                if not fits:
                    report.entity_read(mention.label)
                    report.entity_dropped("offset_mismatch")
                    detail = f"{mention.label} offsets {mention.begin}-{mention.end} do not locate its text in the sentence"
                    report.problem(mention.file, mention.line, "offset_mismatch", detail)
                    line_ids.append(None)
                    continue
                key = (mention.label, offset + local, offset + local + len(mention.text))
                if key in ids:
                    report.entity_read(mention.label)
                    report.entity_dropped("duplicate_mention")
                else:
                    ids[key] = f"T{len(ids) + 1}"
                    entities.append(BratEntity(
                        ids[key], mention.label, [key[1:]], mention.line, mention.text, mention.source_label, mention.file
                    ))
                line_ids.append(ids[key])
            report.relations_read += 1
            relation_key = (line.type, *line_ids)
            if None in line_ids:
                report.relation_dropped("argument_dropped")
            elif relation_key in seen_relations:
                report.relation_dropped("duplicate")
            else:
                seen_relations.add(relation_key)
                relations.append({"id": f"R{len(relations) + 1}", "type": line.type, "arg1": line_ids[0], "arg2": line_ids[1]})
    sentence_texts = [sentence for _, sentence, _ in placed]
    doc = sentence_doc(sentence_texts, entities, pmid, CORPUS, next(iter(RELATION_FILES)), report, nlp=nlp)
    kept_ids = {entry["id"] for entry in doc._.brat_entities}
    doc._.relations = [r for r in relations if r["arg1"] in kept_ids and r["arg2"] in kept_ids]
    report.relations_kept += len(doc._.relations)
    for _ in range(len(relations) - len(doc._.relations)):
        report.relation_dropped("argument_dropped")
    return doc


def read_ade_corpus(folder: Path, report: ConversionReport, nlp: Optional[Language] = None) -> Iterator[Doc]:
    """Every PubMed ID's Doc from ``DRUG-AE.rel`` and ``DRUG-DOSE.rel`` in ``folder``, by ID."""
    documents = read_ade_lines(folder, report)
    for pmid in sorted(documents, key=lambda value: (len(value), value)):
        yield _ade_document(pmid, documents[pmid], report, nlp)
