"""Search-R1-style search environment: ``<search>q</search>`` -> top-k passages."""

from __future__ import annotations

from foresight.envs import PASSAGE_MAX_WORDS
from foresight.envs.retrieval import BM25Retriever, format_passages


class SearchEnvironment:
    """Answers ``search`` actions with the top-``k`` passages of a retriever.

    Args:
        retriever: any object with ``retrieve(query, k) -> list[Passage]``.
        top_k: passages per search (Search-R1 and the paper use 3).
        passage_max_words: truncate each passage (keeps CPU-scale contexts short).
    """

    def __init__(self, retriever: BM25Retriever, top_k: int = 3, passage_max_words: int | None = PASSAGE_MAX_WORDS):
        self.retriever = retriever
        self.top_k = top_k
        self.passage_max_words = passage_max_words

    def step(self, action_type: str, action: str) -> str:
        """Return the observation text for an action (without the ``<information>`` tag).

        Raises:
            ValueError: for an action this environment does not serve.
        """
        if action_type != "search":
            raise ValueError(f"SearchEnvironment cannot execute a {action_type!r} action")
        passages = self.retriever.retrieve(action, self.top_k)
        if not passages:
            return "No results."
        return format_passages(passages, self.passage_max_words)
