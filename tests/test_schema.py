import json

import pytest

from foresight.schema import SchemaError, content_hash, read_canonical_file, to_table, validate_trajectory


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


def test_content_hash_depends_on_rows_only(trajectory):
    a = to_table([validate_trajectory(trajectory)])
    b = to_table([validate_trajectory(trajectory)])
    c = to_table([validate_trajectory(dict(trajectory, outcome=0.0))])
    assert content_hash(a) == content_hash(b) != content_hash(c)
