"""Generated worlds: determinism per seed, disjoint splits, answerability, oracle trajectories."""

import operator
import re

import pytest

from foresight.envs.retrieval import BM25Retriever
from foresight.envs.search import SearchEnvironment
from foresight.policies import BehaviorPolicy, run_policy
from foresight.worlds import majority_baseline, read_tasks, save_world
from foresight.worlds.arithmetic_world import (
    ArithmeticWorldConfig,
    generate_arithmetic_world,
)
from foresight.worlds.search_world import (
    RELATIONS,
    SearchWorldConfig,
    generate_search_world,
)

SMALL = SearchWorldConfig(num_people=60, num_organizations=10, num_cities=8, num_countries=3,
                          train_questions={"1": 20, "2": 40, "3": 10, "4": 5},
                          eval_questions={"1": 10, "2": 20, "3": 5, "4": 5})


@pytest.fixture(scope="module")
def world():
    return generate_search_world(SMALL)


def test_same_seed_same_world_other_seed_other_world(world):
    again = generate_search_world(SMALL)
    assert [p.__dict__ for p in again.passages] == [p.__dict__ for p in world.passages]
    assert [t.__dict__ for t in again.train] == [t.__dict__ for t in world.train]
    other = generate_search_world(SMALL.model_copy(update={"seed": 1}))
    assert {t.question for t in other.train}.isdisjoint({t.question for t in world.train})
    assert other.stats()["passages"] == world.stats()["passages"]  # same statistics, new world


def test_splits_share_no_question_and_no_start_entity(world):
    assert {t.question for t in world.train}.isdisjoint({t.question for t in world.eval})
    def start(task):  # the start entity is the subject of the first hop's query
        relation = task.oracle["relations"][0]
        return task.oracle["queries"][0].removeprefix(f"{relation} of ")
    assert {start(t) for t in world.train}.isdisjoint({start(t) for t in world.eval})
    assert world.stats()["eval_questions"] == {"1": 10, "2": 20, "3": 5, "4": 5}


def test_every_question_is_answerable_from_the_corpus(world):
    retriever = BM25Retriever(world.passages)
    for task in world.train + world.eval:
        chain = task.oracle["hop_answers"] + task.gold_answers
        assert len(chain) == task.oracle["hops"] == len(task.oracle["relations"])
        for query, expected in zip(task.oracle["queries"], chain):
            top = retriever.retrieve(query, 3)
            assert any(expected in p.text for p in top), (task.question, query)
        # the relation path is well typed
        for a, b in zip(task.oracle["relations"], task.oracle["relations"][1:]):
            assert RELATIONS[a][1] == RELATIONS[b][0]


def test_oracle_succeeds_and_noisy_policy_sometimes_fails(world):
    env = SearchEnvironment(BM25Retriever(world.passages))
    oracle = [run_policy(t, BehaviorPolicy("oracle", 0.0), env, seed=0) for t in world.train[:30]]
    assert all(t["outcome"] == 1.0 for t in oracle)
    assert [len(t["steps"]) for t in oracle] == [t.oracle["hops"] + 1 for t in world.train[:30]]
    noisy = [run_policy(t, BehaviorPolicy("noisy", 0.7), env, seed=s) for t in world.train[:30] for s in range(3)]
    assert 0 < sum(t["outcome"] for t in noisy) < len(noisy)


def test_oracle_thinks_restate_the_fact_each_search_found(world):
    env = SearchEnvironment(BM25Retriever(world.passages))
    task = next(t for t in world.train if t.oracle["hops"] == 2)
    steps = run_policy(task, BehaviorPolicy("oracle", 0.0), env, seed=0)["steps"]
    first, second = task.oracle["findings"]
    assert first in steps[0]["observation"] and second in steps[1]["observation"]
    assert steps[0]["think"] == f"I need to find out about {task.oracle['queries'][0]}."
    assert steps[1]["think"] == f"{first} I need to find out about {task.oracle['queries'][1]}."
    assert steps[2]["think"] == second and steps[2]["action"] == task.gold_answers[0]
    assert second.endswith(f" is {task.gold_answers[0]}.")


OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "//": operator.floordiv}


def test_arithmetic_world_is_deterministic_disjoint_and_solvable():
    cfg = ArithmeticWorldConfig(train_problems={"1": 10, "2": 20, "3": 20}, eval_problems={"2": 10, "3": 10})
    world = generate_arithmetic_world(cfg)
    assert [t.question for t in generate_arithmetic_world(cfg).train] == [t.question for t in world.train]
    assert {t.question for t in world.train}.isdisjoint({t.question for t in world.eval})
    for task in world.train + world.eval:
        value = None
        for _sentence, expression in task.oracle["calculations"]:
            a, op, b = re.fullmatch(r"(\d+) (\+|-|\*|//) (\d+)", expression).groups()
            if value is not None:
                assert int(a) == value  # each operation starts from the previous result
            value = OPS[op](int(a), int(b))
            assert 0 < value <= cfg.max_value
        assert str(value) == task.gold_answers[0]
    with pytest.raises(ValueError, match="unknown operations"):
        generate_arithmetic_world(ArithmeticWorldConfig(operations=["pow"]))


def test_saved_world_round_trips_and_baseline_is_weak(world, tmp_path):
    path, digest = save_world(tmp_path, "search_world", SMALL, world.train, world.eval, world.passages, world.stats())
    assert [t.__dict__ for t in read_tasks(path / "eval.jsonl")] == [t.__dict__ for t in world.eval]
    assert (path / "corpus.jsonl").read_text().count("\n") == len(world.passages)
    _, digest_again = save_world(tmp_path, "search_world", SMALL, world.train, world.eval, world.passages, world.stats())
    assert digest_again == digest
    success, predictions = majority_baseline(world.train, world.eval)
    assert len(predictions) == len(world.eval) and 0.0 <= success < 0.5
