"""Benchmark metrics over evaluated episodes.

exact match and F1 (SQuAD normalization) of the final answer; format adherence (share of
well-formed turns; ``policy_format_adherence`` counts the think span and one action alone);
block token overhead (world-model span tokens over the other generated tokens: what the
block adds to the output, the paper's 18.5% on search); mean confidence, expected calibration error (ECE, equal-width bins) and
Brier score over (q_t, I) pairs pooled over every turn with a parseable confidence (each
turn's q_t forecasts the episode's success I); grounding rate (share of predicted keywords
that appear later in the executed trajectory). For math tasks exact match and F1 are the
math-verify outcome (equivalence, not string match).
"""

from __future__ import annotations

from collections.abc import Sequence

from foresight.rewards import keyword_grounding, later_text
from foresight.text import exact_match, token_f1


def expected_calibration_error(confidences: Sequence[float], outcomes: Sequence[float], bins: int = 10) -> float:
    """ECE = sum_b |B_b|/n * |mean(I in b) - mean(q in b)| over ``bins`` equal-width bins of [0, 1].

    Raises:
        ValueError: lengths differ or bins < 1. Returns NaN for no pairs.
    """
    if len(confidences) != len(outcomes):
        raise ValueError(f"{len(confidences)} confidences but {len(outcomes)} outcomes")
    if bins < 1:
        raise ValueError("bins must be >= 1")
    if not confidences:
        return float("nan")
    total = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        members = [(q, y) for q, y in zip(confidences, outcomes) if lo <= q < hi or (b == bins - 1 and q == 1.0)]
        if members:
            gap = sum(y for _, y in members) / len(members) - sum(q for q, _ in members) / len(members)
            total += len(members) / len(confidences) * abs(gap)
    return total


def brier_score(confidences: Sequence[float], outcomes: Sequence[float]) -> float:
    """Mean of (q - I)^2; NaN for no pairs."""
    if not confidences:
        return float("nan")
    return sum((q - y) ** 2 for q, y in zip(confidences, outcomes)) / len(confidences)


def benchmark_metrics(episodes: list, bins: int = 10) -> dict[str, float]:
    """All benchmark metrics of a list of :class:`foresight.agent.Episode`.

    Returns:
        ``{"n", "exact_match", "f1", "format_adherence", "policy_format_adherence",
        "block_token_overhead", "mean_confidence", "ece", "brier", "grounding_rate", "mean_turns"}``;
        rates in [0, 1], NaN where undefined.
    """
    n = len(episodes)
    if n == 0:
        raise ValueError("no episodes to score")
    em = [exact_match(e.answer, e.task.gold_answers) if e.task.domain == "search" else e.outcome for e in episodes]
    f1 = [token_f1(e.answer, e.task.gold_answers) if e.task.domain == "search" else e.outcome for e in episodes]
    turns = [t for e in episodes for t in e.turns]
    pairs = [(t.confidence, e.outcome) for e in episodes for t in e.turns if t.confidence is not None]
    qs, ys = [q for q, _ in pairs], [y for _, y in pairs]
    predicted = grounded = 0.0
    for e in episodes:
        for i, t in enumerate(e.turns):
            if t.keywords:
                predicted += len(t.keywords)
                grounded += keyword_grounding(t.keywords, later_text(e.turns, e.observations, i), e.task.question) * len(t.keywords)
    spans = [e.block_tokens() for e in episodes]
    block_tokens = sum(b for b, _ in spans)
    other_tokens = sum(t for _, t in spans) - block_tokens
    return {
        "n": float(n),
        "exact_match": sum(em) / n,
        "f1": sum(f1) / n,
        "format_adherence": sum(t.well_formed for t in turns) / len(turns) if turns else 0.0,
        "policy_format_adherence": sum(t.policy_ok for t in turns) / len(turns) if turns else 0.0,
        "block_token_overhead": block_tokens / other_tokens if other_tokens else float("nan"),
        "mean_confidence": sum(qs) / len(qs) if qs else float("nan"),
        "ece": expected_calibration_error(qs, ys, bins),
        "brier": brier_score(qs, ys),
        "grounding_rate": grounded / predicted if predicted else 0.0,
        "mean_turns": len(turns) / n,
    }
