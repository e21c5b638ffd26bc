"""Docs of corpora distributed sentence by sentence (ADE, DDI, BioScope), and their XML input.

A document's text is its sentences joined by one line break (:data:`SENTENCE_SEPARATOR`); a
sentence starts exactly at each of the corpus's sentences (:func:`set_sentence_starts`), not
where a heuristic would put it. Entities come as :class:`~clinical_ie.corpora.brat.BratEntity`
with offsets into that text and go through the brat reader's accounting
(:func:`~clinical_ie.corpora.brat.entity_spans`).
"""

import xml.sax
from pathlib import Path
from typing import Collection, Iterable, List, Optional, Sequence, Tuple

import numpy
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.tokens import Doc

from ..pipeline.tokenizer import shared_clinical_english
from .brat import BratEntity, entity_spans, store_gold_spans
from .conversion_report import ConversionReport

SENTENCE_SEPARATOR = "\n"

CORPUS_PART_KEY = "corpus_part"
"""``doc.user_data`` key of the part of a corpus a document belongs to (BioScope: ``clinical``,
``abstracts``, ``papers``), so that one part can be selected."""


def join_sentences(sentences: Sequence[str]) -> Tuple[str, List[int]]:
    """The sentences joined by :data:`SENTENCE_SEPARATOR`, and each one's start offset."""
    starts, offset = [], 0
    for sentence in sentences:
        starts.append(offset)
        offset += len(sentence) + len(SENTENCE_SEPARATOR)
    return SENTENCE_SEPARATOR.join(sentences), starts


def set_sentence_starts(doc: Doc, starts: Iterable[int]) -> None:
    """Set ``is_sent_start`` on every token: True on the first non-space token at or after each
    offset of ``starts`` (and on the first token), False elsewhere."""
    values = numpy.full(len(doc), -1, dtype="int64")
    token_starts = numpy.array([token.idx for token in doc], dtype="int64")
    is_space = numpy.array([token.is_space for token in doc], dtype=bool)
    for start in starts:
        index = int(numpy.searchsorted(token_starts, start))
        while index < len(doc) and is_space[index]:
            index += 1
        if index < len(doc):
            values[index] = 1
    if len(doc):
        values[0] = 1
    doc.from_array([SENT_START], values.astype("uint64"))


def sentence_doc(
    sentences: Sequence[str],
    entities: Iterable[BratEntity],
    doc_id: str,
    corpus: str,
    file: str,
    report: ConversionReport,
    nlp: Optional[Language] = None,
    labels: Optional[Collection[str]] = None,
) -> Doc:
    """The Doc of one document: ``sentences`` joined, ``entities`` (offsets into the joined text)
    in ``doc.spans["entities"]``, ``doc.ents`` and ``doc._.brat_entities``, sentence starts at the
    sentences, ``doc._.doc_id`` and ``doc._.corpus`` set; counted in ``report``."""
    text, starts = join_sentences(sentences)
    doc = (nlp or shared_clinical_english()).make_doc(text)
    spans, entries, _ = entity_spans(doc, entities, file, report, labels)
    store_gold_spans(doc, spans, report)
    set_sentence_starts(doc, starts)
    doc._.doc_id = doc_id
    doc._.corpus = corpus
    doc._.brat_entities = entries
    report.documents += 1
    report.tokens += len(doc)
    return doc


class LocatedHandler(xml.sax.ContentHandler):
    """A SAX handler that knows the line it is at (``self.line``)."""

    def setDocumentLocator(self, locator) -> None:  # noqa: N802 (SAX's name)
        self._locator = locator

    @property
    def line(self) -> int:
        return self._locator.getLineNumber()


def parse_xml(path: Path, handler: LocatedHandler, report: ConversionReport) -> bool:
    """Parse ``path`` with ``handler`` (no external DTD or entity is read). Malformed XML is a
    problem (``bad_xml``, at the parser's line); returns whether the file parsed whole."""
    parser = xml.sax.make_parser()
    parser.setFeature(xml.sax.handler.feature_external_ges, False)
    parser.setFeature(xml.sax.handler.feature_external_pes, False)
    parser.setContentHandler(handler)
    try:
        parser.parse(str(path))
    except xml.sax.SAXParseException as error:
        report.problem(Path(path).name, error.getLineNumber(), "bad_xml", error.getMessage())
        return False
    return True
