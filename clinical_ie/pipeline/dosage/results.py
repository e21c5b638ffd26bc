"""What the dosage parsers return: one frozen dataclass per kind of value."""

from dataclasses import dataclass
from typing import ClassVar, Optional, Tuple, Union

Number = Union[int, float]


@dataclass(frozen=True)
class Quantity:
    """``value`` ``unit`` (None: a bare count); ``ucum``: the unit's UCUM code, None where UCUM has none."""

    kind: ClassVar[str] = "quantity"
    value: Number
    unit: Optional[str]
    ucum: Optional[str]


@dataclass(frozen=True)
class Range:
    """From ``low`` to ``high`` (``low < high``) of one unit."""

    kind: ClassVar[str] = "range"
    low: Number
    high: Number
    unit: Optional[str]
    ucum: Optional[str]


@dataclass(frozen=True)
class Ratio:
    """A concentration or rate: ``numerator`` per ``denominator`` (``10 mg/5 mL``, ``50 mcg/hr``)."""

    kind: ClassVar[str] = "ratio"
    numerator: Quantity
    denominator: Quantity


@dataclass(frozen=True)
class Frequency:
    """``frequency`` (to ``frequency_max``) times per ``period`` (to ``period_max``) ``period_unit``,
    as FHIR ``Timing.repeat``; all None when only ``as_needed`` or ``when`` is known."""

    kind: ClassVar[str] = "frequency"
    frequency: Optional[int]
    frequency_max: Optional[int]
    period: Optional[Number]
    period_max: Optional[Number]
    period_unit: Optional[str]
    as_needed: bool
    when: Tuple[str, ...]


@dataclass(frozen=True)
class Duration:
    """How long to take the drug; ``unit`` is UCUM: ``min``, ``h``, ``d``, ``wk`` or ``mo``."""

    kind: ClassVar[str] = "duration"
    value: Number
    unit: str


Parsed = Union[Quantity, Range, Ratio, Frequency, Duration]
NORMALIZED_KINDS = ("quantity", "range", "ratio", "frequency", "duration")
"""The keys of a ``normalized`` object, one per result type."""
