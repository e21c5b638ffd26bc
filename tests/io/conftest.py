"""Fixtures of the io tests."""

import pytest

import clinical_ie  # noqa: F401  (registers the Doc extensions)
from clinical_ie.io.report import ConversionReport


@pytest.fixture
def report() -> ConversionReport:
    """A lenient brat report."""
    return ConversionReport("brat")
