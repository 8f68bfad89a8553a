"""Named corpora, trajectory sources and benchmarks of the embedded default.

Paths default to the samples shipped in ``data/`` (see data/SOURCES.md); every path is a
config value, so full-size local files replace them without code changes.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from foresight.envs import PASSAGE_MAX_WORDS, Environment
from foresight.envs.retrieval import (
    Passage,
    RetrieverConfig,
    build_retriever,
    load_corpus,
)
from foresight.envs.sandbox import PythonSandbox, SandboxConfig
from foresight.envs.search import SearchEnvironment
from foresight.math_tasks import aime_tasks, math500_tasks
from foresight.paths import DATA_DIR, subdir
from foresight.schema import Quarantined
from foresight.tasks import (
    Task,
    flashrag_tasks,
    gsm8k_tasks,
    hotpotqa_tasks,
    musique_tasks,
)
from foresight.worlds import WORLD_SOURCES, read_tasks

CORPORA: dict[str, list[Path]] = {
    "hotpotqa": [DATA_DIR / "hotpotqa" / "hotpotqa_train_corpus.json"],
    "musique": [DATA_DIR / "musique" / "musique_train_corpus.json"],
    "2wiki": [DATA_DIR / "2wikimultihopqa" / "2wikimultihopqa_corpus.json"],
    # NQ has no corpus of its own here: it searches everything shipped (FlashRAG-style).
    "combined": [
        DATA_DIR / "hotpotqa" / "hotpotqa_train_corpus.json",
        DATA_DIR / "musique" / "musique_train_corpus.json",
        DATA_DIR / "2wikimultihopqa" / "2wikimultihopqa_corpus.json",
        DATA_DIR / "corpus" / "corpus.jsonl",
        DATA_DIR / "corpus" / "filtered_kilt_sample_100.jsonl",
    ],
}

SOURCE_FILES: dict[str, Path] = {
    "hotpotqa": DATA_DIR / "hotpotqa" / "hotpotqa_train.json",
    "musique": DATA_DIR / "musique" / "musique_train.json",
    "2wiki": DATA_DIR / "2wikimultihopqa" / "2wiki_500.jsonl",
    "gsm8k": DATA_DIR / "gsm8k" / "test.jsonl",
    "nq": DATA_DIR / "nq" / "test.jsonl",
    "math500": DATA_DIR / "math500" / "test.jsonl",
    "aime24": DATA_DIR / "aime" / "aime24.jsonl",
    "aime25": DATA_DIR / "aime" / "aime25.jsonl",
}

# Benchmark partitions: the real held-out sets, then the generated worlds' evaluation splits.
BENCHMARKS = ("hotpotqa", "musique", "2wiki", "nq", "gsm8k", "math500", "aime", *WORLD_SOURCES)

# Where a generated world lives: source name -> directory written by foresight.worlds.save_world.
WorldDirs = dict[str, str]


def _world_dir(source: str, worlds: WorldDirs | None) -> Path:
    if not worlds or source not in worlds:
        raise KeyError(f"no directory for generated world {source!r}: materialize the {source} asset first "
                       f"(known worlds: {sorted(worlds or {})})")
    return Path(worlds[source])


def corpora(worlds: WorldDirs | None = None) -> dict[str, list[Path]]:
    """Corpus name -> files: the shipped corpora plus each generated search world's corpus."""
    found = dict(CORPORA)
    for source, directory in (worlds or {}).items():
        if (Path(directory) / "corpus.jsonl").exists():
            found[source] = [Path(directory) / "corpus.jsonl"]
    return found


@lru_cache(maxsize=8)
def _retriever(paths: tuple[Path, ...], cfg_json: str):
    passages: list[Passage] = []
    for path in paths:
        passages += load_corpus(path)
    return build_retriever(RetrieverConfig.model_validate_json(cfg_json), passages, cache_dir=subdir("indexes"))


def environments(top_k: int = 3, passage_max_words: int | None = PASSAGE_MAX_WORDS,
                 retriever: RetrieverConfig | None = None, worlds: WorldDirs | None = None,
                 sandbox: SandboxConfig | None = None) -> dict[str, Environment]:
    """Environments keyed as :func:`foresight.agent.run_episodes` expects: corpus names and "math".

    Search environments are built lazily, once per process, corpus and retriever config
    (indexes are also cached on disk by content hash); "math" is the python sandbox.
    """
    cfg_json = (retriever or RetrieverConfig()).model_dump_json()
    envs: dict[str, Environment] = {
        name: _LazySearch(tuple(paths), cfg_json, top_k, passage_max_words) for name, paths in corpora(worlds).items()
    }
    envs["math"] = PythonSandbox(sandbox or SandboxConfig())
    return envs


class _LazySearch:
    """A search environment whose retriever is built on its first action (most runs use one corpus)."""

    def __init__(self, paths: tuple[Path, ...], cfg_json: str, top_k: int, passage_max_words: int | None):
        self._args = (paths, cfg_json)
        self._settings = (top_k, passage_max_words)
        self._env: SearchEnvironment | None = None

    def step(self, action_type: str, action: str) -> str:
        if self._env is None:
            self._env = SearchEnvironment(_retriever(*self._args), *self._settings)
        return self._env.step(action_type, action)


TRAINING_SOURCES = ("hotpotqa", "musique", "gsm8k", *WORLD_SOURCES)


def training_tasks(source: str, limit: int | None = None, path: Path | None = None,
                   rejects: list[Quarantined] | None = None, worlds: WorldDirs | None = None) -> list[Task]:
    """Training-split tasks of a trajectory source (see :data:`TRAINING_SOURCES`).

    Bad source records raise :class:`foresight.tasks.RecordError`, or are appended to
    ``rejects`` when a list is given. Generated worlds are read from ``worlds``.

    Raises:
        KeyError: unknown source, or a world without a directory.
    """
    if source in WORLD_SOURCES:
        return read_tasks(Path(path) / "train.jsonl" if path else _world_dir(source, worlds) / "train.jsonl", limit)
    readers = {"hotpotqa": hotpotqa_tasks, "musique": musique_tasks, "gsm8k": gsm8k_tasks}
    if source not in readers:
        raise KeyError(f"unknown trajectory source {source!r}; known: {TRAINING_SOURCES}")
    return readers[source](path or SOURCE_FILES[source], "train", limit, rejects)


def benchmark_tasks(benchmark: str, limit: int | None = None, worlds: WorldDirs | None = None) -> list[Task]:
    """Held-out evaluation tasks of a benchmark partition (see :data:`BENCHMARKS`).

    Raises:
        KeyError: unknown benchmark, or a world without a directory.
    """
    if benchmark in WORLD_SOURCES:
        return read_tasks(_world_dir(benchmark, worlds) / "eval.jsonl", limit)
    if benchmark == "hotpotqa":
        return hotpotqa_tasks(SOURCE_FILES["hotpotqa"], "eval", limit)
    if benchmark == "musique":
        return musique_tasks(SOURCE_FILES["musique"], "eval", limit)
    if benchmark == "gsm8k":
        return gsm8k_tasks(SOURCE_FILES["gsm8k"], "eval", limit)
    if benchmark == "nq":
        return flashrag_tasks(SOURCE_FILES["nq"], "nq", corpus="combined", limit=limit)
    if benchmark == "2wiki":
        return flashrag_tasks(SOURCE_FILES["2wiki"], "2wiki", corpus="2wiki", limit=limit)
    if benchmark == "math500":
        return math500_tasks(SOURCE_FILES["math500"], limit)
    if benchmark == "aime":
        # AIME 2024 and 2025 alternate, so a small limit still samples both years.
        years = [aime_tasks(SOURCE_FILES["aime24"]), aime_tasks(SOURCE_FILES["aime25"])]
        mixed = [t for pair in zip(*years) for t in pair]
        return mixed[:limit]
    raise KeyError(f"unknown benchmark {benchmark!r}; known: {BENCHMARKS}")
