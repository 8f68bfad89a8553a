"""Named corpora, trajectory sources and benchmarks of the embedded default.

Paths default to the samples shipped in ``data/`` (see data/SOURCES.md); every path is a
config value, so full-size local files replace them without code changes.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from foresight.envs import PASSAGE_MAX_WORDS, Environment
from foresight.envs.calculator import CalculatorEnvironment
from foresight.envs.retrieval import BM25Retriever, Passage, load_corpus
from foresight.envs.search import SearchEnvironment
from foresight.paths import DATA_DIR
from foresight.schema import Quarantined
from foresight.tasks import (
    Task,
    flashrag_tasks,
    gsm8k_tasks,
    hotpotqa_tasks,
    musique_tasks,
)

CORPORA: dict[str, list[Path]] = {
    "hotpotqa": [DATA_DIR / "hotpotqa" / "hotpotqa_train_corpus.json"],
    "musique": [DATA_DIR / "musique" / "musique_train_corpus.json"],
    # NQ has no corpus of its own here: it searches everything shipped (FlashRAG-style).
    "combined": [
        DATA_DIR / "hotpotqa" / "hotpotqa_train_corpus.json",
        DATA_DIR / "musique" / "musique_train_corpus.json",
        DATA_DIR / "corpus" / "corpus.jsonl",
    ],
}

SOURCE_FILES: dict[str, Path] = {
    "hotpotqa": DATA_DIR / "hotpotqa" / "hotpotqa_train.json",
    "musique": DATA_DIR / "musique" / "musique_train.json",
    "gsm8k": DATA_DIR / "gsm8k" / "test.jsonl",
    "nq": DATA_DIR / "nq" / "test.jsonl",
}

BENCHMARKS = ("hotpotqa", "musique", "gsm8k", "nq")


@lru_cache(maxsize=8)
def _retriever(paths: tuple[Path, ...]) -> BM25Retriever:
    passages: list[Passage] = []
    for path in paths:
        passages += load_corpus(path)
    return BM25Retriever(passages)


def environments(top_k: int = 3, passage_max_words: int | None = PASSAGE_MAX_WORDS, corpora: tuple[str, ...] = tuple(CORPORA)) -> dict[str, Environment]:
    """Environments keyed as :func:`foresight.agent.run_episodes` expects: corpus names and "math".

    BM25 indexes are built once per process and corpus.
    """
    envs: dict[str, Environment] = {
        name: SearchEnvironment(_retriever(tuple(CORPORA[name])), top_k, passage_max_words) for name in corpora
    }
    envs["math"] = CalculatorEnvironment()
    return envs


def training_tasks(source: str, limit: int | None = None, path: Path | None = None,
                   rejects: list[Quarantined] | None = None) -> list[Task]:
    """Training-split tasks of a trajectory source ("hotpotqa", "musique", "gsm8k").

    Bad source records raise :class:`foresight.tasks.RecordError`, or are appended to
    ``rejects`` when a list is given.

    Raises:
        KeyError: unknown source.
    """
    readers = {"hotpotqa": hotpotqa_tasks, "musique": musique_tasks, "gsm8k": gsm8k_tasks}
    if source not in readers:
        raise KeyError(f"unknown trajectory source {source!r}; known: {sorted(readers)}")
    return readers[source](path or SOURCE_FILES[source], "train", limit, rejects)


def benchmark_tasks(benchmark: str, limit: int | None = None) -> list[Task]:
    """Held-out evaluation tasks of a benchmark partition (see :data:`BENCHMARKS`).

    Raises:
        KeyError: unknown benchmark.
    """
    if benchmark == "hotpotqa":
        return hotpotqa_tasks(SOURCE_FILES["hotpotqa"], "eval", limit)
    if benchmark == "musique":
        return musique_tasks(SOURCE_FILES["musique"], "eval", limit)
    if benchmark == "gsm8k":
        return gsm8k_tasks(SOURCE_FILES["gsm8k"], "eval", limit)
    if benchmark == "nq":
        return flashrag_tasks(SOURCE_FILES["nq"], "nq", corpus="combined", limit=limit)
    raise KeyError(f"unknown benchmark {benchmark!r}; known: {BENCHMARKS}")
