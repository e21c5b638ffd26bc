"""Numbers as prescriptions write them: digits, thousands separators, a few fractions, number
words, ``half``, and a parenthetical gloss that must agree (``One (1)``)."""

import re
from typing import Optional

from .results import Number

_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "fifteen": 15,
    "twenty": 20, "thirty": 30,
}
_WORD_NUMBER = r"(?:" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")\b"
_FRACTION = r"(?:1/2|1/3|2/3|1/4|3/4)"
"""Only these: ``5/325 mg`` is a combination product, not a fraction."""
_HALF = r"(?:(?:one|a)[- ])?half\b(?:\s+an?\b)?"
NUMBER = (
    rf"(?:\d+\s+{_FRACTION}|{_FRACTION}|\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+|{_HALF}|{_WORD_NUMBER})"
)
"""A pattern for one positive number, without a gloss."""
INTEGER = rf"(?:\d+|{_WORD_NUMBER})"
"""A pattern for a whole number in digits or words."""
_GLOSSED_NUMBER = re.compile(rf"({NUMBER})(?:\s*\(\s*({NUMBER})\s*\))?")
_HALF_PATTERN = re.compile(_HALF)
_MIXED_FRACTION = re.compile(rf"(\d+)\s+({_FRACTION})")


def _tidy(value: float) -> Number:
    """``value`` as an int when whole (``500``, not ``500.0``)."""
    return int(value) if value.is_integer() else value


def number_value(text: str) -> Optional[Number]:
    """The positive value of a :data:`NUMBER` match, glossed or not (``One (1)``); None when
    zero or when the gloss disagrees."""
    match = _GLOSSED_NUMBER.fullmatch(text.strip())
    if match is None:
        return None
    value = _plain_number(match.group(1))
    if match.group(2) is not None and _plain_number(match.group(2)) != value:
        return None
    return value if value else None


def _plain_number(text: str) -> Number:
    if text in _NUMBER_WORDS:
        return _NUMBER_WORDS[text]
    if _HALF_PATTERN.fullmatch(text):
        return 0.5
    mixed = _MIXED_FRACTION.fullmatch(text)
    if mixed:
        return _tidy(int(mixed.group(1)) + _plain_number(mixed.group(2)))
    if "/" in text:
        numerator, denominator = text.split("/")
        return int(numerator) / int(denominator)
    return _tidy(float(text.replace(",", "")))


def normalize_text(text: str) -> str:
    """Lower case, single spaces, no surrounding spaces or list punctuation."""
    return " ".join(text.lower().split()).strip(" ,;:")
