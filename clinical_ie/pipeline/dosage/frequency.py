"""Frequencies: fixed schedules (``BID``), intervals (``q4-6h``), counts (``3 times a day``),
times of day and meals (``qhs``, ``with meals``) and ``prn``, read token by token."""

import re
from typing import List, Optional

from .numbers import INTEGER, normalize_text, number_value
from .results import Frequency
from .tables import FREQUENCIES, UNITS, Schedule

_ONCE_A_DAY: Schedule = (1, None, 1, None, "d")
_LARGER_UNIT = {"min": (60, "h"), "h": (24, "d"), "d": (7, "wk")}


def _interval(low: int, high: Optional[int], unit: str) -> Optional[Schedule]:
    """Every ``low`` (to ``high``) ``unit`` as a canonical schedule (package docstring)."""
    longest = high if high is not None else low
    if low < 1 or longest < low or (high is not None and high == low):
        return None
    if unit in _LARGER_UNIT:
        per, larger = _LARGER_UNIT[unit]
        if unit != "d" and per % low == 0 and per % longest == 0:
            return (per // longest, per // low if high is not None else None, 1, None, larger)
        if low % per == 0 and longest % per == 0:
            return _interval(low // per, high // per if high is not None else None, larger)
    return (1, None, low, high, unit)


def _alternatives(spellings) -> str:
    return "|".join(sorted(spellings, key=len, reverse=True))


END = r"(?=$|[\s,;:()])"
"""What may follow a token: the end, a space or list punctuation."""
_SEPARATOR = re.compile(r"[\s,;:()]+")
_EVERY = re.compile(
    rf"(?:every\s?|q\.?\s?)(?P<low>{INTEGER})(?:\s?(?:-|\u2013|to)\s?(?P<high>{INTEGER}))?\s?"
    rf"(?P<unit>{_alternatives(UNITS.periods)})\.?{END}"
)
_N_TIMES = re.compile(
    rf"(?:(?P<word>{_alternatives(FREQUENCIES.times)})|(?P<count>{INTEGER})\s?(?:times?|x))\s?(?:(?:a|per|each|every)\s|/\s?)?"
    rf"(?P<unit>{_alternatives(FREQUENCIES.times_per)}){END}"
)


def _tokens(pairs) -> List[tuple]:
    return [(re.compile(f"(?:{pattern}){END}"), value) for pattern, value in pairs]


_FIXED_TOKENS = _tokens(FREQUENCIES.schedules)
_WHEN_TOKENS = _tokens(FREQUENCIES.when)
_AS_NEEDED_TOKENS = _tokens((pattern, True) for pattern in FREQUENCIES.as_needed)


class _FrequencyReader:
    """Reads a normalized frequency string token by token; ``ok`` turns False at the first
    token it cannot read or that contradicts an earlier one."""

    def __init__(self, text: str):
        self.text = text
        self.schedule: Optional[Schedule] = None
        self.as_needed = False
        self.when: List[str] = []
        self.daily = False
        self.tokens = 0
        self.ok = True

    def read(self) -> Optional[Frequency]:
        position = 0
        while self.ok and position < len(self.text):
            separator = _SEPARATOR.match(self.text, position)
            if separator:
                position = separator.end()
                continue
            position = self._token(position)
            self.tokens += 1
        if not self.ok or not self.tokens:
            return None
        if self.schedule is None and self.daily and len(self.when) == 1:
            self.schedule = _ONCE_A_DAY
        frequency, frequency_max, period, period_max, period_unit = self.schedule or (None,) * 5
        return Frequency(frequency, frequency_max, period, period_max, period_unit, self.as_needed, tuple(self.when))

    def _token(self, position: int) -> int:
        """Read the token at ``position``; its end (``ok`` False when none is readable)."""
        for pattern, schedule in _FIXED_TOKENS:
            match = pattern.match(self.text, position)
            if match:
                return self._set_schedule(schedule, match)
        for pattern, code in _WHEN_TOKENS:
            match = pattern.match(self.text, position)
            if match:
                self.daily = self.daily or code in FREQUENCIES.daily_when
                self.when += [] if code in self.when else [code]
                return match.end()
        match = _EVERY.match(self.text, position)
        if match:
            low, high = (number_value(match.group(name)) if match.group(name) else None for name in ("low", "high"))
            readable = low is not None and (high is not None or match.group("high") is None)
            return self._set_schedule(_interval(low, high, UNITS.periods[match.group("unit")]) if readable else None, match)
        match = _N_TIMES.match(self.text, position)
        if match:
            count = FREQUENCIES.times[match.group("word")] if match.group("word") else number_value(match.group("count"))
            schedule = (count, None, 1, None, FREQUENCIES.times_per[match.group("unit")]) if isinstance(count, int) else None
            return self._set_schedule(schedule, match)
        for pattern, _ in _AS_NEEDED_TOKENS:
            match = pattern.match(self.text, position)
            if match:
                self.as_needed = True
                return match.end()
        self.ok = False
        return position

    def _set_schedule(self, schedule: Optional[Schedule], match: re.Match) -> int:
        if schedule is None or (self.schedule is not None and self.schedule != schedule):
            self.ok = False
        self.schedule = schedule
        return match.end()


def parse_frequency(text: str) -> Optional[Frequency]:
    """``BID``, ``b.i.d.``, ``twice a day``, ``q12h``, ``every 12 hours`` (all 2 per 1 d), ``daily``,
    ``q.d.``, ``TID (3 times a day)``, ``q4-6h`` (4 to 6 per 1 d), ``qhs`` (1 per 1 d, HS),
    ``qod`` (1 per 2 d), ``weekly``, ``q8h prn``, ``prn`` (as needed, no schedule), ``TID with
    meals`` (when C)."""
    return _FrequencyReader(normalize_text(text)).read()
