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
"""

import re
from dataclasses import asdict, dataclass
from typing import ClassVar, Dict, List, Optional, Tuple, Union

Number = Union[int, float]

# --- results -------------------------------------------------------------------------------


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

# --- numbers -------------------------------------------------------------------------------

_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "fifteen": 15,
    "twenty": 20, "thirty": 30,
}
_WORD_NUMBER = r"(?:" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")\b"
_FRACTION = r"(?:1/2|1/3|2/3|1/4|3/4)"
"""Only these: ``5/325 mg`` is a combination product, not a fraction."""
_HALF = r"(?:(?:one|a)[- ])?half\b(?:\s+an?\b)?"
_NUMBER = (
    rf"(?:\d+\s+{_FRACTION}|{_FRACTION}|\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+|{_HALF}|{_WORD_NUMBER})"
)
_INTEGER = rf"(?:\d+|{_WORD_NUMBER})"
_GLOSSED_NUMBER = re.compile(rf"({_NUMBER})(?:\s*\(\s*({_NUMBER})\s*\))?")
_HALF_PATTERN = re.compile(_HALF)
_MIXED_FRACTION = re.compile(rf"(\d+)\s+({_FRACTION})")


def _tidy(value: float) -> Number:
    """``value`` as an int when whole (``500``, not ``500.0``)."""
    return int(value) if value.is_integer() else value


def _number(text: str) -> Optional[Number]:
    """The positive value of a :data:`_NUMBER` match, glossed or not (``One (1)``); None when
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


def _normalize_text(text: str) -> str:
    """Lower case, single spaces, no surrounding spaces or list punctuation."""
    return " ".join(text.lower().split()).strip(" ,;:")


# --- amounts: strength and dose ------------------------------------------------------------

_UNITS: Dict[str, Tuple[str, Optional[str]]] = {}
"""Spelling -> (display unit, UCUM code or None)."""
for _spellings, _unit in (
    (("mg", "mgs", "milligram", "milligrams"), ("mg", "mg")),
    (("g", "gm", "gms", "gram", "grams"), ("g", "g")),
    (("mcg", "mcgs", "ug", "\u00b5g", "microgram", "micrograms"), ("mcg", "ug")),
    (("ng", "nanogram", "nanograms"), ("ng", "ng")),
    (("kg",), ("kg", "kg")),
    (("ml", "mls", "cc", "milliliter", "milliliters"), ("mL", "mL")),
    (("l", "liter", "liters", "litre", "litres"), ("L", "L")),
    (("unit", "units", "u", "iu", "international units"), ("units", "[iU]")),
    (("meq", "milliequivalents"), ("mEq", "meq")),
    (("mmol",), ("mmol", "mmol")),
    (("%", "percent"), ("%", "%")),
    (("tablet", "tablets", "tab", "tabs"), ("tablet", None)),
    (("capsule", "capsules", "cap", "caps"), ("capsule", None)),
    (("puff", "puffs"), ("puff", None)),
    (("drop", "drops", "gtt", "gtts"), ("drop", None)),
    (("spray", "sprays"), ("spray", None)),
    (("patch", "patches"), ("patch", None)),
    (("suppository", "suppositories", "supp"), ("suppository", None)),
    (("actuation", "actuations"), ("actuation", None)),
    (("inhalation", "inhalations"), ("inhalation", None)),
    (("dose", "doses"), ("dose", None)),
    (("application", "applications", "appl"), ("application", None)),
    (("packet", "packets"), ("packet", None)),
    (("lozenge", "lozenges"), ("lozenge", None)),
    (("vial", "vials"), ("vial", None)),
    (("ampule", "ampules", "ampoule", "ampoules"), ("ampule", None)),
    (("teaspoon", "teaspoons", "tsp"), ("teaspoon", None)),
    (("tablespoon", "tablespoons", "tbsp"), ("tablespoon", None)),
):
    _UNITS.update(dict.fromkeys(_spellings, _unit))
_PER_UNITS = {
    **_UNITS,
    **dict.fromkeys(("h", "hr", "hrs", "hour"), ("h", "h")),
    **dict.fromkeys(("d", "day"), ("d", "d")),
    **dict.fromkeys(("wk", "week"), ("wk", "wk")),
    "min": ("min", "min"),
}
"""Units of a ratio's denominator: those of amounts and, for a rate (``50 mcg/hr``), of time."""


def _alternation(spellings) -> str:
    return "(?:" + "|".join(re.escape(s) for s in sorted(spellings, key=len, reverse=True)) + r")(?![a-z\u00b5])\.?"


_AMOUNT = re.compile(
    rf"""(?P<low>{_NUMBER}(?:\s*\(\s*{_NUMBER}\s*\))?)
    (?:\s*(?:-|\u2013|to)\s*(?P<high>{_NUMBER}(?:\s*\(\s*{_NUMBER}\s*\))?))?
    (?:\s*(?P<unit>{_alternation(_UNITS)}))?
    (?:\s*/\s*(?P<per_value>{_NUMBER})?\s*(?P<per_unit>{_alternation(_PER_UNITS)}))?
    (?:\s*\((?P<gloss>.+)\))?""",
    re.VERBOSE,
)


def _unit(spelling: Optional[str]) -> Tuple[Optional[str], Optional[str]]:
    """(display unit, UCUM code) of a matched unit spelling; (None, None) for none."""
    return _PER_UNITS[spelling.rstrip(".")] if spelling is not None else (None, None)


def _amount(text: str, unit_required: bool, ratio_allowed: bool) -> Union[Quantity, Range, Ratio, None]:
    match = _AMOUNT.fullmatch(_normalize_text(text))
    if match is None or (unit_required and match.group("unit") is None):
        return None
    if match.group("per_unit") is not None and (not ratio_allowed or match.group("unit") is None or match.group("high")):
        return None
    low = _number(match.group("low"))
    high = _number(match.group("high")) if match.group("high") else None
    if low is None or (match.group("high") and (high is None or high <= low)):
        return None
    unit, ucum = _unit(match.group("unit"))
    if high is not None:
        head = Range(low, high, unit, ucum)
    elif match.group("per_unit") is not None:
        per_value = _number(match.group("per_value")) if match.group("per_value") else 1
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


# --- frequency -----------------------------------------------------------------------------

Schedule = Tuple[int, Optional[int], Number, Optional[Number], str]
"""(frequency, frequency_max, period, period_max, period_unit)."""
_ONCE_A_DAY: Schedule = (1, None, 1, None, "d")
_PERIOD_UNITS = {"min": "min", "mins": "min", "minute": "min", "minutes": "min", "h": "h", "hr": "h", "hrs": "h",
                 "hour": "h", "hours": "h", "d": "d", "day": "d", "days": "d", "wk": "wk", "wks": "wk", "week": "wk",
                 "weeks": "wk", "mo": "mo", "mos": "mo", "month": "mo", "months": "mo"}
_LARGER_UNIT = {"min": (60, "h"), "h": (24, "d"), "d": (7, "wk")}


def _interval(low: int, high: Optional[int], unit: str) -> Optional[Schedule]:
    """Every ``low`` (to ``high``) ``unit`` as a canonical schedule (module docstring)."""
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


def _dotted(letters: str) -> str:
    """``bid`` -> a pattern for ``bid``, ``b.i.d.``, ``b. i. d.``."""
    return r"\.?\s?".join(letters) + r"\.?"


_WHEN_DAILY = {  # a time of day: once a day at it, unless the string says otherwise
    "HS": (_dotted("qhs"), _dotted("hs"), "at bedtime", "bedtime", "before bed"),
    "NIGHT": ("nightly", "at night", "every night", "each night"),
    "MORN": (_dotted("qam"), "every morning", "each morning", "in the morning"),
    "EVE": (_dotted("qpm"), "every evening", "each evening", "in the evening"),
    "NOON": ("at noon", "q noon"),
    "ACM": ("before breakfast",), "ACD": ("before lunch",), "ACV": ("before dinner", "before supper"),
    "CM": ("with breakfast",), "CD": ("with lunch",), "CV": ("with dinner", "with supper"),
    "PCM": ("after breakfast",), "PCD": ("after lunch",), "PCV": ("after dinner", "after supper"),
}
_WHEN_MEALS = {"C": ("with meals",), "AC": ("before meals", _dotted("ac")), "PC": ("after meals", _dotted("pc"))}
_FIXED: Dict[Schedule, Tuple[str, ...]] = {
    _ONCE_A_DAY: ("daily", _dotted("qd"), r"q\.?\s?day", "every day", "each day", r"once (?:a|per|each) day",
                  "once daily", "per day", r"/\s?day", "/d", r"/\s?24\s?h(?:rs?|ours)?"),
    (2, None, 1, None, "d"): (_dotted("bid"),),
    (3, None, 1, None, "d"): (_dotted("tid"),),
    (4, None, 1, None, "d"): (_dotted("qid"),),
    (24, None, 1, None, "d"): ("every hour", r"q\.?\s?hour"),
    (1, None, 2, None, "d"): ("every other day", _dotted("qod"), "alternate days"),
    (1, None, 1, None, "wk"): ("weekly", r"once (?:a|per|each) week", "every week", r"q\.?\s?w(?:ee)?k\.?"),
    (1, None, 2, None, "wk"): ("every other week",),
    (1, None, 1, None, "mo"): ("monthly", r"once (?:a|per|each) month", "every month"),
}
_AS_NEEDED = (_dotted("prn"), "as needed", "when needed", "if needed")
_TIMES = {"twice": 2, "thrice": 3}
_TIMES_UNITS = {"day": "d", "daily": "d", "d": "d", "week": "wk", "weekly": "wk", "wk": "wk", "month": "mo", "monthly": "mo"}
_END = r"(?=$|[\s,;:()])"
_SEPARATOR = re.compile(r"[\s,;:()]+")
_EVERY = re.compile(
    rf"(?:every\s?|q\.?\s?)(?P<low>{_INTEGER})(?:\s?(?:-|\u2013|to)\s?(?P<high>{_INTEGER}))?\s?"
    rf"(?P<unit>{'|'.join(sorted(_PERIOD_UNITS, key=len, reverse=True))})\.?{_END}"
)
_N_TIMES = re.compile(
    rf"(?:(?P<word>twice|thrice)|(?P<count>{_INTEGER})\s?(?:times?|x))\s?(?:(?:a|per|each|every)\s|/\s?)?"
    rf"(?P<unit>{'|'.join(sorted(_TIMES_UNITS, key=len, reverse=True))}){_END}"
)


def _literal_tokens(table: Dict[object, Tuple[str, ...]]) -> List[Tuple[re.Pattern, object]]:
    return [(re.compile(f"(?:{pattern}){_END}"), value) for value, patterns in table.items() for pattern in patterns]


_FIXED_TOKENS = _literal_tokens(_FIXED)
_WHEN_TOKENS = _literal_tokens({**_WHEN_DAILY, **_WHEN_MEALS})
_AS_NEEDED_TOKENS = _literal_tokens({True: _AS_NEEDED})


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
                self.daily = self.daily or code in _WHEN_DAILY
                self.when += [] if code in self.when else [code]
                return match.end()
        match = _EVERY.match(self.text, position)
        if match:
            low, high = (_number(match.group(name)) if match.group(name) else None for name in ("low", "high"))
            readable = low is not None and (high is not None or match.group("high") is None)
            return self._set_schedule(_interval(low, high, _PERIOD_UNITS[match.group("unit")]) if readable else None, match)
        match = _N_TIMES.match(self.text, position)
        if match:
            count = _TIMES[match.group("word")] if match.group("word") else _number(match.group("count"))
            schedule = (count, None, 1, None, _TIMES_UNITS[match.group("unit")]) if isinstance(count, int) else None
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
    return _FrequencyReader(_normalize_text(text)).read()


# --- duration ------------------------------------------------------------------------------

_DURATION = re.compile(
    rf"(?:(?:x|\u00d7|for|over|for a total of|total of|for another|for the next)\s?)?"
    rf"(?P<value>{_NUMBER}|an?\b)\s?(?:(?:more|additional|further)\s)?"
    rf"(?P<unit>{'|'.join(sorted(_PERIOD_UNITS, key=len, reverse=True))})\.?(?:\s(?:total|more))?"
)


def parse_duration(text: str) -> Optional[Duration]:
    """``x 7 days``, ``for 10 days``, ``x2 weeks``, ``for one month``, ``5d``, ``for a week``;
    None for a date (``until 5/3``) or a range (``7-10 days``)."""
    match = _DURATION.fullmatch(_normalize_text(text))
    if match is None:
        return None
    value = 1 if match.group("value") in ("a", "an") else _number(match.group("value"))
    return Duration(value, _PERIOD_UNITS[match.group("unit")]) if value is not None else None


# --- by entity label -----------------------------------------------------------------------

PARSERS = {"Strength": parse_strength, "Dosage": parse_dose, "Frequency": parse_frequency, "Duration": parse_duration}
"""The parser of each entity label that has one."""


def parse_attribute(label: str, text: str) -> Optional[Parsed]:
    """``text`` parsed by its label's parser; None for another label or an unreadable string."""
    parser = PARSERS.get(label)
    return parser(text) if parser is not None else None


def normalized(label: str, text: str) -> Optional[Dict[str, Optional[dict]]]:
    """The ``normalized`` object of an attribute value: one key per :data:`NORMALIZED_KINDS`,
    the parsed one a dict of its fields (JSON-serializable) and the others None; None when
    :func:`parse_attribute` gives None."""
    parsed = parse_attribute(label, text)
    if parsed is None:
        return None
    fields = asdict(parsed)
    if isinstance(parsed, Frequency):
        fields["when"] = list(parsed.when)
    return {kind: fields if kind == parsed.kind else None for kind in NORMALIZED_KINDS}
