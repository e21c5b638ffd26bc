"""Nursing-handover (CLEF eHealth 2015/2016) token-file reader.

One token a line, tab-separated: the token is the first field, the gold category
the second-to-last and the organisers' prediction the last. Empty fields at the end
of a line (a trailing tab) are stripped first, so they never shift those columns. The
field count is not fixed (Set 1 has 19): a line is rejected only when it has fewer than
3 fields or a count differing from the most common count of its own file. A blank line
ends a sentence; one file is one document, with or without a trailing blank line.

Category check: the gold and prediction fields must hold a category: ``NA``, one of the
CLEF set (:mod:`clinical_ie.pipeline.labels`), or, in a training file (``training_categories``
None), any value shaped like a CLEF category (``Section_Name``), kept with one
``new_category`` warning per file and value; a dev or test file is given the categories
found in the training files instead. Any other value means the file's columns are not
the expected ones: each such line is an ``unknown_category`` problem at its file:line,
and the file is dropped whole; its entities (runs of valid categories) count as read and
dropped (reason ``unknown_category``). A problem never quotes a value that is not shaped
like a category (it may be note text), only its kind.

The Doc's text is the tokens joined by one space with ``\\n`` between sentences; the
``\\n`` is a whitespace token of its own (spaCy cannot hold it as trailing
whitespace), with category ``NA`` in both category lists. Every other token is a
file token, in order, and ``doc._.pretokenized`` is True: training keeps these tokens.
Entities are runs of consecutive tokens with the same category other than ``NA``; a run
ends at a sentence break (it never crosses a ``\\n``). Runs never overlap, so
``doc.ents`` and ``doc.spans["entities"]`` hold the same spans.
"""

import re
from collections import Counter
from pathlib import Path
from typing import Collection, Iterator, List, Optional, Set, Tuple

from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from ..pipeline.data_model import ENTITIES_SPANS_KEY
from ..pipeline.labels import HANDOVER_EXTRA_CATEGORIES, HANDOVER_OUTSIDE, HANDOVER_TRAINING_CATEGORIES
from .conversion_report import ConversionReport, read_note_file
from ..pipeline.tokenizer import shared_clinical_english

SENTENCE_SEPARATOR = "\n"

CLEF_CATEGORIES = frozenset((HANDOVER_OUTSIDE, *HANDOVER_TRAINING_CATEGORIES, *HANDOVER_EXTRA_CATEGORIES))
"""Every value a category field may hold in any file: ``NA`` and the CLEF category set."""

CATEGORY_SHAPE = re.compile(r"^[A-Z][A-Za-z/]*_[A-Za-z/_]+$")
"""What a CLEF category looks like (``Section_Name``), accepted as new in training files."""

TokenLine = Tuple[str, str, str]
"""(token, gold category, predicted category) of one file line."""


def value_kind(value: str) -> str:
    """What a non-category field value is, in words that do not quote it."""
    if not value.strip():
        return "an empty value"
    if re.fullmatch(r"[-+]?[\d.,]+", value):
        return "a number"
    if re.fullmatch(r"[A-Z][A-Z$]*", value):
        return "an upper-case tag"
    return "a value"


def category_issue(
    name: str, field: int, fields: int, value: str, training_categories: Optional[Collection[str]]
) -> Tuple[Optional[str], Optional[str]]:
    """``(problem, warning)`` detail of one category field; both None for a known category.

    ``name`` is ``gold`` or ``prediction``, ``field`` its 1-based position of ``fields``.
    """
    if value in CLEF_CATEGORIES or (training_categories is not None and value in training_categories):
        return None, None
    where = f"{name} field (field {field} of {fields})"
    if not CATEGORY_SHAPE.match(value):
        return f"{where} holds {value_kind(value)}, not a CLEF category", None
    if training_categories is not None:
        return f"{where} holds '{value}', neither a CLEF category nor one of the training files", None
    return None, f"{where} holds '{value}', not in the CLEF set; kept as a training category"


def parse_handover_lines(
    text: str,
    file: str,
    report: ConversionReport,
    training_categories: Optional[Collection[str]] = None,
) -> Tuple[List[List[TokenLine]], int]:
    """Split a handover file into sentences of ``(token, gold, prediction)`` lines.

    Returns the sentences and how many lines hold a value that is not an accepted
    category (see the module docstring; such a value is kept as ``NA`` so that the
    caller can count the file's valid entities). Lines with fewer than 3 fields,
    a field count unlike the file's most common one, or an empty token are problems and
    skipped.
    """
    rows = []
    for line in text.split("\n"):
        fields = line.rstrip("\r").split("\t")
        while fields and not fields[-1].strip():
            fields.pop()
        rows.append(fields)
    counts = Counter(len(fields) for fields in rows if fields)
    expected = counts.most_common(1)[0][0] if counts else 0
    sentences: List[List[TokenLine]] = [[]]
    bad_category_lines = 0
    new_categories: Set[str] = set()
    for number, fields in enumerate(rows, start=1):
        if not fields:
            if sentences[-1]:
                sentences.append([])
            continue
        if len(fields) < 3:
            report.problem(file, number, "too_few_fields", f"{len(fields)} fields, need at least 3")
        elif len(fields) != expected:
            report.problem(
                file, number, "field_count", f"{len(fields)} fields where the file has {expected}"
            )
        elif not fields[0].strip():
            report.problem(file, number, "empty_token", "the token field is empty")
        else:
            categories, problems = [], []
            for name, field in (("gold", len(fields) - 1), ("prediction", len(fields))):
                value = fields[field - 1]
                problem, warning = category_issue(name, field, len(fields), value, training_categories)
                if problem:
                    problems.append(problem)
                elif warning and value not in new_categories:
                    new_categories.add(value)
                    report.warn(file, number, "new_category", warning)
                categories.append(HANDOVER_OUTSIDE if problem else value)
            if problems:
                report.problem(file, number, "unknown_category", "; ".join(problems))
                bad_category_lines += 1
            sentences[-1].append((fields[0], categories[0], categories[1]))
    return [sentence for sentence in sentences if sentence], bad_category_lines


def category_runs(categories: List[str], sent_starts: List[bool]) -> List[Tuple[int, int, str]]:
    """``(start, end, category)`` token runs of one category other than ``NA``.

    A run ends where the category changes or a sentence starts.
    """
    runs: List[Tuple[int, int, str]] = []
    for i, category in enumerate(categories):
        if category == HANDOVER_OUTSIDE:
            continue
        if runs and runs[-1][1] == i and runs[-1][2] == category and not sent_starts[i]:
            runs[-1] = (runs[-1][0], i + 1, category)
        else:
            runs.append((i, i + 1, category))
    return runs


def handover_doc(vocab: Vocab, doc_id: str, sentences: List[List[TokenLine]]) -> Doc:
    """Build the Doc of one handover document from its parsed sentences."""
    words, spaces, sent_starts, gold, predicted = [], [], [], [], []
    for index, sentence in enumerate(sentences):
        if index:
            words.append(SENTENCE_SEPARATOR)
            spaces.append(False)
            sent_starts.append(False)
            gold.append(HANDOVER_OUTSIDE)
            predicted.append(HANDOVER_OUTSIDE)
        for position, (token, gold_category, predicted_category) in enumerate(sentence):
            words.append(token)
            spaces.append(position + 1 < len(sentence))
            sent_starts.append(position == 0)
            gold.append(gold_category)
            predicted.append(predicted_category)
    doc = Doc(vocab, words=words, spaces=spaces, sent_starts=sent_starts)
    spans = [Span(doc, start, end, label) for start, end, label in category_runs(gold, sent_starts)]
    doc.spans[ENTITIES_SPANS_KEY] = spans
    doc.ents = spans
    doc._.doc_id = doc_id
    doc._.corpus = "handover"
    doc._.pretokenized = True
    doc._.token_categories = gold
    doc._.baseline_categories = predicted
    return doc


def read_handover_document(
    path: Path,
    report: ConversionReport,
    vocab: Optional[Vocab] = None,
    training_categories: Optional[Collection[str]] = None,
) -> Optional[Doc]:
    """Read one handover token file; ``None`` when the file is unusable (a problem).

    ``training_categories``: for a dev or test file, the categories found in the
    training files (accepted besides the CLEF set); None for a training file.
    """
    path = Path(path)
    read = read_note_file(path, report)
    if read is None:
        return None
    sentences, bad_category_lines = parse_handover_lines(read[0], path.name, report, training_categories)
    if not sentences:
        report.problem(path.name, 0, "empty_file", "no token lines")
        return None
    doc = handover_doc(vocab or shared_clinical_english().vocab, path.stem, sentences)
    if bad_category_lines:
        for span in doc.ents:
            report.entity_read(span.label_)
            report.entity_dropped("unknown_category")
        return None
    report.documents += 1
    report.tokens += len(doc)
    report.handover_tokens += sum(len(sentence) for sentence in sentences)
    for span in doc.ents:
        report.entity_read(span.label_)
        report.entity_kept(span.label_)
        report.entity_in_ents(span.label_)
        report.boundaries_checked(True, True)
    return doc


def read_handover_folder(
    folder: Path,
    report: ConversionReport,
    pattern: str = "*.txt",
    training_categories: Optional[Collection[str]] = None,
) -> Iterator[Doc]:
    """Read every handover file of ``folder`` matching ``pattern`` (sorted by name).

    ``training_categories`` as for :func:`read_handover_document`.
    """
    for path in sorted(Path(folder).glob(pattern)):
        doc = read_handover_document(path, report, training_categories=training_categories)
        if doc is not None:
            yield doc
