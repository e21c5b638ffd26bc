"""What every worker runs, whatever the backend: load the model once, annotate work units.

A :class:`WorkUnit` is a run of consecutive notes inside one shard (at most one ``nlp.pipe``
batch); :class:`NoteAnnotator` turns it into a :class:`UnitResult` holding one JSON record per
note, in order. A note that cannot be read or annotated gets an error record and the others go
on. Warnings raised while annotating are counted by code (``W030``...), never logged with
their message, which may quote note text.
"""

import json
import os
import re
import warnings
from dataclasses import asdict, dataclass, field
from time import perf_counter
from typing import Dict, List, Optional, Tuple, Union

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from ..corpora.brat import brat_ann_lines
from ..pipeline.crf_ner import set_confidence_threshold
from ..pipeline.data_model import note_record
from ..pipeline.transformer import QUANTIZE_ON_LOAD
from .measure import count_words, peak_rss_mib
from .inputs import DEFAULT_MAX_CHARS, InputSpec, Locator, NoteError, NoteReader
from .note_nlp import span_rows
from .schema import error_record

WARNING_CODE = re.compile(r"\[(W\d+)\]")


@dataclass(frozen=True)
class AnnotatorConfig:
    """What a worker needs to start: the model (package name or folder), the input, settings."""

    model: str
    spec: InputSpec
    max_chars: int = DEFAULT_MAX_CHARS
    gpu: bool = False
    threads: Optional[int] = None
    brat: bool = False
    confidence_threshold: float = 0.0
    quantize: bool = False
    note_nlp: bool = False


@dataclass
class WorkUnit:
    """Notes ``start .. start + len(ids)`` of the input, all in shard ``shard``."""

    shard: int
    start: int
    ids: List[str]
    locators: List[Locator]

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "WorkUnit":
        return cls(**json.loads(text))


@dataclass
class UnitResult:
    """The records of a :class:`WorkUnit` (JSON strings, in note order; ``failed`` of them
    error records) and how it went.

    ``brat``: ``[id, text, ann]`` per annotated note when brat output is asked for.
    ``note_nlp``: per record, its NOTE_NLP rows (:func:`~.note_nlp.span_rows`) when asked for.
    """

    shard: int
    start: int
    records: List[str]
    failed: int = 0
    words: int = 0
    seconds: float = 0.0
    pid: int = 0
    peak_rss_mib: float = 0.0
    warnings: Dict[str, int] = field(default_factory=dict)
    brat: List[Tuple[str, str, str]] = field(default_factory=list)
    note_nlp: List[List[dict]] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "UnitResult":
        return cls(**json.loads(text))


def note_doc(nlp: Language, note_id: str, text: str) -> Doc:
    """The tokenized note with ``doc._.doc_id`` set."""
    doc = nlp.make_doc(text)
    doc._.doc_id = note_id
    return doc


def annotate_texts(nlp: Language, notes: List[Tuple[str, str]]) -> List[Union[Doc, Exception]]:
    """``nlp`` over ``(id, text)`` notes as one batch; if the batch fails, note by note, with
    the exception in place of each note that fails."""
    try:
        return list(nlp.pipe(note_doc(nlp, note_id, text) for note_id, text in notes))
    except Exception:  # isolate the failing notes
        results: List[Union[Doc, Exception]] = []
        for note_id, text in notes:
            try:
                results.append(nlp(note_doc(nlp, note_id, text)))
            except Exception as error:  # becomes the note's error record
                results.append(error)
        return results


def warning_code(warning: warnings.WarningMessage) -> str:
    """A warning's spaCy code (``W030``) or, failing that, its category name."""
    match = WARNING_CODE.search(str(warning.message))
    return match.group(1) if match else warning.category.__name__


class NoteAnnotator:
    """Loads the model once (or takes ``nlp``) and annotates :class:`WorkUnit` s."""

    def __init__(self, config: AnnotatorConfig, nlp: Optional[Language] = None):
        if config.threads:
            import torch

            torch.set_num_threads(config.threads)
        if config.gpu:
            spacy.require_gpu()
        self.config = config
        if nlp is not None and config.quantize:
            raise ValueError("quantize: pass the model's name or folder, it is applied when the model is loaded")
        self.nlp = nlp if nlp is not None else spacy.load(config.model, config=QUANTIZE_ON_LOAD if config.quantize else {})
        self.nlp.max_length = max(self.nlp.max_length, config.max_chars)
        set_confidence_threshold(self.nlp, config.confidence_threshold)
        self.reader = NoteReader(config.spec, config.max_chars)

    def __call__(self, unit: WorkUnit) -> UnitResult:
        started = perf_counter()
        records: List[Optional[dict]] = [None] * len(unit.ids)
        texts: Dict[int, str] = {}
        for position, (note_id, locator) in enumerate(zip(unit.ids, unit.locators)):
            try:
                texts[position] = self.reader.read(locator)
            except NoteError as error:
                records[position] = error_record(note_id, error.reason)
            except (OSError, ValueError) as error:  # the input changed since it was scanned
                records[position] = error_record(note_id, f"unreadable: {type(error).__name__}")
        result = UnitResult(unit.shard, unit.start, [])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            docs = annotate_texts(self.nlp, [(unit.ids[position], text) for position, text in texts.items()])
            for position, doc in zip(texts, docs):
                records[position] = self._record(unit.ids[position], doc, result)
        for warning in caught:
            code = warning_code(warning)
            result.warnings[code] = result.warnings.get(code, 0) + 1
        result.records = [json.dumps(record, ensure_ascii=False) for record in records]
        if self.config.note_nlp:
            result.note_nlp = [span_rows(record, texts.get(position, "")) for position, record in enumerate(records)]
        result.failed = sum(record["error"] is not None for record in records)
        result.seconds = perf_counter() - started
        result.pid = os.getpid()
        result.peak_rss_mib = peak_rss_mib()
        return result

    def _record(self, note_id: str, doc: Union[Doc, Exception], result: UnitResult) -> dict:
        """The note's record; brat lines and word count added to ``result``."""
        if isinstance(doc, Exception):
            return error_record(note_id, f"model error: {type(doc).__name__}")
        try:
            record = note_record(note_id, doc)
        except Exception as error:  # a malformed prediction: the note's error, not the run's
            return error_record(note_id, f"model error: {type(error).__name__}")
        result.words += count_words(doc)
        if self.config.brat:
            result.brat.append((note_id, doc.text, "".join(line + "\n" for line in brat_ann_lines(doc, doc.ents))))
        return record
