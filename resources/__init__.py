"""Dagster resources: the DuckDB catalog, the launcher of training/evaluation processes, the retriever."""

from resources.catalog import CatalogResource
from resources.launcher import TrainingLauncher
from resources.retrieval import RetrieverResource

__all__ = ["CatalogResource", "RetrieverResource", "TrainingLauncher"]
