"""Readers of the math evaluation sets: MATH-500 and AIME 2024/2025 (see data/SOURCES.md).

These are evaluation-only benchmarks: every record is an evaluation task (the ``split_of``
held-out rule of :mod:`foresight.tasks` does not apply, as for NQ), and no record is ever
used for training. Bad records raise :class:`foresight.tasks.RecordError` naming file,
record and field, or are appended to ``rejects`` when a list is given.
"""

from __future__ import annotations

import re
from pathlib import Path

from foresight.outcome import aime_answer
from foresight.schema import Quarantined
from foresight.tasks import RecordError, Task, _build, _read_jsonl

# LLMEval prompts end with this instruction; the agent's own format replaces it.
_INSTRUCTION = re.compile(r"\s*Please reason step by step, and put your final answer within \\boxed\{\}\.?\s*$")


def _text(path: Path, index: int, rec: dict, field: str) -> str:
    """A required non-empty string field (KeyError when missing, reported by ``_build``)."""
    value = rec[field]
    if not isinstance(value, str) or not value.strip():
        raise RecordError(path, index, field, f"expected a non-empty string, got {value!r:.60}")
    return value


def _records(path: Path, limit: int | None) -> list[tuple[int, object]]:
    return [(i, r) for i, r in enumerate(_read_jsonl(path)) if r is not None][:limit]


def _unique(path: Path, seen: set[str], index: int, field: str, task_id: str) -> str:
    if task_id in seen:
        raise RecordError(path, index, field, f"duplicate task id {task_id!r}")
    seen.add(task_id)
    return task_id


def math500_tasks(path: str | Path, limit: int | None = None, rejects: list[Quarantined] | None = None) -> list[Task]:
    """MATH-500 (the PRM800K test split) from JSONL ``{problem, solution, answer, subject, level, unique_id}``.

    Args:
        path: e.g. ``data/math500/test.jsonl`` (hkust-nlp/simpleRL-reason's copy).
        limit: keep the first ``limit`` records (blank lines not counted).
        rejects: collects bad records instead of raising.

    Returns:
        Tasks ``math500:<unique_id>`` (record index when there is none) with the LaTeX
        answer as the single gold answer; ``oracle`` holds ``solution``, ``subject``,
        ``level`` (1-5) where present and ``record`` (0-based line).

    Raises:
        FileNotFoundError: no such file.
        RecordError: a missing/empty ``problem`` or ``answer``, a duplicate id, an
            unreadable line (when ``rejects`` is None).
    """
    path = Path(path)
    seen: set[str] = set()

    def make(i: int, rec: dict) -> Task:
        question, answer = _text(path, i, rec, "problem"), _text(path, i, rec, "answer")
        task_id = _unique(path, seen, i, "unique_id", f"math500:{rec.get('unique_id', i)}")
        oracle = {key: rec[key] for key in ("solution", "subject", "level") if rec.get(key) not in (None, "")}
        return Task(task_id=task_id, domain="math", question=question, gold_answers=[answer.strip()],
                    source="math500", oracle={**oracle, "record": i})

    return _build(path, _records(path, limit), make, rejects)


def aime_tasks(path: str | Path, limit: int | None = None, rejects: list[Quarantined] | None = None,
               source: str | None = None) -> list[Task]:
    """AIME problems; the format is detected per record by its fields.

    - LLMEval ``{prompt, answer}`` (``aime24.jsonl``, ``aime25.jsonl``): the trailing
      "Please reason step by step, ... \\boxed{}." instruction is stripped from ``prompt``;
      task ids use the record index.
    - Qwen2.5-Math / GAIR AIME-Preview ``{id, problem, answer[, solution, url]}``.

    Answers must be integers 0..999 (a JSON integer, or a digit string such as ``"025"``);
    gold answers are normalized to their decimal form (``"25"``).

    Args:
        path: a JSONL file.
        limit: keep the first ``limit`` records (blank lines not counted).
        rejects: collects bad records instead of raising.
        source: source name and task-id prefix; defaults to the file name without
            extension (``aime24``, ``aime25``).

    Returns:
        Tasks ``<source>:<id or index>``; ``oracle`` holds ``solution`` where the file has
        a non-empty one, and ``record`` (0-based line).

    Raises:
        FileNotFoundError: no such file.
        RecordError: no ``prompt``/``problem``, an answer that is not an integer in
            0..999, a duplicate id, an unreadable line (when ``rejects`` is None).
    """
    path = Path(path)
    source = source or path.stem
    seen: set[str] = set()

    def make(i: int, rec: dict) -> Task:
        if "prompt" in rec:
            question = _INSTRUCTION.sub("", _text(path, i, rec, "prompt")).strip()
        else:
            question = _text(path, i, rec, "problem").strip()
        raw = rec["answer"]
        if isinstance(raw, bool):  # JSON true/false are ints to Python
            value = None
        elif isinstance(raw, int):
            value = raw if 0 <= raw <= 999 else None
        else:
            value = aime_answer(raw) if isinstance(raw, str) else None
        if value is None:
            raise RecordError(path, i, "answer", f"not an integer in 0..999: {raw!r:.60}")
        task_id = _unique(path, seen, i, "id", f"{source}:{rec.get('id', i)}")
        oracle = {"solution": rec["solution"]} if isinstance(rec.get("solution"), str) and rec["solution"].strip() else {}
        return Task(task_id=task_id, domain="math", question=question, gold_answers=[str(value)],
                    source=source, oracle={**oracle, "record": i})

    return _build(path, _records(path, limit), make, rejects)
