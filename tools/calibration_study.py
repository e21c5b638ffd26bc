"""Which calibration of a CRF head's span confidences works best on held-out documents?

Fits each method on the dev documents and scores it on the test documents (never the documents it
was fitted on): no calibration (temperature 1), one temperature per head, one temperature per
label, Platt scaling of the span log-odds (a temperature with a bias) and smoothed isotonic
regression, each of the last two on the uncalibrated confidences (the methods of
``clinical_ie.calibrate_confidences.v1`` are the first, the fourth and the fifth). Reports, on the test spans,
expected calibration error (10 equal bins), negative log-likelihood and Brier score of the spans'
correctness, and precision among the spans at or above 0.9. Writes a Markdown table to stdout and,
with --output, the numbers as JSON.

Usage: python -m tools.calibration_study MODEL DEV.spacy TEST.spacy [--head ner] [--output F.json]
"""

import json
from pathlib import Path
from typing import Dict, List, Optional

import numpy
import spacy
import typer
from spacy.training import Example

from clinical_ie.pipeline.crf_ner.span_calibration import apply_span_calibration
from clinical_ie.training.calibration import (
    HeadSpans,
    fit_isotonic,
    fit_platt,
    fit_temperature,
    head_spans,
    span_nll,
    span_probabilities,
)
from clinical_ie.pipeline.crf_ner import CRFEntityRecognizer
from clinical_ie.evaluation.evaluate import read_docs
from clinical_ie.evaluation.metrics.calibration import expected_calibration_error, precision_at_thresholds


def annotated_examples(nlp, path: Path) -> List[Example]:
    """Examples of a gold DocBin whose predicted docs the pipeline has annotated (on the gold tokens)."""
    gold = read_docs(path, nlp.vocab)
    examples = [Example(spacy.tokens.Doc(nlp.vocab, words=[t.text for t in d], spaces=[bool(t.whitespace_) for t in d]), d)
                for d in gold]
    for _ in nlp.pipe(eg.predicted for eg in examples):
        pass
    return examples


def per_label_probabilities(head, spans: HeadSpans, temperatures: Dict[str, float]) -> numpy.ndarray:
    """Each span's probability at its label's temperature."""
    labels = numpy.asarray(spans.labels)
    result = numpy.zeros(len(labels))
    for label, temperature in temperatures.items():
        result[labels == label] = span_probabilities(head, spans, temperature)[labels == label]
    return result


def scores(probabilities: numpy.ndarray, correct: numpy.ndarray) -> Dict[str, float]:
    outcomes = list(zip(probabilities.tolist(), correct.tolist()))
    return {
        "ece": expected_calibration_error(outcomes),
        "nll": span_nll(probabilities, correct),
        "brier": float(numpy.mean((probabilities - correct) ** 2)),
        "precision_at_0.9": precision_at_thresholds(outcomes, n_gold=1, thresholds=(0.9,))["0.9"]["precision"],
        "kept_at_0.9": precision_at_thresholds(outcomes, n_gold=1, thresholds=(0.9,))["0.9"]["kept"],
    }


def study(model: Path, dev: Path, test: Path, head_name: str) -> Dict[str, object]:
    nlp = spacy.load(model)
    head = nlp.get_pipe(head_name)
    if not isinstance(head, CRFEntityRecognizer):
        raise SystemExit(f"{head_name} is not a clinical_crf_ner head")
    dev_spans = head_spans(head, annotated_examples(nlp, dev))
    test_spans = head_spans(head, annotated_examples(nlp, test))
    methods: Dict[str, numpy.ndarray] = {"none": span_probabilities(head, test_spans, 1.0)}
    temperature = fit_temperature(lambda t: span_probabilities(head, dev_spans, t), dev_spans.correct)
    methods[f"temperature ({temperature:.3f})"] = span_probabilities(head, test_spans, temperature)
    dev_labels = numpy.asarray(dev_spans.labels)
    per_label = {}
    for label in sorted(set(dev_spans.labels) | set(test_spans.labels)):
        mask = dev_labels == label
        if mask.sum() >= 10 and 0 < dev_spans.correct[mask].sum() < mask.sum():
            per_label[label] = fit_temperature(lambda t, m=mask: span_probabilities(head, dev_spans, t)[m], dev_spans.correct[mask])
        else:
            per_label[label] = temperature  # too few or one-sided dev spans: fall back to the head's
    methods["temperature per label"] = per_label_probabilities(head, test_spans, per_label)
    dev_posteriors = span_probabilities(head, dev_spans, 1.0)
    platt = fit_platt(dev_posteriors, dev_spans.correct)
    methods["Platt scaling of the span log-odds"] = apply_span_calibration(methods["none"], platt)
    isotonic = fit_isotonic(dev_posteriors, dev_spans.correct)
    methods["smoothed isotonic regression"] = apply_span_calibration(methods["none"], isotonic)
    return {
        "model": Path(model).name,
        "head": head_name,
        "dev_spans": len(dev_spans.correct),
        "dev_correct": int(dev_spans.correct.sum()),
        "test_spans": len(test_spans.correct),
        "test_correct": int(test_spans.correct.sum()),
        "temperature": temperature,
        "per_label_temperatures": per_label,
        "platt": platt,
        "methods": {name: scores(p, test_spans.correct) for name, p in methods.items()},
    }


def markdown(result: Dict[str, object]) -> str:
    lines = [
        f"Head `{result['head']}`: fitted on {result['dev_spans']} dev spans ({result['dev_correct']} correct),"
        f" scored on {result['test_spans']} test spans ({result['test_correct']} correct).",
        "",
        "| method | ECE | NLL | Brier | precision at >= 0.9 | spans >= 0.9 |",
        "|---|---|---|---|---|---|",
    ]
    for name, s in result["methods"].items():
        lines.append(f"| {name} | {s['ece']:.4f} | {s['nll']:.4f} | {s['brier']:.4f} | {s['precision_at_0.9']:.4f} | {s['kept_at_0.9']} |")
    return "\n".join(lines)


def main(
    model: Path = typer.Argument(..., help="trained pipeline folder"),
    dev: Path = typer.Argument(..., help="gold DocBin the methods are fitted on"),
    test: Path = typer.Argument(..., help="gold DocBin they are scored on"),
    head: str = typer.Option("ner", help="CRF head to study"),
    output: Optional[Path] = typer.Option(None, help="write the numbers as JSON here"),
) -> None:
    """Fit each calibration method on DEV and score it on TEST."""
    result = study(model, dev, test, head)
    print(markdown(result))
    if output:
        output.write_text(json.dumps(result, indent=2), encoding="utf8")


if __name__ == "__main__":
    typer.run(main)
