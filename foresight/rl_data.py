"""The task set of an FC-RL run: chosen once, snapshotted, and recorded as the run's input.

The FC-RL asset picks the tasks (:func:`rl_tasks`), writes them as a Parquet snapshot whose
content hash goes to the catalog, and the training process rebuilds exactly those tasks
(:func:`load_rl_tasks`), so the audit names the data RL really used.
"""

from __future__ import annotations

import random
from itertools import zip_longest

import pyarrow.parquet as pq

from foresight.registry import WorldDirs, training_tasks
from foresight.tasks import Task


def rl_tasks(sources: dict[str, int | None], num_tasks: int, seed: int, worlds: WorldDirs | None = None) -> list[Task]:
    """Training-split tasks for RL, shuffled per source and interleaved, at most ``num_tasks``.

    Tasks whose (domain, question) repeats an earlier one are left out: a rollout prompt
    must identify its task. ``worlds`` locates generated world sources.
    """
    pools = [training_tasks(source, limit, worlds=worlds) for source, limit in sources.items()]
    rng = random.Random(seed)
    for pool in pools:
        rng.shuffle(pool)
    chosen, seen = [], set()
    for task in (t for group in zip_longest(*pools) for t in group if t is not None):
        if (task.domain, task.question) not in seen:
            seen.add((task.domain, task.question))
            chosen.append(task)
    return chosen[:num_tasks]


def task_rows(tasks: list[Task]) -> list[dict]:
    """The RL task snapshot's rows: what the FC-RL checkpoint was trained on."""
    return [{"task_id": t.task_id, "source": t.source, "domain": t.domain, "question": t.question} for t in tasks]


def load_rl_tasks(path: str, worlds: WorldDirs | None = None) -> list[Task]:
    """Rebuild the tasks of an RL task snapshot (Parquet of :func:`task_rows`).

    Raises:
        KeyError: a task id no longer exists in the training split of its source
            (the source file changed since the snapshot was taken).
    """
    rows = pq.read_table(path).to_pylist()
    by_id = {t.task_id: t for source in {r["source"] for r in rows} for t in training_tasks(source, worlds=worlds)}
    missing = [r["task_id"] for r in rows if r["task_id"] not in by_id]
    if missing:
        raise KeyError(f"{path}: {len(missing)} task ids not in the training split any more, e.g. {missing[:3]}")
    return [by_id[r["task_id"]] for r in rows]
