"""Error pages: file names, and the pages ``evaluate`` writes for the hand-made note (n2c2, with
text and with token shapes) and for handover documents."""

from html.parser import HTMLParser
from pathlib import Path

import spacy
from spacy.tokens import Doc, DocBin, Span

import clinical_ie.pipeline  # noqa: F401  (registers the extensions)
from clinical_ie.evaluation.error_pages import HANDOVER_NOTE, page_names, write_error_pages
from clinical_ie.evaluation.evaluate import evaluate, score_documents
from tests.util import NOTE_WORDS


class MarkCounter(HTMLParser):
    """Counts the marks of a page (elements with classes ``m`` and ``first``) by their classes,
    and the error table's rows by class."""

    def __init__(self):
        super().__init__()
        self.marks, self.rows = {}, {}

    def handle_starttag(self, tag, attrs):
        classes = tuple(sorted((dict(attrs).get("class") or "").split()))
        if tag == "span" and "m" in classes and "first" in classes:
            key = " ".join(c for c in classes if c not in ("m", "first"))
            self.marks[key] = self.marks.get(key, 0) + 1
        if tag == "tr" and classes:
            self.rows[classes[0]] = self.rows.get(classes[0], 0) + 1


def count_marks(page: str) -> MarkCounter:
    counter = MarkCounter()
    counter.feed(page)
    return counter


NOTE_MARKS = {"pred tp": 2, "boundary pred": 2, "boundary gold": 2, "label pred": 1, "gold label": 1, "fn gold": 3}
"""The hand-made note's marks: 5 predictions, and the 6 gold entities not found exactly."""


def test_page_names_are_safe_and_distinct():
    assert page_names(["100-01", "a/b", "a_b", "index", "", None, "A/B", "../x"]) == [
        "100-01", "a_b", "a_b-2", "index-2", "doc-5", "doc-6", "A_B-3", "___x"
    ]


def test_evaluate_writes_pages_of_every_outcome(tmp_path, gold_path, ruler_model):
    evaluate(ruler_model, gold_path, "n2c2", tmp_path / "metrics")
    folder = tmp_path / "metrics" / "n2c2-errors"
    assert sorted(p.name for p in folder.iterdir()) == ["index.html", "note1.html"]
    page = (folder / "note1.html").read_text(encoding="utf8")
    counter = count_marks(page)
    assert counter.marks == NOTE_MARKS
    assert counter.rows == {"fn": 3, "boundary": 2, "label": 1, "missed": 6}
    assert "<td>Dosage 12-20</td><td>10 units</td><td>Dosage 15-20</td><td>units</td>" in page
    assert "<td>ADE: cough and rash</td><td>Drug: Lisinopril</td>" in page
    index = (folder / "index.html").read_text(encoding="utf8")
    assert '<a href="note1.html">note1</a></td><td>6</td>' in index
    assert "<td>Drug</td><td>2</td><td>1.0000</td><td>0.5000</td>" in index  # the report's per-label row
    for written in (page, index):
        assert_self_contained(written)


def test_no_text_pages_hold_no_note_word(tmp_path, gold_path, ruler_model):
    evaluate(ruler_model, gold_path, "n2c2", tmp_path / "metrics", no_text=True)
    folder = tmp_path / "metrics" / "n2c2-errors"
    page = (folder / "note1.html").read_text(encoding="utf8")
    assert count_marks(page).marks == NOTE_MARKS
    assert "<td>Dosage 12-20</td><td>dd xxxx</td>" in page and "<td>ADE: xxxx xxx xxxx</td>" in page
    for path in folder.iterdir():
        text = path.read_text(encoding="utf8").lower()
        assert not [word for word in NOTE_WORDS if word in text], path.name


def test_predicted_confidence_assertion_and_status_are_listed_and_text_escaped(tmp_path):
    vocab = spacy.blank("en").vocab
    words = ["<b>Stop", "&", "aspirin", "now"]
    gold = Doc(vocab, words=words)
    gold._.doc_id = "a/b"
    gold.ents = [Span(gold, 0, 1, label="Drug")]
    predicted = Doc(vocab, words=words)
    spurious = Span(predicted, 2, 3, label="Drug")
    predicted.spans["medication"] = [spurious]
    spurious._.confidence, spurious._.assertion, spurious._.med_status = 0.4213, "absent", "discontinued"
    scores = score_documents([gold], [predicted], predicted_spans_key="medication")
    old_page = tmp_path / "errors" / "stale.html"
    old_page.parent.mkdir()
    old_page.write_text("from an earlier run", encoding="utf8")

    write_error_pages([gold], [predicted], tmp_path / "errors", scores, "n2c2", spans_key="medication")

    assert sorted(p.name for p in (tmp_path / "errors").iterdir()) == ["a_b.html", "index.html"]
    page = (tmp_path / "errors" / "a_b.html").read_text(encoding="utf8")
    assert count_marks(page).marks == {"fp pred": 1, "fn gold": 1}
    assert "<td>Drug 10-17</td><td>aspirin</td><td>0.421</td><td>absent</td><td>discontinued</td>" in page
    assert "&lt;b&gt;Stop" in page and "<b>" not in page and "<h1>a/b</h1>" in page


def test_handover_pages_compare_spans_and_say_so(tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("span_ruler", config={"spans_key": "handover"}).add_patterns([{"label": "Gender", "pattern": "He"}])
    nlp.to_disk(tmp_path / "model")
    doc = Doc(nlp.vocab, words=["He", "is", "in", "bed", "5"])
    doc._.doc_id, doc._.token_categories = "output1", ["Gender", "NA", "NA", "Bed", "Bed"]
    doc.ents = [Span(doc, 0, 1, label="Gender"), Span(doc, 3, 5, label="Bed")]
    DocBin(docs=[doc], store_user_data=True).to_disk(tmp_path / "test.spacy")
    evaluate(tmp_path / "model", tmp_path / "test.spacy", "handover", tmp_path / "metrics", spans_key="handover")
    folder = tmp_path / "metrics" / "handover-errors"
    page = (folder / "output1.html").read_text(encoding="utf8")
    assert HANDOVER_NOTE in page and HANDOVER_NOTE in (folder / "index.html").read_text(encoding="utf8")
    assert count_marks(page).marks == {"pred tp": 1, "fn gold": 1}


def assert_self_contained(page: str) -> None:
    """No script, nothing loaded from elsewhere, and a policy that forbids both."""
    lowered = page.lower()
    for forbidden in ("<script", "http:", "https:", "url(", "@import", " src="):
        assert forbidden not in lowered, forbidden
    assert "content=\"default-src 'none'; style-src 'unsafe-inline'\"" in page


def test_pages_are_written_under_the_output_folder_only(tmp_path, gold_path, ruler_model):
    evaluate(ruler_model, gold_path, "n2c2", tmp_path / "metrics")
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.html"))
    assert written == ["metrics/n2c2-errors/index.html", "metrics/n2c2-errors/note1.html"]
    assert Path(tmp_path / "metrics" / "n2c2.json").exists()
