"""The text protocol of agent turns: world-model span, policy span, actions, observations.

One assistant turn (arXiv:2606.27483, FE-SFT schema)::

    <imaginary>rollout</imaginary><keyword>k1, k2</keyword><analysis>gap</analysis>
    <confidence>0.67</confidence><think>reasoning</think><search>query</search>

The first four tags form the world-model span, ``<think>`` and the action the policy span.
Actions follow Search-R1 (``<search>``, ``<answer>``) plus ``<python>`` for the math tool (a code
interpreter). Observations come back in ``<information>`` (search) or ``<result>`` (python) and are
never trained on. Tag names of the block are configurable (:class:`BlockTags`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pydantic import BaseModel

ACTION_TAGS = ("search", "python", "answer")
OBSERVATION_TAGS = {"search": "information", "python": "result"}


class BlockTags(BaseModel):
    """Tag names of the world-model block; the default is the paper's schema."""

    imaginary: str = "imaginary"
    keyword: str = "keyword"
    analysis: str = "analysis"
    confidence: str = "confidence"

    def ordered(self) -> list[str]:
        return [self.imaginary, self.keyword, self.analysis, self.confidence]


@dataclass
class ParsedTurn:
    """What could be read out of one assistant turn.

    Attributes:
        block: tag -> text for each world-model tag found (in order, complete tags only).
        confidence: the parsed confidence q in [0, 1], or None if missing/unparseable.
        keywords: predicted keywords (lowercased), empty when the tag is missing.
        think: text of ``<think>`` or None.
        action_type: "search" | "python" | "answer" | None when no complete action.
        action: the action's argument text, or None.
        block_ok: the block has all four tags, in order, with a parseable confidence.
        policy_ok: the think span, then exactly one action (the policy span alone).
        well_formed: ``block_ok`` and ``policy_ok``, the block before the think span.
    """

    block: dict[str, str] = field(default_factory=dict)
    confidence: float | None = None
    keywords: list[str] = field(default_factory=list)
    think: str | None = None
    action_type: str | None = None
    action: str | None = None
    block_ok: bool = False
    policy_ok: bool = False
    well_formed: bool = False


def wrap(tag: str, text: str) -> str:
    return f"<{tag}>{text}</{tag}>"


def parse_confidence(text: str) -> float | None:
    """Parse a confidence as a probability in [0, 1].

    Accepts ``0.67``, ``67%`` and ``67`` (read as percent, the paper's [0, 100]% scale).
    Returns None for anything else (format penalty, never a crash).
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(%?)\s*", text)
    if not match:
        return None
    value = float(match.group(1))
    if match.group(2) or value > 1.0:
        value /= 100.0
    return value if 0.0 <= value <= 1.0 else None


def _find(tag: str, text: str, start: int = 0) -> tuple[str, int, int] | None:
    """First complete ``<tag>...</tag>`` at or after ``start``: (inner text, begin, end)."""
    open_tag, close_tag = f"<{tag}>", f"</{tag}>"
    begin = text.find(open_tag, start)
    if begin < 0:
        return None
    inner_begin = begin + len(open_tag)
    end = text.find(close_tag, inner_begin)
    if end < 0:
        return None
    return text[inner_begin:end], begin, end + len(close_tag)


def parse_turn(text: str, tags: BlockTags | None = None) -> ParsedTurn:
    """Parse one generated assistant turn.

    Never raises: missing, truncated or malformed parts leave the fields None/empty and
    ``well_formed`` False.
    """
    tags = tags or BlockTags()
    turn = ParsedTurn()
    cursor, block_in_order = 0, True
    for tag in tags.ordered():
        found = _find(tag, text)
        if found is None:
            block_in_order = False
            continue
        inner, begin, end = found
        turn.block[tag] = inner.strip()
        block_in_order = block_in_order and begin >= cursor
        cursor = max(cursor, end)
    if tags.confidence in turn.block:
        turn.confidence = parse_confidence(turn.block[tags.confidence])
    if tags.keyword in turn.block:
        turn.keywords = [k.strip().lower() for k in re.split(r"[,;\n]", turn.block[tags.keyword]) if k.strip()]
    turn.block_ok = block_in_order and len(turn.block) == 4 and turn.confidence is not None
    think = _find("think", text)
    think_after_block = True
    if think is not None:
        turn.think = think[0].strip()
        think_after_block = think[1] >= cursor
        cursor = max(cursor, think[2])
    # Actions are read only after the block and think spans, so an <answer> written inside
    # <imaginary> is never taken as the final answer.
    actions = [(t, f) for t in ACTION_TAGS if (f := _find(t, text, cursor)) is not None]
    if actions:
        action_type, (inner, _b, _e) = min(actions, key=lambda a: a[1][1])
        turn.action_type, turn.action = action_type, inner.strip()
    action_tags = sum(text.count(f"<{t}>", cursor) for t in ACTION_TAGS)
    turn.policy_ok = think is not None and action_tags == 1 and bool(turn.action)
    turn.well_formed = turn.block_ok and turn.policy_ok and think_after_block
    return turn


def policy_span_start(text: str, tags: BlockTags | None = None) -> int:
    """Character offset where the policy span of one assistant turn begins (FC-RL, Stage 3).

    A turn is ``[world-model span][policy span]``: the world-model span holds the block tags
    (``<imaginary> <keyword> <analysis> <confidence>``), the policy span ``<think>`` and the
    action. The world-model span ends at the last closing block tag; the policy span starts at
    the first ``<think>`` or action tag at or after that point, so a ``<think>`` or ``<search>``
    written *inside* a block tag (nested) stays in the world-model span. Tricky outputs:

    - no block tag at all: the whole turn is policy span (returns 0);
    - a block tag opened and never closed before any policy tag (a truncated block): the
      whole rest of the turn is world-model span (returns ``len(text)``);
    - a complete block with no ``<think>`` and no action (truncated after the block): the
      turn is all world-model span (returns ``len(text)``).

    Never raises. Returns an offset in ``[0, len(text)]``.
    """
    tags = tags or BlockTags()
    policy_tags = ["<think>"] + [f"<{t}>" for t in ACTION_TAGS]

    def first_policy_tag(start: int) -> int | None:
        hits = [i for tag in policy_tags if (i := text.find(tag, start)) >= 0]
        return min(hits) if hits else None

    block_end, opened = 0, False
    for tag in tags.ordered():
        found = _find(tag, text)
        if found is not None:
            block_end, opened = max(block_end, found[2]), True
        elif f"<{tag}>" in text:
            opened = True
    if not opened:
        return 0
    policy = first_policy_tag(block_end)
    # A block tag opened after the last closed one and never closed: truncated inside the block.
    unclosed = [i for tag in tags.ordered() if (i := text.find(f"<{tag}>", block_end)) >= 0
                and text.find(f"</{tag}>", i) < 0]
    if unclosed and (policy is None or min(unclosed) < policy):
        return len(text)
    return len(text) if policy is None else policy


def render_observation(action_type: str, observation: str) -> str:
    """Wrap an environment observation in its tag (``<information>`` or ``<result>``)."""
    return wrap(OBSERVATION_TAGS[action_type], observation)
