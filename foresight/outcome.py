"""Task outcome: did the final answer solve the task?

- search: normalized exact match against any gold answer (Search-R1 convention);
- math: symbolic/numeric equivalence with math-verify (``parse`` + ``verify``). An answer
  may be bare (``1/2``, ``\\frac{1}{2}``) or boxed (``The answer is \\boxed{1/2}``: the
  last ``\\boxed{}``/``\\fbox{}`` counts); AIME answers are integers 0..999
  (:func:`aime_answer`).
"""

from __future__ import annotations

import logging
import math
import re

from math_verify import parse, verify
from sympy import (
    Basic,
    FallingFactorial,
    Product,
    RisingFactorial,
    Sum,
    binomial,
    factorial,
    factorial2,
    gamma,
    subfactorial,
)
from sympy.matrices import MatrixBase

from foresight.text import exact_match

# math-verify's own timeouts rely on SIGALRM (main thread only), so they stay off and two
# guards keep a generated answer from hanging reward computation in any thread:
# - the length of the answer (inside its box). MATH-500 gold answers are at most 53
#   characters; 128 leaves room for equivalent forms written out (pmatrix of \frac{}{});
#   parse + verify of 250-character expressions measured at most ~1.3 s.
MAX_ANSWER_CHARS = 128
# - the size of the numbers sympy would compute: ``9^{9^{9}}`` (13 characters) or
#   ``(10^{10})!`` make verify() evaluate a number of billions of digits in C code that
#   no timeout interrupts; answers whose value may exceed 2**MAX_RESULT_BITS are wrong.
MAX_RESULT_BITS = 100_000
# With its timeouts off on purpose, math-verify warns on every call; keep its errors only.
for _name in ("math_verify.parser", "math_verify.grader"):
    logging.getLogger(_name).setLevel(logging.ERROR)

_BOX = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])")
_FACTORIALS = (factorial, factorial2, subfactorial, gamma, RisingFactorial, FallingFactorial, binomial)


def extract_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}`` (or ``\\fbox{...}``) in ``text``, braces balanced.

    ``\\boxed{\\frac{1}{2}}`` -> ``\\frac{1}{2}``; ``\\boxed{1} ... \\boxed{2}`` -> ``2``;
    the brace-less ``\\boxed 5`` -> ``5``. Escaped braces (``\\{``) do not count.

    Returns:
        The content, stripped (``""`` for an empty box), or None when there is no box or
        the last one is never closed (a truncated answer is not graded as an earlier one).
    """
    matches = list(_BOX.finditer(text))
    if not matches:
        return None
    i = matches[-1].end()
    n = len(text)
    while i < n and text[i].isspace():
        i += 1
    if i >= n:
        return None
    if text[i] != "{":
        if i == matches[-1].end():  # "\boxed5" is not a box; "\boxed 5" is
            return None
        token = re.match(r"[^\s$]+", text[i:])
        return token.group(0) if token else None
    depth = 0
    j = i
    while j < n:
        char = text[j]
        if char == "\\":
            j += 2  # an escaped character, e.g. \{ or \}
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1 : j].strip()
        j += 1
    return None


def aime_answer(text: str) -> int | None:
    """An AIME answer as an integer, or None when it is not an integer in 0..999.

    Accepts a bare or boxed answer, digits only (leading zeros allowed, surrounding ``$``
    and spaces ignored): ``"025"`` -> 25, ``"\\boxed{204}"`` -> 204; ``"1000"``, ``"3.5"``,
    ``"-4"``, ``"25.0"`` -> None.
    """
    if len(text) > MAX_ANSWER_CHARS:
        return None
    boxed = extract_boxed(text)
    candidate = (text if boxed is None else boxed).strip().strip("$").strip()
    if not candidate.isascii() or not candidate.isdigit():  # isascii: no other scripts' digits
        return None
    value = int(candidate)
    return value if value <= 999 else None


def _answer_text(text: str) -> str:
    boxed = extract_boxed(text)
    return (text if boxed is None else boxed).strip()


def _parse(answer: str) -> list:
    # Wrapped in \boxed{} so math-verify reads the whole answer as one LaTeX expression:
    # bare, "\left( 3, \frac{\pi}{2} \right)" parses to its first number only and "\frac12"
    # to nothing. math-verify's free-text extraction is not used: it takes the last number
    # ("1, 2, 3" -> 3, "2*sqrt(3)" -> 2), a reward an RL policy would learn to exploit.
    return parse(f"\\boxed{{{answer}}}", parsing_timeout=None)


def _magnitude_bits(expr) -> float:
    """Upper bound on log2 of the largest number sympy may compute from ``expr``.

    Conservative (products and unknown functions add their arguments' bits); ``inf``
    for power towers, factorials of huge arguments, sums over huge ranges.
    """
    if isinstance(expr, MatrixBase):
        return max((_magnitude_bits(e) for e in expr), default=0.0)
    if not isinstance(expr, Basic):
        return 0.0
    if expr.is_Integer:
        return float(abs(int(expr)).bit_length())
    if expr.is_Rational:
        return float(max(abs(expr.p).bit_length(), expr.q.bit_length()))
    if expr.is_Float:
        try:
            return math.log2(abs(float(expr)) + 2.0)
        except OverflowError:
            return math.inf
    if expr.is_Atom:  # symbols, pi, E, I, oo
        return 2.0
    children = [_magnitude_bits(a) for a in expr.args]
    if expr.is_Pow:
        base_bits, exp_bits = children
        return math.inf if exp_bits > 64 else max(base_bits, 1.0) * 2.0**exp_bits
    if isinstance(expr, _FACTORIALS):
        arg_bits = max(children)
        return math.inf if arg_bits > 40 else 2.0**arg_bits * max(arg_bits, 1.0)
    if isinstance(expr, (Sum, Product)):
        limit_bits = max(_magnitude_bits(b) for limits in expr.limits for b in limits[1:])
        return math.inf if limit_bits > 16 else 2.0**limit_bits * max(sum(children), 1.0)
    if expr.is_Add:
        return max(children, default=0.0) + math.log2(len(children) + 1)
    return sum(children)


def _tractable(parsed: list) -> bool:
    try:
        return all(_magnitude_bits(item) <= MAX_RESULT_BITS for item in parsed)
    except RecursionError:
        return False


def math_equivalent(prediction: str, gold: str) -> bool:
    """True when math-verify finds ``prediction`` equivalent to ``gold`` (e.g. "18.0" vs "18").

    Either may be bare or contain ``\\boxed{}`` (the last box is compared). Predictions
    longer than :data:`MAX_ANSWER_CHARS` (inside their box) are not equivalent and never
    parsed; nor are those whose value may exceed ``2**MAX_RESULT_BITS``.
    """
    pred = _answer_text(prediction)
    if not pred or len(pred) > MAX_ANSWER_CHARS:
        return False
    gold_parsed = _parse(_answer_text(gold))
    pred_parsed = _parse(pred)
    if not gold_parsed or not pred_parsed or not _tractable(pred_parsed):
        return False
    return bool(verify(gold_parsed, pred_parsed, timeout_seconds=None))


def task_outcome(domain: str, prediction: str | None, gold_answers: list[str]) -> float:
    """Outcome I in {0.0, 1.0} of a final answer (None = no answer given = 0.0).

    For math, the prediction may be bare or boxed (see :func:`math_equivalent`).

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
