"""A generated multi-step arithmetic world solved with the python tool.

Each problem tracks one quantity through ``num_ops`` operations written as a short story::

    Tovi has 7 crates with 12 lamps in each. Tovi gives away 19 lamps. Tovi splits the
    lamps into 5 equal groups and keeps one group. How many lamps does Tovi have now?

The oracle plan is one python call per operation (``print(7 * 12)``, then
``print(84 - 19)``, ...), each starting from the value the previous call printed, and the
answer in ``\\boxed{}``. Every intermediate value is a positive integer no larger than
``max_value`` (divisions are exact). Splits: evaluation problems use names held out from
training and no question text appears in both splits. Deterministic per config.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

from pydantic import BaseModel, Field

from foresight.tasks import Task
from foresight.worlds import draw_unique, make_names

SOURCE = "arithmetic_world"
OPERATIONS = ("add", "sub", "mul", "div")
_ITEMS = ["lamps", "coins", "stones", "books", "apples", "shells", "tickets", "cards", "seeds", "bricks"]
_CONTAINERS = ["crates", "boxes", "bags", "jars", "baskets"]


class ArithmeticWorldConfig(BaseModel):
    """Knobs of the arithmetic world."""

    seed: int = 0
    num_names: int = Field(60, ge=4)
    operations: list[str] = Field(default_factory=lambda: list(OPERATIONS))
    max_operand: int = Field(20, ge=2, description="largest number written in a problem")
    max_value: int = Field(999, ge=10, description="largest intermediate value")
    train_problems: dict[str, int] = Field(default_factory=lambda: {"1": 150, "2": 300, "3": 150},
                                           description="operations -> training problems")
    eval_problems: dict[str, int] = Field(default_factory=lambda: {"1": 20, "2": 30, "3": 20},
                                          description="operations -> evaluation problems")
    eval_name_fraction: float = Field(0.25, gt=0.0, lt=1.0)


@dataclass
class ArithmeticWorld:
    """Generated problems (``oracle``: calculations [(sentence, expression)], ops, answer_key)."""

    train: list[Task]
    eval: list[Task]

    def stats(self) -> dict:
        def by_ops(tasks):
            return {str(k): v for k, v in sorted(Counter(t.oracle["ops"] for t in tasks).items())}

        return {"train_problems": by_ops(self.train), "eval_problems": by_ops(self.eval)}


def _operation(op: str, value: int, item: str, name: str, cfg: ArithmeticWorldConfig, rng: random.Random):
    """One story sentence, its expression and the new value, or None when ``op`` cannot apply."""
    if op == "add":
        n = rng.randint(2, cfg.max_operand)
        return f"{name} buys {n} more {item}.", f"{value} + {n}", value + n
    if op == "sub":
        if value < 3:
            return None
        n = rng.randint(1, min(cfg.max_operand, value - 1))
        return f"{name} gives away {n} {item}.", f"{value} - {n}", value - n
    if op == "mul":
        n = rng.randint(2, min(cfg.max_operand, 5))
        return f"{name} gets {n} times as many {item} as before.", f"{value} * {n}", value * n
    divisors = [d for d in range(2, min(cfg.max_operand, value) + 1) if value % d == 0 and value // d > 1]
    if not divisors:
        return None
    n = rng.choice(divisors)
    return f"{name} splits the {item} into {n} equal groups and keeps one group.", f"{value} // {n}", value // n


def _problem(name: str, num_ops: int, cfg: ArithmeticWorldConfig, rng: random.Random, task_id: str) -> Task | None:
    item = rng.choice(_ITEMS)
    a, b = rng.randint(2, cfg.max_operand), rng.randint(2, cfg.max_operand)
    # The first operation is always "containers times items each", so there is always a first call.
    sentences = [f"{name} has {a} {rng.choice(_CONTAINERS)} with {b} {item} in each."]
    calculations = [(sentences[0], f"{a} * {b}")]
    value = a * b
    for _ in range(num_ops - 1):
        step = _operation(rng.choice(cfg.operations), value, item, name, cfg, rng)
        if step is None or not 0 < step[2] <= cfg.max_value:
            return None
        sentence, expression, value = step
        sentences.append(sentence)
        calculations.append((sentence, expression))
    question = " ".join(sentences) + f" How many {item} does {name} have now?"
    return Task(
        task_id=task_id, domain="math", question=question, gold_answers=[str(value)], source=SOURCE,
        oracle={"calculations": calculations, "ops": num_ops, "answer_key": "number", "chain_inputs": True},
    )


def generate_arithmetic_world(cfg: ArithmeticWorldConfig) -> ArithmeticWorld:
    """Generate the problems of ``cfg`` (deterministic per config).

    Raises:
        ValueError: an unknown operation name.
    """
    unknown = set(cfg.operations) - set(OPERATIONS)
    if unknown:
        raise ValueError(f"unknown operations {sorted(unknown)}; known: {OPERATIONS}")
    rng = random.Random(f"arithmetic-world:{cfg.seed}")
    names = make_names(rng, cfg.num_names, 2, set())
    cut = max(1, round(len(names) * cfg.eval_name_fraction))
    seen: set[str] = set()

    def drawer(pool: list[str], split: str):
        return lambda num_ops, index: _problem(rng.choice(pool), num_ops, cfg, rng, f"{SOURCE}:{split}:{index}")

    train = draw_unique(cfg.train_problems, drawer(names[cut:], "train"), seen, attempts_per_task=100)
    evaluation = draw_unique(cfg.eval_problems, drawer(names[:cut], "eval"), seen, attempts_per_task=100)
    return ArithmeticWorld(train, evaluation)
