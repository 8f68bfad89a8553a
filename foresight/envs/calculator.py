"""Calculator tool for the math domain: evaluates arithmetic expressions safely.

GSM8K worked solutions annotate each computation as ``<<48/2=24>>``; the action is the
expression and the observation its value. Expressions are evaluated by walking the
Python AST (numbers, + - * / // % **, unary minus, parentheses), never with ``eval``.
"""

from __future__ import annotations

import ast
import operator

_BINARY = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}


MAX_MAGNITUDE = 1e15  # larger intermediate values are refused (keeps nested powers from hanging)


class CalculatorError(ValueError):
    """The expression is not plain arithmetic, or its evaluation failed."""


def _checked(value) -> float:
    if isinstance(value, complex):
        raise CalculatorError("result is not a real number")
    if abs(value) > MAX_MAGNITUDE:
        raise CalculatorError(f"result exceeds {MAX_MAGNITUDE:g}")
    return value


def _eval(node: ast.AST) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return _checked(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > 64:
            raise CalculatorError("exponent too large")
        return _checked(_BINARY[type(node.op)](left, right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _checked(_UNARY[type(node.op)](_eval(node.operand)))
    raise CalculatorError(f"unsupported syntax: {type(node).__name__}")


def format_number(value: float) -> str:
    """Render a result like GSM8K does: integers without a decimal point, else up to 6 decimals."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


def calculate(expression: str) -> str:
    """Evaluate an arithmetic expression and return its value as text.

    Raises:
        CalculatorError: unsupported syntax, division by zero, overflow.
    """
    cleaned = expression.replace(",", "").replace("$", "").replace("x", "*").strip()
    try:
        tree = ast.parse(cleaned, mode="eval")
        return format_number(_eval(tree.body))
    except CalculatorError:
        raise
    except (SyntaxError, ZeroDivisionError, OverflowError, ValueError) as err:
        raise CalculatorError(f"{type(err).__name__}: {err}") from err


class CalculatorEnvironment:
    """Answers ``calculate`` actions; errors come back as observations, not exceptions."""

    def step(self, action_type: str, action: str) -> str:
        if action_type != "calculate":
            raise ValueError(f"CalculatorEnvironment cannot execute a {action_type!r} action")
        try:
            return calculate(action)
        except CalculatorError as err:
            return f"Error: {err}"
