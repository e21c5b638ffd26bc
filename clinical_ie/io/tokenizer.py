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
  (``1.Insulin`` -> ``1 . Insulin``);
- a period after a single capital splits (``vitamin K.``), and spaCy's exceptions for
  single letters with a period (``h.`` in ``q12h.``) and emoticons (``):`` in
  ``tab(s):``) are dropped; URLs need a scheme or ``www.``.

Latin abbreviations keep spaCy's default: ``q.d.`` -> ``q.d`` + ``.``, so a gold span
written either as ``q.d`` or ``q.d.`` aligns; a sentence period after one
(``q.i.d..``) splits off alone. It is a plain :class:`spacy.tokenizer.Tokenizer`
whose patterns serialize with the pipeline (``nlp.to_disk`` / ``from_disk``).
"""

import re
from functools import lru_cache
from typing import Callable, Iterable

import numpy
import spacy
from spacy.attrs import SENT_START
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
)
CLINICAL_PREFIXES = (r"/",)
CLINICAL_SUFFIXES = (
    r"/",
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

SENTENCE_FINAL_TOKENS = frozenset({".", "!", "?"})


def make_clinical_tokenizer(nlp: Language) -> Tokenizer:
    """Build the clinical tokenizer for ``nlp``'s vocab from its language defaults."""
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
        token_match=defaults.token_match,
        url_match=URL_PATTERN.match,
    )


@spacy.registry.tokenizers("clinical_ie.ClinicalTokenizer.v1")
def create_clinical_tokenizer() -> Callable[[Language], Tokenizer]:
    """Registered tokenizer factory: like ``spacy.Tokenizer.v1`` plus the clinical rules."""
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
    an upper-case letter after a ``.``/``!``/``?`` token. Whitespace tokens end the
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
