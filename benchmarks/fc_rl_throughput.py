"""Benchmark: FC-RL training throughput against plain TRL GRPO on the same model and data.

Both rows train the same checkpoint with the same config, seed, search-world tasks, rollouts
(multi-turn, sampled) and reward functions, through :func:`foresight.training.fc_rl.build_trainer`:

- reference: TRL's ``GRPOTrainer`` itself (one advantage per episode);
- FC-RL: :class:`foresight.training.fc_rl.FCRLTrainer` (span location, cross-process gather
  of episode signals, per-token advantages).

Figures per row: episodes/s and model-generated tokens/s over the trainer's runtime
(rollouts, reward scoring, advantages and the update together); ratio = row / reference
(above 1 is faster). The checkpoint defaults to the latest FE-SFT checkpoint under
$FORESIGHT_HOME (``make demo`` writes one); sampled episodes differ between rows after the
first update, so tokens/s is the fairer figure.

    .venv/bin/python benchmarks/fc_rl_throughput.py [--checkpoint DIR] [--steps 4] [--repeats 1]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from transformers import PrinterCallback
from trl import GRPOTrainer

from foresight.config import FCRLConfig
from foresight.modeling import load_checkpoint
from foresight.paths import home, mlflow_tracking_uri
from foresight.registry import environments
from foresight.rl_data import rl_tasks
from foresight.training.fc_rl import FCRLTrainer, build_trainer
from foresight.worlds import save_world
from foresight.worlds.search_world import SearchWorldConfig, generate_search_world


def latest_checkpoint(stage: str = "fe_sft") -> Path:
    """Newest ``<home>/checkpoints/<stage>/*`` directory.

    Raises:
        SystemExit: there is none (run ``make demo`` first or pass ``--checkpoint``).
    """
    found = sorted((home() / "checkpoints" / stage).glob(f"{stage}-*"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise SystemExit(f"no {stage} checkpoint under {home()}; run `make demo` or pass --checkpoint DIR")
    return found[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default=None, help="checkpoint directory (default: latest FE-SFT)")
    parser.add_argument("--steps", type=int, default=4, help="optimizer steps per row")
    parser.add_argument("--repeats", type=int, default=1, help="rows are run this many times, alternating")
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_TRACKING_URI", mlflow_tracking_uri())
    checkpoint = Path(args.checkpoint) if args.checkpoint else latest_checkpoint()
    cfg = FCRLConfig(max_steps=args.steps, logging_steps=args.steps)
    with tempfile.TemporaryDirectory() as scratch:
        world_cfg = SearchWorldConfig()
        world = generate_search_world(world_cfg)
        world_dir, _ = save_world(Path(scratch), "search_world", world_cfg, world.train, world.eval, world.passages)
        worlds = {"search_world": str(world_dir)}
        tasks = rl_tasks({"search_world": None}, cfg.num_tasks, cfg.seed, worlds=worlds)
        envs = environments(cfg.rollout.top_k, cfg.rollout.passage_max_words, None, worlds)
        envs[tasks[0].corpus].step("search", tasks[0].question)  # build the index before any row is timed
        print(f"{checkpoint.name}: {args.steps} steps x {cfg.per_device_batch_size} episodes "
              f"({cfg.num_generations} per group), {len(tasks)} search-world tasks")
        rows = [("TRL GRPOTrainer (reference)", GRPOTrainer), ("FC-RL FCRLTrainer (span advantages)", FCRLTrainer)]
        for _ in range(args.repeats):
            reference = None
            for name, trainer_cls in rows:
                model, tokenizer = load_checkpoint(str(checkpoint))
                trainer = build_trainer(cfg, model, tokenizer, tasks, envs, Path(scratch) / "out", trainer_cls=trainer_cls)
                trainer.remove_callback(PrinterCallback)  # the per-step log dicts would bury the table
                runtime = trainer.train().metrics["train_runtime"]
                stats = trainer.rollout_func.stats
                episodes, tokens = stats["episodes"] / runtime, stats["model_tokens"] / runtime
                ratio = "     ref" if reference is None else f"{tokens / reference:7.3f}x"
                reference = reference or tokens
                print(f"  {name:38s} {runtime:7.1f} s  {episodes:6.2f} episodes/s  {tokens:7.1f} model tokens/s  "
                      f"{ratio}", flush=True)


if __name__ == "__main__":
    main()
