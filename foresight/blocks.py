"""World-model blocks built in hindsight from the real future (WM-AMT data, Stage 1).

Before action ``a_t`` of an executed trajectory, the block ``z_t`` holds (arXiv:2606.27483):

- ``imaginary``: an abstract roadmap of the remaining path: the concrete next-step intent,
  then placeholders for later steps (no future entities are named);
- ``keyword``: content words that really appear later in the trajectory (tau_{>t}: the
  observation of ``a_t``, then later actions and observations), never a word of the gold
  answer or of the question;
- ``analysis``: a gap analysis: what the observations so far already hold, what is missing;
- ``confidence``: q in [0, 1], a Monte Carlo estimate of success from sibling trajectories
  (same task, same actions up to and including ``a_t``: a Q(s_t, a_t) estimate); with no
  sibling, the trajectory's own outcome. The paper used teacher heuristics here and names
  MC estimates as the better, costlier choice.

Any gold-answer mention is redacted from the block text; :func:`block_leaks` is the check.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from foresight.protocol import BlockTags, wrap
from foresight.text import contains_answer, content_words, normalize_answer

REDACTED = "[withheld]"
_NOUNS = {"search": ("search", "searches"), "python": ("python call", "python calls")}
_NUMBER_WORDS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


@dataclass
class Block:
    """One world-model block.

    Attributes:
        imaginary: abstract rollout text.
        keywords: predicted keywords (lowercase words).
        analysis: gap-analysis text.
        confidence: q in [0, 1].
        label_source: "monte_carlo" (siblings shared the prefix) or "own_outcome".
        n_rollouts: trajectories behind the label (1 for "own_outcome").
    """

    imaginary: str
    keywords: list[str]
    analysis: str
    confidence: float
    label_source: str
    n_rollouts: int

    def render(self, tags: BlockTags | None = None, state_only: bool = False) -> str:
        """Render as ``<imaginary>..</imaginary><keyword>..</keyword><analysis>..</analysis><confidence>..</confidence>``.

        ``state_only`` keeps the trajectory part (``<imaginary>``, ``<keyword>``: the predicted
        future state) and drops the evaluation part (gap analysis and confidence): State-SFT.
        """
        tags = tags or BlockTags()
        state = wrap(tags.imaginary, self.imaginary) + wrap(tags.keyword, ", ".join(self.keywords))
        if state_only:
            return state
        return state + wrap(tags.analysis, self.analysis) + wrap(tags.confidence, f"{self.confidence:.2f}")


def _count(n: int) -> str:
    return _NUMBER_WORDS[n] if n < len(_NUMBER_WORDS) else "many"


def _action_key(step: dict) -> tuple[str, str]:
    return step["action_type"], normalize_answer(step["action"])


def monte_carlo_labels(trajectories: list[dict]) -> dict[tuple[str, int], tuple[float, int]]:
    """Monte Carlo success labels for every step of every trajectory.

    For step ``t`` of trajectory ``j``, the label is the mean outcome of all trajectories of
    the same task whose first ``t + 1`` actions equal those of ``j`` (``j`` included).

    Args:
        trajectories: canonical-schema dicts (need ``task_id``, ``trajectory_id``,
            ``steps[*].action_type/action`` and ``outcome``).

    Returns:
        ``{(trajectory_id, t): (q, n)}`` with q in [0, 1] and n >= 1 the rollouts behind it.
    """
    groups: dict[tuple, list[float]] = defaultdict(list)
    keys: dict[tuple[str, int], tuple] = {}
    for traj in trajectories:
        prefix: tuple = (traj["task_id"],)
        for t, step in enumerate(traj["steps"]):
            prefix = prefix + (_action_key(step),)
            groups[prefix].append(traj["outcome"])
            keys[(traj["trajectory_id"], t)] = prefix
    return {k: (sum(groups[p]) / len(groups[p]), len(groups[p])) for k, p in keys.items()}


def _roadmap(future: list[dict]) -> str:
    """Concrete intent for the next action, then the rest of the path as counts only.

    Later steps are abstract ("then two more searches") so no future entity is named.
    """
    first = future[0]
    if first["action_type"] == "answer":
        return "give the final answer"
    verb = "search for" if first["action_type"] == "search" else "run"
    parts = [f"{verb} {first['action']}"]
    later_tools = [s["action_type"] for s in future[1:] if s["action_type"] != "answer"]
    if later_tools:
        singular, plural = _NOUNS[later_tools[0]]
        parts.append(f"then {_count(len(later_tools))} more {singular if len(later_tools) == 1 else plural}")
    if future[-1]["action_type"] == "answer":
        parts.append("then answer")
    return "; ".join(parts)


def _redact(text: str, gold_answers: list[str]) -> str:
    for gold in gold_answers:
        if normalize_answer(gold):
            text = re.sub(rf"(?<!\w){re.escape(gold.strip())}(?!\w)", REDACTED, text, flags=re.IGNORECASE)
    return text


def build_block(traj: dict, t: int, q: float, n_rollouts: int, num_keywords: int = 4) -> Block:
    """Build the hindsight block placed before action ``t`` of ``traj``.

    Args:
        traj: canonical-schema trajectory dict.
        t: 0-based step index (``0 <= t < len(traj["steps"])``).
        q, n_rollouts: the step's label from :func:`monte_carlo_labels`.
        num_keywords: at most this many keywords.

    Raises:
        IndexError: ``t`` out of range.
    """
    steps = traj["steps"]
    if not 0 <= t < len(steps):
        raise IndexError(f"{traj['trajectory_id']}: step {t} out of range ({len(steps)} steps)")
    gold = traj["gold_answers"]
    future = steps[t:]
    imaginary = _roadmap(future)
    tools_left = sum(s["action_type"] != "answer" for s in future)

    gold_words = {w for g in gold for w in normalize_answer(g).split()}
    question_words = set(content_words(traj["question"]))
    candidates: list[str] = content_words(future[0]["observation"])  # tau_{>t}: observation t onward
    for s in future[1:]:
        candidates += content_words(s["action"] if s["action_type"] != "answer" else "")
        candidates += content_words(s["observation"])
    keywords = [w for w in dict.fromkeys(candidates) if w not in gold_words and w not in question_words]
    keywords = keywords[:num_keywords]

    seen = " ".join(s["observation"] for s in steps[:t])
    if t == 0:
        known = "Nothing has been observed yet."
    elif contains_answer(seen, gold):
        known = "The observations so far already contain the fact needed for the answer."
    else:
        known = f"{_count(t).capitalize()} observation(s) so far; the needed fact is not in them yet."
    missing = f"{_count(tools_left).capitalize()} more tool call(s) before answering." if tools_left else "Ready to answer."
    analysis = f"{known} {missing}"
    return Block(
        imaginary=_redact(imaginary, gold), keywords=keywords, analysis=_redact(analysis, gold),
        confidence=round(q, 4), label_source="monte_carlo" if n_rollouts > 1 else "own_outcome",
        n_rollouts=n_rollouts,
    )


def augment(trajectories: list[dict], num_keywords: int = 4) -> list[dict]:
    """Attach a block to every step of every trajectory (``steps[t]["block"]``).

    Returns:
        New trajectory dicts; each step gains ``block`` with the :class:`Block` fields.
    """
    labels = monte_carlo_labels(trajectories)
    out = []
    for traj in trajectories:
        steps = []
        for t, step in enumerate(traj["steps"]):
            q, n = labels[(traj["trajectory_id"], t)]
            steps.append({**step, "block": build_block(traj, t, q, n, num_keywords).__dict__})
        out.append({**traj, "steps": steps})
    return out


def block_leaks(block: Block | dict, gold_answers: list[str]) -> bool:
    """True when the block's text (rollout, keywords, analysis) contains a gold answer."""
    b = block if isinstance(block, dict) else block.__dict__
    text = " ".join([b["imaginary"], ", ".join(b["keywords"]), b["analysis"]])
    return contains_answer(text, gold_answers)
