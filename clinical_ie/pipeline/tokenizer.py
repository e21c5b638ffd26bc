"""Clinical tokenizer and line-based sentence starts.

The tokenizer is spaCy's English tokenizer with extra affix rules so that gold entity
boundaries of medication notes fall on token boundaries:

- a digit/letter boundary splits, in either direction: ``5mg`` -> ``5 mg``,
  ``x7days`` -> ``x 7 days``, ``q4h`` -> ``q 4 h``; ordinals stay whole (``2nd``);
- ``/`` splits except between two digits (``500mg/day`` -> ``500 mg / day``,
  ``/day`` -> ``/ day``; fractions and dates such as ``1/2`` stay whole);
- ``-`` splits between numbers and between a letter and a number (``2-3``, ``q4-6h``,
  ``1-2tabs``; spaCy already splits hyphens before letters);
- ``(`` ``)`` ``[`` ``]`` split inside words (``tab(s)`` -> ``tab ( s )``);
- ``#`` splits (``Tylenol#3`` -> ``Tylenol # 3``); a list number's period splits
  (``1.Insulin`` -> ``1 . Insulin``), as does a period between a word and a footnote number
  (``cisplatin.1``);
- ``;`` and ``*`` split inside words (drug labels list ``steroids;alcohol*;antacids``), and a
  hyphen ending a word splits from it (``aluminum- or magnesium-containing``);
- a period after a single capital splits (``vitamin K.``), and spaCy's exceptions for
  single letters with a period (``h.`` in ``q12h.``) and emoticons (``):`` in
  ``tab(s):``) are dropped; URLs need a scheme or ``www.``.

Dotted dosing abbreviations (``q.d.``, ``b.i.d.``, ``p.o.``, ``q.h.s.``, ``q.4h.``...,
lower or upper case) are one token with their final period, also where punctuation
follows (``q.d.;`` -> ``q.d.`` + ``;``, ``q.i.d..`` -> ``q.i.d.`` + ``.``). A gold span
written without that period (``q.d``) ends inside the token: the converter expands it
to ``q.d.`` and counts it misaligned. For sentence starts such a token ends a sentence
like a period does.

De-identification placeholders are one token each, wherever they stand (``on[**2115-2-22**].``
-> ``on`` + the placeholder + ``.``): MIMIC-III's ``[**...**]`` on one line, spaces
inside included (``[**Hospital1 18**]``), and MIMIC-IV's runs of three or more
underscores (``___``). spaCy's rule-based tokenizer splits at every space first, so
:class:`ClinicalTokenizer` tokenizes the text between placeholders with the rules above
(a plain :class:`spacy.tokenizer.Tokenizer`, whose patterns and special cases serialize
with the pipeline: ``nlp.to_disk`` / ``from_disk``) and joins the pieces; ``doc.text`` is
the input text exactly.
"""

import re
from functools import lru_cache
from typing import Callable, Iterable, Iterator, List, Tuple

import numpy
import spacy
from spacy.attrs import NORM, SENT_START
from spacy.lang.char_classes import ALPHA
from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc, Span
from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex

CLINICAL_INFIXES = (
    rf"(?<=[0-9])(?!(?:st|nd|rd|th)\b)(?=[{ALPHA}])",  # 5|mg, not 2nd
    rf"(?<=[{ALPHA}])(?=[0-9])",  # x|7, q|4
    r"/(?![0-9])|(?<![0-9])/",  # / except digit/digit
    rf"(?<=[{ALPHA}0-9])-(?=[0-9])",  # 2-3, q4-6h, COVID-19
    r"[()\[\]]",  # tab(s)
    r"#",  # Tylenol#3
    rf"(?<=[0-9])\.(?=[{ALPHA}])",  # 1.Insulin (list numbering)
    rf"(?<=[{ALPHA}])\.(?=[0-9])",  # cisplatin.1 (a footnote number)
    r";",  # steroids;alcohol (lists without spaces)
    r"\*",  # alcohol* (a footnote mark)
)
CLINICAL_PREFIXES = (r"/",)
CLINICAL_SUFFIXES = (
    r"/",
    rf"(?<=[{ALPHA}])-",  # aluminum- or magnesium-containing
    r"(?<=(?<![A-Za-z])[A-Z])\.",  # vitamin K.
    r"(?<=[A-Za-z]\.[A-Za-z]\.)\.",  # q.i.d.. -> q.i.d. + .
)
ELLIPSIS_SUFFIX = r"\.\.+"
ELLIPSIS_NOT_AFTER_ABBREVIATION = r"(?<![A-Za-z]\.[A-Za-z])\.\.+"

URL_PATTERN = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*://|www\.)\S+$")
"""URLs need a scheme or ``www.``: spaCy's default takes ``3.enoxaparin`` for a domain."""

DROPPED_EXCEPTION = re.compile(r"[A-Za-z]\.|.*[()\[\]{}:;=<>].*")
"""spaCy exceptions that swallow clinical boundaries: single letters with a period
(``h.`` in ``q12h.``) and emoticons (``):`` in ``tab(s):``, ``<3``, ``8)``)."""

DOSING_ABBREVIATIONS = (
    "q.d.", "b.i.d.", "t.i.d.", "q.i.d.", "p.o.", "q.h.s.", "q.a.m.", "q.p.m.", "q.o.d.",
    "p.r.n.", "h.s.", "a.c.", "p.c.", "q.h.",
    *(f"q.{hours}h." for hours in (1, 2, 3, 4, 6, 8, 12, 24, 36, 48, 72)),
)
"""Dotted dosing abbreviations kept whole with their final period (also in upper case)."""

DOSING_ABBREVIATION_FORMS = frozenset(
    form for abbreviation in DOSING_ABBREVIATIONS for form in (abbreviation, abbreviation.upper())
)

DOSING_ABBREVIATION_MATCH = re.compile("(?:" + "|".join(map(re.escape, sorted(DOSING_ABBREVIATION_FORMS))) + r")\Z")
"""The tokenizer's ``token_match``: unlike a special case, a match leaves spaCy's cache on
for the rest of the text (a special case turns it off, spaCy issue #1250)."""

PLACEHOLDER = re.compile(r"\[\*\*[^\r\n]*?\*\*\]|_{3,}")
"""A de-identification placeholder: MIMIC-III ``[**...**]`` within a line, MIMIC-IV ``___``."""

PLACEHOLDER_PATTERN_NAME = "PLACEHOLDER"
"""What :meth:`ClinicalTokenizer.explain` says matched a placeholder."""

SENTENCE_FINAL_TOKENS = frozenset({".", "!", "?", *DOSING_ABBREVIATION_FORMS})


def make_rule_based_tokenizer(nlp: Language) -> Tokenizer:
    """The rule-based part of the clinical tokenizer, for ``nlp``'s vocab from its language
    defaults: everything but the placeholders."""
    defaults = nlp.Defaults
    exceptions = {
        text: pieces
        for text, pieces in defaults.tokenizer_exceptions.items()
        if not DROPPED_EXCEPTION.fullmatch(text)
    }
    suffixes = [
        ELLIPSIS_NOT_AFTER_ABBREVIATION if suffix == ELLIPSIS_SUFFIX else suffix
        for suffix in defaults.suffixes
    ]
    return Tokenizer(
        nlp.vocab,
        rules=exceptions,
        prefix_search=compile_prefix_regex(tuple(defaults.prefixes) + CLINICAL_PREFIXES).search,
        suffix_search=compile_suffix_regex(tuple(suffixes) + CLINICAL_SUFFIXES).search,
        infix_finditer=compile_infix_regex(tuple(defaults.infixes) + CLINICAL_INFIXES).finditer,
        token_match=DOSING_ABBREVIATION_MATCH.match,  # English has no token_match of its own
        url_match=URL_PATTERN.match,
    )


class ClinicalTokenizer:
    """The clinical tokenizer: every :data:`PLACEHOLDER` one token, the text between
    placeholders tokenized by ``rule_based``.

    A placeholder followed by a space takes that space as its whitespace, as spaCy does
    for any token. Serialization is ``rule_based``'s (the placeholder pattern is code), so
    the bytes also load into a plain :class:`spacy.tokenizer.Tokenizer`.
    """

    def __init__(self, rule_based: Tokenizer):
        self.rule_based = rule_based

    @property
    def vocab(self):
        return self.rule_based.vocab

    def __call__(self, text: str) -> Doc:
        """Tokenize ``text``; ``doc.text == text``."""
        if "[**" not in text and "___" not in text:
            return self.rule_based(text)
        pieces = []
        start = 0
        for match in PLACEHOLDER.finditer(text):
            if start < match.start():
                pieces.append(self.rule_based(text[start:match.start()]))
            space = text.startswith(" ", match.end())
            pieces.append(Doc(self.vocab, words=[match.group()], spaces=[space]))
            start = match.end() + space
        if start < len(text):
            pieces.append(self.rule_based(text[start:]))
        if len(pieces) == 1:
            return pieces[0]
        return Doc.from_docs(pieces, ensure_whitespace=False, attrs=[NORM], exclude=["spans", "tensor", "user_data"])

    def pipe(self, texts: Iterable[str], batch_size: int = 1000) -> Iterator[Doc]:
        """Tokenize a stream of texts (``batch_size`` is accepted as spaCy's tokenizer does)."""
        for text in texts:
            yield self(text)

    def explain(self, text: str) -> List[Tuple[str, str]]:
        """(pattern name, token text) for every non-whitespace token, as
        :meth:`spacy.tokenizer.Tokenizer.explain`; a placeholder is ``PLACEHOLDER``."""
        explained = []
        start = 0
        for match in PLACEHOLDER.finditer(text):
            explained += self.rule_based.explain(text[start:match.start()])
            explained.append((PLACEHOLDER_PATTERN_NAME, match.group()))
            start = match.end()
        return explained + self.rule_based.explain(text[start:])

    def add_special_case(self, string: str, substrings) -> None:
        """Add a special case to the rule-based tokenizer (it applies between placeholders)."""
        self.rule_based.add_special_case(string, substrings)

    def score(self, examples, **kwargs):
        """spaCy's tokenization scores (``token_acc``, ``token_p``...), as its tokenizer gives."""
        return self.rule_based.score(examples, **kwargs)

    def to_bytes(self, *, exclude=tuple()) -> bytes:
        return self.rule_based.to_bytes(exclude=exclude)

    def from_bytes(self, bytes_data: bytes, *, exclude=tuple()) -> "ClinicalTokenizer":
        self.rule_based.from_bytes(bytes_data, exclude=exclude)
        return self

    def to_disk(self, path, *, exclude=tuple()) -> None:
        self.rule_based.to_disk(path, exclude=exclude)

    def from_disk(self, path, *, exclude=tuple()) -> "ClinicalTokenizer":
        self.rule_based.from_disk(path, exclude=exclude)
        return self


def make_clinical_tokenizer(nlp: Language) -> ClinicalTokenizer:
    """Build the clinical tokenizer for ``nlp``'s vocab from its language defaults."""
    return ClinicalTokenizer(make_rule_based_tokenizer(nlp))


@spacy.registry.tokenizers("clinical_ie.ClinicalTokenizer.v1")
def create_clinical_tokenizer() -> Callable[[Language], ClinicalTokenizer]:
    """Registered tokenizer factory: like ``spacy.Tokenizer.v1`` plus the clinical rules and
    placeholders."""
    return make_clinical_tokenizer


def clinical_english() -> Language:
    """A blank English pipeline whose tokenizer is the clinical tokenizer."""
    return spacy.blank(
        "en", config={"nlp": {"tokenizer": {"@tokenizers": "clinical_ie.ClinicalTokenizer.v1"}}}
    )


@lru_cache(maxsize=1)
def shared_clinical_english() -> Language:
    """One :func:`clinical_english` shared by the readers (add no pipes to it)."""
    return clinical_english()


def set_line_sentence_starts(doc: Doc, keep_together: Iterable[Span] = ()) -> None:
    """Set ``is_sent_start`` on every token of ``doc`` from the note's line structure.

    A sentence starts at the first token, at the first non-space token after a
    whitespace token holding a newline, and, within a line, at a token starting with
    an upper-case letter after a ``.``/``!``/``?`` token or a dotted dosing abbreviation
    (``q.d.`` holds its period). Whitespace tokens end the
    sentence before them. No sentence starts strictly inside a span of
    ``keep_together`` (gold entities may cross line breaks).
    """
    inside = [False] * len(doc)
    for span in keep_together:
        for i in range(span.start + 1, span.end):
            inside[i] = True
    sent_starts = numpy.full(len(doc), -1, dtype="int64")
    after_newline = True
    after_final_punct = False
    for token in doc:
        if token.is_space:
            after_newline = after_newline or "\n" in token.text
            continue
        at_break = after_newline or (after_final_punct and token.text[:1].isupper())
        if at_break and not inside[token.i]:
            sent_starts[token.i] = 1
        after_newline = False
        after_final_punct = token.text in SENTENCE_FINAL_TOKENS
    if len(doc):
        sent_starts[0] = 1
    doc.from_array([SENT_START], sent_starts.astype("uint64"))
