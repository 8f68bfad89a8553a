"""Benchmark: seconds per optimizer step of the SFT stages' loss path and micro-batch layout.

WM-AMT (``foresight.training.wm_amt.train``, the embedded default model built from scratch)
on augmented search-world trajectories (oracle and two noisy oracles on the seed-0 world's
training questions), the same data, learning rate and tokens per optimizer step
(2 x ``max_length`` = 2,048) in every row; only the loss path and the micro-batch layout change:

- reference: TRL's default path, the fused (tiled) LM head, two packed rows per micro-batch
  (TRL's padding-free packing joins them into one 2,048-token row under a block mask);
- full-logit cross-entropy (``fused_lm_head=False``), the same micro-batch;
- full-logit cross-entropy, one 1,024-token row per micro-batch, two accumulated (the default).

Seconds per step are the trainer's runtime over its steps (tokenizer training, packing and
model building excluded). Ratios are reference / row: above 1 is faster.

    .venv/bin/python benchmarks/sft_step_time.py [--steps 40] [--tasks 400]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from foresight.blocks import augment
from foresight.config import MidTrainConfig, TrainingJob
from foresight.envs.retrieval import BM25Retriever
from foresight.envs.search import SearchEnvironment
from foresight.paths import mlflow_tracking_uri
from foresight.policies import BehaviorPolicy, run_policy
from foresight.training import wm_amt
from foresight.training.runner import Reporter
from foresight.worlds.search_world import SearchWorldConfig, generate_search_world

LAYOUTS = (
    ("TRL fused head, 2 rows/micro-batch", {"fused_lm_head": True, "per_device_batch_size": 2, "gradient_accumulation_steps": 1}),
    ("full logits, 2 rows/micro-batch", {"fused_lm_head": False, "per_device_batch_size": 2, "gradient_accumulation_steps": 1}),
    ("full logits, 1 row x 2 accumulated", {"fused_lm_head": False, "per_device_batch_size": 1, "gradient_accumulation_steps": 2}),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=40, help="optimizer steps per row")
    parser.add_argument("--tasks", type=int, default=400, help="search-world training questions behind the data")
    args = parser.parse_args()
    # The trainer reports to MLflow; keep its runs in the project's store, not ./mlruns.
    os.environ.setdefault("MLFLOW_TRACKING_URI", mlflow_tracking_uri())

    world = generate_search_world(SearchWorldConfig())
    env = SearchEnvironment(BM25Retriever(world.passages))
    policies = [BehaviorPolicy("oracle", 0.0), BehaviorPolicy("noisy-0.25", 0.25), BehaviorPolicy("noisy-0.5", 0.5)]
    trajectories = [run_policy(task, policy, env, seed=0) for task in world.train[: args.tasks] for policy in policies]
    with tempfile.TemporaryDirectory() as scratch:
        data = Path(scratch) / "augmented.parquet"
        pq.write_table(pa.Table.from_pylist(augment(trajectories)), data)
        inputs = {"augmented_trajectories": {"path": str(data), "data_version": "benchmark"}}
        print(f"{len(trajectories)} augmented search-world trajectories; {args.steps} steps of 2 x 1,024 tokens per row")
        reference = None
        for name, layout in LAYOUTS:
            cfg = MidTrainConfig(max_steps=args.steps, logging_steps=args.steps, **layout)
            job = TrainingJob(stage="wm_amt", config=cfg.model_dump(), inputs=inputs, output_root=scratch,
                              code_version="benchmark", mlflow_experiment="benchmark")
            metadata, _ = wm_amt.train(job, Reporter())
            per_step = metadata["train/train_runtime"] / metadata["train/global_step"]
            ratio = "     ref" if reference is None else f"{reference / per_step:7.2f}x"
            reference = reference or per_step
            print(f"  {name:36s} {per_step:6.3f} s/step  {2048 / per_step:8.0f} tokens/s  {ratio}  "
                  f"final loss {metadata['train/final_loss']:.3f}", flush=True)


if __name__ == "__main__":
    main()
