"""Task outcome: did the final answer solve the task?

- search: normalized exact match against any gold answer (Search-R1 convention);
- math: symbolic/numeric equivalence with math-verify (``parse`` + ``verify``).
"""

from __future__ import annotations

from math_verify import parse, verify

from foresight.text import exact_match

# math-verify's own timeouts rely on SIGALRM (main thread only); bounding the length of what
# it parses keeps a generated answer from hanging reward computation in any thread.
MAX_ANSWER_CHARS = 64


def math_equivalent(prediction: str, gold: str) -> bool:
    """True when math-verify finds ``prediction`` equivalent to ``gold`` (e.g. "18.0" vs "18").

    Predictions longer than :data:`MAX_ANSWER_CHARS` are not equivalent (and never parsed).
    """
    if len(prediction) > MAX_ANSWER_CHARS:
        return False
    gold_parsed = parse(gold, parsing_timeout=None)
    pred_parsed = parse(prediction, parsing_timeout=None)
    if not gold_parsed or not pred_parsed:
        return False
    return bool(verify(gold_parsed, pred_parsed, timeout_seconds=None))


def task_outcome(domain: str, prediction: str | None, gold_answers: list[str]) -> float:
    """Outcome I in {0.0, 1.0} of a final answer (None = no answer given = 0.0).

    Raises:
        ValueError: unknown domain.
    """
    if prediction is None or not prediction.strip():
        return 0.0
    if domain == "search":
        return exact_match(prediction, gold_answers)
    if domain == "math":
        return float(any(math_equivalent(prediction, g) for g in gold_answers))
    raise ValueError(f"unknown domain {domain!r}")
