"""Assets: the generated search and arithmetic worlds (corpus and question files, versioned)."""


import dagster as dg

from foresight.paths import subdir
from foresight.worlds import majority_baseline, save_world
from foresight.worlds.arithmetic_world import (
    ArithmeticWorldConfig,
    generate_arithmetic_world,
)
from foresight.worlds.search_world import SearchWorldConfig, generate_search_world
from resources import CatalogResource
from resources.config_bridge import dagster_config, to_core

SearchWorldConfigDagster = dagster_config(SearchWorldConfig)
ArithmeticWorldConfigDagster = dagster_config(ArithmeticWorldConfig)


def _materialize(catalog: CatalogResource, source: str, cfg, train, evaluation, stats: dict,
                 passages=None) -> dg.MaterializeResult:
    path, digest = save_world(subdir("worlds"), source, cfg, train, evaluation, passages, stats)
    catalog.get().register_snapshot(digest, source, str(path), len(train) + len(evaluation), 0,
                                    {f"{source}:train": len(train), f"{source}:eval": len(evaluation)})
    baseline, _ = majority_baseline(train, evaluation)
    return dg.MaterializeResult(
        metadata={"path": str(path), "data_version": digest, "seed": cfg.seed, **stats,
                  "majority_baseline_success": baseline},
        data_version=dg.DataVersion(digest),
    )


@dg.asset(group_name="data", code_version="1", kinds={"json", "duckdb"})
def search_world(config: SearchWorldConfigDagster, catalog: CatalogResource) -> dg.MaterializeResult:
    """A seeded multi-hop search world: fictional-entity corpus (wiki-18 format) and 1-4 hop questions.

    Evaluation questions start from entities no training question starts from.
    """
    cfg = to_core(config, SearchWorldConfig)
    world = generate_search_world(cfg)
    return _materialize(catalog, "search_world", cfg, world.train, world.eval, world.stats(), world.passages)


@dg.asset(group_name="data", code_version="1", kinds={"json", "duckdb"})
def arithmetic_world(config: ArithmeticWorldConfigDagster, catalog: CatalogResource) -> dg.MaterializeResult:
    """A seeded multi-step arithmetic world solved with the python tool."""
    cfg = to_core(config, ArithmeticWorldConfig)
    world = generate_arithmetic_world(cfg)
    return _materialize(catalog, "arithmetic_world", cfg, world.train, world.eval, world.stats())
