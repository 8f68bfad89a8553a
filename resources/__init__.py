"""Dagster resources: the DuckDB catalog and the launcher of training/evaluation processes."""

from resources.catalog import CatalogResource
from resources.launcher import TrainingLauncher

__all__ = ["CatalogResource", "TrainingLauncher"]
