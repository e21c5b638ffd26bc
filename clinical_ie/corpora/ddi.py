"""DDI corpus 2013 (Herrero-Zazo et al. 2013; DrugBank texts and MEDLINE abstracts) XML reader.

A file is ``<document id><sentence id text><entity id charOffset type text/>... <pair id e1 e2
ddi [type]/>...</sentence>...</document>``; ``charOffset`` is ``start-end`` (end inclusive) into
the sentence, several fragments joined by ``;``. One Doc per file (``doc._.doc_id`` the document id,
``doc._.corpus = "ddi"``): its sentences joined by line breaks, a sentence starting at each.

Labels (``source_label`` keeps the DDI type): ``drug`` and ``brand`` (a brand name of a drug) ->
``Drug``, the n2c2 label of a drug name; ``group`` (a class of drugs: ``beta-blockers``) and
``drug_n`` (a substance not approved for human use) keep their names. A discontinuous entity is
spanned from its first start to its last end, its fragments kept in ``doc._.brat_entities``.

Pairs with ``ddi="true"`` are relations (``doc._.relations``, type ``mechanism``, ``effect``,
``advise`` or ``int``; a true pair without a type is a problem); ``ddi="false"`` pairs are counted in
``report.other_annotations["negative_pair"]``. Bad offsets, a pair naming an unknown entity, or a
malformed file are problems at their file and line.
"""

import re
from pathlib import Path
from typing import Iterator, List, Optional

from spacy.language import Language
from spacy.tokens import Doc

from .brat import BratEntity
from .conversion_report import ConversionReport
from .sentence_docs import LocatedHandler, join_sentences, parse_xml, sentence_doc

CORPUS = "ddi"
LABELS = {"drug": "Drug", "brand": "Drug", "group": "group", "drug_n": "drug_n"}
"""DDI entity type -> label."""
_OFFSETS = re.compile(r"^\d+-\d+(;\d+-\d+)*$")


class DDIHandler(LocatedHandler):
    """Collects one DDI document: sentences, entities (sentence index, attributes, line), pairs."""

    def __init__(self):
        super().__init__()
        self.doc_id: Optional[str] = None
        self.sentences: List[str] = []
        self.entities: List[tuple] = []
        self.pairs: List[tuple] = []

    def startElement(self, name, attrs):  # noqa: N802 (SAX's name)
        if name == "document":
            self.doc_id = attrs.get("id")
        elif name == "sentence":
            self.sentences.append(attrs.get("text", ""))
        elif name == "entity":
            self.entities.append((len(self.sentences) - 1, dict(attrs), self.line))
        elif name == "pair":
            self.pairs.append((dict(attrs), self.line))


def _entity(handler: DDIHandler, index: int, attrs: dict, line: int, offsets: List[int], file: str,
            report: ConversionReport) -> Optional[BratEntity]:
    """The entity of an ``<entity>`` element with offsets into the document text, or None (counted)."""
    source_label = attrs.get("type", "")
    label = LABELS.get(source_label, source_label)
    char_offset = attrs.get("charOffset", "")
    problem = None
    if index < 0:
        problem = "bad_syntax", "entity outside a sentence"
    elif not _OFFSETS.match(char_offset):
        problem = "bad_offsets", f"charOffset {char_offset!r}: expected 'start-end[;start-end...]'"
    elif source_label not in LABELS:
        problem = "unknown_label", f"entity type {source_label!r}: expected one of {sorted(LABELS)}"
    if problem is None:
        sentence = handler.sentences[index]
        fragments = [tuple(int(n) for n in pair.split("-")) for pair in char_offset.split(";")]
        if any(end >= len(sentence) or start > end for start, end in fragments):
            problem = "offset_out_of_range", f"charOffset {char_offset} outside its sentence ({len(sentence)} characters)"
    if problem is not None:
        report.entity_read(label or "(unparsed)")
        report.entity_dropped(problem[0])
        report.problem(file, line, *problem)
        return None
    start = offsets[index]
    return BratEntity(
        attrs.get("id", ""), label, [(start + begin, start + end + 1) for begin, end in fragments],
        line, attrs.get("text"), source_label,
    )


def read_ddi_document(path: Path, report: ConversionReport, nlp: Optional[Language] = None) -> Optional[Doc]:
    """The Doc of one DDI XML file; None when it does not parse (a problem)."""
    path = Path(path)
    handler = DDIHandler()
    if not parse_xml(path, handler, report):
        return None
    file = path.name
    _, offsets = join_sentences(handler.sentences)
    entities = [
        entity for index, attrs, line in handler.entities
        if (entity := _entity(handler, index, attrs, line, offsets, file, report)) is not None
    ]
    doc = sentence_doc(handler.sentences, entities, handler.doc_id or path.stem, CORPUS, file, report, nlp=nlp)
    kept = {entry["id"] for entry in doc._.brat_entities}
    read = {attrs.get("id") for _, attrs, _ in handler.entities}
    relations = []
    for attrs, line in handler.pairs:
        if attrs.get("ddi") != "true":
            report.other_annotations["negative_pair"] += 1
            continue
        report.relations_read += 1
        missing = [attrs.get(arg) for arg in ("e1", "e2") if attrs.get(arg) not in read]
        if not attrs.get("type"):
            report.relation_dropped("bad_syntax")
            report.problem(file, line, "bad_syntax", f"pair {attrs.get('id')} has ddi=\"true\" and no type")
        elif missing:
            report.relation_dropped("missing_entity")
            report.problem(file, line, "missing_entity", f"pair {attrs.get('id')} refers to undefined {', '.join(map(str, missing))}")
        elif attrs["e1"] not in kept or attrs["e2"] not in kept:
            report.relation_dropped("argument_dropped")
        else:
            report.relations_kept += 1
            relations.append({"id": attrs.get("id", ""), "type": attrs["type"], "arg1": attrs["e1"], "arg2": attrs["e2"]})
    doc._.relations = relations
    return doc


def read_ddi_folder(folder: Path, report: ConversionReport, nlp: Optional[Language] = None) -> Iterator[Doc]:
    """Every ``*.xml`` under ``folder`` (sub-folders too: ``DrugBank/``, ``MedLine/``), by path."""
    for path in sorted(Path(folder).rglob("*.xml")):
        doc = read_ddi_document(path, report, nlp=nlp)
        if doc is not None:
            yield doc
