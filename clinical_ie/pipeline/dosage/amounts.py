"""Strengths and doses: a number or range, a unit, a ratio (``10 mg/5 mL``) and a gloss."""

import re
from typing import Optional, Tuple, Union

from .numbers import NUMBER, normalize_text, number_value
from .results import Parsed, Quantity, Range, Ratio
from .tables import UNITS


def _alternation(spellings) -> str:
    return "(?:" + "|".join(re.escape(s) for s in sorted(spellings, key=len, reverse=True)) + r")(?![a-z\u00b5])\.?"


_AMOUNT = re.compile(
    rf"""(?P<low>{NUMBER}(?:\s*\(\s*{NUMBER}\s*\))?)
    (?:\s*(?:-|\u2013|to)\s*(?P<high>{NUMBER}(?:\s*\(\s*{NUMBER}\s*\))?))?
    (?:\s*(?P<unit>{_alternation(UNITS.amounts)}))?
    (?:\s*/\s*(?P<per_value>{NUMBER})?\s*(?P<per_unit>{_alternation(UNITS.denominators)}))?
    (?:\s*\((?P<gloss>.+)\))?""",
    re.VERBOSE,
)


def _unit(spelling: Optional[str]) -> Tuple[Optional[str], Optional[str]]:
    """(display unit, UCUM code) of a matched unit spelling; (None, None) for none."""
    return UNITS.denominators[spelling.rstrip(".")] if spelling is not None else (None, None)


def _amount(text: str, unit_required: bool, ratio_allowed: bool) -> Union[Quantity, Range, Ratio, None]:
    match = _AMOUNT.fullmatch(normalize_text(text))
    if match is None or (unit_required and match.group("unit") is None):
        return None
    if match.group("per_unit") is not None and (not ratio_allowed or match.group("unit") is None or match.group("high")):
        return None
    low = number_value(match.group("low"))
    high = number_value(match.group("high")) if match.group("high") else None
    if low is None or (match.group("high") and (high is None or high <= low)):
        return None
    unit, ucum = _unit(match.group("unit"))
    if high is not None:
        head = Range(low, high, unit, ucum)
    elif match.group("per_unit") is not None:
        per_value = number_value(match.group("per_value")) if match.group("per_value") else 1
        if per_value is None:
            return None
        head = Ratio(Quantity(low, unit, ucum), Quantity(per_value, *_unit(match.group("per_unit"))))
    else:
        head = Quantity(low, unit, ucum)
    if match.group("gloss") is None:
        return head
    return head if _agrees(head, _amount(match.group("gloss"), unit_required, ratio_allowed)) else None


def _agrees(head: Parsed, gloss: Optional[Parsed]) -> bool:
    """Whether a parenthetical ``gloss`` restates ``head``: it parses, and where it has the
    same type and unit (``One (1)``) it has the same value; another form (``5%(700 mg/patch)``,
    ``2.5 mg/3 mL (0.083 %)``) is taken as a restatement."""
    if gloss is None:
        return False
    if isinstance(head, Ratio) or type(gloss) is not type(head) or gloss.unit != head.unit:
        return True
    return gloss == head


def parse_strength(text: str) -> Union[Quantity, Range, Ratio, None]:
    """``500 mg``, ``5mg``, ``1,000 units``, ``2-4 mg`` (a range), ``10 mg/5 mL``, ``100 unit/mL``,
    ``50 mcg/hr`` (ratios), ``0.02 %``; a unit is required."""
    return _amount(text, unit_required=True, ratio_allowed=True)


def parse_dose(text: str) -> Union[Quantity, Range, None]:
    """``2 tabs``, ``1-2 tablets`` (a range), ``one (1) tablet``, ``two puffs``, ``12 units``,
    ``One-half (1/2)``; a bare number (``1-2``, ``One (1)``: n2c2 Dosage) has unit None."""
    return _amount(text, unit_required=False, ratio_allowed=False)
