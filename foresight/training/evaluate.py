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
from foresight.registry import benchmark_tasks, environments, training_tasks
from foresight.training.runner import Reporter, run
from foresight.worlds import WORLD_SOURCES, majority_baseline


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


GROUP_KEYS = ("hops", "ops")  # search-world hops, arithmetic-world operations


def group_success(episodes: list[Episode]) -> dict[str, float]:
    """Success rate per question group of a generated world: ``exact_match_hops_2`` etc.

    Returns an empty dict for tasks without a group key (the real benchmarks).
    """
    groups: dict[str, list[float]] = {}
    for e in episodes:
        for key in GROUP_KEYS:
            if key in e.task.oracle:
                groups.setdefault(f"exact_match_{key}_{e.task.oracle[key]}", []).append(e.outcome)
    return {name: sum(v) / len(v) for name, v in sorted(groups.items())}


def evaluate_benchmark(model, tokenizer, cfg: EvalConfig, job: TrainingJob, benchmark: str, checkpoint_id: str,
                       reporter: Reporter) -> tuple[dict[str, float], str, str]:
    """Greedy episodes of one benchmark, their metrics, and the episodes' Parquet file.

    Returns:
        (metrics, episodes_path, digest): the digest (16 hex) hashes checkpoint, benchmark and metrics.
    """
    limit = cfg.world_questions if benchmark in WORLD_SOURCES else cfg.num_questions
    tasks = benchmark_tasks(benchmark, limit, job.worlds())
    envs = environments(cfg.rollout.top_k, cfg.rollout.passage_max_words, job.retriever, job.worlds())
    start = time.time()
    episodes = run_episodes(model, tokenizer, tasks, envs, cfg.rollout, cfg.tags, do_sample=False, batch_size=cfg.batch_size)
    metrics = benchmark_metrics(episodes, cfg.ece_bins)
    metrics.update(group_success(episodes))
    if benchmark in WORLD_SOURCES:
        metrics["baseline_exact_match"], _ = majority_baseline(training_tasks(benchmark, worlds=job.worlds()), tasks)
    metrics["eval_seconds"] = round(time.time() - start, 1)
    out_dir = Path(job.output_root)
    out_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(json.dumps([checkpoint_id, benchmark, metrics], sort_keys=True).encode()).hexdigest()[:16]
    episodes_path = out_dir / f"{benchmark}-{checkpoint_id}-{digest}.parquet"
    pq.write_table(pa.Table.from_pylist(episode_rows(episodes)), episodes_path)
    reporter.info(f"{benchmark}: {json.dumps(metrics)}")
    return metrics, str(episodes_path), digest


def evaluate(job: TrainingJob, reporter: Reporter) -> tuple[dict, str]:
    """Evaluate ``job.parent_checkpoint`` on ``extras.benchmark`` (one partition) or on every
    benchmark of ``extras.benchmarks`` in this one process (a recipe-grid checkpoint).

    Metadata: one benchmark gives ``metric/<name>`` keys; several give ``<benchmark>/metric/<name>``
    and ``<benchmark>/episodes_path``, ``<benchmark>/score_id`` per benchmark.
    """
    cfg = EvalConfig.model_validate(job.config)
    if job.parent_checkpoint is None:
        raise ValueError("evaluation needs a checkpoint (parent_checkpoint)")
    model, tokenizer = load_checkpoint(job.parent_checkpoint, cfg.trust_remote_code)
    model.eval()
    checkpoint_id = read_manifest(job.parent_checkpoint)["checkpoint_id"]
    metadata = {"checkpoint_id": checkpoint_id, "checkpoint_path": job.parent_checkpoint}
    if "benchmarks" not in job.extras:
        benchmark = job.extras["benchmark"]
        metrics, episodes_path, digest = evaluate_benchmark(model, tokenizer, cfg, job, benchmark, checkpoint_id, reporter)
        metadata.update({"benchmark": benchmark, "episodes_path": episodes_path, "eval_seconds": metrics.pop("eval_seconds"),
                         **{f"metric/{k}": v for k, v in metrics.items()}})
        return metadata, digest
    digests = []
    for benchmark in job.extras["benchmarks"]:
        metrics, episodes_path, digest = evaluate_benchmark(model, tokenizer, cfg, job, benchmark, checkpoint_id, reporter)
        metadata.update({f"{benchmark}/episodes_path": episodes_path, f"{benchmark}/score_id": digest,
                         **{f"{benchmark}/metric/{k}": v for k, v in metrics.items()}})
        digests.append(digest)
    return metadata, hashlib.sha256("".join(digests).encode()).hexdigest()[:16]


if __name__ == "__main__":
    run(evaluate, __doc__)
