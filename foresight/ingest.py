"""Trajectory ingestion: behavior policies on real tasks and generated worlds, plus canonical-schema files.

For each training-split task of each source, every behavior policy runs ``samples``
episodes (different seeds), so tasks carry sibling trajectories that share prefixes: the
Monte Carlo labels of :mod:`foresight.blocks` rest on them. Every trajectory passes
:func:`foresight.schema.validate_trajectory`; failures are quarantined, never dropped.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from foresight.config import RolloutConfig
from foresight.envs import PASSAGE_MAX_WORDS
from foresight.envs.retrieval import RetrieverConfig
from foresight.policies import BehaviorPolicy, model_trajectories, run_policy
from foresight.registry import WorldDirs, environments, training_tasks
from foresight.schema import IngestResult, read_canonical_file, validate_records
from foresight.tasks import Task


class PolicySpec(BaseModel):
    """A behavior policy and how many sibling episodes it runs per task.

    With ``checkpoint`` unset the policy follows the task's oracle plan and errs at each step
    with probability ``error_rate`` (0 = the oracle). With ``checkpoint`` set it is that
    model, sampled at ``temperature`` (self-generated trajectories).
    """

    name: str
    error_rate: float = Field(0.0, ge=0.0, le=1.0)
    samples: int = Field(1, ge=1, description="sibling episodes per task (K)")
    checkpoint: str | None = Field(None, description="model checkpoint directory or hub id (a sampled model policy)")
    temperature: float = Field(0.7, gt=0.0)


class IngestConfig(BaseModel):
    """What trajectory ingestion reads and generates.

    Attributes:
        sources: trajectory sources (see :data:`foresight.registry.TRAINING_SOURCES`: real
            datasets and generated worlds) -> max training tasks (None = the whole split).
        source_paths: optional override of a source's file (a world's directory).
        canonical_files: JSONL/Parquet files (or ``hf://<dataset id>`` where a hub is
            reachable) already in the canonical schema.
        policies: behavior policies (oracle, noisy oracles, model checkpoints) and K.
        top_k, passage_max_words: search environment settings.
        rollout: budgets of model policies' episodes.
        seed: seeds the policies' mistakes and sampling.
        max_bad_fraction: the asset check fails above this quarantined share.
    """

    # Mostly the search world, where a CPU-scale model can learn (copying appears after ~0.7M-1.5M
    # of its tokens in WM-AMT, docs/worlds.md), plus a share of every other source.
    sources: dict[str, int | None] = {"hotpotqa": 20, "musique": 20, "gsm8k": 30,
                                      "search_world": None, "arithmetic_world": 150}
    source_paths: dict[str, str] = {}
    canonical_files: list[str] = []
    policies: list[PolicySpec] = [
        PolicySpec(name="oracle", error_rate=0.0, samples=1),
        PolicySpec(name="noisy-0.25", error_rate=0.25, samples=2),
        PolicySpec(name="noisy-0.5", error_rate=0.5, samples=2),
    ]
    top_k: int = 3
    passage_max_words: int | None = PASSAGE_MAX_WORDS
    rollout: RolloutConfig = RolloutConfig()
    seed: int = 0
    max_bad_fraction: float = Field(0.05, ge=0.0, le=1.0)


def _read_hub(dataset_id: str, seen_ids: set[str]) -> IngestResult:
    from datasets import load_dataset  # only on machines with a hub

    return validate_records(load_dataset(dataset_id, split="train"), f"hf://{dataset_id}", seen_ids)


def _episodes(tasks: list[Task], spec: PolicySpec, envs: dict, cfg: IngestConfig) -> list[dict]:
    if spec.checkpoint is not None:
        return model_trajectories(tasks, spec.checkpoint, spec.name, spec.samples, spec.temperature, envs,
                                  cfg.rollout, seed=cfg.seed)
    policy = BehaviorPolicy(spec.name, spec.error_rate)
    return [
        run_policy(task, policy, envs[task.corpus] if task.domain == "search" else envs["math"], seed=cfg.seed * 1000 + k)
        for task in tasks for k in range(spec.samples)
    ]


def generate_trajectories(cfg: IngestConfig, retriever: RetrieverConfig | None = None,
                          worlds: WorldDirs | None = None) -> tuple[IngestResult, dict[str, int]]:
    """Run the behavior policies on every source's training tasks and read the canonical files.

    Args:
        cfg: what to read and run.
        retriever: the search environments' retriever (default: BM25).
        worlds: generated world directories (source name -> directory).

    Returns:
        (result, tasks per source).

    Raises:
        KeyError: unknown source name; FileNotFoundError: a missing input file.
    """
    envs = environments(cfg.top_k, cfg.passage_max_words, retriever, worlds)
    result = IngestResult()
    seen_ids: set[str] = set()
    task_counts = {}
    for source, limit in cfg.sources.items():
        path = Path(cfg.source_paths[source]) if source in cfg.source_paths else None
        tasks = training_tasks(source, limit, path, rejects=result.quarantined, worlds=worlds)
        task_counts[source] = len(tasks)
        records = [r for spec in cfg.policies for r in _episodes(tasks, spec, envs, cfg)]
        result.extend(validate_records(records, str(path or source), seen_ids))
    for spec in cfg.canonical_files:
        if spec.startswith("hf://"):
            result.extend(_read_hub(spec.removeprefix("hf://"), seen_ids))
        else:
            result.extend(read_canonical_file(spec, seen_ids))
    return result, task_counts
