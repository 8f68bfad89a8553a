"""Dagster assets of the pipeline, thin over the :mod:`foresight` core.

trajectories -> augmented_trajectories -> wm_amt_checkpoint -> fe_sft_checkpoint ->
fc_rl_checkpoint -> benchmark_scores (partitioned by benchmark).
"""

from assets.augmentation import augmented_trajectories, blocks_do_not_leak_answer
from assets.evaluation import benchmark_partitions, benchmark_scores
from assets.ingestion import quarantined_fraction, trajectories
from assets.training import fc_rl_checkpoint, fe_sft_checkpoint, wm_amt_checkpoint

ALL_ASSETS = [trajectories, augmented_trajectories, wm_amt_checkpoint, fe_sft_checkpoint, fc_rl_checkpoint, benchmark_scores]
ALL_CHECKS = [quarantined_fraction, blocks_do_not_leak_answer]

__all__ = ["ALL_ASSETS", "ALL_CHECKS", "benchmark_partitions"]
