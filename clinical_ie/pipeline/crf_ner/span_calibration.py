"""Maps from a CRF head's span posteriors to calibrated confidences, fitted after training.

A head's ``cfg["span_calibration"]`` is None (confidences are the CRF's posteriors at
``cfg["temperature"]``) or one of these maps, applied to the posteriors at that temperature:

- ``{"method": "platt", "slope": a, "intercept": b}``: Platt scaling of the span log-odds,
  ``logit(q) = a * logit(p) + b`` (one temperature with a bias);
- ``{"method": "isotonic", "x": [...], "y": [...]}``: smoothed isotonic regression, the
  increasing piecewise-linear function through the points ``(x[i], y[i])`` (constant beyond the
  first and last).

Both are non-decreasing in ``p`` (``a`` >= 0), so no span changes place in a ranking by
confidence, and neither changes which spans are decoded.
"""

from typing import Dict, Optional

import numpy

PROBABILITY_FLOOR = 1e-6
"""Probabilities are kept in [floor, 1 - floor] before taking log-odds."""


def log_odds(probabilities: numpy.ndarray) -> numpy.ndarray:
    p = numpy.clip(probabilities, PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR)
    return numpy.log(p) - numpy.log1p(-p)


def apply_span_calibration(probabilities: numpy.ndarray, calibration: Optional[Dict]) -> numpy.ndarray:
    """The calibrated confidences of spans whose posteriors are ``probabilities``."""
    if calibration is None or not len(probabilities):
        return probabilities
    method = calibration.get("method")
    if method == "platt":
        z = calibration["slope"] * log_odds(probabilities) + calibration["intercept"]
        return 0.5 * (1.0 + numpy.tanh(0.5 * z))  # the logistic function, without overflow
    if method == "isotonic":
        return numpy.interp(probabilities, calibration["x"], calibration["y"])
    raise ValueError(f"Unknown span calibration method {method!r}: expected 'platt' or 'isotonic'")
