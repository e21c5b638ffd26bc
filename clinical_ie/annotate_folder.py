"""Annotate a folder of ``.txt`` notes: JSON Lines records and brat standoff.

:func:`annotate_folder` reads every ``*.txt`` of a folder (sorted by name; UTF-8, byte-exact,
a byte-order mark removed), runs a pipeline over them in batches and writes

- ``<output_dir>/annotations.jsonl``: one :func:`clinical_ie.records.note_record` per note,
  in file order; a note that cannot be read or processed gets empty ``entities`` and
  ``medications`` and its ``error``;
- ``<output_dir>/brat/<id>.txt`` and ``.ann``: the note and its entities (``T``) and
  relations (``R``), for each note processed.

The note id is the file stem. Log messages name notes by id and never contain note text.
"""

import json
import logging
from pathlib import Path
from typing import Dict, Iterator, List, Tuple, Union

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import minibatch

from .io.brat import write_brat_document
from .io.report import ConversionError, ConversionReport, read_note_file
from .records import note_record

logger = logging.getLogger(__name__)

JSONL_NAME = "annotations.jsonl"
BRAT_DIR_NAME = "brat"


def error_record(doc_id: str, error: str) -> Dict[str, object]:
    """The record of a note that could not be annotated."""
    return {"id": doc_id, "entities": [], "medications": [], "error": error}


def read_notes(input_dir: Path) -> Iterator[Tuple[str, Union[str, ConversionError]]]:
    """``(id, text)`` per ``*.txt`` of ``input_dir`` by name, or ``(id, error)`` when the
    file is not UTF-8."""
    for path in sorted(Path(input_dir).glob("*.txt")):
        try:
            text, _ = read_note_file(path, ConversionReport("txt", strict=True), empty_ok=True)
        except ConversionError as error:
            yield path.stem, error
        else:
            yield path.stem, text


def note_doc(nlp: Language, doc_id: str, text: str) -> Doc:
    """The tokenized note with ``doc._.doc_id`` set."""
    doc = nlp.make_doc(text)
    doc._.doc_id = doc_id
    return doc


def annotate_notes(nlp: Language, notes: List[Tuple[str, str]]) -> List[Union[Doc, Exception]]:
    """``nlp`` over a batch of ``(id, text)`` notes; when the batch fails, note by note, with
    the error in place of each note that fails."""
    try:
        return list(nlp.pipe(note_doc(nlp, doc_id, text) for doc_id, text in notes))
    except Exception:  # isolate the failing notes
        results: List[Union[Doc, Exception]] = []
        for doc_id, text in notes:
            try:
                results.append(nlp(note_doc(nlp, doc_id, text)))
            except Exception as error:  # recorded in the note's record
                results.append(error)
        return results


def annotate_folder(
    model: Union[str, Path, Language], input_dir: Union[str, Path], output_dir: Union[str, Path], batch_size: int = 8
) -> Dict[str, int]:
    """Annotate every note of ``input_dir`` with ``model`` (package name, folder or pipeline).

    Writes the outputs described in the module docstring; returns counts
    ``{"notes", "annotated", "failed"}``.
    """
    nlp = model if isinstance(model, Language) else spacy.load(model)
    output_dir = Path(output_dir)
    brat_dir = output_dir / BRAT_DIR_NAME
    brat_dir.mkdir(parents=True, exist_ok=True)
    counts = {"notes": 0, "annotated": 0, "failed": 0}
    with open(output_dir / JSONL_NAME, "w", encoding="utf8") as jsonl:
        for batch in minibatch(read_notes(Path(input_dir)), size=batch_size):
            results = iter(annotate_notes(nlp, [(doc_id, text) for doc_id, text in batch if isinstance(text, str)]))
            for doc_id, text in batch:
                result = next(results) if isinstance(text, str) else text
                counts["notes"] += 1
                if isinstance(result, Exception):
                    logger.warning("note %s: %s", doc_id, type(result).__name__)
                    record = error_record(doc_id, f"{type(result).__name__}: {result}")
                    counts["failed"] += 1
                else:
                    record = note_record(doc_id, result)
                    write_brat_document(result, brat_dir, spans=result.ents)
                    counts["annotated"] += 1
                jsonl.write(json.dumps(record, ensure_ascii=False) + "\n")
    logger.info("annotated %d of %d notes (%d failed)", counts["annotated"], counts["notes"], counts["failed"])
    return counts
