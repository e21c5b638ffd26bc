"""The note overlay: token shapes with mapped offsets, and crossing marks nested into pieces."""

import re

import spacy

from clinical_ie.evaluation.metrics import EntitySpan
from clinical_ie.evaluation.note_overlay import Mark, NoteText, mark_heights, nest_marks, overlay_html
from tests.evaluation.test_error_pages import count_marks


def test_no_text_shows_token_shapes_and_maps_offsets():
    doc = spacy.blank("en")("Metformin 500mg\nBID")
    note = NoteText(doc, no_text=True)
    assert note.text == "Xxxxx dddxx\nXXX"
    assert note.show(EntitySpan("Drug", 0, 9)) == "Xxxxx"
    assert note.show(EntitySpan("Strength", 10, 15)) == "dddxx"
    assert note.show(EntitySpan("Frequency", 16, 19)) == "XXX"
    assert note.position(7) == 5  # inside "Metformin", past its shape's end
    assert NoteText(doc, no_text=False).show(EntitySpan("Drug", 0, 9)) == "Metformin"


def test_crossing_marks_are_split_into_nested_pieces():
    marks = [Mark(0, 10, "pred fp", "A", "a"), Mark(5, 15, "gold fn", "B", "b")]
    assert nest_marks(20, marks) == [
        ("open", 0, True), ("text", 0, 5), ("open", 1, True), ("text", 5, 10), ("close", 1), ("close", 0),
        ("open", 1, False), ("text", 10, 15), ("close", 1), ("text", 15, 20),
    ]
    html = overlay_html("0123456789abcdefghij", marks)
    assert html.count("<span") == html.count("</span>") == 5  # A, B and B's second piece; 2 tags
    assert count_marks(html).marks == {"fp pred": 1, "fn gold": 1}
    assert re.sub(r"<[^>]+>", "", html) == "A01234B56789abcdefghij"


def test_a_mark_holding_another_sits_lower():
    """Padding 4 * height - 3 px: the outer mark's underline is drawn below the inner one's."""
    marks = [Mark(0, 11, "pred tp", "Drug", ""), Mark(8, 11, "gold fn", "Form", ""), Mark(12, 14, "pred fp", "X", "")]
    assert mark_heights(nest_marks(14, marks), 3) == [2, 1, 1]
    html = overlay_html("Insulin Pen 10", marks)
    assert re.findall(r"padding-bottom:(\d+)px", html) == ["5", "1", "1"]
