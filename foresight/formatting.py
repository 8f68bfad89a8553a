"""Renderings of trajectories: chat messages (FE-SFT, RL, eval) and mid-training text.

An assistant turn is ``[world-model block] <think>..</think><action>..</action>``; the
observation that follows an action is a ``tool`` turn. WM-AMT documents are the same
transcripts rendered through the chat template, with blocks at sampled steps only.
"""

from __future__ import annotations

import random

from foresight.blocks import Block
from foresight.protocol import BlockTags, render_observation, wrap

SYSTEM_PROMPTS = {
    "search": (
        "Answer the question using the search tool. Before each action, predict what will happen "
        "and how likely you are to succeed, then think, then act with <search>query</search> or "
        "<answer>answer</answer>."
    ),
    "math": (
        "Solve the problem using the python tool. Before each action, predict what will happen "
        "and how likely you are to succeed, then think, then act with <python>code</python> "
        "(its printed output comes back) or <answer>\\boxed{number}</answer>."
    ),
}


def prompt_messages(domain: str, question: str) -> list[dict[str, str]]:
    """System + user messages that open an episode.

    Raises:
        KeyError: unknown domain.
    """
    return [{"role": "system", "content": SYSTEM_PROMPTS[domain]}, {"role": "user", "content": question}]


def assistant_turn(step: dict, tags: BlockTags, with_block: bool, state_only: bool = False) -> str:
    """Render one step's assistant content: optional block, ``<think>``, then the action."""
    block = Block(**step["block"]).render(tags, state_only) if with_block and step.get("block") else ""
    return block + wrap("think", step["think"]) + wrap(step["action_type"], step["action"])


def trajectory_messages(traj: dict, tags: BlockTags, block_steps: set[int] | None = None,
                        state_only: bool = False) -> list[dict[str, str]]:
    """Chat messages of a trajectory.

    Args:
        traj: canonical trajectory, with ``steps[t]["block"]`` when augmented.
        tags: block tag names.
        block_steps: steps that get their block (None: every step that has one).
        state_only: blocks keep only their trajectory part (State-SFT).
    """
    messages = prompt_messages(traj["domain"], traj["question"])
    for t, step in enumerate(traj["steps"]):
        with_block = block_steps is None or t in block_steps
        messages.append({"role": "assistant", "content": assistant_turn(step, tags, with_block, state_only)})
        if step["action_type"] != "answer":
            messages.append({"role": "tool", "content": render_observation(step["action_type"], step["observation"])})
    return messages


def observation_prediction_examples(traj: dict, tags: BlockTags) -> list[list[dict[str, str]]]:
    """IWM examples of a trajectory: predict each tool step's observation (implicit world modeling).

    As in "Agent Learning via Early Experience" (arXiv:2510.08558): given the history and an
    action, the model is trained to write the next state. One example per tool step: the plain
    (block-free) conversation up to and including the action, then the observation as an
    assistant turn, the only turn that differs from plain SFT. The loss stays on assistant
    turns, so the earlier turns are trained as in plain SFT too.
    """
    examples = []
    for t, step in enumerate(traj["steps"]):
        if step["action_type"] == "answer":
            continue
        history = trajectory_messages({**traj, "steps": traj["steps"][: t + 1]}, tags, block_steps=set())
        examples.append(history[:-1] + [{"role": "assistant", "content": history[-1]["content"]}])
    return examples


SFT_FORMATS = ("fe_sft", "sft", "state_sft", "iwm")


def sft_conversations(trajectories: list[dict], fmt: str, tags: BlockTags) -> list[list[dict[str, str]]]:
    """The SFT examples of a recipe's SFT variant.

    Args:
        trajectories: augmented trajectories (a block at every step).
        fmt: "fe_sft" (full block before every action), "sft" (no block), "state_sft"
            (trajectory part of the block only) or "iwm" (no block, plus
            :func:`observation_prediction_examples`).
        tags: block tag names.

    Raises:
        ValueError: unknown ``fmt``.
    """
    if fmt == "fe_sft":
        return [trajectory_messages(t, tags) for t in trajectories]
    if fmt == "sft":
        return [trajectory_messages(t, tags, block_steps=set()) for t in trajectories]
    if fmt == "state_sft":
        return [trajectory_messages(t, tags, state_only=True) for t in trajectories]
    if fmt == "iwm":
        plain = [trajectory_messages(t, tags, block_steps=set()) for t in trajectories]
        return plain + [ex for t in trajectories for ex in observation_prediction_examples(t, tags)]
    raise ValueError(f"unknown SFT format {fmt!r}; one of {SFT_FORMATS}")


def midtraining_documents(
    trajectories: list[dict], tokenizer, tags: BlockTags, augmented_fraction: float,
    block_probability: float, seed: int,
) -> tuple[list[str], dict[str, int]]:
    """WM-AMT documents: a share of trajectories with blocks at sampled steps, the rest plain.

    Args:
        trajectories: augmented trajectories (every step has a block).
        tokenizer: renders messages with its chat template.
        augmented_fraction: probability a document carries blocks (the mixing ratio).
        block_probability: probability a step of such a document gets its block.
        seed: seeds the sampling.

    Returns:
        (documents, counts) with counts of augmented/plain documents and inserted blocks.
    """
    rng = random.Random(seed)
    docs, counts = [], {"augmented_documents": 0, "plain_documents": 0, "inserted_blocks": 0}
    for traj in trajectories:
        if rng.random() < augmented_fraction:
            chosen = {t for t in range(len(traj["steps"])) if rng.random() < block_probability}
            counts["augmented_documents"] += 1
            counts["inserted_blocks"] += len(chosen)
        else:
            chosen = set()
            counts["plain_documents"] += 1
        messages = trajectory_messages(traj, tags, chosen)
        docs.append(tokenizer.apply_chat_template(messages, tokenize=False))
    return docs, counts
