import json

import pyarrow.parquet as pq
import pytest

from foresight.schema import (
    SchemaError,
    content_hash,
    read_canonical_file,
    to_table,
    validate_trajectory,
)


def test_valid_record_round_trips(trajectory):
    out = validate_trajectory(trajectory)
    assert out["steps"][1]["action_type"] == "answer"
    table = to_table([out])
    assert table.num_rows == 1 and table.column("steps").to_pylist()[0][0]["action"] == "Acme founder"


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda r: r.pop("question"), "question"),
        (lambda r: r.update(domain="chess"), "domain"),
        (lambda r: r.update(gold_answers=[]), "gold_answers"),
        (lambda r: r["steps"][0].update(action_type="browse"), "steps[0].action_type"),
        (lambda r: r["steps"][1].update(action=""), "steps[1].action"),
        (lambda r: r["steps"].reverse(), "steps[0].action_type"),
        (lambda r: r.update(outcome=2.0), "outcome"),
        (lambda r: r.update(outcome=True), "outcome"),
    ],
)
def test_invalid_records_name_the_field(trajectory, mutate, field):
    mutate(trajectory)
    with pytest.raises(SchemaError) as err:
        validate_trajectory(trajectory)
    assert err.value.field == field


def test_malformed_file_quarantines_bad_rows_and_keeps_good_ones(tmp_path, trajectory):
    bad = dict(trajectory, trajectory_id="t2", outcome="yes")
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join([json.dumps(trajectory), "{not json", json.dumps(bad), json.dumps(dict(trajectory, trajectory_id="t3"))]))
    result = read_canonical_file(path)
    assert [t["trajectory_id"] for t in result.trajectories] == ["t1", "t3"]
    assert [(q.record, q.field) for q in result.quarantined] == [(1, "<json>"), (2, "outcome")]
    message = result.quarantined[1].message()
    assert str(path) in message and "record 2" in message and "'outcome'" in message
    assert result.bad_fraction == pytest.approx(0.5)


def test_unknown_file_type_is_rejected(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b")
    with pytest.raises(ValueError, match="unsupported"):
        read_canonical_file(path)


def test_content_hash_depends_on_rows_not_on_parquet_encoding(tmp_path, trajectory):
    table = to_table([validate_trajectory(trajectory)])
    pq.write_table(table, tmp_path / "a.parquet", compression="zstd", row_group_size=1)
    pq.write_table(table, tmp_path / "b.parquet", compression="none", use_dictionary=False)
    a, b = pq.read_table(tmp_path / "a.parquet"), pq.read_table(tmp_path / "b.parquet")
    assert (tmp_path / "a.parquet").read_bytes() != (tmp_path / "b.parquet").read_bytes()
    assert content_hash(a) == content_hash(b) == content_hash(table)
    assert content_hash(to_table([validate_trajectory(dict(trajectory, outcome=0.0))])) != content_hash(table)


def test_line_numbers_duplicates_and_bad_bytes_are_reported(tmp_path, trajectory):
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join([json.dumps(trajectory).encode(), b"", b"\xff\xfe not utf-8", json.dumps(trajectory).encode()]))
    result = read_canonical_file(path)
    assert len(result.trajectories) == 1
    assert [(q.record, q.field) for q in result.quarantined] == [(2, "<json>"), (3, "trajectory_id")]
    assert "not UTF-8" in result.quarantined[0].reason and "duplicate" in result.quarantined[1].reason


def test_unreadable_parquet_names_the_file(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 not really")
    with pytest.raises(ValueError, match="broken.parquet"):
        read_canonical_file(path)
