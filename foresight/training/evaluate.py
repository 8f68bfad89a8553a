"""Benchmark evaluation of a checkpoint on one benchmark partition.

Greedy multi-turn episodes with the same agent loop as RL, on held-out questions
(:func:`foresight.registry.benchmark_tasks`); metrics from :mod:`foresight.metrics`.
Every episode (turn texts, confidences, keywords, actions, observations, answer, outcome)
is kept in a Parquet file next to the scores, so each number can be audited.

Run: ``python -m foresight.training.evaluate --job job.json`` (``extras.benchmark`` names
the partition).
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from foresight.agent import Episode, run_episodes
from foresight.config import EvalConfig, TrainingJob
from foresight.lineage import read_manifest
from foresight.metrics import benchmark_metrics
from foresight.modeling import load_checkpoint
from foresight.registry import benchmark_tasks, environments
from foresight.training.runner import Reporter, run


def episode_rows(episodes: list[Episode]) -> list[dict]:
    """One auditable row per episode: forecast, confidence, action, observation and outcome together."""
    return [
        {
            "task_id": e.task.task_id, "question": e.task.question, "gold_answers": e.task.gold_answers,
            "turns": e.turn_texts, "confidences": [t.confidence for t in e.turns],
            "keywords": [t.keywords for t in e.turns], "actions": [t.action_type or "" for t in e.turns],
            "observations": e.observations, "answer": e.answer, "outcome": e.outcome, "truncated": e.truncated,
        }
        for e in episodes
    ]


def evaluate(job: TrainingJob, reporter: Reporter) -> tuple[dict, str]:
    cfg = EvalConfig.model_validate(job.config)
    benchmark = job.extras["benchmark"]
    if job.parent_checkpoint is None:
        raise ValueError("evaluation needs a checkpoint (parent_checkpoint)")
    model, tokenizer = load_checkpoint(job.parent_checkpoint, cfg.trust_remote_code)
    model.eval()
    tasks = benchmark_tasks(benchmark, cfg.num_questions)
    envs = environments(cfg.rollout.top_k, cfg.rollout.passage_max_words)
    start = time.time()
    episodes = run_episodes(model, tokenizer, tasks, envs, cfg.rollout, cfg.tags, do_sample=False, batch_size=cfg.batch_size)
    metrics = benchmark_metrics(episodes, cfg.ece_bins)
    seconds = time.time() - start
    checkpoint_id = read_manifest(job.parent_checkpoint)["checkpoint_id"]
    out_dir = Path(job.output_root)
    out_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(json.dumps([checkpoint_id, benchmark, metrics], sort_keys=True).encode()).hexdigest()[:16]
    episodes_path = out_dir / f"{benchmark}-{checkpoint_id}-{digest}.parquet"
    pq.write_table(pa.Table.from_pylist(episode_rows(episodes)), episodes_path)
    reporter.info(f"{benchmark}: {json.dumps(metrics)} in {seconds:.1f}s")
    metadata = {
        "benchmark": benchmark, "checkpoint_id": checkpoint_id, "checkpoint_path": job.parent_checkpoint,
        "episodes_path": str(episodes_path), "eval_seconds": round(seconds, 1),
        **{f"metric/{k}": v for k, v in metrics.items()},
    }
    return metadata, digest


if __name__ == "__main__":
    run(evaluate, __doc__)
