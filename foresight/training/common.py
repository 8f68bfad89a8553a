"""Pieces shared by the training stages: inputs, TRL argument defaults, checkpoint saving."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow.parquet as pq
from transformers import Trainer
from trl import SFTTrainer

from foresight.config import TrainConfig, TrainingJob
from foresight.lineage import write_checkpoint


def load_trajectories(job: TrainingJob, name: str) -> list[dict]:
    """Rows of the Parquet input ``name`` of the job.

    Raises:
        KeyError: the job has no such input.
    """
    if name not in job.inputs:
        raise KeyError(f"job {job.stage} has no input {name!r}; inputs: {sorted(job.inputs)}")
    return pq.read_table(job.inputs[name]["path"]).to_pylist()


def trainer_kwargs(cfg: TrainConfig, output_dir: Path) -> dict:
    """TrainingArguments fields common to SFTConfig and GRPOConfig.

    TRL defaults to bf16; the CPU default turns it off. ``ddp_backend="gloo"`` on CPU keeps
    accelerate and DeepSpeed agreeing on the world size under ``accelerate launch``.
    """
    kwargs = dict(
        output_dir=str(output_dir), max_steps=cfg.max_steps, learning_rate=cfg.learning_rate,
        per_device_train_batch_size=cfg.per_device_batch_size,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps, warmup_steps=cfg.warmup_ratio,
        lr_scheduler_type="cosine", logging_steps=cfg.logging_steps, save_strategy="no", seed=cfg.seed,
        bf16=cfg.bf16, use_cpu=cfg.use_cpu, report_to=["mlflow"], deepspeed=cfg.deepspeed,
        disable_tqdm=True, dataloader_num_workers=0, gradient_checkpointing=cfg.gradient_checkpointing,
    )
    if cfg.use_cpu and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        kwargs["ddp_backend"] = "gloo"
    return kwargs


class ForesightSFTTrainer(SFTTrainer):
    """TRL's SFTTrainer whose loss path follows ``TrainConfig.fused_lm_head``.

    With ``fused_lm_head=False`` the loss is the model's own token-mean cross-entropy over full
    logits (``transformers.Trainer.compute_loss``; the same labels, masks and packing as TRL's
    path), and TRL's entropy and token-accuracy logs are not computed. With True it is TRL's
    fused, tiled log-prob loss unchanged.

    Args:
        fused_lm_head: which loss path (keyword-only); the rest goes to ``SFTTrainer``.
    """

    def __init__(self, *args, fused_lm_head: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fused_lm_head = fused_lm_head

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if self.fused_lm_head:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        return Trainer.compute_loss(self, model, inputs, return_outputs=return_outputs,
                                    num_items_in_batch=num_items_in_batch)


def save_checkpoint(job: TrainingJob, trainer, tokenizer, extra_manifest: dict | None = None) -> Path:
    """Write the trained model atomically as ``<stage>-<job id>`` with its lineage manifest.

    Every rank joins ``save_model`` (ZeRO shards are gathered there); the main process
    writes the tokenizer and manifest and renames the directory into place.
    """
    manifest = {
        "stage": job.stage, "inputs": job.inputs, "parent_checkpoint": job.parent_checkpoint,
        "config": job.config, "code_version": job.code_version, "seed": job.config.get("seed"),
        **(extra_manifest or {}),
    }
    main = trainer.is_world_process_zero()

    def save(directory: Path) -> None:
        trainer.save_model(str(directory))
        if main:
            tokenizer.save_pretrained(str(directory))
            # The trainer also pickles its arguments; checkpoints of this project carry no pickle.
            (directory / "training_args.bin").unlink(missing_ok=True)

    return write_checkpoint(Path(job.output_root), f"{job.stage}-{job.job_id}", manifest, save,
                            is_main_process=main, barrier=trainer.accelerator.wait_for_everyone)


def train_metrics(train_output, trainer) -> dict:
    """Final metrics of a run: the trainer's summary, the first and last logged loss, and the
    process count and distributed type it ran under."""
    metrics = {f"train/{k}": float(v) for k, v in train_output.metrics.items() if isinstance(v, (int, float))}
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    if losses:
        metrics["train/final_loss"] = float(losses[-1])
        metrics["train/first_loss"] = float(losses[0])
    metrics["train/global_step"] = float(trainer.state.global_step)
    # Where it ran: e.g. 2 processes under DEEPSPEED (ZeRO) or 1 under NO.
    metrics["processes"] = trainer.accelerator.num_processes
    metrics["distributed_type"] = str(trainer.accelerator.distributed_type.value)
    return metrics
