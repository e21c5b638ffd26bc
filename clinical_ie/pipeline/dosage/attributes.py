"""Parsing by entity label, and the ``normalized`` object of an attribute value."""

from dataclasses import asdict
from typing import Dict, Optional

from .amounts import parse_dose, parse_strength
from .duration import parse_duration
from .frequency import parse_frequency
from .results import NORMALIZED_KINDS, Frequency, Parsed

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
