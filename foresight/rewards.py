"""FC-RL rewards of one episode (arXiv:2606.27483, Stage 3).

- outcome: I in {0, 1}, the task's exact match (search) or math equivalence (math);
- calibration: mean over turns of R_calib = I - (q_t - I)^2 (Brier-style, as in RLCR,
  arXiv:2507.16806); a turn without a parseable confidence scores as q_t = 1 - I, the worst;
- grounding: mean over turns of R_ground, the share of the turn's predicted keywords that
  appear in the rest of the executed trajectory tau_{>t} (the observation of turn t, then
  every later action and observation; copying the turn's own query scores nothing); keywords that are
  stopwords or words of the question never count, so generic keywords cannot game it;
- format: share of well-formed turns (full block, think, one action), times 1 if the
  episode ended with an answer, else 0.
"""

from __future__ import annotations

from foresight.protocol import ParsedTurn
from foresight.text import content_words


def calibration_reward(confidence: float | None, outcome: float) -> float:
    """R_calib = I - (q - I)^2 with q in [0, 1]; q=None scores as q = 1 - I.

    Returns:
        A value in [-1, 1]: 1 for a confident success, 0 for a confident-correct failure
        (q=0, I=0), -1 for a confident failure.
    """
    q = (1.0 - outcome) if confidence is None else confidence
    return outcome - (q - outcome) ** 2


def keyword_grounding(keywords: list[str], text_after: str, question: str) -> float:
    """Share of predicted keywords whose content words all appear in ``text_after``.

    A keyword with no content word left after removing stopwords and question words is
    counted as ungrounded. Returns 0.0 when there are no keywords.
    """
    if not keywords:
        return 0.0
    later = set(content_words(text_after))
    asked = set(content_words(question))
    hits = 0
    for keyword in keywords:
        words = [w for w in content_words(keyword) if w not in asked]
        hits += bool(words) and all(w in later for w in words)
    return hits / len(keywords)


def later_text(turns: list[ParsedTurn], observations: list[str], t: int) -> str:
    """Text of tau_{>t}: observation t, then the actions and observations of later turns."""
    parts = [observations[t]] if t < len(observations) else []
    for turn, obs in zip(turns[t + 1 :], observations[t + 1 :]):
        parts += [turn.action or "", obs]
    return " ".join(parts)


def step_rewards(turns: list[ParsedTurn], observations: list[str], outcome: float, question: str) -> list[tuple[float, float]]:
    """(R_calib,t, R_ground,t) of every turn: the inputs of the world-model span reward."""
    return [(calibration_reward(t.confidence, outcome), keyword_grounding(t.keywords, later_text(turns, observations, i), question))
            for i, t in enumerate(turns)]


def episode_rewards(turns: list[ParsedTurn], observations: list[str], outcome: float, answered: bool, question: str,
                    require_block: bool = True) -> dict[str, float]:
    """All reward terms of one episode.

    Args:
        turns: parsed assistant turns.
        observations: observation after each turn ("" when none), aligned with ``turns``.
        outcome: I in {0, 1}.
        answered: the episode ended with an ``<answer>``.
        question: the task question (its words never count as grounded keywords).
        require_block: a turn is well-formed only with its world-model block (False for
            recipes trained without blocks: the think span and one action suffice).

    Returns:
        ``{"outcome", "calibration", "grounding", "format"}``; 0.0 terms for an empty episode.
    """
    if not turns:
        return {"outcome": outcome, "calibration": calibration_reward(None, outcome), "grounding": 0.0, "format": 0.0}
    per_step = step_rewards(turns, observations, outcome, question)
    return {
        "outcome": outcome,
        "calibration": sum(c for c, _ in per_step) / len(per_step),
        "grounding": sum(g for _, g in per_step) / len(per_step),
        "format": format_reward(turns, answered, require_block),
    }


def format_reward(turns: list[ParsedTurn], answered: bool, require_block: bool = True) -> float:
    """Share of well-formed turns (``policy_ok`` alone when ``require_block`` is False), 0 when the
    episode never answered or has no turn."""
    if not turns or not answered:
        return 0.0
    return sum(t.well_formed if require_block else t.policy_ok for t in turns) / len(turns)
