"""Structured parse of strength, dose, frequency and duration strings as MIMIC discharge
summaries write them.

>>> parse_strength("10 mg/5 mL")
Ratio(numerator=Quantity(value=10, unit='mg', ucum='mg'), denominator=Quantity(value=5, unit='mL', ucum='mL'))
>>> parse_dose("1-2 tablets")
Range(low=1, high=2, unit='tablet', ucum=None)
>>> parse_frequency("Q4-6H (every 4 to 6 hours) PRN")
Frequency(frequency=4, frequency_max=6, period=1, period_max=None, period_unit='d', as_needed=True, when=())
>>> parse_duration("x 7 days")
Duration(value=7, unit='d')

A parser reads the whole string or returns None: no word is skipped and nothing is guessed
(``until 5/3``, ``250-50 mcg/Dose`` (a combination product, not a range) and ``as needed for
pain`` give None). Units are a display name (``mg``, ``mcg``, ``units``, ``tablet``) and
their UCUM code (``mg``, ``ug``, ``[iU]``), None for counted units (``tablet``, ``puff``),
which UCUM does not name. Frequencies are canonical, so equal schedules compare equal: a
fixed interval becomes times per day where it divides a day (``q12h`` = ``BID`` = 2 per 1 d,
``q4-6h`` = 4 to 6 per 1 d), per hour where it divides an hour, else whole days or weeks
where it is a multiple of them (``q48h`` = ``every other day`` = 1 per 2 d); periods are
UCUM (``min``, ``h``, ``d``, ``wk``, ``mo``) and ``when`` holds FHIR EventTiming codes
(``HS``, ``MORN``, ``C``...). A time of day alone (``qhs``, ``every morning``, ``before
breakfast``) means once a day. A parenthetical gloss (``TID (3 times a day)``, ``One (1)``)
must agree with what it glosses.

The grammar is in :mod:`.amounts`, :mod:`.frequency` and :mod:`.duration`, numbers in
:mod:`.numbers`; the unit and frequency tables are data files (``units.jsonl``,
``frequencies.jsonl``, read by :mod:`.tables`).
"""

from .amounts import parse_dose, parse_strength
from .attributes import PARSERS, normalized, parse_attribute
from .duration import parse_duration
from .frequency import parse_frequency
from .results import NORMALIZED_KINDS, Duration, Frequency, Number, Parsed, Quantity, Range, Ratio

__all__ = [
    "NORMALIZED_KINDS",
    "PARSERS",
    "Duration",
    "Frequency",
    "Number",
    "Parsed",
    "Quantity",
    "Range",
    "Ratio",
    "normalized",
    "parse_attribute",
    "parse_dose",
    "parse_duration",
    "parse_frequency",
    "parse_strength",
]
