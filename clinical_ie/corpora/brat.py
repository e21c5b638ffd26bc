"""brat standoff (n2c2 2018 Track 2) reader and writer.

Reading one ``NAME.txt`` + ``NAME.ann`` pair gives a Doc carrying the data model of
``docs/data-model.md``:

- ``doc.text`` is the ``.txt`` exactly; entity text always comes from it at the
  offsets. An ``.ann`` text field that differs from the slice (fragments joined by a
  space, whitespace-normalised) is kept but listed in ``report.text_mismatches``.
- every kept entity is in ``doc.spans["entities"]`` (a discontinuous one as first
  start .. last end; ``span.id_`` is its brat id), with its fragments in
  ``doc._.brat_entities``; boundaries inside a token are expanded to token boundaries
  and counted as misaligned.
- ``doc.ents`` is chosen from those spans by :func:`select_ents`.
- ``R`` lines go to ``doc._.relations`` (argument order as written); a relation whose
  argument was dropped is dropped too.
- ``A``/``M`` attribute lines (``A1<TAB>Negation T3``, ``A2<TAB>POLARITY E7 NEG``) on a ``T``
  id, or on an ``E`` id (then on the event's trigger), are kept in the entity's
  ``doc._.brat_entities`` entry (``attributes``: name -> value, True for a binary one); those
  that say an assertion (:data:`ASSERTION_ATTRIBUTES`) set the gold ``span._.assertion``.
  ``report.attributes_kept`` counts them as ``assertion`` or ``other``; an attribute on an
  unknown or dropped entity is counted in ``attributes_dropped``.
- ``E``/``N``/``#``/``*`` lines are counted in ``report.other_annotations`` and not kept.
- A ``.txt`` byte-order mark is removed from the text. Offsets are taken as counted
  without it, unless the ``.ann`` text fields match only when counted with it (as
  brat itself does), in which case every offset is shifted back by one.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Collection, Dict, Iterable, Iterator, List, NamedTuple, Optional, Tuple

from spacy.language import Language
from spacy.tokens import Doc, Span

from ..pipeline.data_model import ASSERTION_VALUES, ENTITIES_SPANS_KEY
from .conversion_report import ConversionReport, Issue, read_note_file
from ..pipeline.tokenizer import set_line_sentence_starts, shared_clinical_english

PREFERRED_ENT_LABELS = ("ADE", "Drug")
"""Labels that win a ``doc.ents`` overlap against any other label (ADE over Reason,
Drug over a Form inside it); between two preferred or two other labels the longer
span wins, then the earlier start."""

ASSERTION_ATTRIBUTES = {
    ("negation", None): "absent",
    ("negated", None): "absent",
    ("polarity", "neg"): "absent",
    ("polarity", "negative"): "absent",
    ("uncertainty", None): "possible",
    ("uncertain", None): "possible",
    ("speculation", None): "possible",
    ("speculated", None): "possible",
    ("certainty", "possible"): "possible",
    ("certainty", "probable"): "possible",
    ("hypothetical", None): "hypothetical",
    ("conditional", None): "hypothetical",
    ("historical", None): "historical",
    ("temporality", "historical"): "historical",
    ("temporality", "past"): "historical",
    ("experiencer", None): "family",
    ("experiencer", "family"): "family",
    ("subject", "family"): "family",
    ("subject", "family_member"): "family",
    ("family", None): "family",
    **{("assertion", value): value for value in ASSERTION_VALUES},
}
"""(attribute name, value) lower-cased -> the assertion it says (value None: a binary attribute),
as the annotation schemes of clinical brat corpora write it (i2b2/n2c2-style Negation,
Uncertainty, Experiencer; THYME/SHARP-style POLARITY, TEMPORALITY, SUBJECT; this project's own
``Assertion`` attribute). Any other attribute is kept on its entity and sets no assertion."""

OTHER_LINE_KINDS = {
    "E": "event",
    "N": "normalization",
    "#": "note",
    "*": "equivalence",
}

_ENTITY_LINE = re.compile(r"^(T\S+)\t(\S+) (\d+ \d+(?:;\d+ \d+)*)(?:\t(.*))?$")
_RELATION_LINE = re.compile(r"^(R\S+)\t(\S+) (\S+):(\S+) (\S+):(\S+)\s*$")
_ATTRIBUTE_LINE = re.compile(r"^([AM]\S+)\t(\S+) ([TE]\S+)(?: (\S+))?\s*$")
_EVENT_LINE = re.compile(r"^(E\S+)\t\S+?:(T\S+)")
ATTRIBUTE_LINE_FORMAT = "expected 'A<id>\\t<name> <T or E id>[ <value>]'"
ENTITY_LINE_FORMAT = "expected 'T<id>\\t<label> <start> <end>[;<start> <end>...]\\t<text>'"
RELATION_LINE_FORMAT = "expected 'R<id>\\t<type> Arg1:<id> Arg2:<id>'"


@dataclass
class BratEntity:
    """A ``T`` line: id, label, ``(start, end)`` fragments, line number, text field; other readers
    build them too, with ``source_label`` the corpus's own label where they map it and ``file``
    where the line is in another file than the document's."""

    id: str
    label: str
    fragments: List[Tuple[int, int]]
    line: int
    ann_text: Optional[str]
    source_label: Optional[str] = None
    file: Optional[str] = None

    @property
    def start(self) -> int:
        return min(start for start, _ in self.fragments)

    @property
    def end(self) -> int:
        return max(end for _, end in self.fragments)


@dataclass
class BratRelation:
    """An ``R`` line: id, type, argument entity ids in source order, line number."""

    id: str
    type: str
    arg1: str
    arg2: str
    line: int


@dataclass
class BratAttribute:
    """An ``A``/``M`` line: id, name, target (a T or E id), value (None: binary), line number."""

    id: str
    name: str
    target: str
    value: Optional[str]
    line: int

    @property
    def assertion(self) -> Optional[str]:
        """The assertion this attribute says (:data:`ASSERTION_ATTRIBUTES`), or None."""
        value = None if self.value is None else self.value.lower()
        return ASSERTION_ATTRIBUTES.get((self.name.lower(), value))


class ParsedAnn(NamedTuple):
    """The lines of an ``.ann`` file: entities, relations, attributes, and each event's trigger."""

    entities: List[BratEntity]
    relations: List[BratRelation]
    attributes: List[BratAttribute]
    event_triggers: Dict[str, str]


def fragment_text(text: str, fragments: Iterable[Tuple[int, int]]) -> str:
    """The text of an entity as brat writes it: fragments joined by one space."""
    return " ".join(text[start:end] for start, end in fragments)


def parse_ann(ann_text: str, file: str, report: ConversionReport) -> ParsedAnn:
    """Parse ``.ann`` lines (syntax only).

    Bad lines are problems (``bad_syntax``); a bad ``T`` line counts as an entity read and
    dropped, a bad ``R`` line as a relation read and dropped, a bad ``A``/``M`` line as an
    attribute read and dropped.
    """
    entities, relations, attributes, event_triggers = [], [], [], {}
    for number, line in enumerate(ann_text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        kind = line[0]
        if kind == "T":
            match = _ENTITY_LINE.match(line)
            if match is None:
                report.entity_read("(unparsed)")
                report.entity_dropped("bad_syntax")
                report.problem(file, number, "bad_syntax", ENTITY_LINE_FORMAT)
                continue
            entity_id, label, offsets, text_field = match.groups()
            fragments = [tuple(map(int, pair.split())) for pair in offsets.split(";")]
            entities.append(BratEntity(entity_id, label, fragments, number, text_field))
        elif kind == "R":
            report.relations_read += 1
            match = _RELATION_LINE.match(line)
            if match is None:
                report.relation_dropped("bad_syntax")
                report.problem(file, number, "bad_syntax", RELATION_LINE_FORMAT)
                continue
            relation_id, relation_type, role1, arg1, role2, arg2 = match.groups()
            if (role1, role2) == ("Arg2", "Arg1"):
                arg1, arg2 = arg2, arg1
            relations.append(BratRelation(relation_id, relation_type, arg1, arg2, number))
        elif kind in "AM":
            report.attributes_read += 1
            match = _ATTRIBUTE_LINE.match(line)
            if match is None:
                report.attribute_dropped("bad_syntax")
                report.problem(file, number, "bad_syntax", ATTRIBUTE_LINE_FORMAT)
                continue
            attributes.append(BratAttribute(*match.groups(), number))
        elif kind in OTHER_LINE_KINDS:
            report.other_annotations[OTHER_LINE_KINDS[kind]] += 1
            event = _EVENT_LINE.match(line) if kind == "E" else None
            if event is not None:
                event_triggers[event.group(1)] = event.group(2)
        else:
            report.problem(file, number, "bad_syntax", f"unknown annotation line kind {kind!r}")
    return ParsedAnn(entities, relations, attributes, event_triggers)


def _resolve_attributes(parsed: ParsedAnn, kept: Dict[str, dict], file: str, report: ConversionReport) -> None:
    """Put each attribute on its entity's ``doc._.brat_entities`` entry (``kept``: id -> entry),
    an event's on its trigger; count the ones whose entity is unknown or was dropped."""
    read_ids = {entity.id for entity in parsed.entities}
    for attribute in parsed.attributes:
        target = parsed.event_triggers.get(attribute.target, attribute.target)
        if target not in read_ids:
            report.attribute_dropped("missing_entity")
            report.problem(file, attribute.line, "missing_entity", f"{attribute.id} refers to undefined {attribute.target}")
        elif target not in kept:
            report.attribute_dropped("entity_dropped")
        else:
            entry = kept[target]
            entry.setdefault("attributes", {})[attribute.name] = True if attribute.value is None else attribute.value
            if attribute.assertion is not None:
                entry["assertion"] = attribute.assertion
            report.attributes_kept["assertion" if attribute.assertion is not None else "other"] += 1


def _text_field_matches(text: str, fragments: List[Tuple[int, int]], ann_text: str) -> bool:
    """Whether an ``.ann`` text field equals the fragments' text, whitespace-normalised."""
    return " ".join(fragment_text(text, fragments).split()) == " ".join(ann_text.split())


def _count_text_matches(text: str, entities: List[BratEntity], shift: int) -> int:
    matches = 0
    for entity in entities:
        fragments = [(start - shift, end - shift) for start, end in entity.fragments]
        if entity.ann_text is not None and all(0 <= s < e <= len(text) for s, e in fragments):
            matches += _text_field_matches(text, fragments, entity.ann_text)
    return matches


def _bom_offset_shift(
    text: str, entities: List[BratEntity], file: str, report: ConversionReport
) -> int:
    """1 when offsets were counted with the removed BOM (more text fields match so)."""
    if _count_text_matches(text, entities, 1) > _count_text_matches(text, entities, 0):
        detail = "offsets counted with the byte-order mark: shifted by -1"
        report.warn(file, 0, "bom_offsets", detail)
        return 1
    return 0


def _offsets_problem(entity: BratEntity, text_length: int) -> Optional[Tuple[str, str]]:
    for start, end in entity.fragments:
        if end > text_length:
            detail = f"offset {end} past the end of the text ({text_length} characters)"
            return "offset_out_of_range", detail
        if start >= end:
            return "bad_offsets", f"fragment {start} {end} is empty or reversed"
    return None


def _entity_span(doc: Doc, entity: BratEntity, report: ConversionReport) -> Optional[Span]:
    """The token span of an entity, expanded to token boundaries when needed."""
    start, end = entity.start, entity.end
    span = doc.char_span(start, end, label=entity.label, span_id=entity.id)
    if span is not None:
        report.boundaries_checked(True, True)
        return span
    span = doc.char_span(
        start, end, label=entity.label, span_id=entity.id, alignment_mode="expand"
    )
    if span is not None:
        report.boundaries_checked(span.start_char == start, span.end_char == end)
    return span


def select_ents(spans: Iterable[Span], report: Optional[ConversionReport] = None) -> List[Span]:
    """Choose non-overlapping spans for ``doc.ents``, deterministically.

    Spans are ranked: a label in :data:`PREFERRED_ENT_LABELS` first, then longer (in
    characters), then earlier start, then earlier end and label name; each span is
    taken unless it overlaps a span already taken. A span left out is counted in
    ``report`` as ``duplicate`` (same tokens and label as the winner) or
    ``overlap:<winner label>``.
    """
    ranked = sorted(
        spans,
        key=lambda s: (
            s.label_ not in PREFERRED_ENT_LABELS,
            -(s.end_char - s.start_char),
            s.start_char,
            s.end_char,
            s.label_,
        ),
    )
    owner: Dict[int, Span] = {}
    chosen = []
    for span in ranked:
        winner = next((owner[i] for i in range(span.start, span.end) if i in owner), None)
        if winner is None:
            chosen.append(span)
            owner.update((i, span) for i in range(span.start, span.end))
            if report is not None:
                report.entity_in_ents(span.label_)
        elif report is not None:
            same = (winner.start, winner.end, winner.label_) == (span.start, span.end, span.label_)
            report.entity_not_in_ents("duplicate" if same else f"overlap:{winner.label_}")
    return sorted(chosen, key=lambda s: s.start)


def _resolve_relations(
    relations: List[BratRelation],
    read_ids: Collection[str],
    kept_ids: Collection[str],
    file: str,
    report: ConversionReport,
) -> List[dict]:
    kept, seen = [], set()
    for relation in relations:
        missing = [arg for arg in (relation.arg1, relation.arg2) if arg not in read_ids]
        if relation.id in seen:
            report.relation_dropped("duplicate_id")
            detail = f"relation id {relation.id} repeated"
            report.problem(file, relation.line, "duplicate_id", detail)
        elif missing:
            report.relation_dropped("missing_entity")
            detail = f"{relation.id} refers to undefined {', '.join(missing)}"
            report.problem(file, relation.line, "missing_entity", detail)
        elif relation.arg1 not in kept_ids or relation.arg2 not in kept_ids:
            report.relation_dropped("argument_dropped")
        else:
            report.relations_kept += 1
            kept.append(
                {
                    "id": relation.id,
                    "type": relation.type,
                    "arg1": relation.arg1,
                    "arg2": relation.arg2,
                }
            )
        seen.add(relation.id)
    return kept


def entity_spans(
    doc: Doc,
    entities: Iterable[BratEntity],
    file: str,
    report: ConversionReport,
    labels: Optional[Collection[str]] = None,
) -> Tuple[List[Span], List[dict], set]:
    """The spans of ``entities`` in ``doc``, their ``doc._.brat_entities`` entries and every id read.

    Each entity is counted as read, then kept or dropped with its reason: a repeated id
    (``duplicate_id``), fragments outside the text (``offset_out_of_range``, ``bad_offsets``), a
    label outside ``labels`` (``label_not_selected``), no token covered (``no_token``); problems
    name ``file`` and the entity's line. A text field that differs from the text is kept and
    listed in ``report.text_mismatches``. An entry carries ``source_label`` when the entity has
    one (a label mapped by a reader).
    """
    spans, brat_entities, read_ids = [], [], set()
    text = doc.text
    for entity in entities:
        report.entity_read(entity.label)
        offsets_problem = _offsets_problem(entity, len(text))
        if entity.id in read_ids:
            reason, detail = "duplicate_id", f"entity id {entity.id} repeated"
        elif offsets_problem is not None:
            reason, detail = offsets_problem
        elif labels is not None and entity.label not in labels:
            reason, detail = "label_not_selected", ""
        else:
            reason, detail = None, ""
        read_ids.add(entity.id)
        span = _entity_span(doc, entity, report) if reason is None else None
        if reason is None and span is None:
            reason, detail = "no_token", "entity covers no token"
        if reason is not None:
            report.entity_dropped(reason)
            if detail:
                report.problem(entity.file or file, entity.line, reason, detail)
            continue
        if entity.ann_text is not None and not _text_field_matches(
            text, entity.fragments, entity.ann_text
        ):
            detail = f"{entity.id} text field differs from the text"
            report.text_mismatches.append(Issue(entity.file or file, entity.line, "text_mismatch", detail))
        report.entity_kept(entity.label)
        spans.append(span)
        fragments = [list(fragment) for fragment in entity.fragments]
        entry = {"id": entity.id, "label": entity.label, "fragments": fragments}
        if entity.source_label is not None:
            entry["source_label"] = entity.source_label
        brat_entities.append(entry)
    return spans, brat_entities, read_ids


def read_brat_document(
    txt_path: Path,
    ann_path: Path,
    report: ConversionReport,
    nlp: Optional[Language] = None,
    labels: Optional[Collection[str]] = None,
) -> Optional[Doc]:
    """Read one brat pair into a Doc; ``None`` when a file is unusable (a problem).

    ``labels`` restricts the kept entity labels (others are dropped as
    ``label_not_selected``); ``nlp`` supplies the tokenizer (default: clinical).
    """
    txt_path, ann_path = Path(txt_path), Path(ann_path)
    read_txt = read_note_file(txt_path, report)
    read_ann = read_note_file(ann_path, report, empty_ok=True)
    if read_txt is None or read_ann is None:
        return None
    (text, txt_had_bom), (ann_text, _) = read_txt, read_ann
    file = ann_path.name
    parsed = parse_ann(ann_text, file, report)
    entities = parsed.entities
    shift = _bom_offset_shift(text, entities, file, report) if txt_had_bom else 0
    doc = (nlp or shared_clinical_english()).make_doc(text)
    for entity in entities:
        entity.fragments = [(start - shift, end - shift) for start, end in entity.fragments]
    spans, brat_entities, read_ids = entity_spans(doc, entities, file, report, labels)
    kept = {entity["id"]: entity for entity in brat_entities}
    doc._.relations = _resolve_relations(parsed.relations, read_ids, kept, file, report)
    _resolve_attributes(parsed, kept, file, report)
    for span in spans:
        if "assertion" in kept[span.id_]:
            span._.assertion = kept[span.id_]["assertion"]
    store_gold_spans(doc, spans, report)
    set_line_sentence_starts(doc, keep_together=spans)
    doc._.doc_id = txt_path.stem
    doc._.corpus = "n2c2"
    doc._.brat_entities = brat_entities
    report.documents += 1
    report.tokens += len(doc)
    return doc


def store_gold_spans(doc: Doc, spans: List[Span], report: ConversionReport) -> None:
    """Every gold span sorted into ``doc.spans["entities"]``; ``doc.ents`` chosen by :func:`select_ents`."""
    spans = sorted(spans, key=lambda s: (s.start, s.end, s.label_))
    doc.spans[ENTITIES_SPANS_KEY] = spans
    doc.ents = select_ents(spans, report)


def brat_pairs(folder: Path, report: ConversionReport) -> Iterator[Tuple[Path, Path]]:
    """``(NAME.txt, NAME.ann)`` pairs of a folder by name; an unpaired file is a problem."""
    folder = Path(folder)
    texts = {path.stem: path for path in folder.glob("*.txt")}
    annotations = {path.stem: path for path in folder.glob("*.ann")}
    for stem in sorted(texts.keys() | annotations.keys()):
        if stem not in annotations:
            report.problem(texts[stem].name, 0, "missing_ann", f"no {stem}.ann beside it")
        elif stem not in texts:
            report.problem(annotations[stem].name, 0, "missing_txt", f"no {stem}.txt beside it")
        else:
            yield texts[stem], annotations[stem]


def read_brat_folder(
    folder: Path,
    report: ConversionReport,
    labels: Optional[Collection[str]] = None,
    nlp: Optional[Language] = None,
) -> Iterator[Doc]:
    """Read every ``NAME.txt`` + ``NAME.ann`` pair of ``folder`` (sorted by name)."""
    for txt_path, ann_path in brat_pairs(folder, report):
        doc = read_brat_document(txt_path, ann_path, report, nlp=nlp, labels=labels)
        if doc is not None:
            yield doc


def brat_text_field(text: str) -> str:
    """``text`` as a ``T`` line's text field: brat's field holds no tab or line break (the
    official n2c2 script splits lines on tabs), so each becomes a space; offsets still index
    the exact text."""
    return re.sub(r"[\t\r\n]", " ", text)


def brat_ann_lines(
    doc: Doc, spans: Optional[Iterable[Span]] = None, relations: Optional[List[dict]] = None
) -> List[str]:
    """``T``, ``R`` and ``A`` lines for ``spans`` and ``relations`` of ``doc``.

    ``spans`` default to ``doc.spans["entities"]`` (else ``doc.ents``), ``relations``
    to ``doc._.relations``. A span whose ``id_`` names an entry of
    ``doc._.brat_entities`` with the same label is written with that entry's
    fragments; others as their character span. Entities are renumbered ``T1..``,
    relations ``R1..`` with arguments remapped; a relation whose argument is not
    written is left out. A span's ``span._.assertion`` and ``span._.med_status`` become
    multi-valued attributes ``Assertion`` and ``Status`` (``A1<TAB>Assertion T3 absent``), which
    the reader maps back and the official scorer ignores. Labels and relation types must hold no whitespace (brat separates
    fields with it): a ValueError says which.
    """
    if spans is None:
        spans = doc.spans[ENTITIES_SPANS_KEY] if ENTITIES_SPANS_KEY in doc.spans else doc.ents
    spans = list(spans)
    if relations is None:
        relations = doc._.relations or []
    gold = {entity["id"]: entity for entity in doc._.brat_entities or []}
    lines, new_ids = [], {}
    for number, span in enumerate(spans, start=1):
        entity = gold.get(span.id_)
        if entity is not None and entity["label"] == span.label_:
            fragments = [tuple(fragment) for fragment in entity["fragments"]]
        else:
            fragments = [(span.start_char, span.end_char)]
        _check_brat_name(span.label_, "entity label")
        if span.id_:
            new_ids.setdefault(span.id_, f"T{number}")
        offsets = ";".join(f"{start} {end}" for start, end in fragments)
        text = brat_text_field(fragment_text(doc.text, fragments))
        lines.append(f"T{number}\t{span.label_} {offsets}\t{text}")
    written = [r for r in relations if r["arg1"] in new_ids and r["arg2"] in new_ids]
    for number, relation in enumerate(written, start=1):
        _check_brat_name(relation["type"], "relation type")
        lines.append(
            f"R{number}\t{relation['type']} Arg1:{new_ids[relation['arg1']]}"
            f" Arg2:{new_ids[relation['arg2']]}"
        )
    values = [
        (name, f"T{number}", value)
        for number, span in enumerate(spans, start=1)
        for name, value in (("Assertion", span._.assertion), ("Status", span._.med_status))
        if value is not None
    ]
    lines += [f"A{number}\t{name} {target} {value}" for number, (name, target, value) in enumerate(values, start=1)]
    return lines


def _check_brat_name(name: str, what: str) -> None:
    if not name or any(c.isspace() for c in name):
        raise ValueError(f"{what} {name!r} cannot be written to brat: it is empty or holds whitespace")


def write_brat_document(
    doc: Doc,
    out_dir: Path,
    spans: Optional[Iterable[Span]] = None,
    relations: Optional[List[dict]] = None,
) -> Path:
    """Write ``out_dir/<doc._.doc_id>.txt`` (exact text) and ``.ann``; return the ``.ann`` path.

    The lines are those of :func:`brat_ann_lines`.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / f"{doc._.doc_id}.txt", "w", encoding="utf8", newline="") as txt_file:
        txt_file.write(doc.text)
    ann_path = out_dir / f"{doc._.doc_id}.ann"
    with open(ann_path, "w", encoding="utf8", newline="") as ann_file:
        ann_file.writelines(line + "\n" for line in brat_ann_lines(doc, spans, relations))
    return ann_path
