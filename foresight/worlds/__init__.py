"""Generated worlds: seeded, deterministic task sources where a small model can visibly learn.

- :mod:`foresight.worlds.search_world`: a knowledge base of fictional entities rendered as a
  passage corpus (wiki-18 format) with multi-hop questions;
- :mod:`foresight.worlds.arithmetic_world`: multi-step word problems solved with the python tool.

Both give :class:`foresight.tasks.Task` objects with oracle plans, like the real readers, and
write their files (corpus, train and eval questions) so assets can version them.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from foresight.envs.retrieval import write_flashrag_corpus
from foresight.outcome import task_outcome
from foresight.tasks import Task

WORLD_SOURCES = ("search_world", "arithmetic_world")


def config_hash(cfg) -> str:
    """First 12 hex digits of the sha256 of a pydantic config's canonical JSON."""
    return hashlib.sha256(json.dumps(cfg.model_dump(), sort_keys=True).encode()).hexdigest()[:12]


def write_tasks(tasks: list[Task], path: Path) -> None:
    """Write tasks as JSONL (one ``Task.__dict__`` per line)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for task in tasks:
            fh.write(json.dumps(task.__dict__, sort_keys=True) + "\n")


def draw_unique(counts: dict[str, int], make, seen: set[str], attempts_per_task: int = 50) -> list[Task]:
    """Draw tasks with distinct question texts: ``counts[size]`` of each size.

    Args:
        counts: size (hops, operations; a string key as in the configs) -> how many tasks.
        make: ``make(size, index) -> Task | None`` draws one candidate (None = rejected).
        seen: question texts already used (updated), so splits drawn in turn stay disjoint.
        attempts_per_task: give up on a size after this many draws per wanted task (a world
            too small for that many distinct questions yields fewer).
    """
    tasks: list[Task] = []
    for size, wanted in sorted((int(k), v) for k, v in counts.items()):
        made = 0
        for _ in range(wanted * attempts_per_task):
            if made == wanted:
                break
            task = make(size, len(tasks))
            if task is None or task.question in seen:
                continue
            seen.add(task.question)
            tasks.append(task)
            made += 1
    return tasks


def save_world(root: Path, source: str, cfg, train: list[Task], evaluation: list[Task],
               passages: list | None = None, stats: dict | None = None) -> tuple[Path, str]:
    """Write a generated world as ``<root>/<source>-<config hash>/`` and return (dir, data version).

    Files: ``train.jsonl`` and ``eval.jsonl`` (tasks), ``corpus.jsonl`` (wiki-18 format,
    search worlds only) and ``world.json`` (config and stats). The directory is written
    next to its final place and renamed in, so readers never see a half-written world.
    The data version is the sha256 (16 hex digits) of the files' contents.
    """
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"{source}-{config_hash(cfg)}"
    scratch = Path(tempfile.mkdtemp(dir=root, prefix=f".{source}-"))
    write_tasks(train, scratch / "train.jsonl")
    write_tasks(evaluation, scratch / "eval.jsonl")
    if passages is not None:
        write_flashrag_corpus(passages, scratch / "corpus.jsonl")
    (scratch / "world.json").write_text(json.dumps({"source": source, "config": cfg.model_dump(), "stats": stats or {}},
                                                   indent=1, sort_keys=True))
    digest = hashlib.sha256()
    for name in sorted(p.name for p in scratch.iterdir()):
        digest.update(name.encode() + (scratch / name).read_bytes())
    if final.exists():
        shutil.rmtree(final)
    os.replace(scratch, final)
    return final, digest.hexdigest()[:16]


def read_tasks(path: Path, limit: int | None = None) -> list[Task]:
    """Read tasks written by :func:`write_tasks` (the question files of :func:`save_world`).

    Raises:
        FileNotFoundError: no such file (materialize the world asset first).
        ValueError: a line is not a task (names file, line and field).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"world task file not found: {path} (materialize the world asset first)")
    tasks = []
    with path.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            record = json.loads(line)
            try:
                tasks.append(Task(**record))
            except TypeError as err:
                raise ValueError(f"{path}, record {i}, field '<task>': {err}") from err
            if limit is not None and len(tasks) >= limit:
                break
    return tasks


_ONSETS = ["b", "br", "d", "dr", "f", "g", "k", "kr", "l", "m", "n", "p", "r", "s", "st", "t", "v", "z", "th", "sh"]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "or", "el", "an"]


def make_names(rng: random.Random, count: int, syllables: int, taken: set[str]) -> list[str]:
    """``count`` distinct capitalized made-up words of ``syllables`` syllables, none in ``taken``.

    Raises:
        ValueError: the syllable space is too small for ``count`` new names.
    """
    space = (len(_ONSETS) * len(_VOWELS)) ** syllables
    if count > (space - len(taken)) // 2:
        raise ValueError(f"cannot draw {count} distinct {syllables}-syllable names")
    names: list[str] = []
    while len(names) < count:
        word = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(syllables)).capitalize()
        if word not in taken:
            taken.add(word)
            names.append(word)
    return names


def majority_baseline(train: list[Task], evaluation: list[Task]) -> tuple[float, list[str]]:
    """Success rate of a trivial policy that never acts: it answers every evaluation question
    with the most common training answer of the same kind (``oracle["answer_key"]``, e.g. the
    final relation of a search-world question).

    Returns:
        (success rate in [0, 1], the predicted answer per evaluation task).
    """
    by_key: dict[str, Counter] = {}
    for task in train:
        by_key.setdefault(task.oracle.get("answer_key", ""), Counter())[task.gold_answers[0]] += 1
    overall = Counter(t.gold_answers[0] for t in train)
    predictions = []
    for task in evaluation:
        counts = by_key.get(task.oracle.get("answer_key", ""), overall)
        predictions.append(counts.most_common(1)[0][0] if counts else "")
    if not evaluation:
        return 0.0, []
    hits = [task_outcome(t.domain, p, t.gold_answers) for t, p in zip(evaluation, predictions)]
    return sum(hits) / len(evaluation), predictions
