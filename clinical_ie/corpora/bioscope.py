"""BioScope (Vincze et al. 2008) reader: negation and speculation cues and their scopes.

A file is ``<Document type><DocID/><DocumentPart type><sentence id>text <xcope id>... <cue
type="negation|speculation" ref="X..">no</cue> ...</xcope>.</sentence>...``; scopes nest. One Doc per
``Document`` (``doc._.doc_id`` its DocID, ``doc._.corpus = "bioscope"``): its sentences, stripped,
joined by line breaks, a sentence starting at each. ``doc.user_data["corpus_part"]`` says the part:
``clinical`` (``Medical_record``: radiology reports), ``abstracts`` or ``papers``. The spans, with
exact character offsets:

- ``doc.spans["negation_cues"]`` / ``["speculation_cues"]``: one span per ``<cue>`` element, label
  the cue type, ``span.id_`` its ``ref`` (the scope it opens; a discontinuous cue such as
  ``either ... or`` is several spans with one id);
- ``doc.spans["negation_scopes"]`` / ``["speculation_scopes"]``: each ``<xcope>`` whose cue has that
  type, label the type, ``span.id_`` the scope id, gold ``span._.assertion`` ``absent``
  (negation) or ``possible`` (speculation).

The counts go to the report as entities (labels ``negation_cue``, ``speculation_cue``,
``negation_scope``, ``speculation_scope``); ``doc.spans["entities"]`` and ``doc.ents`` stay empty
(BioScope marks no concepts). A scope no cue refers to is dropped as ``scope_without_cue``.

**The clinical part** ships as ``clinical_merger/clinical_records_anon.xml`` with every word
replaced by ``*``: the words are those of the 2007 CMC Medical NLP Challenge radiology reports
(``2007ChallengeTrainData.xml``, ``2007ChallengeTestData*.xml``: ``<doc id><text type="CLINICAL_HISTORY|
IMPRESSION">``), given as ``clinical_texts``. Each ``*`` takes the next word (run of ASCII letters
and digits) of its report section (``Impression`` -> ``IMPRESSION``, ``History`` ->
``CLINICAL_HISTORY``). A section whose punctuation and word count differ from the report's is not
merged: its document is dropped (``text_mismatch``, a problem), as is a document whose report is
missing (``missing_text``). Without ``clinical_texts`` the clinical file is skipped with one problem.
"""

import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path
from typing import Collection, Dict, Iterable, Iterator, List, Optional, Tuple

from spacy.language import Language
from spacy.tokens import Doc, Span

from .conversion_report import ConversionReport
from .sentence_docs import CORPUS_PART_KEY, LocatedHandler, join_sentences, parse_xml, sentence_doc

CORPUS = "bioscope"
CUE_TYPES = ("negation", "speculation")
ASSERTION_OF_CUE = {"negation": "absent", "speculation": "possible"}
PARTS = {"Medical_record": "clinical", "Biological_abstract": "abstracts", "Biological_full_article": "papers"}
"""``Document`` type -> corpus part."""
FILES = {"abstracts.xml": "abstracts", "full_papers.xml": "papers", "clinical_merger/clinical_records_anon.xml": "clinical"}
"""The corpus's files under its folder, and their part."""
CMC_SECTIONS = {"Impression": "IMPRESSION", "History": "CLINICAL_HISTORY"}
REDACTED = "*"
_WORD = re.compile(r"[A-Za-z0-9]+")


@dataclass
class Mark:
    """A ``<cue>`` or ``<xcope>`` in a sentence: kind, cue type (scopes: None until resolved), id
    (a cue's ``ref``), character offsets into the sentence, line."""

    kind: str
    type: Optional[str]
    id: str
    start: int
    end: int
    line: int


@dataclass
class Sentence:
    text: str
    line: int
    marks: List[Mark] = field(default_factory=list)


@dataclass
class Part:
    type: str
    sentences: List[Sentence] = field(default_factory=list)


@dataclass
class BioScopeDocument:
    type: str
    line: int
    doc_id: str = ""
    parts: List[Part] = field(default_factory=list)


class BioScopeHandler(LocatedHandler):
    """Collects the documents of a BioScope file, their sentences' text and marks."""

    def __init__(self):
        super().__init__()
        self.documents: List[BioScopeDocument] = []
        self._sentence: Optional[Sentence] = None
        self._open: List[Tuple[Mark, int]] = []
        self._in_doc_id = False

    def startElement(self, name, attrs):  # noqa: N802 (SAX's name)
        if name == "Document":
            self.documents.append(BioScopeDocument(attrs.get("type", ""), self.line))
        elif name == "DocID":
            self._in_doc_id = True
        elif name == "DocumentPart" and self.documents:
            self.documents[-1].parts.append(Part(attrs.get("type", "")))
        elif name == "sentence" and self.documents and self.documents[-1].parts:
            self._sentence = Sentence("", self.line)
            self.documents[-1].parts[-1].sentences.append(self._sentence)
        elif name in ("cue", "xcope") and self._sentence is not None:
            kind, mark_id = ("cue", attrs.get("ref", "")) if name == "cue" else ("scope", attrs.get("id", ""))
            mark = Mark(kind, attrs.get("type") if name == "cue" else None, mark_id, len(self._sentence.text), -1, self.line)
            self._open.append((mark, len(self._open)))

    def endElement(self, name):  # noqa: N802
        if name == "DocID":
            self._in_doc_id = False
        elif name == "sentence":
            self._sentence = None
        elif name in ("cue", "xcope") and self._open:
            mark, _ = self._open.pop()
            mark.end = len(self._sentence.text)
            self._sentence.marks.append(mark)

    def characters(self, content):
        if self._in_doc_id and self.documents:
            self.documents[-1].doc_id += content
        elif self._sentence is not None:
            self._sentence.text += content


def read_cmc_texts(paths: Iterable[Path], report: ConversionReport) -> Dict[str, Dict[str, str]]:
    """Report id -> section type -> text, from CMC 2007 challenge files (``<doc id><texts><text type>``)."""
    texts: Dict[str, Dict[str, str]] = {}
    for path in paths:
        try:
            root = ElementTree.parse(path).getroot()
        except ElementTree.ParseError as error:
            report.problem(Path(path).name, error.position[0], "bad_xml", str(error))
            continue
        for doc in root.iter("doc"):
            texts[doc.get("id", "")] = {text.get("type", ""): text.text or "" for text in doc.iter("text")}
    return texts


def _skeleton(text: str) -> str:
    """``text`` with every word a ``*`` and no whitespace: what redaction must leave equal."""
    return re.sub(r"\s", "", _WORD.sub(REDACTED, text))


def _merge_words(document: BioScopeDocument, texts: Dict[str, Dict[str, str]], file: str,
                 report: ConversionReport) -> bool:
    """Put the report's words in place of the ``*`` of every sentence (marks moved with them);
    False (a problem) when the report is missing or a section does not match it."""
    sections = texts.get(document.doc_id)
    if sections is None:
        report.problem(file, document.line, "missing_text", f"no CMC report {document.doc_id} in the clinical texts")
        return False
    for part in document.parts:
        source = sections.get(CMC_SECTIONS.get(part.type, ""), "")
        if REDACTED in source or _skeleton("".join(s.text for s in part.sentences)) != _skeleton(source):
            report.problem(file, part.sentences[0].line if part.sentences else document.line, "text_mismatch",
                           f"{part.type} of {document.doc_id} differs from the CMC report")
            return False
    for part in document.parts:
        words = iter(_WORD.findall(sections.get(CMC_SECTIONS.get(part.type, ""), "")))
        for sentence in part.sentences:
            pieces, shift_at = [], []
            for index, char in enumerate(sentence.text):
                if char == REDACTED:
                    word = next(words)
                    pieces.append(word)
                    shift_at.append((index, len(word) - 1))
                else:
                    pieces.append(char)
            sentence.text = "".join(pieces)

            def moved(offset: int, shifts=tuple(shift_at)) -> int:
                return offset + sum(shift for index, shift in shifts if index < offset)

            for mark in sentence.marks:
                mark.start, mark.end = moved(mark.start), moved(mark.end)
    return True


def _strip(sentence: Sentence) -> Tuple[str, int]:
    """The sentence without surrounding whitespace, and how many characters left its start."""
    stripped = sentence.text.lstrip()
    return stripped.rstrip(), len(sentence.text) - len(stripped)


def _typed_marks(sentence: Sentence) -> List[Tuple[Mark, Optional[str]]]:
    """The sentence's marks in order, each with its cue type (a scope's: that of its cue)."""
    cue_types = {mark.id: mark.type for mark in sentence.marks if mark.kind == "cue"}
    marks = sorted(sentence.marks, key=lambda m: (m.start, -m.end))
    return [(mark, mark.type if mark.kind == "cue" else cue_types.get(mark.id)) for mark in marks]


def _mark_label(mark: Mark, cue_type: Optional[str]) -> str:
    """The report label of a mark: ``negation_cue``, ``speculation_scope``, ... (``(unknown)_cue``)."""
    return f"{cue_type if cue_type in CUE_TYPES else '(unknown)'}_{mark.kind}"


def _bioscope_doc(document: BioScopeDocument, part_name: str, file: str, report: ConversionReport,
                  nlp: Optional[Language]) -> Doc:
    sentences = [sentence for part in document.parts for sentence in part.sentences]
    stripped = [_strip(sentence) for sentence in sentences]
    doc = sentence_doc([text for text, _ in stripped], [], document.doc_id.strip(), CORPUS, file, report, nlp=nlp)
    doc.user_data[CORPUS_PART_KEY] = part_name
    _, starts = join_sentences([text for text, _ in stripped])
    groups: Dict[str, List[Span]] = {f"{cue}_{kind}": [] for cue in CUE_TYPES for kind in ("cues", "scopes")}
    for sentence, (text, lead), start in zip(sentences, stripped, starts):
        for mark, cue_type in _typed_marks(sentence):
            label = f"{cue_type}_{mark.kind}"
            report.entity_read(_mark_label(mark, cue_type))
            if cue_type not in CUE_TYPES:
                reason = "scope_without_cue" if mark.kind == "scope" else "unknown_cue_type"
                report.entity_dropped(reason)
                report.problem(file, mark.line, reason, f"{mark.kind} {mark.id}: no negation or speculation cue")
                continue
            begin = start + max(0, mark.start - lead)
            end = start + min(len(text), mark.end - lead)
            span = doc.char_span(begin, end, label=cue_type, span_id=mark.id) if begin < end else None
            if span is None and begin < end:
                span = doc.char_span(begin, end, label=cue_type, span_id=mark.id, alignment_mode="expand")
                report.boundaries_checked(span is not None and span.start_char == begin, span is not None and span.end_char == end)
            elif span is not None:
                report.boundaries_checked(True, True)
            if span is None:
                report.entity_dropped("no_token")
                report.problem(file, mark.line, "no_token", f"{mark.kind} {mark.id} covers no token")
                continue
            report.entity_kept(label)
            if mark.kind == "scope":
                span._.assertion = ASSERTION_OF_CUE[cue_type]
            groups[f"{cue_type}_{mark.kind}s"].append(span)
    for key, spans in groups.items():
        doc.spans[key] = spans
    return doc


def read_bioscope_file(path: Path, report: ConversionReport, part: Optional[str] = None,
                       clinical_texts: Optional[Dict[str, Dict[str, str]]] = None,
                       nlp: Optional[Language] = None) -> Iterator[Doc]:
    """Every document of one BioScope file; ``clinical_texts`` (from :func:`read_cmc_texts`)
    fill in the words of redacted clinical documents."""
    path = Path(path)
    handler = BioScopeHandler()
    if not parse_xml(path, handler, report):
        return
    for index, document in enumerate(handler.documents):
        part_name = part or PARTS.get(document.type, document.type)
        redacted = any(REDACTED in s.text for p in document.parts for s in p.sentences) and part_name == "clinical"
        if redacted:
            if clinical_texts is None:
                report.problem(path.name, document.line, "text_redacted",
                               "the clinical records hold no words: give the CMC 2007 challenge files")
                _count_dropped(handler.documents[index:], "text_redacted", report)
                return
            if not _merge_words(document, clinical_texts, path.name, report):
                _count_dropped([document], "text_mismatch", report)
                continue
        yield _bioscope_doc(document, part_name, path.name, report, nlp)


def _count_dropped(documents: Iterable[BioScopeDocument], reason: str, report: ConversionReport) -> None:
    """Count every cue and scope of documents that are not converted as read and dropped."""
    for document in documents:
        for part in document.parts:
            for sentence in part.sentences:
                for mark, cue_type in _typed_marks(sentence):
                    report.entity_read(_mark_label(mark, cue_type))
                    report.entity_dropped(reason)


def read_bioscope_folder(folder: Path, report: ConversionReport, clinical_texts: Collection[Path] = (),
                         parts: Optional[Collection[str]] = None, nlp: Optional[Language] = None) -> Iterator[Doc]:
    """The documents of the corpus folder (``abstracts.xml``, ``full_papers.xml``,
    ``clinical_merger/clinical_records_anon.xml``; a missing one is a problem), of ``parts`` only
    when given; ``clinical_texts`` are the CMC 2007 challenge files."""
    texts = read_cmc_texts(clinical_texts, report) if clinical_texts else None
    for name, part in FILES.items():
        if parts is not None and part not in parts:
            continue
        path = Path(folder) / name
        if not path.is_file():
            report.problem(name, 0, "missing_file", f"no {name} in the folder")
            continue
        yield from read_bioscope_file(path, report, part=part, clinical_texts=texts, nlp=nlp)
