"""Helpers shared by the asset modules."""

from __future__ import annotations

import dagster as dg


def latest_metadata(context: dg.AssetExecutionContext, asset: str) -> dict:
    """Plain-valued metadata of the latest materialization of ``asset``.

    Raises:
        dagster.Failure: the asset has never been materialized.
    """
    event = context.instance.get_latest_materialization_event(dg.AssetKey(asset))
    if event is None or event.asset_materialization is None:
        raise dg.Failure(f"upstream asset {asset!r} has not been materialized yet")
    return _plain(event.asset_materialization)


def latest_partition_record(instance: dg.DagsterInstance, asset: str, partition: str) -> dg.EventLogRecord | None:
    """The event record of the latest materialization of one partition of ``asset``, or None."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[partition]), limit=1).records
    return records[0] if records else None


def partition_metadata(context: dg.AssetExecutionContext, asset: str, **keys: str) -> dict:
    """Plain-valued metadata of the latest materialization of one multi-partition of ``asset``.

    Raises:
        dagster.Failure: that partition has never been materialized.
    """
    partition = dg.MultiPartitionKey(keys)
    record = latest_partition_record(context.instance, asset, partition)
    if record is None:
        raise dg.Failure(f"upstream {asset} partition {partition} has not been materialized yet")
    return _plain(record.asset_materialization)


def _plain(materialization) -> dict:
    return {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}


def markdown_table(header: list[str], rows: list[list]) -> str:
    """A markdown table (floats to 3 decimals) for asset metadata and the demo printout."""
    def cell(v):
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def world_inputs(context: dg.AssetExecutionContext) -> dict[str, dict[str, str]]:
    """Job inputs naming the latest materialization of each generated world (path, data version)."""
    from foresight.worlds import WORLD_SOURCES

    inputs = {}
    for source in WORLD_SOURCES:
        meta = latest_metadata(context, source)
        inputs[source] = {"path": meta["path"], "data_version": meta["data_version"]}
    return inputs
