"""The hand-written assertion test set and the scores of clinical_context on it.

``assertion_testset.jsonl``: invented discharge-summary sentences and note fragments
(no real patient), one record per line: ``id``, ``split`` (``heldout``: written first,
before any rule, and never used for tuning; ``dev``: used for tuning), ``text``,
``note`` (what it tests) and ``mentions`` (``text``, character ``start``/``end``,
``label`` Drug/Problem/Test/Treatment, ``assertion``, and ``status`` for Drug only).

Annotation guideline (what a clinician would say, not what the rules give):

- assertion ``absent``: negated for the patient (no, denies, without, negative for,
  ruled out, refused, declined); ``possible``: hedged (possible, likely, r/o, concern
  for, unlikely, cannot be excluded); ``hypothetical``: may happen later or is only
  planned (return if, should you, will start, consider); ``historical``: a past
  condition or procedure (h/o, s/p, history of, Past Medical History section);
  ``family``: about a relative (mother had, Family History section); else ``present``.
- status: ``active`` (taken, given, continued, on a medication list), ``discontinued``,
  ``held`` (paused), ``allergy`` (allergy or intolerance, also listed under
  Allergies), ``absent`` (not taken, refused, declined), ``planned`` (to be started),
  ``conditional`` (prn, as needed, only if a condition such as SBP > 100 holds).
- a Drug is ``absent`` exactly when its status is; a planned one is ``hypothetical``;
  a stopped, held, allergy or conditional one is ``present``.
"""

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from clinical_ie.pipeline.tokenizer import clinical_english
from clinical_ie.pipeline.data_model import ASSERTION_VALUES, MEDICATION_STATUS_VALUES
from tools.context_comparison import TESTSET_PATH, mention_docs, predict_ours, read_testset, score_split

LABELS = {"Drug", "Problem", "Test", "Treatment"}


@pytest.fixture(scope="module")
def records():
    return read_testset(TESTSET_PATH)


def test_records_are_well_formed(records):
    ids = [record["id"] for record in records]
    assert len(ids) == len(set(ids))
    for record in records:
        assert set(record) == {"id", "split", "text", "mentions", "note"}, record["id"]
        assert record["split"] in ("dev", "heldout") and record["note"] and record["mentions"], record["id"]
        previous_end = 0
        for mention in record["mentions"]:
            assert record["text"][mention["start"]:mention["end"]] == mention["text"], record["id"]
            assert mention["start"] >= previous_end, f"{record['id']}: mentions overlap or are out of order"
            previous_end = mention["end"]
            assert mention["label"] in LABELS, record["id"]
            assert mention["assertion"] in ASSERTION_VALUES, record["id"]
            if mention["label"] == "Drug":
                assert mention["status"] in MEDICATION_STATUS_VALUES, record["id"]
                assert (mention["status"] == "absent") == (mention["assertion"] == "absent"), record["id"]
            else:
                assert "status" not in mention, record["id"]


def test_mentions_fall_on_token_boundaries(records):
    docs = mention_docs(clinical_english(), records)
    assert sum(len(doc.ents) for doc in docs) == sum(len(r["mentions"]) for r in records)


def test_size_and_coverage(records):
    mentions = [m for r in records for m in r["mentions"]]
    heldout = [m for r in records if r["split"] == "heldout" for m in r["mentions"]]
    assert len(mentions) >= 150
    assert 0.25 <= len(heldout) / len(mentions) <= 0.45
    assertions = Counter(m["assertion"] for m in mentions)
    statuses = Counter(m["status"] for m in mentions if "status" in m)
    assert all(assertions[value] >= 5 for value in ASSERTION_VALUES), assertions
    assert all(statuses[value] >= 5 for value in MEDICATION_STATUS_VALUES), statuses
    texts = " ".join(r["text"].lower() for r in records)
    for cue in ("no increase in", "not only", "no change in", " but ", "however", "prn", "if sbp > 100",
                "d/c'd", "d/ced", "dc'd", "held for", "was stopped due to", "nkda", "s/p", "h/o", "r/o",
                "c/o", "w/o", "mother had", "return if", "allergies:", "discharge medications:"):
        assert cue in texts, cue


@pytest.fixture(scope="module")
def scores(records):
    pytest.importorskip("negspacy", reason="negspacy==1.1.0 (the test extra) is the negation baseline")
    from tools.context_comparison import predict_negex

    ours = predict_ours(records)
    ours_line_sentences = predict_ours(records, line_sentences=True)
    negex = predict_negex(records)
    return {split: score_split(records, split, ours, ours_line_sentences, negex) for split in ("all", "dev", "heldout")}


def test_negation_beats_negspacy(scores, record_property):
    for split in ("all", "dev", "heldout"):
        negation = scores[split]["negation"]
        record_property(f"negation_f1_{split}", json.dumps({k: round(v["f1"], 3) for k, v in negation.items()}))
        print(split, {system: round(values["f1"], 3) for system, values in negation.items()})
    negation = scores["all"]["negation"]
    assert negation["ours"]["f1"] > negation["negspacy"]["f1"]


def test_status_accuracy(scores, record_property):
    for split in ("all", "dev", "heldout"):
        record_property(f"status_accuracy_{split}", round(scores[split]["status"]["accuracy"], 3))
        print(split, "status accuracy", round(scores[split]["status"]["accuracy"], 3),
              "assertion accuracy", round(scores[split]["assertion"]["accuracy"], 3))
    assert scores["all"]["status"]["accuracy"] >= 0.90


def test_comparison_tool_help():
    root = Path(__file__).resolve().parents[3]
    result = subprocess.run([sys.executable, "-m", "tools.context_comparison", "--help"], cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "usage" in result.stdout.lower()
