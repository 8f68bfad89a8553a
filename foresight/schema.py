"""The canonical trajectory schema (pyarrow), record validation and quarantine.

A trajectory is one episode of one behavior policy on one task:
``tau = (s_1, a_1, s_2, a_2, ..., s_T, a_T)`` (arXiv:2606.27483, Stage 1). Each step holds
the policy's reasoning (``think``), its action (``action_type`` + ``action``) and the
environment's observation after the action (empty for the final ``answer`` action).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

ACTION_TYPES = ("search", "python", "answer")
DOMAINS = ("search", "math")

STEP_TYPE = pa.struct(
    [
        ("think", pa.string()),
        ("action_type", pa.string()),
        ("action", pa.string()),
        ("observation", pa.string()),
    ]
)

TRAJECTORY_SCHEMA = pa.schema(
    [
        ("trajectory_id", pa.string()),
        ("task_id", pa.string()),
        ("domain", pa.string()),
        ("question", pa.string()),
        ("gold_answers", pa.list_(pa.string())),
        ("steps", pa.list_(STEP_TYPE)),
        ("outcome", pa.float64()),
        ("source", pa.string()),
        ("behavior_policy", pa.string()),
    ]
)

QUARANTINE_SCHEMA = pa.schema(
    [
        ("file", pa.string()),
        ("record", pa.int64()),
        ("field", pa.string()),
        ("reason", pa.string()),
        ("raw", pa.string()),
    ]
)


class SchemaError(ValueError):
    """A record does not fit the canonical trajectory schema.

    Attributes:
        field: dotted path of the offending field (``steps[2].action_type``).
        reason: human-readable explanation.
    """

    def __init__(self, field: str, reason: str):
        super().__init__(f"field {field!r}: {reason}")
        self.field = field
        self.reason = reason


@dataclass
class Quarantined:
    """A record kept aside with the reason it was rejected (nothing is dropped silently)."""

    file: str
    record: int
    field: str
    reason: str
    raw: str

    def message(self) -> str:
        return f"{self.file}, record {self.record}, field {self.field!r}: {self.reason}"


@dataclass
class IngestResult:
    """Valid trajectories plus the quarantined records of one or more input files."""

    trajectories: list[dict[str, Any]] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)

    def extend(self, other: IngestResult) -> None:
        self.trajectories.extend(other.trajectories)
        self.quarantined.extend(other.quarantined)

    @property
    def bad_fraction(self) -> float:
        total = len(self.trajectories) + len(self.quarantined)
        return len(self.quarantined) / total if total else 0.0


def _require(record: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    if name not in record or record[name] is None:
        raise SchemaError(name, "missing")
    value = record[name]
    if not isinstance(value, kind):
        raise SchemaError(name, f"expected {getattr(kind, '__name__', kind)}, got {type(value).__name__}")
    return value


def validate_trajectory(record: Mapping[str, Any]) -> dict[str, Any]:
    """Check one record against :data:`TRAJECTORY_SCHEMA` and return a normalized copy.

    Args:
        record: a mapping with the schema's fields (``steps`` a list of step mappings).

    Returns:
        A plain dict with exactly the schema's fields; ``observation`` defaults to "".

    Raises:
        SchemaError: naming the first offending field, e.g. ``steps[1].action_type``.
    """
    if not isinstance(record, Mapping):
        raise SchemaError("<record>", f"expected an object, got {type(record).__name__}")
    out: dict[str, Any] = {}
    for name in ("trajectory_id", "task_id", "question", "source", "behavior_policy"):
        out[name] = str(_require(record, name, (str, int)))
        if not out[name].strip():
            raise SchemaError(name, "empty")
    domain = _require(record, "domain", str)
    if domain not in DOMAINS:
        raise SchemaError("domain", f"{domain!r} not one of {DOMAINS}")
    out["domain"] = domain
    gold = _require(record, "gold_answers", (list, tuple))
    if not gold or not all(isinstance(g, str) and g.strip() for g in gold):
        raise SchemaError("gold_answers", "must be a non-empty list of non-empty strings")
    out["gold_answers"] = list(gold)
    steps = _require(record, "steps", (list, tuple))
    if not steps:
        raise SchemaError("steps", "a trajectory needs at least one step")
    out["steps"] = []
    for i, step in enumerate(steps):
        if not isinstance(step, Mapping):
            raise SchemaError(f"steps[{i}]", "expected an object")
        action_type = step.get("action_type")
        if action_type not in ACTION_TYPES:
            raise SchemaError(f"steps[{i}].action_type", f"{action_type!r} not one of {ACTION_TYPES}")
        action = step.get("action")
        if not isinstance(action, str) or not action.strip():
            raise SchemaError(f"steps[{i}].action", "missing or empty")
        observation = step.get("observation") or ""
        if not isinstance(observation, str):
            raise SchemaError(f"steps[{i}].observation", "expected a string")
        if action_type == "answer" and i != len(steps) - 1:
            raise SchemaError(f"steps[{i}].action_type", "an answer must be the last step")
        out["steps"].append(
            {"think": str(step.get("think") or ""), "action_type": action_type,
             "action": action, "observation": observation}
        )
    outcome = record.get("outcome")
    if isinstance(outcome, bool) or not isinstance(outcome, (int, float)) or not 0.0 <= outcome <= 1.0:
        raise SchemaError("outcome", f"expected a number in [0, 1], got {outcome!r}")
    out["outcome"] = float(outcome)
    return out


def validate_records(records: Iterable[Any], file: str, seen_ids: set[str] | None = None) -> IngestResult:
    """Validate many records; good ones go on, bad ones are quarantined with the reason.

    Args:
        records: parsed records (dicts) by position; ``None`` for a blank line (skipped,
            the position still counts), a :class:`SchemaError` for a record that could not
            be parsed at all.
        file: the source file name, reported in every quarantine entry.
        seen_ids: trajectory ids accepted so far (across files); a repeated id is
            quarantined, since Monte Carlo labels key on it. Updated in place.
    """
    result = IngestResult()
    seen = seen_ids if seen_ids is not None else set()
    for index, record in enumerate(records):
        if record is None:
            continue
        if isinstance(record, SchemaError):
            result.quarantined.append(Quarantined(file, index, record.field, record.reason, ""))
            continue
        try:
            trajectory = validate_trajectory(record)
            if trajectory["trajectory_id"] in seen:
                raise SchemaError("trajectory_id", f"duplicate id {trajectory['trajectory_id']!r}")
        except SchemaError as err:
            raw = json.dumps(record, default=str)[:2000]
            result.quarantined.append(Quarantined(file, index, err.field, err.reason, raw))
            continue
        seen.add(trajectory["trajectory_id"])
        result.trajectories.append(trajectory)
    return result


def read_jsonl(path: Path) -> list[Any]:
    """Records of a JSONL file, one entry per line (the index is the 0-based line number).

    Returns:
        The parsed value of each line; ``None`` for a blank line; a :class:`SchemaError`
        with field ``<json>`` for a line that is not UTF-8 or not JSON. Never raises for
        bad lines, so callers quarantine them and go on.
    """
    records: list[Any] = []
    with path.open("rb") as fh:
        for raw in fh:
            if not raw.strip():
                records.append(None)
                continue
            try:
                records.append(json.loads(raw.decode("utf-8")))
            except UnicodeDecodeError as err:
                records.append(SchemaError("<json>", f"not UTF-8: {err.reason} at byte {err.start}"))
            except json.JSONDecodeError as err:
                records.append(SchemaError("<json>", f"invalid JSON: {err.msg} at column {err.colno}"))
    return records


def read_canonical_file(path: str | Path, seen_ids: set[str] | None = None) -> IngestResult:
    """Read a JSONL or Parquet file already in the canonical schema.

    Record numbers are 0-based line numbers (JSONL) or row numbers (Parquet). Lines that
    are not UTF-8 or not JSON are quarantined (field ``<json>``); records that fail
    :func:`validate_trajectory` are quarantined with the offending field.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the extension is neither ``.jsonl``/``.json`` nor ``.parquet``, or the
            Parquet file cannot be read (the message names the file).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"trajectory file not found: {path}")
    if path.suffix == ".parquet":
        try:
            records: list[Any] = pq.read_table(path).to_pylist()
        except (pa.ArrowException, OSError) as err:
            raise ValueError(f"{path}: not a readable Parquet file: {err}") from err
    elif path.suffix in (".jsonl", ".json"):
        records = read_jsonl(path)
    else:
        raise ValueError(f"{path}: unsupported trajectory file type {path.suffix!r} (use .jsonl or .parquet)")
    return validate_records(records, str(path), seen_ids)


def to_table(trajectories: list[dict[str, Any]]) -> pa.Table:
    """Build a pyarrow table in :data:`TRAJECTORY_SCHEMA` from validated trajectories."""
    return pa.Table.from_pylist(trajectories, schema=TRAJECTORY_SCHEMA)


def quarantine_table(rows: list[Quarantined]) -> pa.Table:
    """Build a pyarrow table in :data:`QUARANTINE_SCHEMA`."""
    return pa.Table.from_pylist([r.__dict__ for r in rows], schema=QUARANTINE_SCHEMA)


def content_hash(table: pa.Table) -> str:
    """SHA-256 (hex, first 16 chars) of a table's rows serialized as canonical JSON lines.

    Independent of Parquet encoding details, so the same rows always give the same hash:
    this is the snapshot's data version.
    """
    digest = hashlib.sha256()
    for row in table.to_pylist():
        digest.update(json.dumps(row, sort_keys=True, ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()[:16]


def write_snapshot(table: pa.Table, directory: Path, name: str) -> tuple[Path, str]:
    """Write ``table`` as ``<directory>/<name>-<hash>.parquet`` (atomic rename).

    Returns:
        (path, content hash). Rewriting identical rows is a no-op on the same path.
    """
    digest = content_hash(table)
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / f"{name}-{digest}.parquet"
    if not final.exists():
        tmp = final.with_suffix(".parquet.tmp")
        pq.write_table(table, tmp)
        tmp.replace(final)
    return final, digest
