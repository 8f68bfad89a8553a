"""FC-RL: Foresight-Conditioned RL (arXiv:2606.27483, Stage 3), on TRL's GRPOTrainer.

Multi-turn rollouts in the real environments through GRPOTrainer's ``rollout_func``: each
sampled episode alternates model turns (world-model span, policy span, action) and
environment turns; ``env_mask`` marks observation tokens 0 so they get no loss (TRL multiplies
it into the loss mask). Rewards (:mod:`foresight.rewards`): task outcome, calibration
R_calib = I - (q - I)^2, keyword grounding and format.

:class:`FCRLTrainer` is TRL's GRPOTrainer with per-token advantages (TRL's loss accepts a
(B, T) advantage tensor): world-model span tokens get the group-normalized R_WM of their
step, policy span tokens A_E + omega * A_S (:mod:`foresight.advantages`); TRL's clipped
surrogate, loss normalization, DeepSpeed and logging are unchanged. ``advantage="episode"``
leaves TRL's one advantage per episode (plain GRPO, the baseline recipes).

Run: ``python -m foresight.training.fc_rl --job job.json``
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")

import torch  # noqa: E402
from accelerate.utils import gather_object  # noqa: E402
from datasets import Dataset  # noqa: E402
from trl import GRPOConfig, GRPOTrainer  # noqa: E402

from foresight.advantages import (  # noqa: E402
    EpisodeSignal,
    StepSignal,
    span_advantages,
    token_advantages,
)
from foresight.agent import Episode, run_episodes  # noqa: E402
from foresight.config import FCRLConfig, TrainingJob  # noqa: E402
from foresight.formatting import prompt_messages  # noqa: E402
from foresight.modeling import load_checkpoint  # noqa: E402
from foresight.registry import environments  # noqa: E402
from foresight.rewards import episode_rewards, format_reward, step_rewards  # noqa: E402
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


def episode_signal(episode: Episode, cfg: FCRLConfig) -> EpisodeSignal:
    """The span-advantage inputs of one episode: task reward and per-step R_calib, R_ground, q_t."""
    steps = step_rewards(episode.turns, episode.observations, episode.outcome, episode.task.question)
    fmt = format_reward(episode.turns, episode.answer is not None, cfg.require_block)
    return EpisodeSignal(
        reward=cfg.rewards.outcome * episode.outcome + cfg.rewards.format * fmt,
        steps=[StepSignal(c, g, t.confidence, t.block_ok) for (c, g), t in zip(steps, episode.turns)],
    )


class FCRLTrainer(GRPOTrainer):
    """TRL's GRPOTrainer with FC-RL's per-token span advantages (arXiv:2606.27483, Stage 3).

    After TRL has generated (through ``rollout_func``) and scored a batch, the (B,) episode
    advantages are replaced by a (B, T) float tensor: for each step, its world-model span
    tokens get A_WM and its policy span tokens A_E + omega[domain] * A_S; observation tokens
    0 (they are also masked by ``env_mask``). Groups are the ``num_generations`` consecutive
    episodes of the global batch, so every process gathers the whole batch's signals first
    (as TRL gathers rewards). The rollout function hands over the local episodes in
    ``last_episodes``.

    Args:
        fcrl: the FC-RL config (keyword-only); everything else goes to ``GRPOTrainer``.
    """

    def __init__(self, *args, fcrl: FCRLConfig, **kwargs):
        super().__init__(*args, **kwargs)
        self.fcrl = fcrl
        self.last_episodes: list[Episode] = []

    def _generate_and_score_completions(self, inputs):
        output = super()._generate_and_score_completions(inputs)
        if self.fcrl.advantage == "span":
            output["advantages"] = self._span_advantages(output["completion_ids"].shape[1], output["completion_ids"].device)
        return output

    def _omega(self, domain: str) -> float:
        if domain not in self.fcrl.omega:
            raise KeyError(f"FCRLConfig.omega has no weight for domain {domain!r}; it has {sorted(self.fcrl.omega)}")
        return self.fcrl.omega[domain]

    def _span_advantages(self, width: int, device) -> torch.Tensor:
        local = self.last_episodes
        signals = gather_object([(e.task.domain, episode_signal(e, self.fcrl)) for e in local])
        n = self.num_generations
        if len(signals) % n:
            raise ValueError(f"{len(signals)} episodes do not split into groups of {n}")
        steps: list[list[tuple[float, float]]] = []
        for g in range(0, len(signals), n):
            group = signals[g : g + n]
            steps += span_advantages(
                [s for _, s in group], self._omega(group[0][0]), self.fcrl.rewards.calibration,
                self.fcrl.rewards.grounding, self.fcrl.format_penalty,
            )
        first = self.accelerator.process_index * len(local)
        rows = []
        for episode, step_adv in zip(local, steps[first : first + len(local)]):
            row = token_advantages(len(episode.completion_ids), episode.turn_spans, step_adv)[:width]
            rows.append(row + [0.0] * (width - len(row)))
        blocks = [e.block_tokens() for e in local]
        self._metrics["train"]["fcrl/block_token_share"].append(sum(b for b, _ in blocks) / max(1, sum(t for _, t in blocks)))
        wm = [a for ep in steps for a, _ in ep]
        self._metrics["train"]["fcrl/wm_advantage_abs"].append(sum(map(abs, wm)) / max(1, len(wm)))
        return torch.tensor(rows, dtype=torch.float32, device=device)


def make_rollout_func(tasks: list[Task], tokenizer, cfg: FCRLConfig, envs: dict):
    """A GRPOTrainer ``rollout_func`` running sampled multi-turn episodes.

    Returns per sample ``prompt_ids``, ``completion_ids``, ``env_mask`` (1 = policy token,
    0 = observation token), ``logprobs=None`` (no vLLM importance correction on this path)
    and ``reward_terms`` (a dict per episode) for the reward functions; the episodes
    themselves go to ``trainer.last_episodes`` for :class:`FCRLTrainer`.
    """
    # A prompt is (system, user) messages; the system prompt names the domain.
    by_prompt = {tuple(m["content"] for m in prompt_messages(t.domain, t.question)): t for t in tasks}
    stats = {"episodes": 0, "answered": 0, "model_tokens": 0}

    def rollout(prompts, trainer) -> dict:
        model = trainer.accelerator.unwrap_model(trainer.model)
        was_training = model.training
        model.eval()
        batch = [by_prompt[tuple(m["content"] for m in p)] for p in prompts]
        episodes = run_episodes(model, tokenizer, batch, envs, cfg.rollout, cfg.tags, do_sample=True,
                                temperature=cfg.temperature, batch_size=len(batch))
        model.train(was_training)
        trainer.last_episodes = episodes
        stats["episodes"] += len(episodes)
        stats["answered"] += sum(e.answer is not None for e in episodes)
        stats["model_tokens"] += sum(sum(e.env_mask) for e in episodes)
        return {
            "prompt_ids": [e.prompt_ids for e in episodes],
            "completion_ids": [e.completion_ids for e in episodes],
            "logprobs": None,
            "env_mask": [e.env_mask for e in episodes],
            "reward_terms": [
                episode_rewards(e.turns, e.observations, e.outcome, e.answer is not None, e.task.question,
                                cfg.require_block)
                for e in episodes
            ],
        }

    rollout.stats = stats
    return rollout


def build_trainer(cfg: FCRLConfig, model, tokenizer, tasks: list[Task], envs: dict, output_dir: Path,
                  callbacks: list | None = None, trainer_cls: type[GRPOTrainer] = FCRLTrainer) -> GRPOTrainer:
    """The RL trainer of ``cfg`` over ``tasks``: one prompt per task, multi-turn rollouts in ``envs``.

    ``trainer_cls`` is :class:`FCRLTrainer` in the pipeline; ``GRPOTrainer`` itself gives plain
    TRL GRPO on exactly the same rollouts and rewards (the throughput benchmark's reference).
    The rollout function is ``trainer.rollout_func`` (its ``stats`` count episodes and tokens).
    """
    dataset = Dataset.from_dict({"prompt": [prompt_messages(t.domain, t.question) for t in tasks]})
    weights = cfg.rewards.model_dump()
    args = GRPOConfig(
        **trainer_kwargs(cfg, output_dir), num_generations=cfg.num_generations,
        temperature=cfg.temperature, beta=cfg.beta, epsilon=cfg.epsilon,
        max_completion_length=cfg.rollout.max_context, reward_weights=[weights[t] for t in REWARD_TERMS],
    )
    extra = {"fcrl": cfg} if issubclass(trainer_cls, FCRLTrainer) else {}
    return trainer_cls(
        model=model, reward_funcs=[_reward_func(t) for t in REWARD_TERMS], args=args, train_dataset=dataset,
        processing_class=tokenizer, rollout_func=make_rollout_func(tasks, tokenizer, cfg, envs),
        callbacks=callbacks, **extra,
    )


def train(job: TrainingJob, reporter: Reporter) -> tuple[dict, str]:
    cfg = FCRLConfig.model_validate(job.config)
    if job.parent_checkpoint is None:
        raise ValueError("FC-RL needs a parent checkpoint (the FE-SFT checkpoint)")
    model, tokenizer = load_checkpoint(job.parent_checkpoint, cfg.trust_remote_code)
    tasks = load_rl_tasks(job.inputs["rl_tasks"]["path"], job.worlds())
    envs = environments(cfg.rollout.top_k, cfg.rollout.passage_max_words, job.retriever, job.worlds())
    start = time.time()
    with tempfile.TemporaryDirectory() as scratch:
        trainer = build_trainer(cfg, model, tokenizer, tasks, envs, Path(scratch), [PipesLogCallback(reporter)])
        output = trainer.train()
        path = save_checkpoint(job, trainer, tokenizer)
    stats = trainer.rollout_func.stats
    rewards = {k: v for h in trainer.state.log_history for k, v in h.items() if k.startswith(("rewards/", "fcrl/")) or k == "reward"}
    metadata = {
        "checkpoint_path": str(path), "checkpoint_id": path.name, "rl_tasks": len(tasks), "advantage": cfg.advantage,
        "episodes": stats["episodes"], "answered_share": stats["answered"] / max(1, stats["episodes"]),
        "model_tokens": stats["model_tokens"],
        "train_seconds": round(time.time() - start, 1), **train_metrics(output, trainer),
        **{f"last/{k}": float(v) for k, v in rewards.items()},
    }
    return metadata, path.name


if __name__ == "__main__":
    run(train, __doc__)
