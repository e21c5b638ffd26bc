"""The dosage parser's unit and frequency tables: ``units.jsonl`` and ``frequencies.jsonl``
beside this module, one JSON object a line, each with a ``kind``.

``units.jsonl``:

- ``{"kind": "amount", "unit": "mg", "ucum": "mg", "spellings": [...]}``: a unit of a
  strength or dose, its display name and UCUM code (null for counted units: ``tablet``);
- ``{"kind": "rate", ...}`` (same fields): a unit of time that may follow ``/`` in a rate
  (``50 mcg/hr``), besides the amount units;
- ``{"kind": "period", "unit": "h", "spellings": [...]}``: a UCUM period unit (``min``, ``h``,
  ``d``, ``wk``, ``mo``) of frequencies (``every 6 hours``) and durations (``x 7 days``).

``frequencies.jsonl`` (``abbreviations`` are letters that may be written with dots,
``b.i.d.``; ``patterns`` are regular expressions on the lower-cased, single-spaced text;
a line needs one of them):

- ``{"kind": "schedule", "frequency": 2, "period": 1, "period_unit": "d", ...}`` (optional
  ``frequency_max``, ``period_max``): a fixed schedule (``BID``);
- ``{"kind": "when", "code": "HS", "daily": true, ...}``: a FHIR EventTiming code; ``daily``:
  the time of day alone means once a day (``qhs``), unlike meal times (``with meals``);
- ``{"kind": "as_needed", ...}``: ``prn``;
- ``{"kind": "times", "count": 2, "words": ["twice"]}``: a word for a number of times;
- ``{"kind": "times_per", "period_unit": "d", "spellings": [...]}``: the period after
  ``3 times a`` (``day``, ``daily``).

A malformed line raises :class:`~clinical_ie.pipeline.data_files.DataFileError` naming the
file and line.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple, Union

from ..data_files import DataFileError, check_string_list, read_jsonl_objects
from .results import Number

UNITS_PATH = Path(__file__).with_name("units.jsonl")
FREQUENCIES_PATH = Path(__file__).with_name("frequencies.jsonl")

PERIOD_UNITS = ("min", "h", "d", "wk", "mo")
"""UCUM units of a period or duration, shortest first."""

Unit = Tuple[str, Optional[str]]
"""(display unit, UCUM code or None)."""
Schedule = Tuple[int, Optional[int], Number, Optional[Number], str]
"""(frequency, frequency_max, period, period_max, period_unit)."""


@dataclass(frozen=True)
class UnitTables:
    """Spelling -> unit maps of ``units.jsonl``."""

    amounts: Dict[str, Unit]
    """Units of a strength or dose."""
    denominators: Dict[str, Unit]
    """Units of a ratio's denominator: the amount units and, for a rate, units of time."""
    periods: Dict[str, str]
    """UCUM period units of frequencies and durations."""


@dataclass(frozen=True)
class FrequencyTables:
    """The tokens of ``frequencies.jsonl``, patterns in file order (abbreviations first on a line)."""

    schedules: List[Tuple[str, Schedule]] = field(default_factory=list)
    when: List[Tuple[str, str]] = field(default_factory=list)
    """(pattern, EventTiming code)."""
    daily_when: Set[str] = field(default_factory=set)
    """Codes whose time of day alone means once a day."""
    as_needed: List[str] = field(default_factory=list)
    times: Dict[str, int] = field(default_factory=dict)
    times_per: Dict[str, str] = field(default_factory=dict)


def dotted(letters: str) -> str:
    """``bid`` -> a pattern for ``bid``, ``b.i.d.``, ``b. i. d.``."""
    return r"\.?\s?".join(letters) + r"\.?"


def _kind(record: Dict, kinds: Tuple[str, ...]) -> str:
    kind = record.get("kind")
    if kind not in kinds:
        raise ValueError(f"'kind' must be one of {', '.join(kinds)}, got {kind!r}")
    return kind


def _fields(record: Dict, required: Tuple[str, ...], optional: Tuple[str, ...] = ()) -> None:
    missing = [name for name in required if name not in record]
    unknown = sorted(set(record) - {"kind", *required, *optional})
    if missing or unknown:
        raise ValueError(f"a {record['kind']!r} line needs {', '.join(required)}"
                         + (f"; unknown fields {unknown}" if unknown else ""))


def _name(record: Dict, key: str, choices: Optional[Tuple[str, ...]] = None) -> str:
    value = record[key]
    if not isinstance(value, str) or not value.strip() or (choices and value not in choices):
        expected = f"one of {', '.join(choices)}" if choices else "a non-empty string"
        raise ValueError(f"{key!r} must be {expected}, got {value!r}")
    return value


def _positive(record: Dict, key: str, whole: bool) -> Optional[Number]:
    value = record.get(key)
    if value is None and key.endswith("_max"):
        return None
    types = (int,) if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, types) or value <= 0:
        raise ValueError(f"{key!r} must be a positive {'whole ' if whole else ''}number, got {value!r}")
    return value


def _add_spellings(table: Dict, spellings, value, what: str) -> None:
    for spelling in check_string_list(spellings, "spellings"):
        if spelling in table and table[spelling] != value:
            raise ValueError(f"{what} spelling {spelling!r} already means {table[spelling]!r}")
        table[spelling] = value


def read_units(path: Union[str, Path] = UNITS_PATH) -> UnitTables:
    """The unit tables of a ``units.jsonl`` file (module docstring)."""
    amounts: Dict[str, Unit] = {}
    rates: Dict[str, Unit] = {}
    periods: Dict[str, str] = {}
    for line_number, record in read_jsonl_objects(path):
        try:
            kind = _kind(record, ("amount", "rate", "period"))
            if kind == "period":
                _fields(record, ("unit", "spellings"))
                _add_spellings(periods, record["spellings"], _name(record, "unit", PERIOD_UNITS), "period")
                continue
            _fields(record, ("unit", "ucum", "spellings"))
            ucum = record["ucum"] if record["ucum"] is None else _name(record, "ucum")
            unit = (_name(record, "unit"), ucum)
            _add_spellings(amounts if kind == "amount" else rates, record["spellings"], unit, kind)
            if set(amounts) & set(rates):
                raise ValueError(f"spellings {sorted(set(amounts) & set(rates))} are both amount and rate units")
        except ValueError as error:
            raise DataFileError(path, line_number, str(error)) from None
    return UnitTables(amounts, {**amounts, **rates}, periods)


def _patterns(record: Dict) -> List[str]:
    """The line's abbreviations as :func:`dotted` patterns, then its patterns, each compiled once to check it."""
    if not any(name in record for name in _TOKEN_FIELDS):
        raise ValueError("a line needs 'abbreviations' or 'patterns'")
    abbreviations = check_string_list(record["abbreviations"], "abbreviations") if "abbreviations" in record else []
    patterns = check_string_list(record["patterns"], "patterns") if "patterns" in record else []
    if not all(re.fullmatch(r"[a-z]+", letters) for letters in abbreviations):
        raise ValueError(f"'abbreviations' must be lower-case letters, got {abbreviations!r}")
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as error:
            raise ValueError(f"pattern {pattern!r} is not a regular expression ({error})") from None
    return [dotted(letters) for letters in abbreviations] + patterns


_TOKEN_FIELDS = ("abbreviations", "patterns")


def read_frequencies(path: Union[str, Path] = FREQUENCIES_PATH) -> FrequencyTables:
    """The frequency tables of a ``frequencies.jsonl`` file (module docstring)."""
    tables = FrequencyTables()
    codes: Dict[str, int] = {}
    for line_number, record in read_jsonl_objects(path):
        try:
            kind = _kind(record, ("schedule", "when", "as_needed", "times", "times_per"))
            if kind == "schedule":
                _fields(record, ("frequency", "period", "period_unit"), ("frequency_max", "period_max", *_TOKEN_FIELDS))
                schedule = (_positive(record, "frequency", whole=True), _positive(record, "frequency_max", whole=True),
                            _positive(record, "period", whole=False), _positive(record, "period_max", whole=False),
                            _name(record, "period_unit", PERIOD_UNITS))
                tables.schedules.extend((pattern, schedule) for pattern in _patterns(record))
            elif kind == "when":
                _fields(record, ("code", "daily"), _TOKEN_FIELDS)
                code = _name(record, "code")
                if code in codes:
                    raise ValueError(f"code {code!r} is already on line {codes[code]}")
                if not isinstance(record["daily"], bool):
                    raise ValueError(f"'daily' must be true or false, got {record['daily']!r}")
                codes[code] = line_number
                tables.when.extend((pattern, code) for pattern in _patterns(record))
                if record["daily"]:
                    tables.daily_when.add(code)
            elif kind == "as_needed":
                _fields(record, (), _TOKEN_FIELDS)
                tables.as_needed.extend(_patterns(record))
            elif kind == "times":
                _fields(record, ("count", "words"))
                _add_spellings(tables.times, record["words"], _positive(record, "count", whole=True), "times")
            else:
                _fields(record, ("period_unit", "spellings"))
                _add_spellings(tables.times_per, record["spellings"], _name(record, "period_unit", PERIOD_UNITS), "times_per")
        except ValueError as error:
            raise DataFileError(path, line_number, str(error)) from None
    return tables


UNITS = read_units()
"""The shipped unit tables."""
FREQUENCIES = read_frequencies()
"""The shipped frequency tables."""
