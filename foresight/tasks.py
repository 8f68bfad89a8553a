"""Tasks (questions with gold answers) read from the shipped real datasets.

Held-out rule, the same for every source file: the record at 0-based position ``i`` is in
the evaluation split when ``i % 5 == 4`` and in the training split otherwise. Trajectory
ingestion only reads training-split records; benchmarks only read evaluation-split records
(see docs/data.md). NQ (FlashRAG ``test.jsonl``) is evaluation only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Split = Literal["train", "eval"]
HOLDOUT_MODULUS = 5


def split_of(index: int) -> Split:
    """Split of the record at 0-based position ``index`` of its source file."""
    return "eval" if index % HOLDOUT_MODULUS == HOLDOUT_MODULUS - 1 else "train"


@dataclass
class Task:
    """One question of one source.

    Attributes:
        task_id: stable id ``<source>:<record id>``.
        domain: "search" or "math".
        corpus: name of the corpus the search environment retrieves from ("" for math).
        oracle: what an oracle behavior policy may use: for search, ``queries`` (one per
            hop) and ``distractors`` (titles of non-supporting passages); for math,
            ``calculations`` ([(text before, expression)]).
    """

    task_id: str
    domain: str
    question: str
    gold_answers: list[str]
    source: str
    corpus: str = ""
    oracle: dict = field(default_factory=dict)


def _read_json(path: Path) -> list[dict]:
    if not path.exists():
        raise FileNotFoundError(f"dataset file not found: {path}")
    return json.loads(path.read_text(encoding="utf-8"))


def _read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        raise FileNotFoundError(f"dataset file not found: {path}")
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _take(records: list[dict], split: Split, limit: int | None) -> list[tuple[int, dict]]:
    chosen = [(i, r) for i, r in enumerate(records) if split_of(i) == split]
    return chosen[:limit] if limit is not None else chosen


def hotpotqa_tasks(path: Path, split: Split, limit: int | None = None) -> list[Task]:
    """HotpotQA in the original distractor format (``supporting_facts``, ``context``).

    Oracle queries: the titles of the supporting facts in order of first mention.
    """
    tasks = []
    for i, rec in _take(_read_json(path), split, limit):
        titles = list(dict.fromkeys(t for t, _ in rec["supporting_facts"]))
        distractors = [t for t, _ in rec["context"] if t not in titles]
        tasks.append(Task(
            task_id=f"hotpotqa:{rec['_id']}", domain="search", question=rec["question"],
            gold_answers=[rec["answer"]], source="hotpotqa", corpus="hotpotqa",
            oracle={"queries": titles, "distractors": distractors, "record": i},
        ))
    return tasks


def _substitute_hops(question: str, answers: list[str]) -> str:
    """Replace MuSiQue's ``#k`` references with the answer of hop k (kept when unknown)."""

    def answer_of(match: re.Match) -> str:
        k = int(match.group(1))
        return answers[k - 1] if k <= len(answers) else match.group(0)

    return re.sub(r"#(\d+)", answer_of, question)


def musique_tasks(path: Path, split: Split, limit: int | None = None) -> list[Task]:
    """MuSiQue (answerable) with ``question_decomposition``.

    Oracle queries: each sub-question with ``#k`` replaced by the answer of hop k.
    """
    tasks = []
    for i, rec in _take(_read_json(path), split, limit):
        answers: list[str] = []
        queries = []
        for hop in rec["question_decomposition"]:
            queries.append(_substitute_hops(hop["question"], answers))
            answers.append(hop["answer"])
        supporting = {hop["paragraph_support_idx"] for hop in rec["question_decomposition"]}
        distractors = [p["title"] for p in rec["paragraphs"] if p["idx"] not in supporting]
        tasks.append(Task(
            task_id=f"musique:{rec['id']}", domain="search", question=rec["question"],
            gold_answers=[rec["answer"], *rec.get("answer_aliases", [])], source="musique",
            corpus="musique", oracle={"queries": queries, "hop_answers": answers[:-1],
                                      "distractors": distractors, "record": i},
        ))
    return tasks


_CALC = re.compile(r"<<([^=<>]+)=([^<>]*)>>")


def gsm8k_tasks(path: Path, split: Split, limit: int | None = None) -> list[Task]:
    """GSM8K worked solutions; each ``<<expr=value>>`` annotation is one calculator call."""
    tasks = []
    for i, rec in _take(_read_jsonl(path), split, limit):
        solution, _, final = rec["answer"].rpartition("####")
        calculations = []
        pending = ""
        for line in solution.strip().splitlines():
            match = _CALC.search(line)
            if match is None:
                pending = f"{pending} {line.strip()}".strip()
                continue
            before = line[: match.start()].rstrip(" =$")
            calculations.append((f"{pending} {before}".strip(), match.group(1).strip()))
            pending = ""
        tasks.append(Task(
            task_id=f"gsm8k:{i}", domain="math", question=rec["question"],
            gold_answers=[final.strip().replace(",", "")], source="gsm8k",
            oracle={"calculations": calculations, "record": i},
        ))
    return tasks


def flashrag_tasks(path: Path, name: str, corpus: str, limit: int | None = None) -> list[Task]:
    """FlashRAG question file ``{"id", "question", "golden_answers"}`` (evaluation only)."""
    tasks = []
    for rec in _read_jsonl(path)[:limit]:
        tasks.append(Task(
            task_id=f"{name}:{rec['id']}", domain="search", question=rec["question"],
            gold_answers=list(rec["golden_answers"]), source=name, corpus=corpus,
        ))
    return tasks
