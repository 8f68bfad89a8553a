import pytest


@pytest.fixture
def trajectory():
    """A valid two-step search trajectory in the canonical schema."""
    return {
        "trajectory_id": "t1", "task_id": "task", "domain": "search", "question": "Who founded Acme?",
        "gold_answers": ["Jane Roe"], "source": "unit", "behavior_policy": "oracle", "outcome": 1.0,
        "steps": [
            {"think": "look up", "action_type": "search", "action": "Acme founder",
             "observation": "Doc 1 (Title: Acme) Acme was founded by Jane Roe in Springfield."},
            {"think": "done", "action_type": "answer", "action": "Jane Roe", "observation": ""},
        ],
    }
