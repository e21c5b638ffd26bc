"""The ``clinical_context`` component: ConText assertion and medication status of spans.

For every span of ``doc.ents`` (or ``doc.spans[spans_key]``) it sets ``span._.assertion``
(``present``, ``absent``, ``possible``, ``hypothetical``, ``historical``, ``family``) and,
for spans whose label is in ``med_labels``, ``span._.med_status`` (``active``,
``discontinued``, ``held``, ``allergy``, ``absent``, ``planned``, ``conditional``; None
for other spans); the data model stores both per span offsets and label. Triggers are
``triggers.jsonl`` beside this module plus
``extra_triggers`` (same records, see :mod:`.triggers`), matched with one
:class:`~spacy.matcher.PhraseMatcher` on ``LOWER``. The algorithm is :mod:`.algorithm`.

It needs no parser: scopes end at line breaks, sentence punctuation, the doc's sentence
starts where it has them, and the ends of section headers. Sections come from
``doc.spans[sections_key]`` (the ``clinical_sections`` component) where present; their
labels give default assertions and statuses (``section_assertions``,
``section_statuses``: section label -> value). spaCy merges these config dicts with the
defaults: an entry adds or overrides one; map a section to ``present`` or ``active``
to drop its default.
"""

from typing import Any, Dict, List, Optional, Sequence

import numpy
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span

from .algorithm import Section, Target, TriggerMatch, classify_targets, resolve_overlaps, scope_boundaries
from ..base import ConfigStateComponent
from ..data_model import ASSERTION_VALUES, MEDICATION_STATUS_VALUES
from .triggers import TriggerGroup, parse_extra_triggers, read_triggers

DEFAULT_SECTION_ASSERTIONS = {
    "family_history": "family",
    "past_medical_history": "historical",
    "past_surgical_history": "historical",
}
DEFAULT_SECTION_STATUSES = {
    "allergies": "allergy",
    "stopped_medications": "discontinued",
}
MAX_HEADER_TOKENS = 16
"""How far :func:`header_end` looks for the end of a section header."""


def header_end(doc: Doc, section: Span) -> int:
    """The position after ``section``'s header: after its ``:``, else at its line break
    (looking at most :data:`MAX_HEADER_TOKENS` tokens into the section)."""
    end = min(section.end, section.start + MAX_HEADER_TOKENS)
    for token in doc[section.start:end]:
        if token.text == ":":
            return token.i + 1
        if token.is_space and "\n" in token.text:
            return token.i
    return end


class ClinicalContext(ConfigStateComponent):
    """Sets ``span._.assertion`` and ``span._.med_status`` with the ConText algorithm.

    ``extra_triggers`` are stored in the component's cfg and serialized with the pipeline.
    """

    def __init__(
        self,
        nlp: Language,
        name: str = "clinical_context",
        *,
        spans_key: Optional[str] = None,
        extra_triggers: Sequence[Dict[str, Any]] = (),
        sections_key: Optional[str] = "sections",
        max_scope: int = 12,
        med_labels: Sequence[str] = ("Drug",),
        section_assertions: Optional[Dict[str, str]] = None,
        section_statuses: Optional[Dict[str, str]] = None,
    ):
        if max_scope < 1:
            raise ValueError(f"max_scope must be at least 1, got {max_scope}")
        self.section_assertions = dict(DEFAULT_SECTION_ASSERTIONS if section_assertions is None else section_assertions)
        self.section_statuses = dict(DEFAULT_SECTION_STATUSES if section_statuses is None else section_statuses)
        for what, mapping, values in (
            ("section_assertions", self.section_assertions, ASSERTION_VALUES),
            ("section_statuses", self.section_statuses, MEDICATION_STATUS_VALUES),
        ):
            wrong = {label: value for label, value in mapping.items() if value not in values}
            if wrong:
                raise ValueError(f"{what}: {wrong} not in {list(values)}")
        self.nlp = nlp
        self.name = name
        self.spans_key = spans_key
        self.sections_key = sections_key
        self.max_scope = max_scope
        self.med_labels = frozenset(med_labels)
        self.set_cfg({"extra_triggers": extra_triggers})

    def set_cfg(self, cfg: Dict[str, Any]) -> None:
        """Keep ``cfg`` and compile the shipped and extra triggers into the phrase matcher."""
        self.cfg = {"extra_triggers": list(cfg["extra_triggers"])}
        groups: List[TriggerGroup] = read_triggers() + parse_extra_triggers(self.cfg["extra_triggers"])
        self.matcher = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.rules = {}
        for group in groups:
            key = self.nlp.vocab.strings.add(group.rule.key)
            self.rules[key] = group.rule
            self.matcher.add(group.rule.key, [self.nlp.make_doc(phrase) for phrase in group.phrases])

    def _spans(self, doc: Doc) -> Sequence[Span]:
        if self.spans_key is None:
            return doc.ents
        return doc.spans[self.spans_key] if self.spans_key in doc.spans else ()

    def __call__(self, doc: Doc) -> Doc:
        spans = self._spans(doc)
        if not spans:
            return doc
        triggers = resolve_overlaps(
            TriggerMatch(start, end, self.rules[match_id]) for match_id, start, end in self.matcher(doc)
        )
        sections: List[Section] = []
        header_ends = []
        if self.sections_key is not None and self.sections_key in doc.spans:
            for section in sorted(doc.spans[self.sections_key], key=lambda span: span.start):
                sections.append(Section(section.start, section.end, section.label_))
                header_ends.append(header_end(doc, section))
        sentence_starts = ()
        if doc.has_annotation("SENT_START"):
            sentence_starts = numpy.flatnonzero(doc.to_array(SENT_START) == 1).tolist()
        boundaries = scope_boundaries(
            [token.text for token in doc],
            [bool(token.whitespace_) for token in doc],
            sentence_starts,
            header_ends,
        )
        targets = [Target(span.start, span.end, span.label_ in self.med_labels) for span in spans]
        results = classify_targets(
            targets,
            triggers,
            boundaries,
            len(doc),
            sections,
            self.max_scope,
            self.section_assertions,
            self.section_statuses,
        )
        for span, (assertion, status) in zip(spans, results):
            span._.assertion = assertion
            span._.med_status = status
        return doc


@Language.factory(
    "clinical_context",
    default_config={
        "spans_key": None,
        "extra_triggers": [],
        "sections_key": "sections",
        "max_scope": 12,
        "med_labels": ["Drug"],
        "section_assertions": DEFAULT_SECTION_ASSERTIONS,
        "section_statuses": DEFAULT_SECTION_STATUSES,
    },
)
def make_context(
    nlp: Language,
    name: str,
    spans_key: Optional[str],
    extra_triggers: List[Dict[str, Any]],
    sections_key: Optional[str],
    max_scope: int,
    med_labels: List[str],
    section_assertions: Dict[str, str],
    section_statuses: Dict[str, str],
) -> ClinicalContext:
    """Build the ``clinical_context`` component."""
    return ClinicalContext(
        nlp,
        name,
        spans_key=spans_key,
        extra_triggers=extra_triggers,
        sections_key=sections_key,
        max_scope=max_scope,
        med_labels=med_labels,
        section_assertions=section_assertions,
        section_statuses=section_statuses,
    )
