"""OMOP CDM v5.4 ``NOTE_NLP`` rows of annotated notes: one row per medication-group span.

Every Drug, Strength, Dosage, Duration, Frequency, Form, Route, Reason and ADE entity of a note
gives one row (:func:`span_rows`, run where the note's text is: the worker):

| column | value |
| --- | --- |
| ``note_nlp_id`` | assigned when the shard is written (:mod:`.database`, or the output folder) |
| ``note_id`` | the note id when it is an integer in 1 .. 2^31 - 1 written plainly (``"123"``, not ``"0123"``); else mapped (:func:`integer_note_id`, :mod:`.database`) |
| ``section_concept_id`` | 0 (no concept: the section name is in ``term_modifiers``) |
| ``snippet`` | the span with up to :data:`SNIPPET_CONTEXT` (60) characters either side, whitespace runs as one space, at most 250 characters |
| ``offset`` | the span's start character offset |
| ``lexical_variant`` | the span's text (at most 250 characters) |
| ``note_nlp_concept_id`` | a Drug's standard concept (``clinical_concept_linker``), else 0 |
| ``note_nlp_source_concept_id`` | the concept its text matched, else 0 |
| ``nlp_system`` | ``<model name> <model version>`` |
| ``nlp_date``, ``nlp_datetime`` | when the shard was written (UTC) |
| ``term_exists`` | ``Y`` for assertion present or historical, ``N`` for absent, possible, hypothetical or family, null without one |
| ``term_temporal`` | ``past`` for assertion historical, ``future`` for a Drug whose status is planned, else null |
| ``term_modifiers`` | ``key=value`` pairs joined by ``;`` (:func:`term_modifiers`) |

``term_modifiers`` keys, in this order, each only where it has a value: ``label``, ``start``,
``end`` (character offsets), ``confidence`` (the span's), ``assertion``, ``status`` (a Drug's),
``section``, ``drug`` (an attribute's Drugs, by ``start-end`` offsets, comma-separated),
``relation_confidence`` (one per Drug, same order), ``concept_score`` (a coded Drug's). Values
hold no ``;`` or ``=``.

The column types are OHDSI's (CommonDataModel, ``inst/ddl/5.4/<dbms>/OMOPCDM_<dbms>_5.4_ddl.sql``,
the same for ``duckdb`` and ``postgresql``), as are the primary key and the two indexes
(``..._primary_keys.sql``, ``..._indices.sql``); :func:`note_nlp_ddl` writes them.
"""

import re
from datetime import datetime
from typing import Dict, List, Optional, Tuple

from ..pipeline.labels import N2C2_ENTITY_LABELS

TABLE = "note_nlp"
COLUMNS: Tuple[Tuple[str, str, bool], ...] = (
    ("note_nlp_id", "integer", False),
    ("note_id", "integer", False),
    ("section_concept_id", "integer", True),
    ("snippet", "varchar(250)", True),
    ("offset", "varchar(50)", True),
    ("lexical_variant", "varchar(250)", False),
    ("note_nlp_concept_id", "integer", True),
    ("note_nlp_source_concept_id", "integer", True),
    ("nlp_system", "varchar(250)", True),
    ("nlp_date", "date", False),
    ("nlp_datetime", "TIMESTAMP", True),
    ("term_exists", "varchar(1)", True),
    ("term_temporal", "varchar(50)", True),
    ("term_modifiers", "varchar(2000)", True),
)
"""(name, type, nullable) of NOTE_NLP in CDM v5.4, as OHDSI's DDL declares them."""
COLUMN_NAMES = tuple(name for name, _, _ in COLUMNS)
SOURCE_COLUMN = "note_source_value"
"""Extra column of the Parquet shards: the note id as given (NOTE_NLP has none)."""
SNIPPET_CONTEXT = 60
MAX_INTEGER = 2**31 - 1
NO_CONCEPT = 0
TERM_EXISTS = {"present": "Y", "historical": "Y", "absent": "N", "possible": "N", "hypothetical": "N", "family": "N"}
INTEGER_ID = re.compile(r"[1-9][0-9]{0,9}")


def note_nlp_ddl(table: str = TABLE) -> List[str]:
    """``CREATE TABLE`` (OHDSI's v5.4 column types), primary key and indexes of NOTE_NLP."""
    columns = ",\n".join(
        f'    {_quoted(name)} {sql_type} {"NULL" if nullable else "NOT NULL"}' for name, sql_type, nullable in COLUMNS
    )
    return [
        f"CREATE TABLE {table} (\n{columns}\n)",
        f"ALTER TABLE {table} ADD CONSTRAINT xpk_{table} PRIMARY KEY (note_nlp_id)",
        f"CREATE INDEX idx_{table}_note_id_1 ON {table} (note_id ASC)",
        f"CREATE INDEX idx_{table}_concept_id_1 ON {table} (note_nlp_concept_id ASC)",
    ]


def _quoted(name: str) -> str:
    return f'"{name}"' if name == "offset" else name  # a reserved word, quoted as OHDSI does


def column_list() -> str:
    """The columns, in order, for SQL (``"offset"`` quoted)."""
    return ", ".join(_quoted(name) for name in COLUMN_NAMES)


def integer_note_id(note_id: str) -> Optional[int]:
    """The note id as NOTE_NLP's ``note_id`` when it is a plainly written integer in
    1 .. 2^31 - 1, else None (the id must be mapped)."""
    if INTEGER_ID.fullmatch(note_id) and int(note_id) <= MAX_INTEGER:
        return int(note_id)
    return None


def _number(value: float) -> str:
    return f"{round(float(value), 4):g}"


def term_modifiers(entity: dict, drug: Optional[dict], links: List[Tuple[dict, Optional[float]]]) -> str:
    """The documented ``key=value;...`` string of a span (``drug``: its medication record if it
    is a Drug; ``links``: the Drugs it is an attribute of, with the relation's confidence)."""
    pairs = [("label", entity["label"]), ("start", entity["start"]), ("end", entity["end"])]
    if entity.get("confidence") is not None:
        pairs.append(("confidence", _number(entity["confidence"])))
    pairs += [("assertion", entity.get("assertion")), ("status", (drug or {}).get("status")), ("section", entity.get("section"))]
    if links:
        pairs.append(("drug", ",".join(f"{record['start_char']}-{record['end_char']}" for record, _ in links)))
        if any(confidence is not None for _, confidence in links):
            pairs.append(("relation_confidence", ",".join("" if c is None else _number(c) for _, c in links)))
    concept = (drug or {}).get("concept")
    if concept:
        pairs.append(("concept_score", _number(concept["score"])))
    return ";".join(f"{key}={value}" for key, value in pairs if value is not None)


def _snippet(text: str, start: int, end: int) -> str:
    """The span and up to :data:`SNIPPET_CONTEXT` characters either side, whitespace runs as one
    space, cut to 250 characters."""
    window = text[max(0, start - SNIPPET_CONTEXT) : end + SNIPPET_CONTEXT]
    return " ".join(window.split())[:250]


def span_rows(record: dict, text: str) -> List[Dict[str, object]]:
    """The note's NOTE_NLP rows less ``note_nlp_id``, ``note_id``, ``nlp_system`` and the dates
    (added by :func:`complete_rows`), in entity order; [] for an error record."""
    drugs = {(m["start_char"], m["end_char"]): m for m in record["medications"]}
    links: Dict[Tuple[str, int, int], List[Tuple[dict, Optional[float]]]] = {}
    for medication in record["medications"]:
        for values in medication["attributes"].values():
            for value in values:
                key = (value["label"], value["start_char"], value["end_char"])
                links.setdefault(key, []).append((medication, value["relation_confidence"]))
    rows = []
    for entity in record["entities"]:
        if entity["label"] not in N2C2_ENTITY_LABELS:
            continue
        drug = drugs.get((entity["start"], entity["end"])) if entity["label"] == "Drug" else None
        concept = (drug or {}).get("concept") or {}
        status = (drug or {}).get("status")
        rows.append({
            "section_concept_id": NO_CONCEPT,
            "snippet": _snippet(text, entity["start"], entity["end"]),
            "offset": str(entity["start"]),
            "lexical_variant": entity["text"][:250],
            "note_nlp_concept_id": concept.get("id") or NO_CONCEPT,
            "note_nlp_source_concept_id": concept.get("source_id") or NO_CONCEPT,
            "term_exists": TERM_EXISTS.get(entity.get("assertion")),
            "term_temporal": "past" if entity.get("assertion") == "historical" else "future" if status == "planned" else None,
            "term_modifiers": term_modifiers(entity, drug, links.get((entity["label"], entity["start"], entity["end"]), []))[:2000],
        })
    return rows


def complete_rows(rows: List[dict], note_id: int, first_id: int, nlp_system: str, written: datetime) -> List[Dict[str, object]]:
    """``rows`` of one note (:func:`span_rows`) with their ids, system and dates: full NOTE_NLP rows."""
    return [
        {"note_nlp_id": first_id + i, "note_id": note_id, **row, "nlp_system": nlp_system[:250],
         "nlp_date": written.date(), "nlp_datetime": written}
        for i, row in enumerate(rows)
    ]


def note_nlp_arrow_schema():
    """Arrow schema of the Parquet shards: the NOTE_NLP columns in order, then ``note_source_value``."""
    import pyarrow as pa

    types = {"integer": pa.int32(), "date": pa.date32(), "TIMESTAMP": pa.timestamp("us")}
    return pa.schema(
        [pa.field(name, types.get(sql_type, pa.string()), nullable) for name, sql_type, nullable in COLUMNS]
        + [pa.field(SOURCE_COLUMN, pa.string(), False)]
    )
