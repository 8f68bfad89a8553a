"""Agent environments: a Search-R1-style search environment and a calculator environment."""

from typing import Protocol


class Environment(Protocol):
    """Executes a tool action and returns the observation text (without its tag)."""

    def step(self, action_type: str, action: str) -> str: ...
