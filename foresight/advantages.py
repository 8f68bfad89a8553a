"""FC-RL span advantages (arXiv:2606.27483, Stage 3).

Every step t of an episode has a world-model span (the block) and a policy span (``<think>``
and the action); each gets its own advantage:

- world-model span: R_WM,t = w_calib * R_calib,t + w_ground * R_ground,t (the paper sums the two
  with equal weight), minus ``format_penalty`` when the step's block is malformed or its
  confidence unparseable; group-normalized over every step of the group's episodes;
- policy span: A_t = A_E + omega * A_S,t, with A_E the group-normalized episode (task) reward
  (w_outcome * I + w_format * format) and A_S,t the group-normalized confidence q_t of the step
  (an unparseable confidence counts as q_t = 0). omega = 0 gives plain GRPO on the policy span.

"Group-normalized" follows TRL's GRPO: (x - mean) / (std + 1e-4) with the unbiased std, so
A_E equals TRL's own advantage for the same rewards. Step-level quantities pool every step of
every episode in the group (episodes have different lengths, so there is no step-index
alignment to normalize across); the paper does not say which pooling it used.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

EPS = 1e-4  # TRL GRPOTrainer's std epsilon


@dataclass
class StepSignal:
    """Reward inputs of one step.

    Attributes:
        calibration: R_calib,t = I - (q_t - I)^2 in [-1, 1] (:func:`foresight.rewards.calibration_reward`).
        grounding: R_ground,t in [0, 1] (:func:`foresight.rewards.keyword_grounding`).
        confidence: q_t in [0, 1], or None when missing/unparseable.
        block_ok: the step's block has all four tags in order and a parseable confidence.
    """

    calibration: float
    grounding: float
    confidence: float | None
    block_ok: bool


@dataclass
class EpisodeSignal:
    """Reward inputs of one episode: its task reward and its steps (may be empty)."""

    reward: float
    steps: list[StepSignal]


def group_normalize(values: Sequence[float]) -> list[float]:
    """(x - mean) / (std + 1e-4) with the unbiased std, as TRL's GRPO; all 0.0 for fewer than two values."""
    n = len(values)
    if n < 2:
        return [0.0] * n
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return [(v - mean) / (std + EPS) for v in values]


def world_model_reward(step: StepSignal, calibration_weight: float, grounding_weight: float, format_penalty: float) -> float:
    """R_WM,t = w_calib * R_calib,t + w_ground * R_ground,t - format_penalty * [block malformed]."""
    return calibration_weight * step.calibration + grounding_weight * step.grounding - (0.0 if step.block_ok else format_penalty)


def span_advantages(
    group: Sequence[EpisodeSignal], omega: float, calibration_weight: float = 1.0, grounding_weight: float = 1.0,
    format_penalty: float = 0.5,
) -> list[list[tuple[float, float]]]:
    """Per-step (world-model span, policy span) advantages of one GRPO group.

    Args:
        group: the N episodes sampled for one prompt.
        omega: weight of the confidence advantage A_S in the policy span (paper: 0.2 search, 0.1 math).
        calibration_weight, grounding_weight: weights of R_calib and R_ground in R_WM.
        format_penalty: subtracted from R_WM of a step with a malformed block.

    Returns:
        ``advantages[i][t] = (A_WM, A_policy)`` for step t of episode i (same shape as the steps).
    """
    episode_adv = group_normalize([e.reward for e in group])
    steps = [s for e in group for s in e.steps]
    wm_adv = iter(group_normalize([world_model_reward(s, calibration_weight, grounding_weight, format_penalty)
                                   for s in steps]))
    conf_adv = iter(group_normalize([s.confidence if s.confidence is not None else 0.0 for s in steps]))
    return [[(next(wm_adv), a_e + omega * next(conf_adv)) for _ in e.steps] for e, a_e in zip(group, episode_adv)]


def token_advantages(
    length: int, turn_spans: Sequence[tuple[int, int, int]], step_advantages: Sequence[tuple[float, float]],
) -> list[float]:
    """Per-token advantages of one completion.

    Args:
        length: number of completion tokens (model and observation tokens).
        turn_spans: ``(start, policy_start, end)`` per step (:attr:`foresight.agent.Episode.turn_spans`).
        step_advantages: ``(A_WM, A_policy)`` per step, aligned with ``turn_spans``.

    Returns:
        ``length`` floats: A_WM on world-model tokens, A_policy on policy tokens, 0.0 on
        observation tokens (which the loss masks out anyway).

    Raises:
        ValueError: spans and advantages differ in number, or a span lies outside ``[0, length]``.
    """
    if len(turn_spans) != len(step_advantages):
        raise ValueError(f"{len(turn_spans)} turn spans but {len(step_advantages)} step advantages")
    out = [0.0] * length
    for (start, policy_start, end), (a_wm, a_pi) in zip(turn_spans, step_advantages):
        if not 0 <= start <= policy_start <= end <= length:
            raise ValueError(f"turn span {(start, policy_start, end)} outside a completion of {length} tokens")
        out[start:policy_start] = [a_wm] * (policy_start - start)
        out[policy_start:end] = [a_pi] * (end - policy_start)
    return out
