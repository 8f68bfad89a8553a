"""Trajectory ingestion: behavior policies on real tasks, plus canonical-schema files.

For each training-split task of each source, every behavior policy runs ``samples``
episodes (different seeds), so tasks carry sibling trajectories that share prefixes: the
Monte Carlo labels of :mod:`foresight.blocks` rest on them. Every trajectory passes
:func:`foresight.schema.validate_trajectory`; failures are quarantined, never dropped.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from foresight.envs import PASSAGE_MAX_WORDS
from foresight.policies import BehaviorPolicy, run_policy
from foresight.registry import environments, training_tasks
from foresight.schema import IngestResult, read_canonical_file, validate_records


class PolicySpec(BaseModel):
    """A behavior policy and how many episodes it runs per task."""

    name: str
    error_rate: float = Field(ge=0.0, le=1.0)
    samples: int = Field(1, ge=1)


class IngestConfig(BaseModel):
    """What trajectory ingestion reads and generates.

    Attributes:
        sources: generated sources ("hotpotqa", "musique", "gsm8k") -> max training tasks
            (None = all of the training split).
        source_paths: optional override of a source's file.
        canonical_files: JSONL/Parquet files (or ``hf://<dataset id>`` where a hub is
            reachable) already in the canonical schema.
        policies: behavior policies (oracle and noisy oracles).
        top_k, passage_max_words: search environment settings.
        seed: seeds the policies' mistakes.
        max_bad_fraction: the asset check fails above this quarantined share.
    """

    sources: dict[str, int | None] = {"hotpotqa": None, "musique": None, "gsm8k": 200}
    source_paths: dict[str, str] = {}
    canonical_files: list[str] = []
    policies: list[PolicySpec] = [
        PolicySpec(name="oracle", error_rate=0.0, samples=1),
        PolicySpec(name="noisy-0.25", error_rate=0.25, samples=2),
        PolicySpec(name="noisy-0.5", error_rate=0.5, samples=2),
    ]
    top_k: int = 3
    passage_max_words: int | None = PASSAGE_MAX_WORDS
    seed: int = 0
    max_bad_fraction: float = Field(0.05, ge=0.0, le=1.0)


def _read_hub(dataset_id: str, seen_ids: set[str]) -> IngestResult:
    from datasets import load_dataset  # only on machines with a hub

    return validate_records(load_dataset(dataset_id, split="train"), f"hf://{dataset_id}", seen_ids)


def generate_trajectories(cfg: IngestConfig) -> tuple[IngestResult, dict[str, int]]:
    """Run the behavior policies and read the canonical files.

    Returns:
        (result, tasks per source).

    Raises:
        KeyError: unknown source name; FileNotFoundError: a missing input file.
    """
    envs = environments(cfg.top_k, cfg.passage_max_words)
    policies = [(BehaviorPolicy(p.name, p.error_rate), p.samples) for p in cfg.policies]
    result = IngestResult()
    seen_ids: set[str] = set()
    task_counts = {}
    for source, limit in cfg.sources.items():
        path = Path(cfg.source_paths[source]) if source in cfg.source_paths else None
        tasks = training_tasks(source, limit, path, rejects=result.quarantined)
        task_counts[source] = len(tasks)
        records = []
        for task in tasks:
            env = envs[task.corpus] if task.domain == "search" else envs["math"]
            for policy, samples in policies:
                for sample in range(samples):
                    records.append(run_policy(task, policy, env, seed=cfg.seed * 1000 + sample))
        result.extend(validate_records(records, str(path or source), seen_ids))
    for spec in cfg.canonical_files:
        if spec.startswith("hf://"):
            result.extend(_read_hub(spec.removeprefix("hf://"), seen_ids))
        else:
            result.extend(read_canonical_file(spec, seen_ids))
    return result, task_counts
