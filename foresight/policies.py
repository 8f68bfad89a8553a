"""Behavior policies that turn tasks into executed trajectories.

An oracle follows the supporting facts (HotpotQA), the question decomposition (MuSiQue) or
the worked solution (GSM8K, arithmetic world: one python call per step); a noisy oracle makes a mistake at each step with probability
``error_rate``: it searches a distractor, answers too early with a wrong entity, or slips in
an arithmetic step. Every observation is produced by really executing the action in the
environment, and every outcome is really scored, so the data holds failures too.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from foresight.envs import Environment
from foresight.outcome import task_outcome
from foresight.tasks import Task
from foresight.text import contains_answer


@dataclass(frozen=True)
class BehaviorPolicy:
    """A named behavior policy: ``error_rate`` 0 is the oracle."""

    name: str
    error_rate: float

    def __post_init__(self):
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError(f"policy {self.name!r}: error_rate must be in [0, 1], got {self.error_rate}")


_FINAL_THINK = "The observations so far give the answer."


def _step(think: str, action_type: str, action: str, observation: str = "") -> dict:
    return {"think": think, "action_type": action_type, "action": action, "observation": observation}


def _search_plan(task: Task, rng: random.Random, error_rate: float, env: Environment) -> tuple[list[dict], str, str]:
    queries: list[str] = task.oracle["queries"]
    distractors: list[str] = task.oracle.get("distractors") or []
    hop_answers: list[str] = task.oracle.get("hop_answers") or []
    findings: list[str] = task.oracle.get("findings") or []
    steps: list[dict] = []
    # What the last hop's search established, restated in the next think (Search-R1-style
    # reasoning over the evidence): the think only claims it when the observation holds it.
    finding = ""
    for hop, query in enumerate(queries):
        if rng.random() < error_rate:
            # Mistake: stop early and guess an entity seen so far (a previous hop's answer or
            # a retrieved title), or chase a distractor passage instead of this hop.
            if steps and rng.random() < 0.5:
                seen = re.findall(r"\(Title: ([^)]*)\)", steps[-1]["observation"])
                guess = rng.choice(hop_answers[:hop] + seen) if (hop_answers[:hop] + seen) else query
                return steps, guess, _FINAL_THINK
            if distractors:
                wrong = rng.choice(distractors)
                steps.append(_step(f"{finding} I will look up {wrong}.".lstrip(), "search", wrong, env.step("search", wrong)))
        steps.append(_step(f"{finding} I need to find out about {query}.".lstrip(), "search", query, env.step("search", query)))
        answer = hop_answers[hop] if hop < len(hop_answers) else task.gold_answers[0]
        found = hop < len(findings) and contains_answer(steps[-1]["observation"], [answer])
        finding = findings[hop] if found else ""
    return steps, task.gold_answers[0], finding or _FINAL_THINK


def _math_plan(task: Task, rng: random.Random, error_rate: float, env: Environment) -> tuple[list[dict], str, str]:
    steps: list[dict] = []
    slipped = False
    # In a chained problem (arithmetic world) each operation starts from the value the
    # previous call printed, so an earlier slip carries through to the answer.
    chained = task.oracle.get("chain_inputs", False)
    for before, expression in task.oracle["calculations"]:
        if chained and steps:
            expression = re.sub(r"^\s*\d+(?:\.\d+)?", steps[-1]["observation"].strip(), expression, count=1)
        if rng.random() < error_rate:
            # Mistake: change one operand by a small amount.
            numbers = list(re.finditer(r"\d+(?:\.\d+)?", expression))
            if numbers:
                m = rng.choice(numbers)
                bumped = str(float(m.group()) + rng.choice([-2, -1, 1, 2])).removesuffix(".0")
                expression = expression[: m.start()] + bumped + expression[m.end():]
                slipped = True
        think = before or "Next I compute an intermediate value."
        code = f"print({expression})"
        steps.append(_step(think, "python", code, env.step("python", code)))
    answer = task.gold_answers[0]
    if (slipped or chained) and steps:
        answer = steps[-1]["observation"].strip()
    return steps, f"\\boxed{{{answer}}}", _FINAL_THINK


def run_policy(task: Task, policy: BehaviorPolicy, env: Environment, seed: int) -> dict:
    """Execute one behavior policy on one task.

    Args:
        task: a training-split task with its oracle plan.
        policy: who acts.
        env: the task's environment (search or python sandbox).
        seed: seeds this episode's mistakes (deterministic per (task, policy, seed)).

    Returns:
        A trajectory dict in the canonical schema (see :mod:`foresight.schema`).
    """
    rng = random.Random(f"{seed}:{task.task_id}:{policy.name}")
    planner = _search_plan if task.domain == "search" else _math_plan
    steps, answer, final_think = planner(task, rng, policy.error_rate, env)
    if not steps:
        final_think = "I can answer directly."
    steps.append(_step(final_think, "answer", answer))
    return {
        "trajectory_id": f"{task.task_id}/{policy.name}/{seed}",
        "task_id": task.task_id, "domain": task.domain, "question": task.question,
        "gold_answers": list(task.gold_answers), "steps": steps,
        "outcome": task_outcome(task.domain, answer, task.gold_answers),
        "source": task.source, "behavior_policy": policy.name,
    }


def episode_trajectory(episode, policy_name: str, sample: int) -> dict:
    """A model episode (:class:`foresight.agent.Episode`) as a canonical trajectory dict.

    Each parsed turn with an action becomes a step (its ``think``, action and the
    observation the environment returned); the episode's outcome is kept as scored.
    """
    steps = []
    for turn, observation in zip(episode.turns, episode.observations):
        if turn.action_type is None or not turn.action:
            break
        steps.append(_step(turn.think or "", turn.action_type, turn.action, observation))
    task = episode.task
    return {
        "trajectory_id": f"{task.task_id}/{policy_name}/{sample}",
        "task_id": task.task_id, "domain": task.domain, "question": task.question,
        "gold_answers": list(task.gold_answers), "steps": steps, "outcome": episode.outcome,
        "source": task.source, "behavior_policy": policy_name,
    }


def model_trajectories(tasks: list[Task], checkpoint: str, policy_name: str, samples: int, temperature: float,
                       environments: dict[str, Environment], rollout, seed: int, trust_remote_code: bool = False,
                       batch_size: int = 16) -> list[dict]:
    """Self-generated trajectories: a model checkpoint sampled with temperature, ``samples`` per task.

    Args:
        tasks: training-split tasks.
        checkpoint: a local checkpoint directory (safetensors) or hub id.
        samples: sibling episodes per task (each a different sample).
        temperature: sampling temperature (> 0).
        environments: as for :func:`foresight.agent.run_episodes`.
        rollout: a :class:`foresight.config.RolloutConfig` (turn, token and context budgets).
        seed: seeds torch's sampler, so a run is reproducible on one machine.

    Returns:
        Trajectory dicts; an episode whose first turn has no action yields a trajectory
        with no steps, which validation quarantines (nothing is dropped silently).

    Raises:
        ValueError: temperature <= 0.
    """
    import torch

    from foresight.agent import run_episodes
    from foresight.modeling import load_checkpoint

    if temperature <= 0:
        raise ValueError(f"policy {policy_name!r}: temperature must be > 0, got {temperature}")
    model, tokenizer = load_checkpoint(checkpoint, trust_remote_code)
    model.eval()
    torch.manual_seed(seed)
    repeated = [task for task in tasks for _ in range(samples)]
    episodes = run_episodes(model, tokenizer, repeated, environments, rollout, do_sample=True,
                            temperature=temperature, batch_size=batch_size)
    return [episode_trajectory(e, policy_name, i % samples) for i, e in enumerate(episodes)]
