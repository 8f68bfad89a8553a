import pytest

from foresight.blocks import (
    Block,
    augment,
    block_leaks,
    build_block,
    monte_carlo_labels,
)
from foresight.protocol import parse_turn
from foresight.text import contains_answer


def _traj(tid, actions, outcome):
    steps = [{"think": "", "action_type": t, "action": a, "observation": f"obs of {a}" if t != "answer" else ""} for t, a in actions]
    return {"trajectory_id": tid, "task_id": "T", "question": "q?", "gold_answers": ["Paris"], "steps": steps, "outcome": outcome}


def test_monte_carlo_labels_on_hand_made_siblings():
    trajs = [
        _traj("a", [("search", "France capital"), ("answer", "Paris")], 1.0),
        _traj("b", [("search", "France capital"), ("answer", "Lyon")], 0.0),
        _traj("c", [("search", "france  CAPITAL"), ("answer", "Paris")], 1.0),  # same action after normalization
        _traj("d", [("search", "Germany"), ("answer", "Berlin")], 0.0),
    ]
    labels = monte_carlo_labels(trajs)
    assert labels[("a", 0)] == pytest.approx((2 / 3, 3))  # a, b, c share the first action
    assert labels[("a", 1)] == (1.0, 2)  # a and c share both actions
    assert labels[("b", 1)] == (0.0, 1)  # alone: its own outcome
    assert labels[("d", 0)] == (0.0, 1)


def test_block_fields_come_from_the_real_future(trajectory):
    block = build_block(trajectory, 0, q=0.5, n_rollouts=1)
    assert block.imaginary.startswith("search for Acme founder")
    later = " ".join(s["action"] + " " + s["observation"] for s in trajectory["steps"]).lower()
    assert block.keywords and all(k in later for k in block.keywords)
    assert not {"jane", "roe"} & set(block.keywords)  # never a gold-answer word
    assert "acme" not in block.keywords  # question words carry no foresight
    assert block.label_source == "own_outcome"
    parsed = parse_turn(block.render() + "<think>x</think><search>y</search>")
    assert parsed.well_formed and parsed.confidence == 0.5 and parsed.keywords == block.keywords


def test_answer_in_next_action_is_redacted_and_leak_check_counts_it():
    traj = _traj("a", [("search", "Is Paris older than Rome"), ("answer", "Paris")], 1.0)
    block = build_block(traj, 0, 1.0, 1)
    assert "Paris" not in block.imaginary and not block_leaks(block, ["Paris"])
    leaky = Block("go to Paris", [], "", 0.5, "own_outcome", 1)
    assert block_leaks(leaky, ["paris"])
    assert block_leaks(Block("x", ["paris"], "", 0.5, "own_outcome", 1), ["Paris"])


def test_word_level_answer_match():
    assert not contains_answer("compute 4*8", ["48"])
    assert contains_answer("the value is 1.5 here", ["1.5"])
    assert contains_answer("It is The Beatles.", ["Beatles"])


def test_augment_attaches_a_block_to_every_step(trajectory):
    out = augment([trajectory])
    assert all("block" in s for s in out[0]["steps"])
    assert out[0]["steps"][0]["block"]["confidence"] == 1.0
