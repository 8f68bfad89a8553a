"""Asset: trajectories with a hindsight world-model block before every action."""


from collections import Counter

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel

from assets.common import latest_metadata
from foresight.blocks import augment, block_leaks
from foresight.paths import subdir
from foresight.schema import write_snapshot
from resources import CatalogResource
from resources.config_bridge import dagster_config, to_core


class AugmentConfig(BaseModel):
    """World-model-block augmentation settings."""

    num_keywords: int = 4


AugmentConfigDagster = dagster_config(AugmentConfig)


@dg.asset(group_name="data", deps=["trajectories"], code_version="1", kinds={"parquet"})
def augmented_trajectories(
    context: dg.AssetExecutionContext, config: AugmentConfigDagster, catalog: CatalogResource,
) -> dg.MaterializeResult:
    """Every step gets a block (rollout, keywords, gap analysis, Monte Carlo confidence).

    Which steps show their block in WM-AMT documents is sampled there; FE-SFT shows all.
    """
    cfg = to_core(config, AugmentConfig)
    upstream = latest_metadata(context, "trajectories")
    rows = pq.read_table(upstream["path"]).to_pylist()
    augmented = augment(rows, cfg.num_keywords)
    blocks = [(t, s["block"]) for t in augmented for s in t["steps"]]
    leaks = sum(block_leaks(b, t["gold_answers"]) for t, b in blocks)
    sources = Counter(b["label_source"] for _, b in blocks)
    rollouts = Counter(b["n_rollouts"] for _, b in blocks)
    path, digest = write_snapshot(pa.Table.from_pylist(augmented), subdir("augmented"), "augmented")
    catalog.get().register_snapshot(digest, "augmented_trajectories", str(path), len(augmented), 0,
                                    dict(Counter(t["source"] for t in augmented)), parent_data_version=upstream["data_version"])
    return dg.MaterializeResult(
        metadata={
            "path": str(path), "data_version": digest, "parent_data_version": upstream["data_version"],
            "trajectories": len(augmented), "blocks": len(blocks), "leaking_blocks": leaks,
            "labels_monte_carlo": sources.get("monte_carlo", 0), "labels_own_outcome": sources.get("own_outcome", 0),
            "labels_by_rollouts": {str(k): v for k, v in sorted(rollouts.items())},
            "mean_confidence": sum(b["confidence"] for _, b in blocks) / max(1, len(blocks)),
        },
        data_version=dg.DataVersion(digest),
    )


@dg.asset_check(asset=augmented_trajectories, blocking=True, description="No world-model block contains a gold answer")
def blocks_do_not_leak_answer(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    meta = latest_metadata(context, "augmented_trajectories")
    rows = pq.read_table(meta["path"]).to_pylist()  # recount from the snapshot itself
    leaking = [(t["trajectory_id"], i) for t in rows for i, s in enumerate(t["steps"]) if block_leaks(s["block"], t["gold_answers"])]
    return dg.AssetCheckResult(passed=not leaking,
                               metadata={"leaking_blocks": len(leaking), "examples": str(leaking[:10])})
