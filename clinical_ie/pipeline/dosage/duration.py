"""Durations: ``x 7 days``, ``for 10 days``, ``for a week``."""

import re
from typing import Optional

from .numbers import NUMBER, normalize_text, number_value
from .results import Duration
from .tables import UNITS

_DURATION = re.compile(
    rf"(?:(?:x|\u00d7|for|over|for a total of|total of|for another|for the next)\s?)?"
    rf"(?P<value>{NUMBER}|an?\b)\s?(?:(?:more|additional|further)\s)?"
    rf"(?P<unit>{'|'.join(sorted(UNITS.periods, key=len, reverse=True))})\.?(?:\s(?:total|more))?"
)


def parse_duration(text: str) -> Optional[Duration]:
    """``x 7 days``, ``for 10 days``, ``x2 weeks``, ``for one month``, ``5d``, ``for a week``;
    None for a date (``until 5/3``) or a range (``7-10 days``)."""
    match = _DURATION.fullmatch(normalize_text(text))
    if match is None:
        return None
    value = 1 if match.group("value") in ("a", "an") else number_value(match.group("value"))
    return Duration(value, UNITS.periods[match.group("unit")]) if value is not None else None
