"""Dagster assets of the pipeline, thin over the :mod:`foresight` core.

search_world, arithmetic_world -> trajectories -> augmented_trajectories -> wm_amt_checkpoint ->
fe_sft_checkpoint -> fc_rl_checkpoint -> benchmark_scores, with fe_sft_scores beside it
(both partitioned by benchmark).

The recipe grid (:mod:`assets.grid`) trains and scores every comparison row of the paper's
tables from the same data assets, partitioned by recipe stage and seed.
"""

from assets.augmentation import augmented_trajectories, blocks_do_not_leak_answer
from assets.evaluation import (
    SCORE_ASSETS,
    benchmark_partitions,
    benchmark_scores,
    fe_sft_scores,
)
from assets.grid import GRID_ASSETS, SEEDS
from assets.ingestion import quarantined_fraction, trajectories
from assets.training import fc_rl_checkpoint, fe_sft_checkpoint, wm_amt_checkpoint
from assets.worlds import arithmetic_world, search_world

ALL_ASSETS = [search_world, arithmetic_world, trajectories, augmented_trajectories, wm_amt_checkpoint, fe_sft_checkpoint, fc_rl_checkpoint, fe_sft_scores, benchmark_scores]
ALL_CHECKS = [quarantined_fraction, blocks_do_not_leak_answer]

__all__ = ["ALL_ASSETS", "ALL_CHECKS", "GRID_ASSETS", "SCORE_ASSETS", "SEEDS", "benchmark_partitions"]
