"""FC-RL: Foresight-Conditioned RL (arXiv:2606.27483, Stage 3), on TRL's GRPOTrainer.

Multi-turn rollouts in the real environments through GRPOTrainer's ``rollout_func``: each
sampled episode alternates model turns (world-model span, policy span, action) and
environment turns; ``env_mask`` marks observation tokens 0 so they get no loss. Rewards
(see :mod:`foresight.rewards`): task outcome, calibration R_calib = I - (q - I)^2,
keyword grounding and format, weighted and group-normalized by GRPO. The paper's separate
world-model/policy span advantages are not applied here yet (one advantage per episode).

Run: ``python -m foresight.training.fc_rl --job job.json``
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")

from datasets import Dataset  # noqa: E402
from trl import GRPOConfig, GRPOTrainer  # noqa: E402

from foresight.agent import run_episodes  # noqa: E402
from foresight.config import FCRLConfig, TrainingJob  # noqa: E402
from foresight.formatting import prompt_messages  # noqa: E402
from foresight.modeling import load_checkpoint  # noqa: E402
from foresight.registry import environments  # noqa: E402
from foresight.rewards import episode_rewards  # noqa: E402
from foresight.rl_data import load_rl_tasks  # noqa: E402
from foresight.tasks import Task  # noqa: E402
from foresight.training.common import save_checkpoint, train_metrics, trainer_kwargs  # noqa: E402
from foresight.training.runner import PipesLogCallback, Reporter, run  # noqa: E402

REWARD_TERMS = ("outcome", "calibration", "grounding", "format")


def _reward_func(term: str):
    def reward(prompts, completions, reward_terms, **kwargs) -> list[float]:
        return [r[term] for r in reward_terms]

    reward.__name__ = f"{term}_reward"  # TRL logs each reward under its function name
    return reward


def make_rollout_func(tasks: list[Task], tokenizer, cfg: FCRLConfig, envs: dict):
    """A GRPOTrainer ``rollout_func`` running sampled multi-turn episodes.

    Returns per sample ``prompt_ids``, ``completion_ids``, ``env_mask`` (1 = policy token,
    0 = observation token), ``logprobs=None`` (no vLLM importance correction on this path)
    and ``reward_terms`` (a dict per episode) for the reward functions.
    """
    # A prompt is (system, user) messages; the system prompt names the domain.
    by_prompt = {tuple(m["content"] for m in prompt_messages(t.domain, t.question)): t for t in tasks}
    stats = {"episodes": 0, "answered": 0}

    def rollout(prompts, trainer) -> dict:
        model = trainer.accelerator.unwrap_model(trainer.model)
        was_training = model.training
        model.eval()
        batch = [by_prompt[tuple(m["content"] for m in p)] for p in prompts]
        episodes = run_episodes(model, tokenizer, batch, envs, cfg.rollout, cfg.tags, do_sample=True,
                                temperature=cfg.temperature, batch_size=len(batch))
        model.train(was_training)
        stats["episodes"] += len(episodes)
        stats["answered"] += sum(e.answer is not None for e in episodes)
        return {
            "prompt_ids": [e.prompt_ids for e in episodes],
            "completion_ids": [e.completion_ids for e in episodes],
            "logprobs": None,
            "env_mask": [e.env_mask for e in episodes],
            "reward_terms": [
                episode_rewards(e.turns, e.observations, e.outcome, e.answer is not None, e.task.question)
                for e in episodes
            ],
        }

    rollout.stats = stats
    return rollout


def train(job: TrainingJob, reporter: Reporter) -> tuple[dict, str]:
    cfg = FCRLConfig.model_validate(job.config)
    if job.parent_checkpoint is None:
        raise ValueError("FC-RL needs a parent checkpoint (the FE-SFT checkpoint)")
    model, tokenizer = load_checkpoint(job.parent_checkpoint, cfg.trust_remote_code)
    tasks = load_rl_tasks(job.inputs["rl_tasks"]["path"], job.worlds())
    dataset = Dataset.from_dict({"prompt": [prompt_messages(t.domain, t.question) for t in tasks]})
    envs = environments(cfg.rollout.top_k, cfg.rollout.passage_max_words, job.retriever, job.worlds())
    rollout = make_rollout_func(tasks, tokenizer, cfg, envs)
    weights = cfg.rewards.model_dump()
    start = time.time()
    with tempfile.TemporaryDirectory() as scratch:
        args = GRPOConfig(
            **trainer_kwargs(cfg, Path(scratch)), num_generations=cfg.num_generations,
            temperature=cfg.temperature, beta=cfg.beta, epsilon=cfg.epsilon,
            max_completion_length=cfg.rollout.max_context, reward_weights=[weights[t] for t in REWARD_TERMS],
        )
        trainer = GRPOTrainer(
            model=model, reward_funcs=[_reward_func(t) for t in REWARD_TERMS], args=args,
            train_dataset=dataset, processing_class=tokenizer, rollout_func=rollout,
            callbacks=[PipesLogCallback(reporter)],
        )
        output = trainer.train()
        path = save_checkpoint(job, trainer, tokenizer)
    rewards = {k: v for h in trainer.state.log_history for k, v in h.items() if k.startswith("rewards/") or k == "reward"}
    metadata = {
        "checkpoint_path": str(path), "checkpoint_id": path.name, "rl_tasks": len(tasks),
        "episodes": rollout.stats["episodes"], "answered_share": rollout.stats["answered"] / max(1, rollout.stats["episodes"]),
        "train_seconds": round(time.time() - start, 1), **train_metrics(output, trainer),
        **{f"last/{k}": float(v) for k, v in rewards.items()},
    }
    return metadata, path.name


if __name__ == "__main__":
    run(train, __doc__)
