"""Nursing-handover (CLEF eHealth 2015/2016) token-file reader.

One token a line, tab-separated: the token is the first field, the gold category
the second-to-last and the organisers' prediction the last. The field count is not
fixed (Set 1 has 19): a line is rejected only when it has fewer than 3 fields or a
count differing from the most common count of its own file. A blank line ends a
sentence; one file is one document, with or without a trailing blank line.

The Doc's text is the tokens joined by one space with ``\\n`` between sentences; the
``\\n`` is a whitespace token of its own (spaCy cannot hold it as trailing
whitespace), with category ``NA`` in both category lists. Every other token is a
file token, in order. Entities are runs of consecutive tokens with the same
category other than ``NA``; a run ends at a sentence break (it never crosses a
``\\n``). Runs never overlap, so ``doc.ents`` and ``doc.spans["entities"]`` hold the
same spans.
"""

from collections import Counter
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from ..extensions import ENTITIES_SPANS_KEY
from ..labels import HANDOVER_OUTSIDE
from .report import ConversionReport, read_note_file
from .tokenizer import shared_clinical_english

SENTENCE_SEPARATOR = "\n"

TokenLine = Tuple[str, str, str]
"""(token, gold category, predicted category) of one file line."""


def parse_handover_lines(text: str, file: str, report: ConversionReport) -> List[List[TokenLine]]:
    """Split a handover file into sentences of ``(token, gold, prediction)`` lines.

    Lines with fewer than 3 fields, a field count unlike the file's most common one,
    or an empty token are problems and skipped.
    """
    lines = [line.rstrip("\r") for line in text.split("\n")]
    counts = Counter(len(line.split("\t")) for line in lines if line.strip())
    expected = counts.most_common(1)[0][0] if counts else 0
    sentences: List[List[TokenLine]] = [[]]
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            if sentences[-1]:
                sentences.append([])
            continue
        fields = line.split("\t")
        if len(fields) < 3:
            report.problem(file, number, "too_few_fields", f"{len(fields)} fields, need at least 3")
        elif len(fields) != expected:
            report.problem(
                file, number, "field_count", f"{len(fields)} fields where the file has {expected}"
            )
        elif not fields[0].strip():
            report.problem(file, number, "empty_token", "the token field is empty")
        else:
            sentences[-1].append((fields[0], fields[-2], fields[-1]))
    return [sentence for sentence in sentences if sentence]


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
    doc._.token_categories = gold
    doc._.baseline_categories = predicted
    return doc


def read_handover_document(
    path: Path, report: ConversionReport, vocab: Optional[Vocab] = None
) -> Optional[Doc]:
    """Read one handover token file; ``None`` when the file is unusable (a problem)."""
    path = Path(path)
    read = read_note_file(path, report)
    if read is None:
        return None
    sentences = parse_handover_lines(read[0], path.name, report)
    if not sentences:
        report.problem(path.name, 0, "empty_file", "no token lines")
        return None
    doc = handover_doc(vocab or shared_clinical_english().vocab, path.stem, sentences)
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
    folder: Path, report: ConversionReport, pattern: str = "*.txt"
) -> Iterator[Doc]:
    """Read every handover file of ``folder`` matching ``pattern`` (sorted by name)."""
    for path in sorted(Path(folder).glob(pattern)):
        doc = read_handover_document(path, report)
        if doc is not None:
            yield doc
