"""Dagster definitions: assets, checks, resources, jobs, the nightly schedule, automation.

Load with ``dagster dev -m pipelines.definitions`` (``foresight ui`` does this on the
project's instance).
"""

from __future__ import annotations

import dagster as dg

from assets import (
    ALL_ASSETS,
    ALL_CHECKS,
    GRID_ASSETS,
    SCORE_ASSETS,
    benchmark_partitions,
)
from assets.training import TRAINING_TAGS
from resources import CatalogResource, RetrieverResource, TrainingLauncher

training_job = dg.define_asset_job(
    "training_pipeline",
    selection=dg.AssetSelection.assets(*[a for a in ALL_ASSETS if a not in SCORE_ASSETS]),
    tags=TRAINING_TAGS,
    description="Worlds -> ingestion -> augmentation -> WM-AMT -> FE-SFT -> FC-RL.",
)

evaluation_job = dg.define_asset_job(
    "evaluate_benchmarks", selection=dg.AssetSelection.assets(*SCORE_ASSETS), partitions_def=benchmark_partitions,
    description="Evaluate the latest FE-SFT and FC-RL checkpoints on one benchmark.",
)


# RL + scores of recipe x seed partitions whose SFT stage exists. For whole recipes, select the
# recipe_grid group in the UI and materialize it as an asset backfill: Dagster follows the partition
# mappings and materializes each shared mid-training and SFT partition once (`foresight grid` does
# the same from the command line).
recipe_grid_job = dg.define_asset_job(
    "recipe_grid_rl_and_scores", selection=dg.AssetSelection.assets(*GRID_ASSETS[2:4]),
    description="RL and scores of recipe x seed partitions (their SFT partitions must exist).",
)


@dg.schedule(job=evaluation_job, cron_schedule="0 3 * * *", default_status=dg.DefaultScheduleStatus.RUNNING,
             description="Nightly re-evaluation of every benchmark partition.")
def nightly_evaluation(context: dg.ScheduleEvaluationContext):
    day = context.scheduled_execution_time.strftime("%Y-%m-%d")
    for key in benchmark_partitions.get_partition_keys():
        yield dg.RunRequest(run_key=f"nightly-{day}-{key}", partition_key=key)


# Dagster's default automation sensor starts STOPPED; this one runs by default so scores
# rematerialize by themselves when the FC-RL checkpoint changes (grid scores and the report too).
evaluation_automation = dg.AutomationConditionSensorDefinition(
    "evaluation_automation", target=dg.AssetSelection.assets(*SCORE_ASSETS, *GRID_ASSETS[-2:]),
    default_status=dg.DefaultSensorStatus.RUNNING, minimum_interval_seconds=30,
)

RESOURCES = {"catalog": CatalogResource(), "launcher": TrainingLauncher(), "retriever": RetrieverResource()}

defs = dg.Definitions(
    assets=[*ALL_ASSETS, *GRID_ASSETS],
    asset_checks=ALL_CHECKS,
    jobs=[training_job, evaluation_job, recipe_grid_job],
    schedules=[nightly_evaluation],
    sensors=[evaluation_automation],
    resources=RESOURCES,
)
