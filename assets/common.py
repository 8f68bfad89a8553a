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
    return {k: getattr(v, "value", v) for k, v in event.asset_materialization.metadata.items()}


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
