"""Calibrate the CRF heads' span confidences on held-out documents, inside ``spacy train``.

A CRF head's confidence is the span's posterior probability under the CRF. Fine-tuned on a small
corpus, that CRF is overconfident. One temperature per head fixes most of it (Guo et al. 2017):
the marginals are computed under the CRF whose emission, transition, start and end scores are
divided by ``T`` (the Viterbi spans do not change for any ``T > 0``). ``T`` is fitted by minimizing
the negative log-likelihood of the predicted spans' correctness (a span is correct when a gold
entity has its exact offsets and label) over the dev documents, which training never sees.

``[training.before_to_disk]`` runs :func:`create_confidence_calibration` each time ``spacy train``
saves the pipeline, so every saved ``model-best`` / ``model-last`` carries a calibration fitted to its
own weights::

    [training.before_to_disk]
    @callbacks = "clinical_ie.calibrate_confidences.v1"
    corpus = ${corpora.dev}
    min_spans = 20
    method = "temperature"

``method`` may instead be ``platt`` (Platt scaling of the span log-odds: a temperature with a
bias, fitted the same way, on the posteriors at temperature 1) or ``isotonic`` (smoothed
isotonic regression); both are maps of the posteriors, stored as ``cfg["span_calibration"]``
(:mod:`clinical_ie.pipeline.crf_ner.span_calibration`), and neither changes the spans.
The temperature, the map and what the fit measured (``cfg["calibration"]``: method, spans, ECE and NLL
before and after; numbers only) are saved in each head's ``cfg``.
"""

import logging
import math
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Sequence, Tuple

import numpy
from spacy.language import Language
from spacy.training import Example
from spacy.util import registry

from ..evaluation.metrics.calibration import expected_calibration_error
from ..evaluation.metrics.spans import EntitySpan, gold_entity_spans
from ..pipeline.crf_ner import ContentScores, CRFEntityRecognizer
from ..pipeline.crf_ner.span_calibration import PROBABILITY_FLOOR, apply_span_calibration, log_odds
from ..pipeline.data_model import annotated_for

logger = logging.getLogger(__name__)

TEMPERATURE_RANGE = (0.125, 8.0)
"""Temperatures searched; a fit at a bound means the dev spans say little."""

CALIBRATION_METHODS = ("temperature", "platt", "isotonic")
"""What :func:`calibrate_head` fits: one temperature of the CRF, Platt scaling of the span
log-odds, or smoothed isotonic regression (:mod:`clinical_ie.pipeline.crf_ner.span_calibration`)."""

ISOTONIC_MIN_BLOCK = 10
"""Smoothed isotonic regression pools at least this many spans per block."""


@dataclass
class HeadSpans:
    """A head's Viterbi spans on some documents: content scores per document (to decode at any
    temperature) and, per span in decoding order, its label and whether it is correct."""

    scores: List[ContentScores]
    labels: List[str]
    correct: numpy.ndarray


def span_nll(probabilities: numpy.ndarray, correct: numpy.ndarray) -> float:
    """Mean negative log-likelihood of the spans' correctness under their probabilities."""
    p = numpy.clip(probabilities, PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR)
    return float(-numpy.mean(numpy.where(correct, numpy.log(p), numpy.log1p(-p))))


def fit_platt(probabilities: numpy.ndarray, correct: numpy.ndarray, l2: float = 1e-3, steps: int = 50) -> Dict[str, float]:
    """Platt scaling of the span log-odds: the slope (>= 0) and intercept of a logistic regression
    of correctness on ``logit(p)``, by Newton's method with backtracking and a small L2 penalty
    (so that separable spans still give finite values)."""
    x = log_odds(probabilities)
    y = correct.astype(float)
    features = numpy.stack([x, numpy.ones_like(x)], axis=1)

    def loss(w: numpy.ndarray) -> float:
        z = features @ w
        return float(numpy.mean(numpy.logaddexp(0.0, z) - y * z) + 0.5 * l2 * w @ w)

    weights = numpy.array([1.0, 0.0])
    for _ in range(steps):
        q = 0.5 * (1.0 + numpy.tanh(0.5 * (features @ weights)))  # the logistic function, without overflow
        gradient = features.T @ (q - y) / len(y) + l2 * weights
        hessian = (features.T * (q * (1 - q))) @ features / len(y) + l2 * numpy.eye(2)
        step = numpy.linalg.solve(hessian, gradient)
        size, current = 1.0, loss(weights)
        while size > 1e-8 and loss(weights - size * step) > current:
            size /= 2
        weights = weights - size * step
        if numpy.abs(size * step).max() < 1e-10:
            break
    slope, intercept = float(max(weights[0], 0.0)), float(weights[1])
    if weights[0] < 0:  # correctness falls with confidence: the best non-decreasing map is flat
        intercept = float(log_odds(numpy.array([y.mean()]))[0])
    return {"method": "platt", "slope": slope, "intercept": intercept}


def fit_isotonic(
    probabilities: numpy.ndarray, correct: numpy.ndarray, min_block: int = ISOTONIC_MIN_BLOCK
) -> Dict[str, object]:
    """Smoothed isotonic regression of correctness on ``probabilities``: pool adjacent violators
    over blocks of at least ``min_block`` spans, then the piecewise-linear function through each
    block's (mean probability, accuracy), so that nearby confidences get nearby values (a plain
    isotonic step function jumps, and with a few hundred dev spans its steps are noise)."""
    order = numpy.argsort(probabilities, kind="stable")
    x, y = probabilities[order], correct[order].astype(float)
    blocks: List[List[float]] = []  # [sum of x, sum of y, count]
    for start in range(0, len(x), min_block):
        blocks.append([x[start:start + min_block].sum(), y[start:start + min_block].sum(), len(x[start:start + min_block])])
    if len(blocks) > 1 and blocks[-1][2] < min_block:
        last = blocks.pop()
        blocks[-1] = [a + b for a, b in zip(blocks[-1], last)]
    merged: List[List[float]] = []
    for block in blocks:
        merged.append(block)
        while len(merged) > 1 and merged[-2][1] / merged[-2][2] > merged[-1][1] / merged[-1][2]:
            right = merged.pop()
            merged[-1] = [a + b for a, b in zip(merged[-1], right)]
    points_x = [b[0] / b[2] for b in merged]
    points_y = [b[1] / b[2] for b in merged]
    return {"method": "isotonic", "x": points_x, "y": points_y}


def fit_temperature(
    probabilities_at: Callable[[float], numpy.ndarray],
    correct: numpy.ndarray,
    bounds: Tuple[float, float] = TEMPERATURE_RANGE,
    grid_points: int = 25,
    refinements: int = 20,
) -> float:
    """The temperature in ``bounds`` minimizing :func:`span_nll` of ``probabilities_at(T)``: a
    log-spaced grid, then golden-section search around the best grid point."""
    low, high = math.log(bounds[0]), math.log(bounds[1])
    grid = numpy.linspace(low, high, grid_points)

    def loss(log_t: float) -> float:
        return span_nll(probabilities_at(math.exp(log_t)), correct)

    losses = [loss(x) for x in grid]
    best = int(numpy.argmin(losses))
    a, b = grid[max(best - 1, 0)], grid[min(best + 1, grid_points - 1)]
    ratio = (math.sqrt(5) - 1) / 2
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    loss_c, loss_d = loss(c), loss(d)
    for _ in range(refinements):
        if loss_c < loss_d:
            b, d, loss_d = d, c, loss_c
            c = b - ratio * (b - a)
            loss_c = loss(c)
        else:
            a, c, loss_c = c, d, loss_d
            d = a + ratio * (b - a)
            loss_d = loss(d)
    candidates = [(losses[best], grid[best]), (loss_c, c), (loss_d, d)]
    return math.exp(min(candidates)[1])


def head_spans(head: CRFEntityRecognizer, examples: Sequence[Example]) -> HeadSpans:
    """Emission scores and span correctness of ``head`` on ``examples`` whose predicted docs the
    pipeline has already annotated (the head's encoder output is on them)."""
    all_scores = head.content_scores([eg.predicted for eg in examples])
    examples = [eg for eg, found in zip(examples, all_scores) if found is not None]
    scores = [found for found in all_scores if found is not None]
    labels, correct = [], []
    for eg, decoded in zip(examples, head.decode(scores, 1.0)):
        gold = set(gold_entity_spans(eg.reference))
        doc = eg.predicted
        for start, end, label in zip(decoded.starts.tolist(), decoded.ends.tolist(), decoded.labels.tolist()):
            span = doc[start:end]
            labels.append(head.labels[label])
            correct.append(EntitySpan(head.labels[label], span.start_char, span.end_char) in gold)
    to_numpy = head.model.ops.to_numpy
    scores = [ContentScores(to_numpy(found.emissions), found.tokens) for found in scores]
    return HeadSpans(scores, labels, numpy.asarray(correct, dtype=bool))


def span_probabilities(head: CRFEntityRecognizer, spans: HeadSpans, temperature: float) -> numpy.ndarray:
    """The probabilities of ``spans`` (in decoding order) at ``temperature``."""
    scores = [ContentScores(head.model.ops.asarray2f(found.emissions), found.tokens) for found in spans.scores]
    decoded = head.decode(scores, temperature)
    return numpy.concatenate([d.probabilities for d in decoded]) if decoded else numpy.zeros(0)


def calibrate_head(
    head: CRFEntityRecognizer, examples: Sequence[Example], min_spans: int, method: str = "temperature"
) -> Dict[str, object]:
    """Fit ``method`` (:data:`CALIBRATION_METHODS`) on the head's task's annotated ``examples`` and
    set ``head.cfg["temperature"]`` and ``head.cfg["span_calibration"]``; return (and store in
    ``head.cfg["calibration"]``) what the fit measured."""
    if method not in CALIBRATION_METHODS:
        raise ValueError(f"Unknown calibration method {method!r}: expected one of {CALIBRATION_METHODS}")
    spans = head_spans(head, [eg for eg in examples if annotated_for(eg, head.cfg["task"])])
    n_spans = len(spans.correct)
    summary: Dict[str, object] = {"method": method, "n_spans": n_spans, "temperature": 1.0}
    span_calibration = None
    if n_spans < min_spans or spans.correct.all() or not spans.correct.any():
        summary["skipped"] = (
            f"{n_spans} dev spans, fewer than {min_spans}" if n_spans < min_spans
            else "every dev span is " + ("correct" if n_spans and spans.correct.all() else "wrong")
        )
    else:
        before = span_probabilities(head, spans, 1.0)
        if method == "temperature":
            # rounded so that the saved config (JSON) holds exactly the temperature measured here
            temperature = round(fit_temperature(lambda t: span_probabilities(head, spans, t), spans.correct), 6)
            after = span_probabilities(head, spans, temperature)
        else:
            temperature = 1.0
            span_calibration = (fit_platt if method == "platt" else fit_isotonic)(before, spans.correct)
            after = apply_span_calibration(before, span_calibration)
        summary.update(
            temperature=temperature,
            nll_before=span_nll(before, spans.correct),
            nll_after=span_nll(after, spans.correct),
            ece_before=expected_calibration_error(list(zip(before.tolist(), spans.correct.tolist()))),
            ece_after=expected_calibration_error(list(zip(after.tolist(), spans.correct.tolist()))),
        )
    head.cfg["temperature"] = summary["temperature"]
    head.cfg["span_calibration"] = span_calibration
    head.cfg["calibration"] = summary
    return summary


def calibrate_pipeline(
    nlp: Language, examples: Iterable[Example], min_spans: int = 20, method: str = "temperature"
) -> Dict[str, Dict[str, object]]:
    """Calibrate every CRF head of ``nlp`` on ``examples`` (held-out gold) with ``method``; return
    the summaries."""
    examples = list(examples)
    heads = [(name, pipe) for name, pipe in nlp.pipeline if isinstance(pipe, CRFEntityRecognizer)]
    if not heads:
        return {}
    for _ in nlp.pipe(eg.predicted for eg in examples):  # annotates the predicted docs in place
        pass
    summaries = {}
    for name, head in heads:
        summaries[name] = calibrate_head(head, examples, min_spans, method)
        summary = summaries[name]
        if "skipped" in summary:
            logger.info("calibration of %s skipped: %s", name, summary["skipped"])
        else:
            logger.info(
                "calibration of %s on %d dev spans (%s): ECE %.4f -> %.4f, NLL %.4f -> %.4f",
                name, summary["n_spans"], method, summary["ece_before"], summary["ece_after"],
                summary["nll_before"], summary["nll_after"],
            )
    return summaries


@registry.callbacks("clinical_ie.calibrate_confidences.v1")
def create_confidence_calibration(
    corpus: Callable[[Language], Iterable[Example]], min_spans: int = 20, method: str = "temperature"
) -> Callable[[Language], Language]:
    """A ``[training.before_to_disk]`` callback: :func:`calibrate_pipeline` with ``method`` on the
    examples of ``corpus`` (a reader, e.g. ``${corpora.dev}``) before each save."""
    if method not in CALIBRATION_METHODS:
        raise ValueError(f"Unknown calibration method {method!r}: expected one of {CALIBRATION_METHODS}")

    def calibrate(nlp: Language) -> Language:
        calibrate_pipeline(nlp, corpus(nlp), min_spans, method)
        return nlp

    return calibrate
