"""tools/dosage_coverage.py: the share of the sample's gold dosage strings the parser reads."""

from clinical_ie.pipeline.dosage import parse_attribute
from tools.dosage_coverage import DEFAULT_FOLDERS, coverage_report, gold_strings


def test_sample_corpus_coverage():
    """Every label of the sample corpus mostly parses; the report lists what does not."""
    strings = gold_strings(DEFAULT_FOLDERS)
    assert set(strings) == {"Strength", "Dosage", "Frequency", "Duration"}
    for label, counts in strings.items():
        parsed = sum(count for text, count in counts.items() if parse_attribute(label, text) is not None)
        assert parsed >= 0.95 * sum(counts.values()) > 0, label
    report = coverage_report(strings)
    assert report[0].startswith("Strength: ") and "  not parsed: '250-50 mcg/Dose' x5" in report
