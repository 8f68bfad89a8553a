"""WM-AMT: World Model Agentic Mid-Training (arXiv:2606.27483, Stage 1).

Causal-LM loss with packing (TRL SFTTrainer, ``{"text"}`` dataset, ``bfd_split``) over trajectory
transcripts, a configured share of them with hindsight world-model blocks at sampled steps
and the rest plain ("standard AMT" is ``augmented_fraction=0``). The embedded default
trains a byte-level BPE tokenizer on the trajectory text and builds a small Llama from
config; ``model.model_name_or_path`` starts from a local checkpoint instead.

Run: ``python -m foresight.training.wm_amt --job job.json``
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from datasets import Dataset
from trl import SFTConfig

from foresight.config import MidTrainConfig, TrainingJob
from foresight.formatting import midtraining_documents, trajectory_messages
from foresight.modeling import build_model, load_checkpoint, train_tokenizer
from foresight.training.common import (
    ForesightSFTTrainer,
    load_trajectories,
    save_checkpoint,
    train_metrics,
    trainer_kwargs,
)
from foresight.training.runner import PipesLogCallback, Reporter, run


def tokenizer_corpus(trajectories: list[dict], cfg: MidTrainConfig):
    """Texts the BPE tokenizer learns from: every message of every augmented trajectory."""
    for traj in trajectories:
        for message in trajectory_messages(traj, cfg.tags):
            yield message["content"]


def train(job: TrainingJob, reporter: Reporter) -> tuple[dict, str]:
    cfg = MidTrainConfig.model_validate(job.config)
    trajectories = load_trajectories(job, "augmented_trajectories")
    start = time.time()
    if cfg.model.model_name_or_path is None:
        tokenizer = train_tokenizer(tokenizer_corpus(trajectories, cfg), cfg.model.vocab_size)
        model = build_model(tokenizer, cfg.model, cfg.seed)
        reporter.info(f"built a {model.num_parameters() / 1e6:.2f}M-parameter Llama; tokenizer vocab {len(tokenizer)}")
    else:
        model, tokenizer = load_checkpoint(cfg.model.model_name_or_path, cfg.trust_remote_code)
        reporter.info(f"loaded {cfg.model.model_name_or_path} ({model.num_parameters() / 1e6:.1f}M parameters)")
    docs, counts = midtraining_documents(
        trajectories, tokenizer, cfg.tags, cfg.augmented_fraction, cfg.block_probability, cfg.seed,
    )
    dataset = Dataset.from_dict({"text": docs})
    with tempfile.TemporaryDirectory() as scratch:
        args = SFTConfig(
            # bfd_split: a document longer than max_length continues in the next packed
            # sequence instead of being cut, so no trajectory text is dropped.
            **trainer_kwargs(cfg, Path(scratch)), packing=True, packing_strategy="bfd_split",
            max_length=cfg.max_length, dataset_text_field="text",
        )
        trainer = ForesightSFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                                      callbacks=[PipesLogCallback(reporter)], fused_lm_head=cfg.fused_lm_head)
        output = trainer.train()
        path = save_checkpoint(job, trainer, tokenizer, {"documents": counts})
    metadata = {
        "checkpoint_path": str(path), "checkpoint_id": path.name, **counts,
        "documents": len(docs), "parameters": model.num_parameters(), "vocab_size": len(tokenizer),
        "train_seconds": round(time.time() - start, 1), **train_metrics(output, trainer),
    }
    return metadata, path.name


if __name__ == "__main__":
    run(train, __doc__)
