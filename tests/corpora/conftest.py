"""Fixtures of the io tests."""

import pytest

import clinical_ie.pipeline  # noqa: F401  (registers the extensions)
from clinical_ie.corpora.conversion_report import ConversionReport


@pytest.fixture
def report() -> ConversionReport:
    """A lenient brat report."""
    return ConversionReport("brat")
