import json
import subprocess
import sys

import pytest

from foresight.envs.retrieval import (
    BM25Retriever,
    Passage,
    format_passages,
    load_corpus,
)
from foresight.envs.sandbox import PythonSandbox
from foresight.envs.search import SearchEnvironment
from foresight.outcome import task_outcome
from foresight.policies import BehaviorPolicy, run_policy
from foresight.registry import CORPORA, SOURCE_FILES, benchmark_tasks, training_tasks
from foresight.tasks import gsm8k_tasks, split_of

PASSAGES = [
    Passage("1", "Acme", "Acme Corporation was founded by Jane Roe in Springfield."),
    Passage("2", "Globex", "Globex is a multinational based in Cypress Creek."),
    Passage("3", "Initech", "Initech makes software and TPS reports."),
]


def test_passage_formatting_follows_search_r1():
    text = format_passages(PASSAGES[:2], max_words=3)
    assert text.splitlines() == ["Doc 1 (Title: Acme) Acme Corporation was", "Doc 2 (Title: Globex) Globex is a"]


def test_bm25_finds_the_passage_of_a_known_query():
    env = SearchEnvironment(BM25Retriever(PASSAGES), top_k=2)
    assert env.retriever.retrieve("who founded Acme", 2)[0].id == "1"
    assert env.step("search", "TPS reports software").startswith("Doc 1 (Title: Initech)")
    with pytest.raises(ValueError):
        env.step("python", "print(1+1)")


def test_shipped_corpora_load_in_each_format():
    for paths in CORPORA.values():
        for path in paths:
            passages = load_corpus(path)
            assert passages and all(p.title and p.text for p in passages), path


def test_gsm8k_annotations_become_python_steps_with_a_boxed_answer():
    task = gsm8k_tasks(SOURCE_FILES["gsm8k"], "train", 1)[0]
    assert task.gold_answers == ["18"]
    assert [e for _, e in task.oracle["calculations"]] == ["16-3-4", "9*2"]
    traj = run_policy(task, BehaviorPolicy("oracle", 0.0), PythonSandbox(), seed=0)
    assert [(s["action"], s["observation"].strip()) for s in traj["steps"][:-1]] == [("print(16-3-4)", "9"), ("print(9*2)", "18")]
    assert traj["steps"][-1]["action"] == "\\boxed{18}" and traj["outcome"] == 1.0
    assert task_outcome("math", "18.0", task.gold_answers) == 1.0
    assert task_outcome("math", "17", task.gold_answers) == 0.0


def test_train_and_eval_splits_are_disjoint():
    assert [split_of(i) for i in range(5)] == ["train"] * 4 + ["eval"]
    for source in ("hotpotqa", "musique", "gsm8k"):
        train = {t.task_id for t in training_tasks(source)}
        held_out = {t.task_id for t in benchmark_tasks(source)}
        assert train and held_out and not train & held_out


def test_training_processes_do_not_import_dagster():
    code = ("import sys, foresight.training.wm_amt, foresight.training.fe_sft, foresight.training.fc_rl, "
            "foresight.training.evaluate; bad = [m for m in sys.modules if m == 'dagster' or m.startswith('dagster.')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_rl_tasks_interleave_uneven_sources_from_the_training_split():
    from foresight.rl_data import rl_tasks

    tasks = rl_tasks({"hotpotqa": 3, "musique": 1, "gsm8k": 2}, num_tasks=10, seed=0)
    assert [t.source for t in tasks] == ["hotpotqa", "musique", "gsm8k", "hotpotqa", "gsm8k", "hotpotqa"]
    held_out = {t.task_id for s in ("hotpotqa", "musique", "gsm8k") for t in benchmark_tasks(s)}
    assert not {t.task_id for t in tasks} & held_out


def test_bad_source_records_are_quarantined_with_file_record_and_field(tmp_path):
    from foresight.tasks import RecordError, hotpotqa_tasks

    good = json.loads(SOURCE_FILES["hotpotqa"].read_text())[0]
    path = tmp_path / "hotpot.json"
    path.write_text(json.dumps([good, {"question": "no id"}, "not an object", good, good]))
    rejects = []
    tasks = hotpotqa_tasks(path, "train", rejects=rejects)
    assert len(tasks) == 2  # records 0 and 3; record 4 is the held-out position
    assert [(r.record, r.field) for r in rejects] == [(1, "supporting_facts"), (2, "<record>")]
    with pytest.raises(RecordError, match=r"hot\.json|record 1, field 'supporting_facts'"):
        hotpotqa_tasks(path, "train")

    gsm = tmp_path / "gsm.jsonl"
    gsm.write_text(json.dumps({"question": "q", "answer": "no marker here"}) + "\n{broken\n")
    rejects = []
    assert gsm8k_tasks(gsm, "train", rejects=rejects) == []
    assert [(r.record, r.field) for r in rejects] == [(0, "answer"), (1, "<json>")]
