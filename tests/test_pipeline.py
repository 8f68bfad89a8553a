"""In-process materialization of the whole asset graph at the tiny preset."""

import json
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest

from assets import ALL_ASSETS, ALL_CHECKS
from foresight.blocks import monte_carlo_labels
from foresight.catalog import Catalog
from foresight.lineage import read_manifest
from foresight.registry import BENCHMARKS
from pipelines.cli import benchmark_table, materialize_all
from pipelines.definitions import RESOURCES, defs
from pipelines.presets import run_config


@pytest.fixture(scope="module")
def materialized(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FORESIGHT_HOME", str(home))
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{home / 'mlflow.db'}")
        instance = dg.DagsterInstance.ephemeral()
        timings = materialize_all("tiny", instance)
        yield home, instance, timings


def _meta(instance, key):
    event = instance.get_latest_materialization_event(dg.AssetKey(key))
    return {k: getattr(v, "value", v) for k, v in event.asset_materialization.metadata.items()}


def test_every_asset_is_materialized(materialized):
    _, instance, timings = materialized
    for key in ["search_world", "arithmetic_world", "trajectories", "augmented_trajectories", "wm_amt_checkpoint",
                "fe_sft_checkpoint", "fc_rl_checkpoint"]:
        assert instance.get_latest_materialization_event(dg.AssetKey(key)) is not None, key
    for key in ("benchmark_scores", "fe_sft_scores"):
        assert instance.get_materialized_partitions(dg.AssetKey(key)) == set(BENCHMARKS)
    assert {"wm_amt_checkpoint", "benchmark_scores[nq]", "fe_sft_scores[search_world]"} <= set(timings)


def test_checkpoints_carry_lineage(materialized):
    home, instance, _ = materialized
    rl = _meta(instance, "fc_rl_checkpoint")
    sft = _meta(instance, "fe_sft_checkpoint")
    data = _meta(instance, "augmented_trajectories")
    manifest = read_manifest(rl["checkpoint_path"])
    assert manifest["parent_checkpoint"] == sft["checkpoint_path"]
    assert read_manifest(sft["checkpoint_path"])["inputs"]["augmented_trajectories"]["data_version"] == data["data_version"]
    # RL's recorded input is the task set its rollouts used, and the process used exactly it
    rl_tasks = pq.read_table(manifest["inputs"]["rl_tasks"]["path"]).to_pylist()
    assert len(rl_tasks) == rl["rl_tasks"] == 4
    assert {t["source"] for t in rl_tasks} == {"search_world", "arithmetic_world"}
    for world in ("search_world", "arithmetic_world"):  # the worlds RL acted in are recorded inputs
        assert manifest["inputs"][world]["data_version"] == _meta(instance, world)["data_version"]
    assert manifest["config"]["num_generations"] == 2 and manifest["code_version"]
    path = Path(rl["checkpoint_path"])
    assert (path / "model.safetensors").exists() and not (path / "training_args.bin").exists()
    assert not list(path.parent.glob(".tmp-*"))  # atomic: no half-written checkpoints left
    assert rl["mlflow_run_id"] and rl["episodes"] >= 2


def test_catalog_answers_which_data_produced_a_checkpoint_and_a_score(materialized):
    _, instance, _ = materialized
    rl = _meta(instance, "fc_rl_checkpoint")
    raw = _meta(instance, "trajectories")
    columns, rows = Catalog().query("audit_checkpoint.sql", {"checkpoint_id": rl["checkpoint_id"]})
    by_stage: dict = {}
    for r in rows:
        row = dict(zip(columns, r))
        by_stage.setdefault(row["stage"], {})[row["source"]] = (row["snapshot_asset"], row["source_rows"])
    assert set(by_stage) == {"fc_rl", "fe_sft", "wm_amt"}
    for stage in ("wm_amt", "fe_sft"):  # trained on the augmented snapshot of these raw rows
        assert {s: n for s, (_, n) in by_stage[stage].items()} == raw["trajectories_per_source"]
    assert {a for a, _ in by_stage["fc_rl"].values()} == {"rl_tasks", "search_world", "arithmetic_world"}
    assert sum(n for s, (a, n) in by_stage["fc_rl"].items() if a == "rl_tasks") == 4
    columns, rows = Catalog().query("audit_score.sql", {"benchmark": "gsm8k"})
    sft = _meta(instance, "fe_sft_checkpoint")
    assert rows and {r[columns.index("checkpoint_id")] for r in rows} == {rl["checkpoint_id"], sft["checkpoint_id"]}
    table = benchmark_table()
    assert "| gsm8k |" in table and "|   search_world hops=2 |" in table


def test_blocks_and_checks(materialized):
    _, instance, _ = materialized
    aug = _meta(instance, "augmented_trajectories")
    assert aug["leaking_blocks"] == 0
    rows = pq.read_table(aug["path"]).to_pylist()
    # stored confidences are the Monte Carlo labels of the raw snapshot's siblings
    raw = pq.read_table(_meta(instance, "trajectories")["path"]).to_pylist()
    labels = monte_carlo_labels(raw)
    stored = {(t["trajectory_id"], i): (s["block"]["confidence"], s["block"]["n_rollouts"]) for t in rows for i, s in enumerate(t["steps"])}
    assert stored == {k: (round(q, 4), n) for k, (q, n) in labels.items()}
    assert aug["labels_monte_carlo"] == sum(n > 1 for _, n in labels.values()) > 0
    for check in ("quarantined_fraction", "blocks_do_not_leak_answer"):
        records = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(dg.AssetKey("trajectories" if check == "quarantined_fraction" else "augmented_trajectories"), check), limit=1)
        assert records and records[0].status.value == "SUCCEEDED", check


def test_scores_rematerialize_when_the_rl_checkpoint_changes(materialized):
    _, instance, _ = materialized
    evaluation = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert evaluation.total_requested == 0  # every partition is up to date
    instance.report_runless_asset_event(dg.AssetMaterialization("fc_rl_checkpoint"))
    evaluation = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=evaluation.cursor)
    requested = {r.key for r in evaluation.results if r.true_subset.size > 0}
    assert requested == {dg.AssetKey("benchmark_scores")}  # the FE-SFT scores are still current
    assert evaluation.total_requested == len(BENCHMARKS)  # one per benchmark partition


def test_nightly_schedule_requests_every_partition():
    from pipelines.definitions import nightly_evaluation

    context = dg.build_schedule_context(scheduled_execution_time=__import__("datetime").datetime(2026, 11, 21, 3))
    requests = list(nightly_evaluation(context))
    assert sorted(r.partition_key for r in requests) == sorted(BENCHMARKS)


def test_malformed_input_is_quarantined_and_checked(materialized, tmp_path, trajectory):
    home, instance, _ = materialized
    bad_file = tmp_path / "user.jsonl"
    bad_file.write_text("\n".join([json.dumps(trajectory), json.dumps({**trajectory, "trajectory_id": "x", "domain": "poetry"})]))
    config = run_config("tiny")["ops"]["trajectories"]["config"]
    result = dg.materialize(
        [*ALL_ASSETS, *ALL_CHECKS], selection=dg.AssetSelection.assets("trajectories").without_checks() | dg.AssetSelection.checks_for_assets("trajectories"),
        instance=instance, resources=RESOURCES, raise_on_error=False,
        run_config={"ops": {"trajectories": {"config": {**config, "sources": {"gsm8k": 1},
                                                        "canonical_files": [str(bad_file)], "max_bad_fraction": 0.01}}}},
    )
    meta = _meta(instance, "trajectories")
    assert meta["quarantined"] == 1 and meta["trajectories_per_source"]["unit"] == 1
    quarantined = pq.read_table(meta["quarantine_path"]).to_pylist()
    assert quarantined[0]["file"] == str(bad_file) and quarantined[0]["record"] == 1 and quarantined[0]["field"] == "domain"
    checks = result.get_asset_check_evaluations()
    assert [c.passed for c in checks] == [False]


@pytest.fixture(scope="module")
def grid(materialized):
    """Two main recipes x two seeds, then a third recipe sharing their WM-AMT and FE-SFT stages."""
    from pipelines.cli import materialize_grid

    home, instance, _ = materialized
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FORESIGHT_HOME", str(home))
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{home / 'mlflow.db'}")
        first = materialize_grid(["amt.sft.grpo", "wm_amt.fe_sft.fc_rl"], ["0", "1"], "tiny", instance)
        second = materialize_grid(["wm_amt.fe_sft.none"], ["0"], "tiny", instance)
    return home, instance, first, second


def _partition_meta(instance, asset, **keys):
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[dg.MultiPartitionKey(keys)]), limit=5).records
    return [{k: getattr(v, "value", v) for k, v in r.asset_materialization.metadata.items()} for r in records]


def test_recipe_grid_trains_shared_stages_once_and_keeps_lineage(grid):
    _, instance, first, second = grid
    # Both mid-training kinds and SFT variants were trained once per seed; the third recipe reused them.
    assert sorted(k for k in first if k.startswith("grid_midtrain")) == sorted(
        f"grid_midtrain_checkpoint[{dg.MultiPartitionKey({'mid_training': m, 'seed': s})}]" for m in ("amt", "wm_amt") for s in "01")
    assert not any(k.startswith(("grid_midtrain", "grid_sft")) for k in second)
    record = instance.fetch_materializations(dg.AssetRecordsFilter(
        asset_key=dg.AssetKey("grid_midtrain_checkpoint"),
        asset_partitions=[dg.MultiPartitionKey({"mid_training": "wm_amt", "seed": "0"})]), limit=1).records[0]
    assert instance.get_run_by_id(record.run_id).tags["foresight/grid_preset"] == "tiny"  # what reuse is keyed on
    [wm] = _partition_meta(instance, "grid_midtrain_checkpoint", mid_training="wm_amt", seed="0")
    [amt] = _partition_meta(instance, "grid_midtrain_checkpoint", mid_training="amt", seed="0")
    assert read_manifest(amt["checkpoint_path"])["config"]["augmented_fraction"] == 0.0  # standard AMT: no blocks
    assert read_manifest(wm["checkpoint_path"])["config"]["augmented_fraction"] > 0
    [sft] = _partition_meta(instance, "grid_sft_checkpoint", sft="wm_amt.fe_sft", seed="0")
    assert sft["parent_checkpoint"] == wm["checkpoint_path"]
    [fcrl] = _partition_meta(instance, "grid_rl_checkpoint", recipe="wm_amt.fe_sft.fc_rl", seed="0")
    [grpo] = _partition_meta(instance, "grid_rl_checkpoint", recipe="amt.sft.grpo", seed="1")
    assert fcrl["parent_checkpoint"] == sft["checkpoint_path"] and fcrl["advantage"] == "span"
    assert grpo["advantage"] == "episode" and read_manifest(grpo["checkpoint_path"])["seed"] == 1
    [none] = _partition_meta(instance, "grid_rl_checkpoint", recipe="wm_amt.fe_sft.none", seed="0")
    assert none["checkpoint_id"] == sft["checkpoint_id"] and "no RL stage" in none["skipped"]


def test_recipe_report_reads_the_catalog_and_states_the_ordering(grid):
    home, instance, _, _ = grid
    meta = _meta(instance, "recipe_report")
    report = Path(meta["path"])
    text = report.read_text()
    assert "The paper's ordering" in text and "wm_amt.fe_sft.fc_rl" in text and "amt.sft.grpo" in text
    assert "Grid preset `tiny`" in text  # scores are kept and reported per preset
    assert any(v in text for v in ("holds", "reversed", "not resolved"))
    for plot in ("score_by_recipe", "reliability", "format_gap", "omega_sweep", "token_overhead"):
        assert (report.parent / f"{plot}.png").stat().st_size > 1000
    columns, rows = Catalog(home / "catalog.duckdb").query("recipe_scores.sql")
    assert {r[columns.index("grid_preset")] for r in rows} == {"tiny"}
    assert {(r[0], r[1]) for r in rows} >= {("amt.sft.grpo", 0), ("amt.sft.grpo", 1), ("wm_amt.fe_sft.fc_rl", 1),
                                             ("wm_amt.fe_sft.none", 0)}
    assert {r[2] for r in rows} == {"search_world", "gsm8k"}
