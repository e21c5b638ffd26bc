"""A note as HTML with overlapping spans marked: nested inline elements whose underlines stack.

:func:`overlay_html` draws :class:`Mark` s (offsets into the shown text, CSS classes, a tag, a
tooltip) over a text. :class:`NoteText` is the text shown for a Doc: the note itself, or each
token's shape (``token.shape_``) with the note's character offsets mapped onto it.
"""

import html
from bisect import bisect_right
from typing import Dict, List, NamedTuple, Sequence, Tuple

from spacy.tokens import Doc

from .metrics import EntitySpan


class Mark(NamedTuple):
    """An entity drawn in the note: shown-text offsets, CSS classes, a tag and a tooltip."""

    start: int
    end: int
    classes: str
    tag: str
    title: str


class NoteText:
    """The note as shown: its text, or with ``no_text`` each token's shape and whitespace."""

    def __init__(self, doc: Doc, no_text: bool):
        self.text, self._starts, self._tokens = doc.text, None, []
        if no_text:
            self.text = "".join(t.shape_ + t.whitespace_ for t in doc)
            self._starts = [t.idx for t in doc]
            shown = 0
            for t in doc:
                self._tokens.append((len(t.text), shown, len(t.shape_)))  # length, shown start, shown length
                shown += len(t.shape_) + len(t.whitespace_)

    def position(self, char: int) -> int:
        """Where the note's character offset ``char`` falls in the shown text."""
        if self._starts is None:
            return char
        i = bisect_right(self._starts, char) - 1
        if i < 0:
            return 0
        length, shown_start, shown_length = self._tokens[i]
        within = char - self._starts[i]
        return shown_start + (min(within, shown_length) if within <= length else shown_length + within - length)

    def show(self, entity: EntitySpan) -> str:
        """What is shown of an entity's text."""
        return self.text[self.position(entity.start):self.position(entity.end)]


def overlay_html(text: str, marks: Sequence[Mark]) -> str:
    """``text`` escaped with each mark as a ``<span class="m ...">``: its first piece has class
    ``first`` and a tag; each mark's padding grows with the marks it holds, so nested underlines
    stack."""
    events = nest_marks(len(text), marks)
    heights = mark_heights(events, len(marks))
    parts = []
    for event in events:
        if event[0] == "text":
            parts.append(html.escape(text[event[1]:event[2]]))
        elif event[0] == "open":
            i, first = event[1], event[2]
            m = marks[i]
            tag = f'<span class="tag">{html.escape(m.tag)}</span>' if first else ""
            parts.append(f'<span class="m {m.classes}{" first" if first else ""}" style="padding-bottom:'
                         f'{4 * heights[i] - 3}px" title="{html.escape(m.title)}">{tag}')
        else:
            parts.append("</span>")
    return "".join(parts)


def nest_marks(length: int, marks: Sequence[Mark]) -> List[Tuple]:
    """The text ``0:length`` as ``("text", start, end)``, ``("open", mark, first)`` and
    ``("close", mark)`` events that nest: a mark crossing the end of one it holds is closed and
    reopened (``first`` False) around it."""
    order = sorted(range(len(marks)), key=lambda i: (marks[i].start, -marks[i].end, i))
    boundaries = sorted({0, length, *(m.start for m in marks), *(m.end for m in marks)})
    events, stack, position, n = [], [], 0, 0
    for boundary in boundaries:
        if boundary > position:
            events.append(("text", position, boundary))
            position = boundary
        ending = [depth for depth, i in enumerate(stack) if marks[i].end == boundary]
        if ending:
            reopened = [i for i in stack[ending[0]:] if marks[i].end != boundary]
            events += [("close", i) for i in reversed(stack[ending[0]:])]
            del stack[ending[0]:]
            events += [("open", i, False) for i in reopened]
            stack += reopened
        while n < len(order) and marks[order[n]].start == boundary:
            i = order[n]
            n += 1
            events.append(("open", i, True))
            if marks[i].end == boundary:
                events.append(("close", i))
            else:
                stack.append(i)
    return events


def mark_heights(events: Sequence[Tuple], n_marks: int) -> List[int]:
    """Per mark, 1 + the largest height of the marks any of its pieces holds."""
    held = [set() for _ in range(n_marks)]
    stack = []
    for event in events:
        if event[0] == "open":
            for i in stack:
                held[i].add(event[1])
            stack.append(event[1])
        elif event[0] == "close":
            stack.pop()
    heights: Dict[int, int] = {}

    def height(i: int) -> int:
        if i not in heights:
            heights[i] = 1 + max((height(j) for j in held[i]), default=0)
        return heights[i]

    return [height(i) for i in range(n_marks)]
