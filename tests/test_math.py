import json
import time

import pytest

from foresight.math_tasks import aime_tasks, math500_tasks
from foresight.outcome import (
    MAX_ANSWER_CHARS,
    aime_answer,
    extract_boxed,
    math_equivalent,
    task_outcome,
)
from foresight.paths import DATA_DIR
from foresight.tasks import RecordError

MATH500 = DATA_DIR / "math500" / "test.jsonl"
AIME24 = DATA_DIR / "aime" / "aime24.jsonl"
AIME25 = DATA_DIR / "aime" / "aime25.jsonl"


@pytest.mark.parametrize("text, expected", [
    (r"so \boxed{\frac{1}{2}}.", r"\frac{1}{2}"),
    (r"\boxed{1} then \boxed{\left( 3, \frac{\pi}{2} \right)}", r"\left( 3, \frac{\pi}{2} \right)"),
    (r"$\boxed{ \{1, 2\} }$", r"\{1, 2\}"),
    (r"\fbox{42}", "42"),
    (r"\boxed 5$", "5"),
    (r"\boxed{}", ""),
    (r"\boxed{\frac{1}{2}", None),  # the last box never closes
    ("no box here", None),
    (r"\boxedx{3}", None),
])
def test_extract_boxed(text, expected):
    assert extract_boxed(text) == expected


@pytest.mark.parametrize("prediction, gold", [
    (r"\boxed{18}", "18"),
    ("18.0", "18"),
    (r"The answer is \boxed{\dfrac{1}{2}}.", "0.5"),
    ("1/2", r"\frac12"),
    (r"\boxed{(3, \pi/2)}", r"\left( 3, \frac{\pi}{2} \right)"),
    (r"\frac{\sqrt{2}}{2}", r"\frac{1}{\sqrt2}"),
    (r"\boxed{2\sqrt{3}}", r"\sqrt{12}"),
    (r"\begin{pmatrix} -\frac{1}{3} \\ \frac{2}{3} \\ \frac{5}{3} \end{pmatrix}",
     r"\begin{pmatrix} -1/3 \\ 2/3 \\ 5/3 \end{pmatrix}"),
    ("025", "25"),
])
def test_equivalent_forms_are_correct(prediction, gold):
    assert task_outcome("math", prediction, [gold]) == 1.0


@pytest.mark.parametrize("prediction, gold", [
    (r"\boxed{17}", "18"),
    (r"\boxed{18} \boxed{17}", "18"),  # the last box is the answer
    ("1, 2, 3", "3"),  # no last-number extraction from free text
    (r"2\sqrt{3}", "2"),
    (r"\boxed{3}", r"\left( 3, \frac{\pi}{2} \right)"),
    (r"\boxed{}", "0"),
])
def test_wrong_answers_are_wrong(prediction, gold):
    assert task_outcome("math", prediction, [gold]) == 0.0


def test_guards_keep_hostile_answers_fast():
    assert not math_equivalent("1" * (MAX_ANSWER_CHARS + 1), "1" * (MAX_ANSWER_CHARS + 1))
    start = time.monotonic()
    for hostile in [r"9^{9^{9^{9}}}", "9**9**9**9", r"(10^{10})!", r"\sum_{k=1}^{10^{9}} k^k", r"2^{2^{20}}"]:
        assert not math_equivalent(rf"\boxed{{{hostile}}}", "18"), hostile
    assert time.monotonic() - start < 5.0
    assert math_equivalent(r"\boxed{2^{100}}", "1267650600228229401496703205376")


@pytest.mark.parametrize("text, expected", [
    ("025", 25), ("204", 204), (r"\boxed{0}", 0), ("$999$", 999), (" 7 ", 7),
    ("1000", None), ("3.5", None), ("-4", None), ("25.0", None), ("", None), ("١٢", None), (r"\boxed{x}", None),
])
def test_aime_answer(text, expected):
    assert aime_answer(text) == expected


def test_math500_reader_on_the_shipped_file():
    tasks = math500_tasks(MATH500)
    assert len(tasks) == 500 and len({t.task_id for t in tasks}) == 500
    first = tasks[0]
    assert first.task_id == "math500:test/precalculus/807.json" and first.domain == "math"
    assert first.gold_answers == [r"\left( 3, \frac{\pi}{2} \right)"]
    assert first.oracle["level"] == 2 and extract_boxed(first.oracle["solution"]) == first.gold_answers[0]
    assert len(math500_tasks(MATH500, limit=7)) == 7


def test_aime_readers_on_the_shipped_files():
    years = {path.stem: aime_tasks(path) for path in (AIME24, AIME25)}
    assert {k: len(v) for k, v in years.items()} == {"aime24": 30, "aime25": 30}
    first = years["aime24"][0]
    assert first.task_id == "aime24:0" and first.gold_answers == ["204"] and first.source == "aime24"
    assert first.question.startswith("Every morning Aya") and first.question.endswith("coffee shop.")
    for task in years["aime24"] + years["aime25"]:
        assert "Please reason" not in task.question and aime_answer(task.gold_answers[0]) is not None


def _write_jsonl(path, records):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")


def test_aime_reader_accepts_the_qwen_format_and_quarantines_bad_answers(tmp_path):
    path = tmp_path / "aime_mixed.jsonl"
    _write_jsonl(path, [
        {"id": 60, "problem": "Find x.", "solution": "It is $\\boxed{25}$.", "answer": "025"},
        {"id": 61, "problem": "Find y.", "answer": "1000"},
        {"prompt": "Find z.\nPlease reason step by step, and put your final answer within \\boxed{}.", "answer": 3.5},
        {"id": "I-4", "problem": "Find w.", "answer": True},
        {"id": 60, "problem": "Again.", "answer": "1"},
        {"prompt": "Find v.", "answer": 7},
        "{not json",
    ])
    rejects = []
    tasks = aime_tasks(path, rejects=rejects, source="aime")
    assert [(t.task_id, t.gold_answers, t.question) for t in tasks] == [
        ("aime:60", ["25"], "Find x."), ("aime:5", ["7"], "Find v.")]
    assert tasks[0].oracle["solution"].endswith("$\\boxed{25}$.")
    assert [(r.file, r.record, r.field) for r in rejects] == [
        (str(path), 1, "answer"), (str(path), 2, "answer"), (str(path), 3, "answer"), (str(path), 4, "id"),
        (str(path), 6, "<json>")]
    with pytest.raises(RecordError, match=r"record 1, field 'answer': not an integer in 0\.\.999"):
        aime_tasks(path)


def test_math500_reader_quarantines_a_bad_record(tmp_path):
    good = json.loads(MATH500.read_text(encoding="utf-8").splitlines()[0])
    path = tmp_path / "math500.jsonl"
    _write_jsonl(path, [good, {**good, "unique_id": "x", "answer": ""}, {"problem": "no answer", "unique_id": "y"}])
    rejects = []
    assert [t.task_id for t in math500_tasks(path, rejects=rejects)] == ["math500:test/precalculus/807.json"]
    assert [(r.record, r.field) for r in rejects] == [(1, "answer"), (2, "answer")]
    assert "missing" in rejects[1].reason
