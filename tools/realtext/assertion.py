"""Negation and speculation on BioScope: ours and negspacy on the same target words.

A target (:func:`tools.realtext.library_run.assertion_targets`) is a content word outside every
cue; its gold is *negated* when a negation scope holds it and *speculated* when a speculation scope
does. Ours: ``clinical_context`` on the targets (``absent`` = negated, ``possible`` = speculated).
negspacy 1.1.0 (NegEx, ``en_clinical`` termset) on the same targets as ``doc.ents``, with the
corpus's sentences; it does not speculate.
"""

from typing import Dict, List, Sequence

from spacy.tokens import Doc

from clinical_ie.evaluation.metrics.assertion import precision_recall_f1

from ..context_comparison import build_negex

SCOPE_KEYS = {"negated": "negation_scopes", "speculated": "speculation_scopes"}


def in_scopes(doc: Doc, key: str, start: int, end: int) -> bool:
    return any(scope.start_char <= start and end <= scope.end_char for scope in doc.spans.get(key, []))


def gold_labels(gold_docs: Sequence[Doc], targets: Sequence[Dict]) -> Dict[str, List[bool]]:
    result = {name: [] for name in SCOPE_KEYS}
    for doc, record in zip(gold_docs, targets):
        for start, end, _ in record["targets"]:
            for name, key in SCOPE_KEYS.items():
                result[name].append(in_scopes(doc, key, start, end))
    return result


def negspacy_negated(gold_docs: Sequence[Doc], targets: Sequence[Dict]) -> List[bool]:
    """negspacy's verdict on each target, the targets as ``doc.ents`` of the gold docs' tokens."""
    nlp = build_negex()
    negex = nlp.get_pipe("negex")
    negated = []
    for gold, record in zip(gold_docs, targets):
        doc = Doc(nlp.vocab, words=[t.text for t in gold], spaces=[bool(t.whitespace_) for t in gold],
                  sent_starts=[t.is_sent_start for t in gold])
        doc.ents = [doc.char_span(start, end, label="TARGET") for start, end, _ in record["targets"]]
        negated += [bool(span._.negex) for span in negex(doc).ents]
    return negated


def score_assertion(gold_docs: Sequence[Doc], ours: Sequence[Dict], negspacy: Sequence[bool]) -> Dict[str, object]:
    gold = gold_labels(gold_docs, ours)
    values = [value for record in ours for _, _, value in record["targets"]]
    return {
        "n_targets": len(values),
        "n_negated": sum(gold["negated"]),
        "n_speculated": sum(gold["speculated"]),
        "ours": {
            "negation": precision_recall_f1(gold["negated"], [v == "absent" for v in values], True),
            "speculation": precision_recall_f1(gold["speculated"], [v == "possible" for v in values], True),
        },
        "negspacy": {"negation": precision_recall_f1(gold["negated"], list(negspacy), True)},
    }
