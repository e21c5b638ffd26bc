"""Parsing strength, dose, frequency and duration strings: a table of MIMIC-style strings with
their expected values written out, strings that must not parse, and the ``normalized`` object."""

import json
from pathlib import Path

import pytest

from clinical_ie.pipeline.dosage import (
    NORMALIZED_KINDS,
    Duration,
    Frequency,
    Quantity,
    Range,
    Ratio,
    normalized,
    parse_attribute,
    parse_dose,
    parse_duration,
    parse_frequency,
    parse_strength,
)

REPO_ROOT = Path(__file__).resolve().parents[2]

MG, G, MCG, ML = ("mg", "mg"), ("g", "g"), ("mcg", "ug"), ("mL", "mL")
UNITS, MEQ, PERCENT = ("units", "[iU]"), ("mEq", "meq"), ("%", "%")
TABLET, CAPSULE, PUFF = ("tablet", None), ("capsule", None), ("puff", None)
BARE = (None, None)


def per_day(times: int, times_max=None, as_needed=False, when=()) -> Frequency:
    return Frequency(times, times_max, 1, None, "d", as_needed, when)


def every(period, unit: str, period_max=None, as_needed=False) -> Frequency:
    return Frequency(1, None, period, period_max, unit, as_needed, ())


STRENGTHS = [
    ("500 mg", Quantity(500, *MG)),
    ("5mg", Quantity(5, *MG)),
    ("0.5 mg", Quantity(0.5, *MG)),
    ("8.6 mg", Quantity(8.6, *MG)),
    ("0.125mg", Quantity(0.125, *MG)),
    ("1,000 mg", Quantity(1000, *MG)),
    ("1,000 units", Quantity(1000, *UNITS)),
    ("5000 units", Quantity(5000, *UNITS)),
    ("1 gram", Quantity(1, *G)),
    ("2 gm", Quantity(2, *G)),
    ("1g", Quantity(1, *G)),
    ("3.375 g", Quantity(3.375, *G)),
    ("4.5g", Quantity(4.5, *G)),
    ("88 mcg", Quantity(88, *MCG)),
    ("18mcg", Quantity(18, *MCG)),
    ("40 mEq", Quantity(40, *MEQ)),
    ("40mEq", Quantity(40, *MEQ)),
    ("0.02 %", Quantity(0.02, *PERCENT)),
    ("5 %", Quantity(5, *PERCENT)),
    ("10 mL", Quantity(10, *ML)),
    ("2-4 mg", Range(2, 4, *MG)),
    ("5-10mg", Range(5, 10, *MG)),
    ("10 mg/5 mL", Ratio(Quantity(10, *MG), Quantity(5, *ML))),
    ("40 mg/0.4 mL", Ratio(Quantity(40, *MG), Quantity(0.4, *ML))),
    ("10 gram/15 mL", Ratio(Quantity(10, *G), Quantity(15, *ML))),
    ("100 unit/mL", Ratio(Quantity(100, *UNITS), Quantity(1, *ML))),
    ("5,000 unit/mL", Ratio(Quantity(5000, *UNITS), Quantity(1, *ML))),
    ("100,000 unit/gram", Ratio(Quantity(100000, *UNITS), Quantity(1, *G))),
    ("50 mcg/hr", Ratio(Quantity(50, *MCG), Quantity(1, "h", "h"))),
    # case-report spellings (ADE corpus): per body surface area, micro g, UI
    ("500 mg/m2", Ratio(Quantity(500, *MG), Quantity(1, "m2", "m2"))),
    ("10 mg/m(2)", Ratio(Quantity(10, *MG), Quantity(1, "m2", "m2"))),
    ("5.0 microg/kg", Ratio(Quantity(5, *MCG), Quantity(1, "kg", "kg"))),
    ("20 micro g/g", Ratio(Quantity(20, *MCG), Quantity(1, "g", "g"))),
    ("25 UI", Quantity(25, *UNITS)),
    ("90 mcg/Actuation", Ratio(Quantity(90, *MCG), Quantity(1, "actuation", None))),
    ("2.5 mg/3 mL (0.083 %)", Ratio(Quantity(2.5, *MG), Quantity(3, *ML))),
    ("5%(700 mg/patch)", Quantity(5, *PERCENT)),
]
STRENGTHS_NOT_PARSED = [
    "250-50 mcg/Dose",  # two ingredients of a combination, not a range
    "500-50 mcg/Dose",
    "5/325 mg",  # idem
    "500",  # no unit
    "one",
    "10 mg/5",  # denominator without unit
    "4-2 mg",  # a range must rise
    "0 mg",
    "as directed",
    "500 mg (250 mg)",  # a gloss that disagrees
    "",
]
DOSES = [
    ("One (1)", Quantity(1, *BARE)),
    ("one", Quantity(1, *BARE)),
    ("ONE", Quantity(1, *BARE)),
    ("Two (2)", Quantity(2, *BARE)),
    ("Three (3)", Quantity(3, *BARE)),
    ("2", Quantity(2, *BARE)),
    ("0.5", Quantity(0.5, *BARE)),
    ("1/2", Quantity(0.5, *BARE)),
    ("One-half (1/2)", Quantity(0.5, *BARE)),
    ("half a", Quantity(0.5, *BARE)),
    ("1-2", Range(1, 2, *BARE)),
    ("2-3", Range(2, 3, *BARE)),
    ("1 to 2", Range(1, 2, *BARE)),
    ("2 tabs", Quantity(2, *TABLET)),
    ("1-2 tablets", Range(1, 2, *TABLET)),
    ("one (1) tablet", Quantity(1, *TABLET)),
    ("1 1/2 tablets", Quantity(1.5, *TABLET)),
    ("two puffs", Quantity(2, *PUFF)),
    ("1 cap", Quantity(1, *CAPSULE)),
    ("12 units", Quantity(12, *UNITS)),
    ("10 units", Quantity(10, *UNITS)),
    ("2 mg", Quantity(2, *MG)),
]
DOSES_NOT_PARSED = [
    "One (2)",  # the gloss contradicts
    "10 mg/5 mL",  # a concentration is no dose
    "a few",
    "some",
    "2-1",
    "1-2 tablets as directed",
    "sliding scale",
]
FREQUENCIES = [
    ("BID", per_day(2)),
    ("bid", per_day(2)),
    ("b.i.d.", per_day(2)),
    ("twice a day", per_day(2)),
    ("twice daily", per_day(2)),
    ("BID (2 times a day)", per_day(2)),
    ("q12h", per_day(2)),
    ("Q12H", per_day(2)),
    ("every 12 hours", per_day(2)),
    ("Q12H (every 12 hours)", per_day(2)),
    ("daily", per_day(1)),
    ("DAILY (Daily)", per_day(1)),
    ("qd", per_day(1)),
    ("QD", per_day(1)),
    ("q.d.", per_day(1)),
    ("q. day", per_day(1)),
    ("once a day", per_day(1)),
    ("once daily", per_day(1)),
    ("q24h", per_day(1)),
    ("Q24H (every 24 hours)", per_day(1)),
    ("/day", per_day(1)),
    ("/d", per_day(1)),
    ("/24h", per_day(1)),
    ("TID", per_day(3)),
    ("t.i.d.", per_day(3)),
    ("three times a day", per_day(3)),
    ("TID (3 times a day)", per_day(3)),
    ("3x/day", per_day(3)),
    ("q8h", per_day(3)),
    ("q.8h.", per_day(3)),
    ("Q8H (every 8 hours)", per_day(3)),
    ("QID", per_day(4)),
    ("q.i.d.", per_day(4)),
    ("QID (4 times a day)", per_day(4)),
    ("Q6H (every 6 hours)", per_day(4)),
    ("every 6 hours", per_day(4)),
    ("q4h", per_day(6)),
    ("Q4H (every 4 hours)", per_day(6)),
    ("q4-6h", per_day(4, 6)),
    ("Q4-6H (every 4 to 6 hours)", per_day(4, 6)),
    ("qhs", per_day(1, when=("HS",))),
    ("QHS", per_day(1, when=("HS",))),
    ("q.h.s.", per_day(1, when=("HS",))),
    ("at bedtime", per_day(1, when=("HS",))),
    ("HS (at bedtime)", per_day(1, when=("HS",))),
    ("QHS (once a day (at bedtime))", per_day(1, when=("HS",))),
    ("nightly", per_day(1, when=("NIGHT",))),
    ("qAM", per_day(1, when=("MORN",))),
    ("q.a.m.", per_day(1, when=("MORN",))),
    ("every morning", per_day(1, when=("MORN",))),
    ("QAM (once a day (in the morning))", per_day(1, when=("MORN",))),
    ("before breakfast", per_day(1, when=("ACM",))),
    ("with meals", Frequency(None, None, None, None, None, False, ("C",))),
    ("TID with meals", per_day(3, when=("C",))),
    ("every other day", every(2, "d")),
    ("qod", every(2, "d")),
    ("q.o.d.", every(2, "d")),
    ("Q48H (every 48 hours)", every(2, "d")),
    ("weekly", every(1, "wk")),
    ("once a week", every(1, "wk")),
    ("every 7 days", every(1, "wk")),
    ("every 2 weeks", every(2, "wk")),
    ("monthly", every(1, "mo")),
    ("q5h", every(5, "h")),
    ("q3-5h", every(3, "h", period_max=5)),
    ("q30min", Frequency(2, None, 1, None, "h", False, ())),
    ("q8h prn", per_day(3, as_needed=True)),
    ("q8h as needed", per_day(3, as_needed=True)),
    ("q6h:prn", per_day(4, as_needed=True)),
    ("Q6H PRN", per_day(4, as_needed=True)),
    ("q.4h. p.r.n.", per_day(6, as_needed=True)),
    ("every 4 hours as needed", per_day(6, as_needed=True)),
    ("q4-6h PRN", per_day(4, 6, as_needed=True)),
    ("TID prn", per_day(3, as_needed=True)),
    ("prn", Frequency(None, None, None, None, None, True, ())),
    ("PRN", Frequency(None, None, None, None, None, True, ())),
    ("as needed", Frequency(None, None, None, None, None, True, ())),
]
FREQUENCIES_NOT_PARSED = [
    "as needed for pain",  # "for pain" is a Reason
    "once",  # a single dose, not daily
    "x1",
    "now",
    "biweekly",  # twice a week or every two weeks
    "TID (2 times a day)",  # the gloss contradicts
    "Q4H (every 6 hours)",
    "q0h",
    "every 6-4 hours",
    "with a glass of water",
    "daily until 5/3",
    "",
]
DURATIONS = [
    ("x 7 days", Duration(7, "d")),
    ("for 10 days", Duration(10, "d")),
    ("x2 weeks", Duration(2, "wk")),
    ("for one month", Duration(1, "mo")),
    ("1 day", Duration(1, "d")),
    ("1day", Duration(1, "d")),
    ("6 weeks", Duration(6, "wk")),
    ("4weeks", Duration(4, "wk")),
    ("14days", Duration(14, "d")),
    ("5d", Duration(5, "d")),
    ("x 24 hours", Duration(24, "h")),
    ("for a week", Duration(1, "wk")),
    ("for a total of 14 days", Duration(14, "d")),
    ("for 2 more days", Duration(2, "d")),
    ("for another 3 days", Duration(3, "d")),
]
DURATIONS_NOT_PARSED = ["until 5/3", "x1 dose", "3 doses", "7-10 days", "for several days", "until follow-up", "indefinitely"]


@pytest.mark.parametrize("text, expected", STRENGTHS)
def test_strength(text, expected):
    assert parse_strength(text) == expected


@pytest.mark.parametrize("text, expected", DOSES)
def test_dose(text, expected):
    assert parse_dose(text) == expected


@pytest.mark.parametrize("text, expected", FREQUENCIES)
def test_frequency(text, expected):
    assert parse_frequency(text) == expected


@pytest.mark.parametrize("text, expected", DURATIONS)
def test_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "parse, text",
    [(parse_strength, text) for text in STRENGTHS_NOT_PARSED]
    + [(parse_dose, text) for text in DOSES_NOT_PARSED]
    + [(parse_frequency, text) for text in FREQUENCIES_NOT_PARSED]
    + [(parse_duration, text) for text in DURATIONS_NOT_PARSED],
)
def test_strings_that_must_not_parse(parse, text):
    assert parse(text) is None


def test_the_table_is_large():
    cases = STRENGTHS + DOSES + FREQUENCIES + DURATIONS
    rejected = STRENGTHS_NOT_PARSED + DOSES_NOT_PARSED + FREQUENCIES_NOT_PARSED + DURATIONS_NOT_PARSED
    assert len(cases) + len(rejected) >= 150 and len(rejected) >= 30


def test_results_are_hashable_and_frozen():
    frequency = parse_frequency("q4-6h prn")
    assert {frequency: 1}[per_day(4, 6, as_needed=True)] == 1
    with pytest.raises(AttributeError):
        frequency.frequency = 3


def test_parse_attribute_by_label():
    assert parse_attribute("Strength", "500 mg") == Quantity(500, *MG)
    assert parse_attribute("Dosage", "1-2") == Range(1, 2, *BARE)
    assert parse_attribute("Frequency", "BID") == per_day(2)
    assert parse_attribute("Duration", "x 7 days") == Duration(7, "d")
    assert parse_attribute("Route", "PO") is None and parse_attribute("Form", "2 tabs") is None


def test_normalized_objects():
    strength = normalized("Strength", "10 mg/5 mL")
    assert strength == {
        "quantity": None,
        "range": None,
        "ratio": {"numerator": {"value": 10, "unit": "mg", "ucum": "mg"}, "denominator": {"value": 5, "unit": "mL", "ucum": "mL"}},
        "frequency": None,
        "duration": None,
    }
    frequency = normalized("Frequency", "qhs prn")
    assert tuple(frequency) == NORMALIZED_KINDS
    assert frequency["frequency"] == {
        "frequency": 1, "frequency_max": None, "period": 1, "period_max": None, "period_unit": "d", "as_needed": True, "when": ["HS"],
    }
    assert json.loads(json.dumps(frequency)) == frequency
    assert normalized("Dosage", "1-2")["range"] == {"low": 1, "high": 2, "unit": None, "ucum": None}
    assert normalized("Duration", "x 7 days")["duration"] == {"value": 7, "unit": "d"}
    assert normalized("Frequency", "until 5/3") is None and normalized("Reason", "pain") is None
