"""The retriever of the search environments as a Dagster resource.

:class:`RetrieverResource` has exactly the fields of
:class:`foresight.envs.retrieval.RetrieverConfig` (same names, types, defaults and
descriptions, generated from it the way :mod:`resources.config_bridge` mirrors the core's
configs), so the launchpad shows every knob and the core stays Dagster-free.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import create_model

from foresight.envs.retrieval import (
    Passage,
    Retriever,
    RetrieverConfig,
    build_retriever,
)
from resources.config_bridge import dagster_fields

# ConfigurableResource subclass carrying RetrieverConfig's fields; the methods live on the
# named class below so the launchpad and the code read "RetrieverResource".
_RetrieverFields = create_model("_RetrieverFields", __base__=dg.ConfigurableResource, **dagster_fields(RetrieverConfig))


class RetrieverResource(_RetrieverFields):
    """Which retriever search environments use: BM25, dense (sentence-transformers) or a
    remote Search-R1-compatible server; fields as :class:`foresight.envs.retrieval.RetrieverConfig`.
    """

    def config(self) -> RetrieverConfig:
        """The core config these fields describe.

        Raises:
            pydantic.ValidationError: an invalid combination (e.g. kind "remote" without url).
        """
        return RetrieverConfig.model_validate({name: getattr(self, name) for name in RetrieverConfig.model_fields})

    def retriever(self, passages: list[Passage] | None, cache_dir: str | Path | None = None) -> Retriever:
        """Build the retriever over ``passages`` (see :func:`foresight.envs.retrieval.build_retriever`)."""
        return build_retriever(self.config(), passages, cache_dir)
