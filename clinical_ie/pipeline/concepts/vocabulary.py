"""Reading a drug vocabulary the user supplies: an OHDSI Athena export or RxNorm's ``RXNCONSO.RRF``.

**Athena** (a folder): ``CONCEPT.csv`` (``concept_id``, ``concept_name``, ``domain_id``,
``vocabulary_id``, ``concept_class_id``, ``standard_concept``, ``concept_code``, ...,
``invalid_reason``), optional ``CONCEPT_SYNONYM.csv`` (``concept_id``, ``concept_synonym_name``,
...) and optional ``CONCEPT_RELATIONSHIP.csv`` (``concept_id_1``, ``concept_id_2``,
``relationship_id``, ..., ``invalid_reason``). Athena writes them tab-separated, unquoted; a
comma-separated copy with quoted fields (OHDSI's Eunomia example data) is read too, the
separator taken from the header line. Kept: valid concepts (empty ``invalid_reason``) of domain
``Drug`` in RxNorm or RxNorm Extension; of the relationships, ``Maps to`` (a non-standard
concept to its standard one) and ``Tradename of`` / ``Brand name of`` from a Brand Name to an
Ingredient (brand to ingredient).

**RxNorm** (a file ``RXNCONSO.RRF``): pipe-separated, no header; kept: ``SAB = RXNORM``,
``LAT = ENG``, not suppressed (``SUPPRESS`` not ``O``, ``Y`` or ``E``). A concept is an RXCUI
(``code`` = RXCUI, no OMOP ``concept_id``), its names every ``STR`` of that RXCUI, its class the
term type (``TTY``) of its first ``IN``/``BN``/``SCD``/``SBD``... name.

Malformed lines raise :class:`VocabularyError` naming the file and line.
"""

import csv
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple, Union

DRUG_VOCABULARIES = ("RxNorm", "RxNorm Extension")
MAPS_TO = "Maps to"
BRAND_TO_INGREDIENT = ("Tradename of", "Brand name of")
"""Relationships read from a Brand Name concept to an Ingredient concept."""
RRF_COLUMNS = 18
RRF_SUPPRESSED = ("O", "Y", "E")
RRF_TTY_CLASSES = {
    "IN": "Ingredient", "PIN": "Precise Ingredient", "MIN": "Multiple Ingredients", "BN": "Brand Name",
    "SCD": "Clinical Drug", "SBD": "Branded Drug", "SCDF": "Clinical Drug Form", "SBDF": "Branded Drug Form",
    "SCDC": "Clinical Drug Comp", "SBDC": "Branded Drug Comp", "GPCK": "Clinical Pack", "BPCK": "Branded Pack",
}
"""RxNorm term types and the Athena concept class each corresponds to (others: the TTY itself)."""


class VocabularyError(ValueError):
    """A vocabulary file that cannot be read; the message names the file and line."""


@dataclass
class Concept:
    """One concept of the vocabulary. ``concept_id``: OMOP's (None for an RRF vocabulary);
    ``standard``: Athena's ``standard_concept`` is ``S`` (always True for RRF)."""

    concept_id: Optional[int]
    code: str
    vocabulary: str
    name: str
    concept_class: str
    standard: bool


@dataclass
class Vocabulary:
    """Concepts, their names (each concept's own name first, then its synonyms) and, per concept
    index, the index of the concept it stands for (``Maps to``, or brand to ingredient)."""

    concepts: List[Concept] = field(default_factory=list)
    names: List[Tuple[str, int]] = field(default_factory=list)
    """(name, concept index)."""
    target: Dict[int, int] = field(default_factory=dict)


def _delimited_rows(path: Path, required: Tuple[str, ...]) -> Iterator[Tuple[int, Dict[str, str]]]:
    """(line number, row) of a header-first delimited file, tab- or comma-separated."""
    csv.field_size_limit(sys.maxsize)
    with open(path, encoding="utf8", newline="") as handle:
        header = handle.readline()
        tabbed = "\t" in header
        columns = header.rstrip("\r\n").split("\t") if tabbed else next(csv.reader([header]))
        missing = [name for name in required if name not in columns]
        if missing:
            raise VocabularyError(f"{path}, line 1: missing columns {missing}")
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE) if tabbed else csv.reader(handle)
        for line_number, values in enumerate(reader, start=2):
            if not values:
                continue
            if len(values) != len(columns):
                raise VocabularyError(f"{path}, line {line_number}: {len(values)} fields, expected {len(columns)}")
            yield line_number, dict(zip(columns, values))


def _concept_id(path: Path, line_number: int, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise VocabularyError(f"{path}, line {line_number}: concept id {value!r} is not an integer") from None


def read_athena(folder: Path) -> Vocabulary:
    """The drug concepts of an Athena export folder (see the module docstring)."""
    vocabulary = Vocabulary()
    by_id: Dict[int, int] = {}
    concept_path = folder / "CONCEPT.csv"
    for line_number, row in _delimited_rows(
        concept_path, ("concept_id", "concept_name", "domain_id", "vocabulary_id", "concept_class_id",
                       "standard_concept", "concept_code", "invalid_reason"),
    ):
        if row["domain_id"] != "Drug" or row["vocabulary_id"] not in DRUG_VOCABULARIES or row["invalid_reason"]:
            continue
        concept_id = _concept_id(concept_path, line_number, row["concept_id"])
        by_id[concept_id] = len(vocabulary.concepts)
        vocabulary.concepts.append(
            Concept(concept_id, row["concept_code"], row["vocabulary_id"], row["concept_name"],
                    row["concept_class_id"], row["standard_concept"] == "S")
        )
        vocabulary.names.append((row["concept_name"], by_id[concept_id]))
    synonym_path = folder / "CONCEPT_SYNONYM.csv"
    if synonym_path.exists():
        for line_number, row in _delimited_rows(synonym_path, ("concept_id", "concept_synonym_name")):
            index = by_id.get(_concept_id(synonym_path, line_number, row["concept_id"]))
            if index is not None:
                vocabulary.names.append((row["concept_synonym_name"], index))
    relationship_path = folder / "CONCEPT_RELATIONSHIP.csv"
    if relationship_path.exists():
        for line_number, row in _delimited_rows(
            relationship_path, ("concept_id_1", "concept_id_2", "relationship_id", "invalid_reason")
        ):
            if row["invalid_reason"] or (row["relationship_id"] != MAPS_TO and row["relationship_id"] not in BRAND_TO_INGREDIENT):
                continue
            source = by_id.get(_concept_id(relationship_path, line_number, row["concept_id_1"]))
            target = by_id.get(_concept_id(relationship_path, line_number, row["concept_id_2"]))
            if source is None or target is None or source == target:
                continue
            if row["relationship_id"] == MAPS_TO:
                if not vocabulary.concepts[source].standard:
                    vocabulary.target[source] = target
            elif (vocabulary.concepts[source].concept_class == "Brand Name"
                  and vocabulary.concepts[target].concept_class == "Ingredient"):
                vocabulary.target.setdefault(source, target)
    return vocabulary


def read_rxnconso(path: Path) -> Vocabulary:
    """The RxNorm concepts of ``RXNCONSO.RRF`` (see the module docstring)."""
    vocabulary = Vocabulary()
    by_rxcui: Dict[str, int] = {}
    with open(path, encoding="utf8", newline="") as handle:
        for line_number, line in enumerate(handle, start=1):
            fields = line.rstrip("\r\n").split("|")
            if len(fields) != RRF_COLUMNS + 1:  # every line ends with a separator
                raise VocabularyError(f"{path}, line {line_number}: {len(fields) - 1} fields, expected {RRF_COLUMNS}")
            rxcui, language, source, term_type, name, suppress = (
                fields[0], fields[1], fields[11], fields[12], fields[14], fields[16],
            )
            if source != "RXNORM" or language != "ENG" or suppress in RRF_SUPPRESSED:
                continue
            if rxcui not in by_rxcui:
                by_rxcui[rxcui] = len(vocabulary.concepts)
                vocabulary.concepts.append(
                    Concept(None, rxcui, "RxNorm", name, RRF_TTY_CLASSES.get(term_type, term_type), True)
                )
            elif term_type in RRF_TTY_CLASSES and vocabulary.concepts[by_rxcui[rxcui]].concept_class not in RRF_TTY_CLASSES.values():
                concept = vocabulary.concepts[by_rxcui[rxcui]]
                concept.name, concept.concept_class = name, RRF_TTY_CLASSES[term_type]
            vocabulary.names.append((name, by_rxcui[rxcui]))
    return vocabulary


def read_vocabulary(path: Union[str, Path]) -> Vocabulary:
    """An Athena export folder or an ``RXNCONSO.RRF`` file."""
    path = Path(path)
    if path.is_dir():
        if not (path / "CONCEPT.csv").exists():
            raise VocabularyError(f"{path}: an Athena export folder must hold CONCEPT.csv")
        return read_athena(path)
    if path.name.upper().endswith(".RRF"):
        return read_rxnconso(path)
    raise VocabularyError(f"{path}: expected an Athena export folder (CONCEPT.csv) or RXNCONSO.RRF")
