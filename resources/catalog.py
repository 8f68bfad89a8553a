"""The DuckDB catalog as a Dagster resource (thin over :class:`foresight.catalog.Catalog`)."""

from __future__ import annotations

import dagster as dg

from foresight.catalog import Catalog


class CatalogResource(dg.ConfigurableResource):
    """Catalog database; ``path=None`` means ``$FORESIGHT_HOME/catalog.duckdb``."""

    path: str | None = None

    def get(self) -> Catalog:
        return Catalog(self.path)
