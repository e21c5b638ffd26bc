"""The ConText algorithm over token lists (Harkema et al. 2009, J Biomed Inform 42:839).

Token positions are indices into the document's tokens; nothing here reads a Doc.

1. :func:`scope_boundaries` cuts the tokens into segments that no scope crosses: line
   breaks (so every list item is its own segment), sentence-final ``.``/``!``/``?`` or
   dotted abbreviation (``q.d.``) followed by an upper-case word, and any given sentence
   starts or section-header ends.
2. :func:`resolve_overlaps` keeps the longest of overlapping trigger matches, whatever
   their axis ("no longer taking" hides "no"); a pseudo-trigger hides the triggers
   inside it and is then dropped.
3. :func:`trigger_scopes`: a forward scope runs from the trigger to the end of its
   segment, at most ``max_scope`` tokens, and stops at a termination term or at a
   trigger of another category on the same axis (but a speculation does not stop a
   negation); a backward scope likewise to the left.
4. :func:`classify_targets`: of the triggers whose scope holds a target's first token,
   the nearest wins on each axis (ties: category order in :mod:`.triggers`), except that a
   negation outranks a speculation ("no infiltrate to suggest pneumonia", "does not appear
   enlarged": the speculation is negated, and the finding absent). Without
   one, the target's section gives a default (``family_history`` -> ``family``;
   ``allergies`` -> ``allergy`` unless the section holds "NKDA"); else ``present`` and,
   for medications, ``active``.

For a medication, negation competes with the status triggers: if it is nearest, the
status and the assertion are ``absent``; otherwise the assertion ignores negation
("no longer taking" is ``discontinued``, not absent). A ``planned`` medication that is
otherwise ``present`` is ``hypothetical``; a ``conditional`` one ("if SBP > 100") is
part of the regimen, so ``present`` rather than ``hypothetical``.
"""

import re
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from .triggers import (
    ASSERTION,
    ASSERTION_OF_CATEGORY,
    NEGATED,
    NO_KNOWN_ALLERGIES,
    POSSIBLE,
    PSEUDO,
    STATUS,
    STATUS_OF_CATEGORY,
    TERMINATE,
    TriggerRule,
)

SENTENCE_FINAL = frozenset({".", "!", "?"})
DOTTED_ABBREVIATION = re.compile(r"(?:[^\W_]+\.){2,}\Z")
"""``q.d.``, ``p.r.n.``, ``b.i.d.``: ends a sentence only before an upper-case word."""

ASSERTION_RANK = {category: rank for rank, category in enumerate(ASSERTION_OF_CATEGORY)}
STATUS_RANK = {category: rank for rank, category in enumerate(STATUS_OF_CATEGORY)}
STATUS_RANK[NEGATED] = len(STATUS_RANK)


@dataclass(frozen=True)
class TriggerMatch:
    """A trigger phrase found at tokens ``[start, end)``."""

    start: int
    end: int
    rule: TriggerRule


@dataclass(frozen=True)
class TriggerScope:
    """A directional trigger with its scope: ``[trigger.end, forward_end)`` after it and
    ``[backward_start, trigger.start)`` before it (empty where it does not look)."""

    trigger: TriggerMatch
    forward_end: int
    backward_start: int


@dataclass(frozen=True)
class Target:
    """A span to classify, tokens ``[start, end)``."""

    start: int
    end: int
    is_medication: bool


@dataclass(frozen=True)
class Section:
    """A section of the note, tokens ``[start, end)``."""

    start: int
    end: int
    label: str


def scope_boundaries(
    words: Sequence[str],
    space_after: Sequence[bool],
    sentence_starts: Iterable[int] = (),
    extra_boundaries: Iterable[int] = (),
) -> List[int]:
    """Sorted token positions where a segment starts (0 first).

    ``words``: token texts; ``space_after``: whether a space follows each token. A
    segment starts at and after every whitespace token holding a line break, at an
    upper-case word after a sentence-final token followed by whitespace, and at every
    position of ``sentence_starts`` and ``extra_boundaries``.
    """
    count = len(words)
    boundaries = {0, *sentence_starts, *extra_boundaries}
    after_final = False
    for i, word in enumerate(words):
        if word.isspace():
            if "\n" in word:
                boundaries.add(i)
                boundaries.add(i + 1)
                after_final = False
            continue
        if after_final and word[:1].isupper():
            boundaries.add(i)
        after_final = (
            word[-1:] in SENTENCE_FINAL
            and (len(word) == 1 or DOTTED_ABBREVIATION.match(word) is not None)
            and (space_after[i] or (i + 1 < count and words[i + 1].isspace()))
        )
    return sorted(position for position in boundaries if 0 <= position < count)


def resolve_overlaps(matches: Iterable[TriggerMatch]) -> List[TriggerMatch]:
    """The matches not inside a longer overlapping one (nor inside a pseudo-trigger as
    long as them), pseudo-triggers removed, ordered by position."""
    ordered = sorted(
        matches, key=lambda match: (match.start - match.end, match.rule.category != PSEUDO, match.start)
    )
    claimed: Dict[int, Tuple[int, bool]] = {}
    kept = []
    for match in ordered:
        length = match.end - match.start
        is_pseudo = match.rule.category == PSEUDO
        blocked = False
        for position in range(match.start, match.end):
            claim = claimed.get(position)
            if claim is not None and (claim[0] > length or (claim[1] and not is_pseudo)):
                blocked = True
                break
        if blocked:
            continue
        kept.append(match)
        for position in range(match.start, match.end):
            claimed.setdefault(position, (length, is_pseudo))
    return sorted((match for match in kept if match.rule.category != PSEUDO), key=lambda match: match.start)


def segment_index(boundaries: Sequence[int], position: int) -> int:
    """The index of the segment holding token ``position``."""
    return bisect_right(boundaries, position) - 1


def _blocks(blocker: TriggerRule, rule: TriggerRule, axis: str) -> bool:
    """Whether ``blocker`` ends the scope of ``rule`` (on ``axis``); a speculation does not end a
    negation's scope, which holds what is speculated ("no infiltrate to suggest pneumonia")."""
    if axis not in blocker.axes:
        return False
    if rule.category == NEGATED and blocker.category == POSSIBLE:
        return False
    return blocker.category == TERMINATE or (blocker.direction is not None and blocker.category != rule.category)


def trigger_scopes(
    triggers: Sequence[TriggerMatch], boundaries: Sequence[int], token_count: int, max_scope: int
) -> Dict[int, List[TriggerScope]]:
    """Segment index -> the scopes of the directional triggers in it.

    ``triggers``: resolved matches ordered by position.
    """
    by_segment: Dict[int, List[TriggerMatch]] = defaultdict(list)
    for trigger in triggers:
        by_segment[segment_index(boundaries, trigger.start)].append(trigger)
    scopes: Dict[int, List[TriggerScope]] = {}
    for segment, segment_triggers in by_segment.items():
        segment_start = boundaries[segment]
        segment_end = boundaries[segment + 1] if segment + 1 < len(boundaries) else token_count
        segment_scopes = []
        for index, trigger in enumerate(segment_triggers):
            rule = trigger.rule
            if rule.direction is None:
                continue
            (axis,) = rule.axes
            forward_end = trigger.end
            if rule.looks_forward:
                forward_end = min(segment_end, trigger.end + max_scope)
                for other in segment_triggers[index + 1:]:
                    if other.start >= forward_end:
                        break
                    if other.start >= trigger.end and _blocks(other.rule, rule, axis):
                        forward_end = other.start
                        break
            backward_start = trigger.start
            if rule.looks_backward:
                backward_start = max(segment_start, trigger.start - max_scope)
                for other in reversed(segment_triggers[:index]):
                    if other.end <= backward_start:
                        break
                    if other.end <= trigger.start and _blocks(other.rule, rule, axis):
                        backward_start = other.end
                        break
            segment_scopes.append(TriggerScope(trigger, forward_end, backward_start))
        scopes[segment] = segment_scopes
    return scopes


def _nearest(candidates: Dict[str, Tuple[int, int]]) -> Optional[str]:
    """The category with the smallest (distance, rank), or None."""
    if not candidates:
        return None
    return min(candidates, key=candidates.__getitem__)


def _offer(candidates: Dict[str, Tuple[int, int]], category: str, distance: int, rank: int) -> None:
    best = candidates.get(category)
    if best is None or (distance, rank) < best:
        candidates[category] = (distance, rank)


def classify_targets(
    targets: Sequence[Target],
    triggers: Sequence[TriggerMatch],
    boundaries: Sequence[int],
    token_count: int,
    sections: Sequence[Section],
    max_scope: int,
    section_assertions: Mapping[str, str],
    section_statuses: Mapping[str, str],
) -> List[Tuple[str, Optional[str]]]:
    """(assertion, medication status or None) for every target.

    ``triggers``: resolved matches ordered by position; ``sections``: ordered, not
    overlapping; ``section_assertions`` / ``section_statuses``: section label ->
    default value.
    """
    scopes = trigger_scopes(triggers, boundaries, token_count, max_scope)
    section_starts = [section.start for section in sections]
    sections_without_allergies = set()
    for trigger in triggers:
        if trigger.rule.category == NO_KNOWN_ALLERGIES:
            index = bisect_right(section_starts, trigger.start) - 1
            if index >= 0 and trigger.start < sections[index].end:
                sections_without_allergies.add(index)
    results = []
    for target in targets:
        assertions: Dict[str, Tuple[int, int]] = {}
        statuses: Dict[str, Tuple[int, int]] = {}
        for scope in scopes.get(segment_index(boundaries, target.start), ()):
            trigger = scope.trigger
            if trigger.end <= target.start and target.start < scope.forward_end:
                distance = target.start - trigger.end
            elif trigger.start >= target.end and target.start >= scope.backward_start:
                distance = trigger.start - target.end
            else:
                continue
            category = trigger.rule.category
            if ASSERTION in trigger.rule.axes:
                _offer(assertions, category, distance, ASSERTION_RANK[category])
            if target.is_medication and (STATUS in trigger.rule.axes or category == NEGATED):
                _offer(statuses, category, distance, STATUS_RANK[category])
        if NEGATED in assertions:
            assertions.pop(POSSIBLE, None)
        index = bisect_right(section_starts, target.start) - 1
        section = sections[index].label if index >= 0 and target.start < sections[index].end else None
        default_assertion = section_assertions.get(section, "present")
        if not target.is_medication:
            category = _nearest(assertions)
            results.append((ASSERTION_OF_CATEGORY[category] if category else default_assertion, None))
            continue
        status_category = _nearest(statuses)
        if status_category == NEGATED:
            results.append(("absent", "absent"))
            continue
        if status_category is not None:
            status = STATUS_OF_CATEGORY[status_category]
        else:
            status = section_statuses.get(section, "active")
            if status == "allergy" and index in sections_without_allergies:
                status = "active"
        assertions.pop(NEGATED, None)
        category = _nearest(assertions)
        assertion = ASSERTION_OF_CATEGORY[category] if category else default_assertion
        if status == "planned" and assertion == "present":
            assertion = "hypothetical"
        elif status == "conditional" and assertion == "hypothetical":
            assertion = "present"
        results.append((assertion, status))
    return results
