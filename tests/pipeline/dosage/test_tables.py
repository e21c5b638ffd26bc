"""The dosage parser's unit and frequency data files: the shipped files read, and a malformed
line is an error naming the file and line."""

import pytest

from clinical_ie.pipeline.data_files import DataFileError
from clinical_ie.pipeline.dosage import parse_frequency, parse_strength
from clinical_ie.pipeline.dosage.tables import FREQUENCIES_PATH, UNITS_PATH, dotted, read_frequencies, read_units


def test_shipped_tables():
    units = read_units(UNITS_PATH)
    assert units.amounts["mcg"] == units.amounts["\u00b5g"] == ("mcg", "ug")
    assert units.amounts["tabs"] == ("tablet", None)
    assert units.denominators["hr"] == ("h", "h") and "hr" not in units.amounts
    assert units.periods["weeks"] == "wk"
    frequencies = read_frequencies(FREQUENCIES_PATH)
    assert (dotted("bid"), (2, None, 1, None, "d")) in frequencies.schedules
    assert ("HS" in frequencies.daily_when) and ("C" not in frequencies.daily_when)
    assert frequencies.times == {"twice": 2, "thrice": 3}


def test_dotted_abbreviations():
    assert parse_frequency("b. i. d.") == parse_frequency("BID") == parse_frequency("b.i.d")


def test_a_units_file_line_changes_the_parser(tmp_path):
    path = tmp_path / "units.jsonl"
    path.write_text(UNITS_PATH.read_text(encoding="utf8")
                    + '{"kind": "amount", "unit": "mg", "ucum": "mg", "spellings": ["milligramme"]}\n', encoding="utf8")
    assert read_units(path).amounts["milligramme"] == ("mg", "mg")
    assert parse_strength("5 milligramme") is None  # the shipped table has no such spelling


UNIT_LINES = [
    ("[1, 2]", "expected a JSON object"),
    ('{"kind": "mass", "unit": "mg", "ucum": "mg", "spellings": ["mg"]}', "'kind' must be one of"),
    ('{"kind": "amount", "unit": "mg", "spellings": ["mg"]}', "needs unit, ucum, spellings"),
    ('{"kind": "amount", "unit": "mg", "ucum": "mg", "spellings": ["mg"], "note": 1}', "unknown fields"),
    ('{"kind": "amount", "unit": "mg", "ucum": "mg", "spellings": []}', "'spellings'"),
    ('{"kind": "amount", "unit": "g", "ucum": "g", "spellings": ["mg"]}', "already means"),
    ('{"kind": "rate", "unit": "mg", "ucum": "mg", "spellings": ["mg"]}', "both amount and rate"),
    ('{"kind": "period", "unit": "year", "spellings": ["y"]}', "'unit' must be one of min, h, d, wk, mo"),
]


FREQUENCY_LINES = [
    ('{"kind": "schedule", "frequency": 0, "period": 1, "period_unit": "d", "patterns": ["x"]}', "positive whole number"),
    ('{"kind": "schedule", "frequency": 2, "period": 1, "period_unit": "d"}', "'abbreviations' or 'patterns'"),
    ('{"kind": "schedule", "frequency": 2, "period": 1, "period_unit": "d", "patterns": ["(x"]}', "not a regular expression"),
    ('{"kind": "when", "code": "HS", "daily": true, "patterns": ["at bedtime"]}', "already on line 1"),
    ('{"kind": "when", "code": "C", "daily": "no", "patterns": ["with meals"]}', "'daily' must be true or false"),
    ('{"kind": "as_needed", "abbreviations": ["p.r.n."]}', "lower-case letters"),
    ('{"kind": "times", "count": 2.5, "words": ["twice"]}', "positive whole number"),
    ('{"kind": "times_per", "period_unit": "day", "spellings": ["day"]}', "'period_unit' must be one of"),
]


FIRST_LINES = {
    read_units: '{"kind": "amount", "unit": "mg", "ucum": "mg", "spellings": ["mg"]}',
    read_frequencies: '{"kind": "when", "code": "HS", "daily": true, "abbreviations": ["qhs"]}',
}


@pytest.mark.parametrize(
    "read, line, problem",
    [(read_units, *case) for case in UNIT_LINES] + [(read_frequencies, *case) for case in FREQUENCY_LINES],
)
def test_malformed_data_file(tmp_path, read, line, problem):
    path = tmp_path / "table.jsonl"
    path.write_text(FIRST_LINES[read] + "\n\n" + line + "\n", encoding="utf8")
    with pytest.raises(DataFileError, match=problem) as raised:
        read(path)
    assert str(path) in str(raised.value) and raised.value.line_number == 3
