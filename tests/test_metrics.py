import math

import pytest

from foresight.agent import Episode
from foresight.metrics import benchmark_metrics, brier_score, expected_calibration_error
from foresight.protocol import parse_turn
from foresight.tasks import Task
from foresight.text import exact_match, normalize_answer, token_f1


def test_answer_normalization_and_scores():
    assert normalize_answer("The  Eiffel-Tower!") == "eiffeltower"
    assert exact_match("the Beatles", ["Beatles"]) == 1.0 and exact_match(None, ["x"]) == 0.0
    assert token_f1("Jane Roe Smith", ["Jane Roe"]) == pytest.approx(0.8)


def test_ece_and_brier_hand_computed():
    q = [0.1, 0.2, 0.9, 0.95]
    y = [0, 1, 1, 1]
    # bins: [0.1,0.2) -> {0.1: y0}; [0.2,0.3) -> {0.2: y1}; [0.9,1.0] -> {0.9, 0.95: y1, y1}
    expected = 0.25 * 0.1 + 0.25 * 0.8 + 0.5 * abs(1 - 0.925)
    assert expected_calibration_error(q, y, bins=10) == pytest.approx(expected)
    assert brier_score(q, y) == pytest.approx((0.01 + 0.64 + 0.01 + 0.0025) / 4)
    assert math.isnan(expected_calibration_error([], []))
    with pytest.raises(ValueError):
        expected_calibration_error([0.1], [])


def test_benchmark_metrics_over_episodes():
    task = Task("t", "search", "Who founded Acme?", ["Jane Roe"], "unit", "c")
    good = ("<imaginary>a</imaginary><keyword>springfield</keyword><analysis>b</analysis>"
            "<confidence>0.9</confidence><think>c</think><answer>Jane Roe</answer>")
    e1 = Episode(task, [1], turns=[parse_turn(good)], observations=[""], answer="Jane Roe", outcome=1.0)
    e2 = Episode(task, [1], turns=[parse_turn("<answer>Bob</answer>")], observations=[""], answer="Bob", outcome=0.0)
    m = benchmark_metrics([e1, e2])
    assert m["exact_match"] == 0.5 and m["format_adherence"] == 0.5
    assert m["mean_confidence"] == pytest.approx(0.9) and m["brier"] == pytest.approx(0.01)
    assert m["grounding_rate"] == 0.0  # "springfield" never appears after the turn
