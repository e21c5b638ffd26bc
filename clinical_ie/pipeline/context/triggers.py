"""ConText trigger rules and the trigger data file.

Each line of ``triggers.jsonl`` (and each item of the component's ``extra_triggers``)
is ``{"category": ..., "direction": ..., "phrases": [...]}``:

- assertion categories (every span): ``negated_existence`` -> ``absent``,
  ``possible_existence`` -> ``possible``, ``hypothetical``, ``historical``, ``family``,
  ``affirmed_existence`` -> ``present`` ("c/o": it ends other assertion scopes);
- medication-status categories (spans with a medication label): ``discontinued``,
  ``held``, ``allergy``, ``planned``, ``conditional``, ``active``;
- these need a ``direction``: ``forward`` (the scope follows the trigger),
  ``backward`` (it precedes it) or ``bidirectional``;
- ``no_known_allergies`` ("NKDA"): a section whose default status is ``allergy`` and
  which holds one gives no default status;
- ``terminate``: ends the scopes that reach it ("but", ";"); ``pseudo``: a phrase that
  contains a trigger without being one ("no increase in"). Both may name one
  ``"axis"`` (``assertion`` or ``status``) to act on that axis only.

Phrases are matched case-insensitively on whole tokens.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, List, Optional, Tuple, Union

from ..data_files import DataFileError, check_string_list, read_jsonl_objects

TRIGGERS_PATH = Path(__file__).with_name("triggers.jsonl")

ASSERTION_OF_CATEGORY = {
    "negated_existence": "absent",
    "family": "family",
    "hypothetical": "hypothetical",
    "possible_existence": "possible",
    "historical": "historical",
    "affirmed_existence": "present",
}
"""Assertion categories in tie-break order (equally near triggers: the first wins)."""

STATUS_OF_CATEGORY = {
    "allergy": "allergy",
    "discontinued": "discontinued",
    "held": "held",
    "conditional": "conditional",
    "planned": "planned",
    "active": "active",
}
"""Medication-status categories in tie-break order."""

NEGATED = "negated_existence"
POSSIBLE = "possible_existence"
NO_KNOWN_ALLERGIES = "no_known_allergies"
TERMINATE = "terminate"
PSEUDO = "pseudo"
DIRECTIONS = ("forward", "backward", "bidirectional")
ASSERTION = "assertion"
STATUS = "status"
AXES = (ASSERTION, STATUS)

_UNDIRECTED = (NO_KNOWN_ALLERGIES, TERMINATE, PSEUDO)
_FIELDS = {"category", "direction", "axis", "phrases"}


@dataclass(frozen=True)
class TriggerRule:
    """What a matched phrase does: its category, direction and the axes it acts on."""

    category: str
    direction: Optional[str]
    axes: FrozenSet[str]

    @property
    def key(self) -> str:
        """The matcher key of the rule's phrases."""
        return "|".join((self.category, self.direction or "", *sorted(self.axes)))

    @property
    def looks_forward(self) -> bool:
        return self.direction in ("forward", "bidirectional")

    @property
    def looks_backward(self) -> bool:
        return self.direction in ("backward", "bidirectional")


@dataclass(frozen=True)
class TriggerGroup:
    """A rule and the phrases that trigger it."""

    rule: TriggerRule
    phrases: Tuple[str, ...]


def parse_trigger_group(record: Dict) -> TriggerGroup:
    """The :class:`TriggerGroup` of one trigger record; ValueError says what is wrong."""
    unknown = set(record) - _FIELDS
    if unknown:
        raise ValueError(f"unknown field(s) {sorted(unknown)}; expected {sorted(_FIELDS)}")
    category = record.get("category")
    direction = record.get("direction")
    axis = record.get("axis")
    phrases = tuple(check_string_list(record.get("phrases"), "phrases"))
    if category in ASSERTION_OF_CATEGORY or category in STATUS_OF_CATEGORY:
        if direction not in DIRECTIONS:
            raise ValueError(f"category {category!r} needs a 'direction' in {list(DIRECTIONS)}, got {direction!r}")
        if axis is not None:
            raise ValueError(f"'axis' is only for {TERMINATE!r} and {PSEUDO!r} triggers")
        axes = frozenset([ASSERTION if category in ASSERTION_OF_CATEGORY else STATUS])
    elif category in _UNDIRECTED:
        if direction is not None:
            raise ValueError(f"category {category!r} takes no 'direction'")
        if category == NO_KNOWN_ALLERGIES:
            if axis is not None:
                raise ValueError(f"'axis' is only for {TERMINATE!r} and {PSEUDO!r} triggers")
            axes = frozenset([STATUS])
        elif axis is None:
            axes = frozenset(AXES)
        elif axis in AXES:
            axes = frozenset([axis])
        else:
            raise ValueError(f"'axis' must be one of {list(AXES)}, got {axis!r}")
    else:
        known = [*ASSERTION_OF_CATEGORY, *STATUS_OF_CATEGORY, *_UNDIRECTED]
        raise ValueError(f"unknown category {category!r}; expected one of {known}")
    return TriggerGroup(TriggerRule(category, direction, axes), phrases)


def read_triggers(path: Union[str, Path] = TRIGGERS_PATH) -> List[TriggerGroup]:
    """The trigger groups of a triggers JSONL file; :class:`DataFileError` names the
    file and line of a malformed record."""
    groups = []
    for line_number, record in read_jsonl_objects(path):
        try:
            groups.append(parse_trigger_group(record))
        except ValueError as error:
            raise DataFileError(path, line_number, str(error)) from None
    return groups


def parse_extra_triggers(records: Iterable[Dict]) -> List[TriggerGroup]:
    """The trigger groups of the component's ``extra_triggers`` config."""
    groups = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise ValueError(f"extra_triggers[{index}]: expected a dict, got {record!r}")
        try:
            groups.append(parse_trigger_group(record))
        except ValueError as error:
            raise ValueError(f"extra_triggers[{index}]: {error}") from None
    return groups
