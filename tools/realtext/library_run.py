"""Measurements of the real-text benchmark that run on a chosen revision's library.

Run as a script in a process of its own, ``python tools/realtext/library_run.py COMMAND ...``,
with ``clinical_ie`` importable from ``PYTHONPATH`` (the current checkout, or another revision's
``clinical_ie`` written to a folder: :func:`tools.realtext.runs.library_folder`). It uses only
what every revision of the library since the CRF head and ``clinical_context`` has. Each command
writes JSON: offsets, labels, numbers, never note text.

- ``spans MODEL GOLD.spacy OUT.json``: each CRF head's predicted spans per document, as
  calibrated and with the calibration undone, ``[start_char, end_char, label, confidence, first
  token is space, last token is space]``.
- ``assertion BIOSCOPE.spacy OUT.json``: the targets of :func:`assertion_targets` and the
  assertion ``clinical_context`` gives each.
- ``speed MODEL N NOTES.jsonl... OUT.json``: words/s of the pipeline and of the encoder's limit
  on the first ``N`` notes of each notes file (:func:`tools.realtext.speed.measure_speed`).
"""

import json
import sys
from pathlib import Path

import spacy
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.tokens import Doc, DocBin

import clinical_ie.pipeline  # noqa: F401  (registers the extensions)

REPO_ROOT = Path(__file__).resolve().parents[2]

UNCALIBRATED = {"temperature": 1.0, "span_calibration": None}
"""The head settings under which confidences are the CRF's own posteriors."""

TARGETS_KEY = "targets"
CUE_KEYS = ("negation_cues", "speculation_cues")


def write_json(path: str, value) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(value), encoding="utf8")


def read_gold(path: str, vocab):
    return list(DocBin(store_user_data=True).from_disk(path).get_docs(vocab))


def spans_of(doc, key):
    group = doc.ents if key is None else doc.spans.get(key, [])
    return [
        [span.start_char, span.end_char, span.label_, span._.confidence, span[0].is_space, span[-1].is_space]
        for span in group
    ]


def predict_spans(nlp, gold_docs, heads):
    """Spans of each head per document, the pipeline run on the text (its own tokenizer, as in use)."""
    docs = list(nlp.pipe((gold.text for gold in gold_docs), batch_size=8))
    return {name: [spans_of(doc, key) for doc in docs] for name, key in heads.items()}


def spans_command(model: str, gold_path: str, output: str) -> None:
    nlp = spacy.load(model)
    gold_docs = read_gold(gold_path, nlp.vocab)
    heads = {name: pipe.cfg.get("spans_key") for name, pipe in nlp.pipeline if "temperature" in getattr(pipe, "cfg", {})}
    result = {"doc_ids": [doc._.doc_id for doc in gold_docs], "calibrated": predict_spans(nlp, gold_docs, heads)}
    for name in heads:
        cfg = nlp.get_pipe(name).cfg
        result.setdefault("calibration", {})[name] = {key: cfg.get(key) for key in ("temperature", "span_calibration", "calibration")}
        cfg.update(UNCALIBRATED)
    result["uncalibrated"] = predict_spans(nlp, gold_docs, heads)
    write_json(output, result)


def assertion_targets(doc):
    """The words whose assertion is scored: alphabetic tokens of 3 or more letters that are no
    stop word and lie in no negation or speculation cue, each as a one-token span."""
    in_cue = set()
    for key in CUE_KEYS:
        for cue in doc.spans.get(key, []):
            in_cue.update(range(cue.start, cue.end))
    return [
        doc[i:i + 1] for i, token in enumerate(doc)
        if token.is_alpha and len(token) >= 3 and token.lower_ not in STOP_WORDS and i not in in_cue
    ]


def assertion_command(gold_path: str, output: str) -> None:
    nlp = spacy.blank("en")
    context = nlp.add_pipe("clinical_context", config={"spans_key": TARGETS_KEY})
    result = []
    for gold in read_gold(gold_path, nlp.vocab):
        doc = Doc(nlp.vocab, words=[t.text for t in gold], spaces=[bool(t.whitespace_) for t in gold],
                  sent_starts=[t.is_sent_start for t in gold])
        for key in CUE_KEYS:
            doc.spans[key] = [doc[s.start:s.end] for s in gold.spans.get(key, [])]
        targets = [doc[s.start:s.end] for s in assertion_targets(doc)]
        doc.spans[TARGETS_KEY] = [doc.char_span(s.start_char, s.end_char, label="TARGET") for s in targets]
        context(doc)
        result.append({"doc_id": gold._.doc_id,
                       "targets": [[s.start_char, s.end_char, s._.assertion] for s in doc.spans[TARGETS_KEY]]})
    write_json(output, result)


def speed_command(model: str, notes_per_file: str, *arguments: str) -> None:
    sys.path.append(str(REPO_ROOT))  # after PYTHONPATH: the tools of this checkout, the library chosen
    from tools.realtext.speed import measure_speed

    *notes, output = arguments
    write_json(output, measure_speed(model, [Path(p) for p in notes], int(notes_per_file)))


COMMANDS = {"spans": spans_command, "assertion": assertion_command, "speed": speed_command}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](*sys.argv[2:])
