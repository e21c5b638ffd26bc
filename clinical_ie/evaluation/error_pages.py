"""Error-analysis pages: each note with its gold and predicted entities overlaid, its errors
listed, and an index ranking the notes by their number of errors.

:func:`write_error_pages` writes ``index.html`` and one ``<doc_id>.html`` per document (the id
made a safe file name). Entities are judged by :func:`~.metrics.errors.classify_entities`,
relations by :func:`~.metrics.errors.classify_relations`. Pages are plain HTML with inline CSS:
no script, nothing fetched from elsewhere, so they open on an offline workstation. They show
note text; with ``no_text`` every token is shown as its shape (``token.shape_``: ``Xxxxx``,
``dd``), in the note and in the tables alike.
"""

import html
import re
from collections import Counter
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

from spacy.tokens import Doc

from ..pipeline.data_model import group_spans
from .metrics import EntitySpan, doc_relations, gold_entity_spans, predicted_entity_spans
from .metrics.errors import (
    ENTITY_OUTCOMES,
    EntityOutcome,
    RelationOutcome,
    classify_entities,
    classify_relations,
)
from .note_overlay import Mark, NoteText, overlay_html
from .report import entity_average_table, entity_label_table

OUTCOME_NAMES = {
    "tp": "true positive", "boundary": "boundary error", "label": "label confusion",
    "fp": "false positive", "fn": "false negative", "missed": "missed", "spurious": "spurious",
}
COLOURS = {
    "tp": "#9e9e9e", "boundary": "#e66101", "label": "#7b3294", "fp": "#d7191c", "fn": "#2c7bb6",
    "missed": "#2c7bb6", "spurious": "#d7191c",
}
ERROR_KINDS = tuple(kind for kind in ENTITY_OUTCOMES if kind != "tp")
HANDOVER_NOTE = (
    "Handover is scored per token (CLEF 2016); this page compares the predicted spans with the gold"
    " spans (runs of one category) as entities, so its errors are span errors, not token counts."
)
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
"""Nothing fetched, no script run: a browser refuses (and logs) anything else a page asks for."""
CSS = "\n".join([
    "body{font-family:sans-serif;margin:1.5em;color:#222;max-width:80em}",
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}",
    ".note{white-space:pre-wrap;font:14px monospace;line-height:2.6;border:1px solid #ccc;padding:1em}",
    ".m{border-bottom:2px solid}.m.gold{border-bottom-style:dashed}",
    ".tag{font:9px sans-serif;vertical-align:super;margin-right:1px}",
    ".key{display:inline-block;width:2em;border-bottom:3px solid;margin:0 .3em 0 1em}",
    ".m.gold>.tag{font-style:italic}",
    *(f".m.{k},.key.{k}{{border-color:{c}}}.m.{k}>.tag{{color:{c}}}.m.pred.{k}{{background:{c}26}}"
      for k, c in COLOURS.items() if k in ERROR_KINDS),
    f".m.tp,.key.tp{{border-color:{COLOURS['tp']}}}",
    *(f"tr.{k} td:first-child{{border-left:6px solid {c}}}" for k, c in COLOURS.items()),
])


class Html(str):
    """A table cell already written as HTML (:func:`html_table` escapes every other cell)."""


class DocumentSummary(NamedTuple):
    """A document's line in the index: its page, id and outcome counts."""

    page: str
    doc_id: str
    entities: Counter
    relations: Counter

    @property
    def entity_errors(self) -> int:
        return sum(self.entities[k] for k in ERROR_KINDS)

    @property
    def relation_errors(self) -> int:
        return self.relations["missed"] + self.relations["spurious"]


def write_error_pages(
    gold_docs: Sequence[Doc],
    predicted_docs: Sequence[Doc],
    folder: Path,
    scores: Dict[str, object],
    dataset: str,
    spans_key: Optional[str] = None,
    no_text: bool = False,
) -> Path:
    """Write ``index.html`` and a page per document into ``folder`` (its earlier pages removed);
    return the index's path. ``scores`` are :func:`~.evaluate.score_documents`'s, for the index's
    tables."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for old_page in folder.glob("*.html"):
        old_page.unlink()
    with_relations = any(doc._.relations for doc in gold_docs)
    summaries = []
    for gold, predicted, name in zip(gold_docs, predicted_docs, page_names([d._.doc_id for d in gold_docs])):
        entities = classify_entities(gold_entity_spans(gold), predicted_entity_spans(predicted, spans_key))
        relations = classify_relations(doc_relations(gold), doc_relations(predicted)) if with_relations else []
        summary = DocumentSummary(name, gold._.doc_id or name, Counter(o.kind for o in entities),
                                  Counter(o.kind for o in relations))
        page = document_page(summary, gold, predicted, entities, relations, spans_key, no_text)
        (folder / f"{name}.html").write_text(page, encoding="utf8")
        summaries.append(summary)
    index = folder / "index.html"
    index.write_text(index_page(summaries, scores, dataset, with_relations, no_text), encoding="utf8")
    return index


def page_names(doc_ids: Sequence[Optional[str]]) -> List[str]:
    """A distinct safe file stem per document: its id with every character but ASCII letters,
    digits, ``_`` and ``-`` replaced by ``_`` (``doc-N`` without an id), ``-2``, ``-3``... added where
    two would clash (case ignored) or one would be ``index``."""
    used, names = {"index"}, []
    for n, doc_id in enumerate(doc_ids, 1):
        stem = re.sub(r"[^A-Za-z0-9_-]", "_", str(doc_id or ""))[:100] or f"doc-{n}"
        name, k = stem, 1
        while name.lower() in used:
            k += 1
            name = f"{stem}-{k}"
        used.add(name.lower())
        names.append(name)
    return names


def document_page(
    summary: DocumentSummary,
    gold: Doc,
    predicted: Doc,
    entities: Sequence[EntityOutcome],
    relations: Sequence[RelationOutcome],
    spans_key: Optional[str],
    no_text: bool,
) -> str:
    """One document's page: counts, legend, the note with its marks, the error and relation tables."""
    note = NoteText(gold, no_text)
    spans = {EntitySpan(s.label_, s.start_char, s.end_char): s for s in group_spans(predicted, spans_key)}
    error_rows = [o for o in sorted(entities, key=outcome_position) if o.kind != "tp"]
    parts = [
        f'<p><a href="index.html">All documents</a></p><h1>{html.escape(summary.doc_id)}</h1>',
        privacy_line(no_text),
        f"<p>{HANDOVER_NOTE}</p>" if gold._.token_categories is not None else "",
        "<p>" + ", ".join(f"{OUTCOME_NAMES[k]}s: {summary.entities[k]}" for k in ENTITY_OUTCOMES) + ".</p>",
        "<p>Predicted entities solid, gold entities dashed (label in italics); a true positive is drawn once, grey."
        + "".join(f'<span class="key {k}"></span>{OUTCOME_NAMES[k]}' for k in ENTITY_OUTCOMES) + "</p>",
        f'<div class="note">{overlay_html(note.text, entity_marks(entities, note))}</div>',
        "<h2>Errors</h2>",
        html_table(
            ["error", "gold", "gold text", "predicted", "predicted text", "confidence", "assertion", "status"],
            [[OUTCOME_NAMES[o.kind], entity_cell(o.gold), note.show(o.gold) if o.gold else "",
              entity_cell(o.predicted), note.show(o.predicted) if o.predicted else "",
              *span_details(spans.get(o.predicted))] for o in error_rows],
            [o.kind for o in error_rows],
        ),
    ]
    if relations:
        relation_rows = sorted(relations, key=lambda o: o.kind == "tp")
        parts += [
            "<h2>Relations</h2><p>Missed (gold only) and spurious (predicted only) relations first, then the"
            " true positives (strict: same type, both arguments with the same offsets and label).</p>",
            html_table(
                ["relation", "type", "Arg1", "Arg2"],
                [[OUTCOME_NAMES[o.kind], o.relation.type, argument_cell(o.relation.arg1, note),
                  argument_cell(o.relation.arg2, note)] for o in relation_rows],
                [o.kind for o in relation_rows],
            ),
        ]
    return html_page(f"Errors: {summary.doc_id}", parts)


def index_page(
    summaries: Sequence[DocumentSummary], scores: Dict[str, object], dataset: str, with_relations: bool, no_text: bool
) -> str:
    """The index: documents ranked by entity errors (then relation errors), and the scores' tables."""
    ranked = sorted(summaries, key=lambda s: (-s.entity_errors, -s.relation_errors, s.doc_id))
    relation_headers = ["missed relations", "spurious relations"] if with_relations else []
    table_rows = [
        [Html(f'<a href="{s.page}.html">{html.escape(s.doc_id)}</a>'), s.entity_errors,
         *(s.entities[k] for k in ERROR_KINDS), s.entities["tp"],
         *([s.relations["missed"], s.relations["spurious"]] if with_relations else [])]
        for s in ranked
    ]
    entity_scores = scores["spans"]
    return html_page(f"Errors: {dataset}", [
        f"<h1>Errors: {html.escape(dataset)}</h1>",
        privacy_line(no_text),
        f"<p>{HANDOVER_NOTE}</p>" if "handover" in scores else "",
        f"<p>Documents: {len(summaries)}, most entity errors first. Scores as in"
        f" <code>{html.escape(dataset)}.md</code>.</p>",
        html_table(["document", "errors", *(OUTCOME_NAMES[k] + "s" for k in ERROR_KINDS), "true positives",
                    *relation_headers], table_rows),
        "<h2>Entity scores</h2>",
        html_table(*entity_average_table(entity_scores)),
        html_table(*entity_label_table(entity_scores)),
    ])


def entity_marks(entities: Sequence[EntityOutcome], note: NoteText) -> List[Mark]:
    """Each prediction as a mark, then each gold entity not found exactly, in its best outcome's colour."""
    marks, gold_kinds = [], {}
    for o in entities:
        if o.predicted is not None:
            marks.append(mark(o.predicted, "pred", o.kind, note))
        if o.gold is not None:
            gold_kinds[o.gold] = min(gold_kinds.get(o.gold, "fn"), o.kind, key=ENTITY_OUTCOMES.index)
    return marks + [mark(g, "gold", kind, note) for g, kind in gold_kinds.items() if kind != "tp"]


def mark(entity: EntitySpan, side: str, kind: str, note: NoteText) -> Mark:
    who = "predicted" if side == "pred" else "gold"
    return Mark(note.position(entity.start), note.position(entity.end), f"{side} {kind}", entity.label,
                f"{OUTCOME_NAMES[kind]}: {who} {entity.label} {entity.start}-{entity.end}")


def outcome_position(outcome: EntityOutcome) -> Tuple[int, int]:
    entity = outcome.predicted or outcome.gold
    return entity.start, entity.end


def entity_cell(entity: Optional[EntitySpan]) -> str:
    return f"{entity.label} {entity.start}-{entity.end}" if entity else ""


def argument_cell(entity: EntitySpan, note: NoteText) -> str:
    return f"{entity.label}: {note.show(entity)}"


def span_details(span) -> List[str]:
    """Confidence, assertion and medication status of a predicted span (empty where unset)."""
    if span is None:
        return ["", "", ""]
    confidence = span._.confidence
    return ["" if confidence is None else f"{confidence:.3f}", span._.assertion or "", span._.med_status or ""]


def privacy_line(no_text: bool) -> str:
    if no_text:
        return "<p>Every token of the notes is shown as its shape (<code>Xxxxx</code>, <code>dd</code>).</p>"
    return "<p><strong>These pages show note text.</strong> Share them only as the data agreement allows.</p>"


def html_table(headers: Sequence[str], rows: Sequence[Sequence[object]], row_classes: Sequence[str] = ()) -> str:
    """A table with every cell escaped (but :class:`Html` ones); ``row_classes`` name each row's class."""
    def cell(value) -> str:
        return value if isinstance(value, Html) else html.escape(str(value))

    classes = list(row_classes) or [""] * len(rows)
    body = "".join(
        f'<tr class="{html.escape(c)}">' + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>"
        for c, row in zip(classes, rows)
    )
    return "<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in headers) + "</tr>" + body + "</table>"


def html_page(title: str, parts: Sequence[str]) -> str:
    """A page of ``parts``; its content security policy lets it load nothing and run no script."""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n<meta http-equiv="Content-Security-Policy"'
            f' content="{CONTENT_SECURITY_POLICY}"><title>{html.escape(title)}</title>'
            f"<style>\n{CSS}\n</style></head><body>\n" + "\n".join(p for p in parts if p) + "\n</body></html>\n")
