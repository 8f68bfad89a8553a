"""The DuckDB catalog: dataset snapshots, checkpoints, their inputs, and scores.

DDL and audit queries live in ``sql/``; every query is parameterized. DuckDB allows one
writing process per database file, so only the orchestrating process writes (training
processes report back instead of writing).
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

import duckdb

from foresight.paths import SQL_DIR, home


def _sql(name: str) -> str:
    return (SQL_DIR / name).read_text()


class Catalog:
    """Access to the catalog database at ``path`` (default ``$FORESIGHT_HOME/catalog.duckdb``)."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else home() / "catalog.duckdb"

    @contextmanager
    def connect(self, read_only: bool = False):
        if read_only and not self.path.exists():
            raise FileNotFoundError(f"no catalog at {self.path}; materialize the pipeline first")
        con = duckdb.connect(str(self.path), read_only=read_only)
        try:
            if not read_only:
                con.execute(_sql("schema.sql"))
            yield con
        finally:
            con.close()

    def migrate(self) -> None:
        """Create missing tables and columns (``sql/schema.sql`` is idempotent) before read-only queries."""
        with self.connect():
            pass

    def register_snapshot(self, data_version: str, asset: str, path: str, rows: int, quarantined: int,
                          sources: dict[str, int], parent_data_version: str | None = None) -> None:
        """Record a dataset snapshot and its rows per source (idempotent per data version)."""
        with self.connect() as con:
            con.execute(
                "INSERT OR REPLACE INTO dataset_snapshots (data_version, asset, path, rows, quarantined, parent_data_version) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [data_version, asset, path, rows, quarantined, parent_data_version],
            )
            for source, count in sources.items():
                con.execute("INSERT OR REPLACE INTO snapshot_sources VALUES (?, ?, ?)", [data_version, source, count])

    def register_checkpoint(self, manifest: dict, path: str, mlflow_run_id: str | None, dagster_run_id: str | None) -> None:
        """Record a checkpoint from its lineage manifest (see :mod:`foresight.lineage`)."""
        parent = manifest.get("parent_checkpoint")
        with self.connect() as con:
            con.execute(
                "INSERT OR REPLACE INTO checkpoints (checkpoint_id, stage, path, parent_checkpoint_id, config, code_version, "
                "seed, mlflow_run_id, dagster_run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [manifest["checkpoint_id"], manifest["stage"], path, Path(parent).name if parent else None,
                 json.dumps(manifest.get("config")), manifest.get("code_version"), manifest.get("seed"),
                 mlflow_run_id, dagster_run_id],
            )
            for name, spec in manifest.get("inputs", {}).items():
                con.execute("INSERT OR REPLACE INTO checkpoint_inputs VALUES (?, ?, ?)",
                            [manifest["checkpoint_id"], name, spec["data_version"]])

    def register_scores(self, score_id: str, checkpoint_id: str, benchmark: str, metrics: dict[str, float],
                        episodes_path: str | None, mlflow_run_id: str | None, dagster_run_id: str | None) -> None:
        """Record one benchmark materialization's metrics."""
        with self.connect() as con:
            for metric, value in metrics.items():
                con.execute(
                    "INSERT OR REPLACE INTO scores (score_id, checkpoint_id, benchmark, metric, value, episodes_path, "
                    "mlflow_run_id, dagster_run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [score_id, checkpoint_id, benchmark, metric, value, episodes_path, mlflow_run_id, dagster_run_id],
                )

    def register_recipe_score(self, recipe: str, seed: int, benchmark: str, score_id: str, checkpoint_id: str,
                              dagster_run_id: str | None, grid_preset: str) -> None:
        """Record that ``score_id`` evaluated the recipe grid's (recipe, seed) checkpoint on ``benchmark``,
        in a grid run of ``grid_preset``."""
        with self.connect() as con:
            con.execute(
                "INSERT OR REPLACE INTO recipe_scores (recipe, seed, benchmark, score_id, checkpoint_id, dagster_run_id, "
                "grid_preset) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [recipe, seed, benchmark, score_id, checkpoint_id, dagster_run_id, grid_preset],
            )

    def query(self, sql_file: str, params: dict | None = None) -> tuple[list[str], list[tuple]]:
        """Run a query from ``sql/`` read-only; returns (column names, rows)."""
        with self.connect(read_only=True) as con:
            cursor = con.execute(_sql(sql_file), params or {})
            return [d[0] for d in cursor.description], cursor.fetchall()
