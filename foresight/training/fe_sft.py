"""FE-SFT: Format-Eliciting SFT (arXiv:2606.27483, Stage 2).

Task-level SFT from the WM-AMT checkpoint on chat-format trajectories (by default the best
successful one per task: ``min_outcome``, ``per_task``) whose every
assistant turn is the world-model span (``<imaginary> <keyword> <analysis> <confidence>``)
then the policy span (``<think>``, then the action). Loss on the model's own turns only:
TRL's ``assistant_only_loss`` with the ``{% generation %}`` chat template masks system,
user and tool (observation) tokens.

Run: ``python -m foresight.training.fe_sft --job job.json``
"""

from __future__ import annotations

import tempfile
import time
from collections import defaultdict
from pathlib import Path

from datasets import Dataset
from trl import SFTConfig

from foresight.config import FESFTConfig, TrainingJob
from foresight.formatting import sft_conversations
from foresight.modeling import load_checkpoint
from foresight.training.common import (
    ForesightSFTTrainer,
    load_trajectories,
    save_checkpoint,
    train_metrics,
    trainer_kwargs,
)
from foresight.training.runner import PipesLogCallback, Reporter, run


def select_trajectories(trajectories: list[dict], min_outcome: float | None, per_task: int | None) -> list[dict]:
    """The trajectories FE-SFT imitates (rejection-sampling SFT, best-of-K per task).

    Keeps those with ``outcome >= min_outcome`` (all when None), then per ``task_id`` the
    ``per_task`` best ones: higher outcome first, then fewer steps (a successful detour through
    a distractor search is a worse demonstration than the direct path), then
    ``trajectory_id`` for determinism. Failed trajectories and detours still shaped the blocks'
    Monte Carlo confidences and WM-AMT; the policy imitates only what is kept here.

    Args:
        trajectories: canonical-schema dicts (``task_id``, ``trajectory_id``, ``outcome``, ``steps``).
        min_outcome: outcome threshold, or None.
        per_task: trajectories kept per task (>= 1), or None for all.

    Returns:
        The kept trajectories, in input order.

    Raises:
        ValueError: nothing is left, or ``per_task < 1``.
    """
    if per_task is not None and per_task < 1:
        raise ValueError(f"per_task must be >= 1 or None, got {per_task}")
    kept = [t for t in trajectories if min_outcome is None or t["outcome"] >= min_outcome]
    if per_task is not None:
        by_task: dict[str, list[dict]] = defaultdict(list)
        for t in kept:
            by_task[t["task_id"]].append(t)
        best = {id(t) for group in by_task.values()
                for t in sorted(group, key=lambda t: (-t["outcome"], len(t["steps"]), t["trajectory_id"]))[:per_task]}
        kept = [t for t in kept if id(t) in best]
    if not kept:
        raise ValueError(f"no trajectory left for FE-SFT (min_outcome={min_outcome}, per_task={per_task})")
    return kept


def train(job: TrainingJob, reporter: Reporter) -> tuple[dict, str]:
    cfg = FESFTConfig.model_validate(job.config)
    if job.parent_checkpoint is None:
        raise ValueError("FE-SFT needs a parent checkpoint (the WM-AMT checkpoint)")
    trajectories = select_trajectories(load_trajectories(job, "augmented_trajectories"), cfg.min_outcome, cfg.per_task)
    model, tokenizer = load_checkpoint(job.parent_checkpoint, cfg.trust_remote_code)
    conversations = sft_conversations(trajectories, cfg.format, cfg.tags)
    lengths = [len(ids) for ids in tokenizer.apply_chat_template(conversations, tokenize=True, return_dict=True)["input_ids"]]
    truncated = sum(n > cfg.max_length for n in lengths)
    if truncated:
        reporter.info(f"{truncated} of {len(lengths)} conversations exceed max_length={cfg.max_length} and lose their last turns")
    dataset = Dataset.from_dict({"messages": conversations})
    start = time.time()
    with tempfile.TemporaryDirectory() as scratch:
        args = SFTConfig(
            # bfd packing never splits a conversation: each keeps its context intact.
            **trainer_kwargs(cfg, Path(scratch)), assistant_only_loss=True, packing=True,
            packing_strategy="bfd", max_length=cfg.max_length,
        )
        trainer = ForesightSFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                                      callbacks=[PipesLogCallback(reporter)], fused_lm_head=cfg.fused_lm_head)
        output = trainer.train()
        path = save_checkpoint(job, trainer, tokenizer)
    metadata = {
        "checkpoint_path": str(path), "checkpoint_id": path.name, "format": cfg.format, "examples": len(dataset),
        "truncated_examples": truncated, "max_example_tokens": max(lengths),
        "train_seconds": round(time.time() - start, 1), **train_metrics(output, trainer),
    }
    return metadata, path.name


if __name__ == "__main__":
    run(train, __doc__)
