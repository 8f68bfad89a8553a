"""Asset: trajectories of behavior policies on real datasets and generated worlds, as a Parquet snapshot."""


from collections import Counter

import dagster as dg

from assets.common import latest_metadata, world_inputs
from foresight.ingest import IngestConfig, generate_trajectories
from foresight.paths import subdir
from foresight.schema import quarantine_table, to_table, write_snapshot
from resources import CatalogResource, RetrieverResource
from resources.config_bridge import dagster_config, to_core

TrajectoriesConfig = dagster_config(IngestConfig)


@dg.asset(group_name="data", deps=["search_world", "arithmetic_world"], code_version="2", kinds={"parquet", "duckdb"})
def trajectories(context: dg.AssetExecutionContext, config: TrajectoriesConfig, catalog: CatalogResource,
                 retriever: RetrieverResource) -> dg.MaterializeResult:
    """Trajectories in the canonical schema (HotpotQA, MuSiQue, GSM8K, the generated worlds, canonical files).

    The snapshot's content hash is the data version and is registered in the catalog;
    malformed records go to a quarantine Parquet file with file, record, field and reason.
    """
    cfg = to_core(config, IngestConfig)
    worlds = world_inputs(context)
    result, task_counts = generate_trajectories(cfg, retriever.config(), {k: v["path"] for k, v in worlds.items()})
    table = to_table(result.trajectories)
    path, digest = write_snapshot(table, subdir("trajectories"), "trajectories")
    quarantine_path = None
    if result.quarantined:
        quarantine_path, _ = write_snapshot(quarantine_table(result.quarantined), subdir("quarantine"), "quarantine")
        for q in result.quarantined[:20]:
            context.log.warning(f"quarantined: {q.message()}")
    by_source = Counter(t["source"] for t in result.trajectories)
    by_policy = Counter(t["behavior_policy"] for t in result.trajectories)
    catalog.get().register_snapshot(digest, "trajectories", str(path), len(result.trajectories),
                                    len(result.quarantined), dict(by_source))
    steps = sum(len(t["steps"]) for t in result.trajectories)
    return dg.MaterializeResult(
        metadata={
            "path": str(path), "data_version": digest, "trajectories": len(result.trajectories),
            "steps": steps, "quarantined": len(result.quarantined), "bad_fraction": result.bad_fraction,
            "max_bad_fraction": cfg.max_bad_fraction, "quarantine_path": str(quarantine_path or ""),
            "tasks_per_source": task_counts, "trajectories_per_source": dict(by_source),
            "trajectories_per_policy": dict(by_policy),
            "success_rate": sum(t["outcome"] for t in result.trajectories) / max(1, len(result.trajectories)),
            **{f"input/{name}": spec["data_version"] for name, spec in worlds.items()},
        },
        data_version=dg.DataVersion(digest),
    )


@dg.asset_check(asset=trajectories, blocking=True, description="Quarantined share of input records is at most max_bad_fraction")
def quarantined_fraction(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    meta = latest_metadata(context, "trajectories")
    return dg.AssetCheckResult(
        passed=meta["bad_fraction"] <= meta["max_bad_fraction"],
        metadata={"bad_fraction": meta["bad_fraction"], "quarantined": meta["quarantined"],
                  "quarantine_path": meta["quarantine_path"]},
    )
