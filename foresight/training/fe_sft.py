"""FE-SFT: Format-Eliciting SFT (arXiv:2606.27483, Stage 2).

Task-level SFT from the WM-AMT checkpoint on chat-format trajectories (by default the
successful ones: ``min_outcome``) whose every
assistant turn is the world-model span (``<imaginary> <keyword> <analysis> <confidence>``)
then the policy span (``<think>``, then the action). Loss on the model's own turns only:
TRL's ``assistant_only_loss`` with the ``{% generation %}`` chat template masks system,
user and tool (observation) tokens.

Run: ``python -m foresight.training.fe_sft --job job.json``
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from datasets import Dataset
from trl import SFTConfig, SFTTrainer

from foresight.config import FESFTConfig, TrainingJob
from foresight.formatting import trajectory_messages
from foresight.modeling import load_checkpoint
from foresight.training.common import (
    load_trajectories,
    save_checkpoint,
    train_metrics,
    trainer_kwargs,
)
from foresight.training.runner import PipesLogCallback, Reporter, run


def train(job: TrainingJob, reporter: Reporter) -> tuple[dict, str]:
    cfg = FESFTConfig.model_validate(job.config)
    if job.parent_checkpoint is None:
        raise ValueError("FE-SFT needs a parent checkpoint (the WM-AMT checkpoint)")
    trajectories = load_trajectories(job, "augmented_trajectories")
    if cfg.min_outcome is not None:
        # Failed trajectories still shaped the blocks' Monte Carlo confidences (and WM-AMT);
        # the policy imitates only the ones that succeeded.
        trajectories = [t for t in trajectories if t["outcome"] >= cfg.min_outcome]
        if not trajectories:
            raise ValueError(f"no trajectory has outcome >= min_outcome={cfg.min_outcome}")
    model, tokenizer = load_checkpoint(job.parent_checkpoint, cfg.trust_remote_code)
    conversations = [trajectory_messages(t, cfg.tags) for t in trajectories]
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
        trainer = SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                             callbacks=[PipesLogCallback(reporter)])
        output = trainer.train()
        path = save_checkpoint(job, trainer, tokenizer)
    metadata = {
        "checkpoint_path": str(path), "checkpoint_id": path.name, "examples": len(dataset),
        "truncated_examples": truncated, "max_example_tokens": max(lengths),
        "train_seconds": round(time.time() - start, 1), **train_metrics(output, trainer),
    }
    return metadata, path.name


if __name__ == "__main__":
    run(train, __doc__)
