"""Agent environments: a Search-R1-style search environment and a python sandbox."""

from typing import Protocol

# Words kept per retrieved passage by default: three passages per search fit CPU-scale
# contexts (the paper's GPU setting keeps whole passages: set None).
PASSAGE_MAX_WORDS = 30


class Environment(Protocol):
    """Executes a tool action and returns the observation text (without its tag)."""

    def step(self, action_type: str, action: str) -> str: ...
