"""The agent loop: multi-turn episodes of a causal LM in the search and python environments.

One loop serves FC-RL rollouts and benchmark evaluation. Each assistant turn is generated
until ``<|im_end|>``; a tool action is executed and its observation appended as a ``tool``
turn whose tokens are marked 0 in ``env_mask`` (never trained on); ``<answer>``, a turn
without a parseable action, the turn budget or the context budget ends the episode.
Episodes of a batch are generated together (left padding).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from foresight.config import RolloutConfig
from foresight.envs import Environment
from foresight.formatting import prompt_messages
from foresight.modeling import IM_START
from foresight.outcome import task_outcome
from foresight.protocol import (
    BlockTags,
    ParsedTurn,
    parse_turn,
    policy_span_start,
    render_observation,
)
from foresight.tasks import Task


@dataclass
class Episode:
    """One executed episode.

    Attributes:
        prompt_ids: token ids of the chat prompt (system + user + assistant header).
        completion_ids: every token after the prompt: model turns and tool turns.
        env_mask: 1 for model-generated tokens, 0 for environment tokens; same length as
            ``completion_ids``.
        turns: parsed assistant turns, in order; ``turn_texts`` their raw text.
        observations: observation text after each tool turn (aligned with ``turns``; "" when none).
        answer: the final ``<answer>`` text, or None.
        outcome: I in {0, 1}.
        truncated: the episode hit the turn or context budget, or a turn was cut off.
        turn_spans: per turn, token indices into ``completion_ids``: ``(start, policy_start, end)``;
            ``[start, policy_start)`` is the world-model span, ``[policy_start, end)`` the policy
            span (:func:`foresight.protocol.policy_span_start`).
    """

    task: Task
    prompt_ids: list[int]
    completion_ids: list[int] = field(default_factory=list)
    env_mask: list[int] = field(default_factory=list)
    turns: list[ParsedTurn] = field(default_factory=list)
    turn_texts: list[str] = field(default_factory=list)
    observations: list[str] = field(default_factory=list)
    answer: str | None = None
    outcome: float = 0.0
    truncated: bool = False
    done: bool = False
    turn_spans: list[tuple[int, int, int]] = field(default_factory=list)

    def block_tokens(self) -> tuple[int, int]:
        """(world-model span tokens, all model-generated tokens) of the episode."""
        return sum(p - s for s, p, _ in self.turn_spans), sum(e - s for s, _, e in self.turn_spans)


def _encode(tokenizer, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def token_offset(ids: list[int], tokenizer, char_offset: int) -> int:
    """Index of the first token of ``ids`` whose decoded text reaches past ``char_offset``.

    Maps a character offset of ``tokenizer.decode(ids, skip_special_tokens=True)`` to a token
    index by binary search over decoded prefixes (about log2(len(ids)) decodes). Returns 0 for
    ``char_offset <= 0`` and ``len(ids)`` when no token reaches past it (trailing special
    tokens such as EOS then stay on the left side).
    """
    if char_offset <= 0:
        return 0
    lo, hi = 0, len(ids)
    while lo < hi:
        mid = (lo + hi) // 2
        if len(tokenizer.decode(ids[: mid + 1], skip_special_tokens=True)) > char_offset:
            hi = mid
        else:
            lo = mid + 1
    return lo


def start_episode(tokenizer, task: Task) -> Episode:
    """Tokenize the chat prompt of ``task`` and return a fresh episode."""
    text = tokenizer.apply_chat_template(prompt_messages(task.domain, task.question), tokenize=False, add_generation_prompt=True)
    return Episode(task=task, prompt_ids=_encode(tokenizer, text))


@torch.no_grad()
def _generate(model, tokenizer, contexts: list[list[int]], cfg: RolloutConfig, do_sample: bool, temperature: float) -> list[list[int]]:
    width = max(len(c) for c in contexts)
    pad = tokenizer.pad_token_id
    input_ids = torch.tensor([[pad] * (width - len(c)) + c for c in contexts], device=model.device)
    attention = torch.tensor([[0] * (width - len(c)) + [1] * len(c) for c in contexts], device=model.device)
    # The pad token is never generated, so a sequence without EOS is exactly what was sampled.
    kwargs = {"do_sample": do_sample, "suppress_tokens": [pad]}
    if do_sample:
        kwargs.update(temperature=temperature, top_k=0, top_p=1.0)
    out = model.generate(
        input_ids=input_ids, attention_mask=attention, max_new_tokens=cfg.max_new_tokens,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=pad, **kwargs,
    )
    new = out[:, width:].tolist()
    result = []
    for ids in new:
        if tokenizer.eos_token_id in ids:
            ids = ids[: ids.index(tokenizer.eos_token_id) + 1]
        result.append(ids)
    return result


def run_episodes(
    model, tokenizer, tasks: list[Task], environments: dict[str, Environment], cfg: RolloutConfig,
    tags: BlockTags | None = None, do_sample: bool = False, temperature: float = 1.0, batch_size: int = 16,
) -> list[Episode]:
    """Run one episode per task and score each.

    Args:
        model: a causal LM (``generate``-capable), in eval mode.
        tokenizer: its tokenizer, with the project's chat template.
        tasks: one episode each (repeat a task for several samples).
        environments: ``task.corpus`` (search) or ``"math"`` -> environment.
        cfg: turn, token and context budgets.
        tags: block tag names for parsing.
        do_sample, temperature: sampling (RL) or greedy (evaluation).
        batch_size: episodes generated together.

    Returns:
        Episodes in the order of ``tasks``.

    Raises:
        KeyError: no environment for a task's corpus/domain.
    """
    tags = tags or BlockTags()
    episodes = [start_episode(tokenizer, task) for task in tasks]
    for start in range(0, len(episodes), batch_size):
        batch = episodes[start : start + batch_size]
        for _turn in range(cfg.max_turns):
            active = [e for e in batch if not e.done]
            if not active:
                break
            contexts = [e.prompt_ids + e.completion_ids for e in active]
            for episode, ids in zip(active, _generate(model, tokenizer, contexts, cfg, do_sample, temperature)):
                _advance(episode, ids, tokenizer, environments, cfg, tags)
        for episode in batch:
            if not episode.done:
                episode.done = episode.truncated = True
            episode.outcome = task_outcome(episode.task.domain, episode.answer, episode.task.gold_answers)
    return episodes


_DOMAIN_TOOLS = {"search": ("search",), "math": ("python",)}


def _env_key(task: Task) -> str:
    return task.corpus if task.domain == "search" else "math"


def _advance(episode: Episode, ids: list[int], tokenizer, environments, cfg: RolloutConfig, tags: BlockTags) -> None:
    start = len(episode.completion_ids)
    episode.completion_ids += ids
    episode.env_mask += [1] * len(ids)
    text = tokenizer.decode(ids, skip_special_tokens=True)
    turn = parse_turn(text, tags)
    episode.turn_spans.append((start, start + token_offset(ids, tokenizer, policy_span_start(text, tags)), start + len(ids)))
    episode.turns.append(turn)
    episode.turn_texts.append(text)
    if not ids or ids[-1] != tokenizer.eos_token_id:
        episode.done = episode.truncated = True
        episode.observations.append("")
        return
    if turn.action_type == "answer":
        episode.answer = turn.action
        episode.done = True
        episode.observations.append("")
        return
    if turn.action_type is None or not turn.action:
        episode.done = True
        episode.observations.append("")
        return
    if turn.action_type not in _DOMAIN_TOOLS[episode.task.domain]:
        # Wrong tool for this task (e.g. <python> in a search task): the policy sees an
        # error observation, the turn stays as generated, nothing crashes.
        observation = f"Error: the {turn.action_type} tool is not available for this task."
    else:
        observation = environments[_env_key(episode.task)].step(turn.action_type, turn.action)
    episode.observations.append(observation)
    tool = f"\n{IM_START}tool\n{render_observation(turn.action_type, observation)}{tokenizer.eos_token}\n{IM_START}assistant\n"
    tool_ids = _encode(tokenizer, tool)
    if len(episode.prompt_ids) + len(episode.completion_ids) + len(tool_ids) + cfg.max_new_tokens > cfg.max_context:
        episode.done = episode.truncated = True
        return
    episode.completion_ids += tool_ids
    episode.env_mask += [0] * len(tool_ids)
