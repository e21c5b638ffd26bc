"""Expected calibration error, reliability bins and precision at thresholds, computed by hand."""

import pytest

from clinical_ie.evaluation.metrics.calibration import (
    calibration_report,
    expected_calibration_error,
    precision_at_thresholds,
    reliability_bins,
    span_correctness,
)
from clinical_ie.evaluation.metrics.spans import EntitySpan


def test_correctness_is_the_strict_match():
    gold = [[EntitySpan("Drug", 0, 7), EntitySpan("Strength", 8, 13)]]
    predicted = [[(EntitySpan("Drug", 0, 7), 0.9), (EntitySpan("Strength", 8, 12), 0.8), (EntitySpan("Form", 8, 13), 0.4)]]
    assert span_correctness(gold, predicted) == [(0.9, True), (0.8, False), (0.4, False)]


def test_ece_by_hand():
    # bin 0.9-1.0: confidences 0.95, 0.95, accuracy 1/2 -> |0.5 - 0.95| = 0.45, weight 2/4
    # bin 0.6-0.7: confidences 0.6, 0.6, accuracy 1/2 -> |0.5 - 0.6| = 0.1, weight 2/4
    outcomes = [(0.95, True), (0.95, False), (0.6, True), (0.6, False)]
    assert expected_calibration_error(outcomes) == pytest.approx(0.5 * 0.45 + 0.5 * 0.1)
    assert expected_calibration_error([]) == 0.0


def test_perfectly_calibrated_bins_have_zero_error():
    outcomes = [(0.75, True)] * 3 + [(0.75, False)] + [(1.0, True)] * 5
    assert expected_calibration_error(outcomes) == pytest.approx(0.0)
    bins = reliability_bins(outcomes)
    assert len(bins) == 10 and bins[-1]["count"] == 5  # 1.0 falls in the last bin
    assert bins[7]["accuracy"] == pytest.approx(0.75) and bins[0]["accuracy"] is None


def test_precision_at_thresholds():
    outcomes = [(0.99, True), (0.92, True), (0.91, False), (0.6, True), (0.3, False)]
    table = precision_at_thresholds(outcomes, n_gold=5, thresholds=(0.5, 0.9, 0.95))
    assert table["0.5"] == {"kept": 4, "precision": 0.75, "recall": 0.6}
    assert table["0.9"] == {"kept": 3, "precision": pytest.approx(2 / 3), "recall": 0.4}
    assert table["0.95"] == {"kept": 1, "precision": 1.0, "recall": 0.2}


def test_report_holds_every_part():
    report = calibration_report([(0.8, True)], n_gold=2)
    assert report["n_spans"] == 1 and report["ece"] == pytest.approx(0.2)
    assert set(report["thresholds"]) == {"0.5", "0.7", "0.9", "0.95"}
