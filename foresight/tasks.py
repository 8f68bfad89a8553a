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

from foresight.schema import Quarantined, SchemaError, read_jsonl

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
            hop), ``hop_answers``, ``findings`` (optional, one per query: the sentence the
            next think states once that search found its answer) and ``distractors`` (titles
            or names to search by mistake);
            for math, ``calculations`` ([(text before, expression)], one python call each;
            ``chain_inputs`` when each starts from the previous result). Generated worlds add
            ``hops``/``ops`` and ``answer_key`` (grouping for metrics and the trivial
            baseline); MATH-500/AIME carry only ``solution`` (evaluation-only).
    """

    task_id: str
    domain: str
    question: str
    gold_answers: list[str]
    source: str
    corpus: str = ""
    oracle: dict = field(default_factory=dict)


class RecordError(ValueError):
    """A source record lacks a field or has an unusable value; names file, record and field."""

    def __init__(self, path: Path, index: int, field: str, reason: str):
        super().__init__(f"{path}, record {index}, field {field!r}: {reason}")
        self.rejected = Quarantined(str(path), index, field, reason, "")


def _read_json(path: Path) -> list:
    if not path.exists():
        raise FileNotFoundError(f"dataset file not found: {path}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not a readable JSON file: {err}") from err


def _read_jsonl(path: Path) -> list:
    if not path.exists():
        raise FileNotFoundError(f"dataset file not found: {path}")
    return read_jsonl(path)


def _take(records: list, split: Split, limit: int | None) -> list[tuple[int, dict]]:
    chosen = [(i, r) for i, r in enumerate(records) if r is not None and split_of(i) == split]
    return chosen[:limit] if limit is not None else chosen


def _build(path: Path, records: list[tuple[int, object]], make, rejects: list[Quarantined] | None) -> list[Task]:
    """Apply ``make(index, record)`` to each record; failures raise, or go to ``rejects``.

    Raises:
        RecordError: a bad record when ``rejects`` is None (naming file, record, field).
    """
    tasks = []
    for index, record in records:
        try:
            if isinstance(record, SchemaError):  # an unreadable JSONL line
                raise RecordError(path, index, record.field, record.reason)
            if not isinstance(record, dict):
                raise RecordError(path, index, "<record>", f"expected an object, got {type(record).__name__}")
            try:
                tasks.append(make(index, record))
            except KeyError as err:
                raise RecordError(path, index, str(err.args[0]), "missing") from err
        except RecordError as err:
            if rejects is None:
                raise
            rejects.append(err.rejected)
    return tasks


def hotpotqa_tasks(path: Path, split: Split, limit: int | None = None, rejects: list[Quarantined] | None = None) -> list[Task]:
    """HotpotQA in the original distractor format (``supporting_facts``, ``context``).

    Oracle queries: the titles of the supporting facts in order of first mention. Bad
    records raise :class:`RecordError`, or are appended to ``rejects`` when given.
    """

    def make(i: int, rec: dict) -> Task:
        titles = list(dict.fromkeys(t for t, _ in rec["supporting_facts"]))
        distractors = [t for t, _ in rec["context"] if t not in titles]
        return Task(
            task_id=f"hotpotqa:{rec['_id']}", domain="search", question=rec["question"],
            gold_answers=[rec["answer"]], source="hotpotqa", corpus="hotpotqa",
            oracle={"queries": titles, "distractors": distractors, "record": i},
        )

    return _build(path, _take(_read_json(path), split, limit), make, rejects)


def _substitute_hops(question: str, answers: list[str]) -> str:
    """Replace MuSiQue's ``#k`` references with the answer of hop k (kept when unknown)."""

    def answer_of(match: re.Match) -> str:
        k = int(match.group(1))
        return answers[k - 1] if k <= len(answers) else match.group(0)

    return re.sub(r"#(\d+)", answer_of, question)


def musique_tasks(path: Path, split: Split, limit: int | None = None, rejects: list[Quarantined] | None = None) -> list[Task]:
    """MuSiQue (answerable) with ``question_decomposition``.

    Oracle queries: each sub-question with ``#k`` replaced by the answer of hop k.
    """

    def make(i: int, rec: dict) -> Task:
        answers: list[str] = []
        queries = []
        for hop in rec["question_decomposition"]:
            queries.append(_substitute_hops(hop["question"], answers))
            answers.append(hop["answer"])
        supporting = {hop["paragraph_support_idx"] for hop in rec["question_decomposition"]}
        distractors = [p["title"] for p in rec["paragraphs"] if p["idx"] not in supporting]
        return Task(
            task_id=f"musique:{rec['id']}", domain="search", question=rec["question"],
            gold_answers=[rec["answer"], *rec.get("answer_aliases", [])], source="musique",
            corpus="musique", oracle={"queries": queries, "hop_answers": answers[:-1],
                                      "findings": [f"{q} {a}." for q, a in zip(queries, answers)],
                                      "distractors": distractors, "record": i},
        )

    return _build(path, _take(_read_json(path), split, limit), make, rejects)


_CALC = re.compile(r"<<([^=<>]+)=([^<>]*)>>")


def gsm8k_tasks(path: Path, split: Split, limit: int | None = None, rejects: list[Quarantined] | None = None) -> list[Task]:
    """GSM8K worked solutions; each ``<<expr=value>>`` annotation is one calculator call."""

    def make(i: int, rec: dict) -> Task:
        solution, marker, final = rec["answer"].rpartition("####")
        if not marker or not final.strip():
            raise RecordError(path, i, "answer", "no final answer after '####'")
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
        return Task(
            task_id=f"gsm8k:{i}", domain="math", question=rec["question"],
            gold_answers=[final.strip().replace(",", "")], source="gsm8k",
            oracle={"calculations": calculations, "record": i},
        )

    return _build(path, _take(_read_jsonl(path), split, limit), make, rejects)


def flashrag_tasks(path: Path, name: str, corpus: str, limit: int | None = None) -> list[Task]:
    """Evaluation-only question files: FlashRAG ``{"id", "question", "golden_answers"}`` or
    R1-Searcher ``{"idx", "question", "answer"}`` (the 2Wiki/MuSiQue/HotpotQA 500-question sets).
    """

    def make(i: int, rec: dict) -> Task:
        golds = list(rec["golden_answers"]) if "golden_answers" in rec else [rec["answer"]]
        record_id = rec["id"] if "id" in rec else rec["idx"]
        return Task(
            task_id=f"{name}:{record_id}", domain="search", question=rec["question"],
            gold_answers=golds, source=name, corpus=corpus,
        )

    records = [(i, r) for i, r in enumerate(_read_jsonl(path)) if r is not None][:limit]
    return _build(path, records, make, None)
