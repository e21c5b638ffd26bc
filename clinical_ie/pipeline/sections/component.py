"""The ``clinical_sections`` component: sections of clinical notes from their headers.

A header is a known section name (``headers.jsonl`` beside this module, plus the
component's ``extra_headers``) at the start of a line, case-insensitive, followed by
``:`` (text may follow on the same line) or, written in upper case, alone on its line.
One compiled regular expression finds all headers in ``doc.text``.

``doc.spans["sections"]`` gets one span per section, from its header to the token
before the next header, labelled with the section's normalized name
(``discharge_medications``, ``allergies``...). Text before the first header is in no
section. ``span._.section`` (:mod:`clinical_ie.pipeline.data_model`) is the label of the
section holding a span's first token.
"""

import re
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Union

from spacy.language import Language
from spacy.tokens import Doc, Span

from ..base import ConfigStateComponent
from ..data_files import DataFileError, check_string_list, read_jsonl_objects
from ..data_model import SECTIONS_SPANS_KEY

HEADERS_PATH = Path(__file__).with_name("headers.jsonl")
"""Shipped header list: ``{"label": ..., "patterns": [...]}`` per line."""


def normalize_header(text: str) -> str:
    """Lower case, runs of whitespace as one space: the lookup key of a header."""
    return " ".join(text.lower().split())


def read_headers(path: Union[str, Path] = HEADERS_PATH) -> Dict[str, str]:
    """Normalized header pattern -> section label, from a headers JSONL file.

    Raises :class:`DataFileError` naming the file and line for a malformed line or a
    pattern given two labels.
    """
    headers: Dict[str, str] = {}
    for line_number, record in read_jsonl_objects(path):
        try:
            label = record.get("label")
            if not isinstance(label, str) or not label.strip():
                raise ValueError("'label' must be a non-empty string")
            for pattern in check_string_list(record.get("patterns"), "patterns"):
                key = normalize_header(pattern)
                if headers.get(key, label) != label:
                    raise ValueError(f"header {pattern!r} is already labelled {headers[key]!r}")
                headers[key] = label
        except ValueError as error:
            raise DataFileError(path, line_number, str(error)) from None
    return headers


def check_extra_headers(extra_headers: Dict[str, List[str]]) -> Dict[str, List[str]]:
    """``extra_headers`` (label -> header strings) if well formed, else ValueError."""
    if not isinstance(extra_headers, dict):
        raise ValueError(f"extra_headers must map section labels to lists of headers, got {extra_headers!r}")
    for label, patterns in extra_headers.items():
        if not isinstance(label, str) or not label.strip():
            raise ValueError(f"extra_headers: labels must be non-empty strings, got {label!r}")
        check_string_list(patterns, f"extra_headers[{label!r}]")
    return extra_headers


def compile_header_regex(patterns: Iterable[str]) -> "re.Pattern[str]":
    """One case-insensitive regex for all header ``patterns`` at line starts.

    Group ``header`` is the header text; group ``colon`` is set when ``:`` follows.
    Longer patterns are tried first; whitespace inside a pattern matches any run of
    spaces or tabs.
    """
    alternatives = sorted(set(patterns), key=len, reverse=True)
    body = "|".join(r"[ \t]+".join(map(re.escape, pattern.split())) for pattern in alternatives)
    return re.compile(rf"^[ \t]*(?P<header>{body})[ \t]*(?:(?P<colon>:)|(?=\r?$))", re.IGNORECASE | re.MULTILINE)


class ClinicalSections(ConfigStateComponent):
    """Finds section headers and sets ``doc.spans["sections"]``.

    ``extra_headers`` (label -> header strings) add to the shipped headers; a header
    listed there takes the label given there. They are stored in the component's cfg
    and serialized with the pipeline.
    """

    def __init__(self, name: str = "clinical_sections", *, extra_headers: Optional[Dict[str, List[str]]] = None):
        self.name = name
        self.set_cfg({"extra_headers": dict(extra_headers or {})})

    def set_cfg(self, cfg: Dict[str, Dict[str, List[str]]]) -> None:
        """Keep ``cfg`` (its extra headers checked) and compile the header regex."""
        self.cfg = {"extra_headers": check_extra_headers(cfg["extra_headers"])}
        self.header_labels = read_headers()
        for label, patterns in self.cfg["extra_headers"].items():
            for pattern in patterns:
                self.header_labels[normalize_header(pattern)] = label
        self.header_regex = compile_header_regex(self.header_labels)

    def __call__(self, doc: Doc) -> Doc:
        headers = []
        for match in self.header_regex.finditer(doc.text):
            header = match.group("header")
            if match.group("colon") is None and not header.isupper():
                continue
            span = doc.char_span(match.start("header"), match.end("header"), alignment_mode="expand")
            if span is not None and (not headers or span.start > headers[-1][0]):
                headers.append((span.start, self.header_labels[normalize_header(header)]))
        ends = [start for start, _ in headers[1:]] + [len(doc)]
        doc.spans[SECTIONS_SPANS_KEY] = [
            Span(doc, start, end, label=label) for (start, label), end in zip(headers, ends)
        ]
        return doc


@Language.factory("clinical_sections", default_config={"extra_headers": {}})
def make_sections(nlp: Language, name: str, extra_headers: Dict[str, List[str]]) -> ClinicalSections:
    """Build the ``clinical_sections`` component."""
    return ClinicalSections(name, extra_headers=extra_headers)
