"""Shared scaffolding of launched processes: job parsing, Pipes reporting, MLflow, callbacks.

Under Dagster Pipes the process reports logs, metrics, the checkpoint path, the MLflow run
id and a data version back to the launching asset; launched by hand it logs to stderr and
writes the same report as JSON to ``--report`` (default stdout). Under ``torchrun`` or
``accelerate launch`` only rank 0 opens Pipes (two writers break the message stream).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import mlflow
from transformers import TrainerCallback

from foresight.config import TrainingJob
from foresight.paths import mlflow_tracking_uri

_log = logging.getLogger("foresight")


def is_rank_zero() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


class Reporter:
    """Sends logs and the final report to Dagster Pipes when present, else to stderr/JSON."""

    def __init__(self, pipes=None):
        self.pipes = pipes

    def info(self, message: str) -> None:
        if self.pipes is not None:
            self.pipes.log.info(message)
        _log.info(message)

    def report(self, metadata: dict, data_version: str | None) -> None:
        if self.pipes is not None:
            self.pipes.report_asset_materialization(metadata=metadata, data_version=data_version)


class PipesLogCallback(TrainerCallback):
    """Streams trainer logs (loss, learning rate, rewards) into the Dagster event log."""

    def __init__(self, reporter: Reporter):
        self.reporter = reporter

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and state.is_world_process_zero:
            shown = {k: round(v, 5) if isinstance(v, float) else v for k, v in logs.items()}
            self.reporter.info(f"step {state.global_step}/{state.max_steps}: {json.dumps(shown)}")


def run(stage_fn: Callable[[TrainingJob, Reporter], tuple[dict, str | None]], description: str) -> None:
    """Parse ``--job``, open Pipes (rank 0) and an MLflow run, call ``stage_fn``, report.

    ``stage_fn(job, reporter)`` returns (metadata, data_version). The MLflow run id and
    experiment are added to the metadata.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--job", required=True, help="path of a TrainingJob JSON file")
    parser.add_argument("--report", default="-", help="where to write the JSON report when not under Dagster Pipes")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    job = TrainingJob.model_validate_json(Path(args.job).read_text())

    with ExitStack() as stack:
        pipes = None
        if is_rank_zero():
            from dagster_pipes import PipesEnvVarParamsLoader, open_dagster_pipes

            if PipesEnvVarParamsLoader().is_dagster_pipes_process():
                pipes = stack.enter_context(open_dagster_pipes())
        reporter = Reporter(pipes)
        mlflow.set_tracking_uri(mlflow_tracking_uri())
        active = None
        if is_rank_zero():  # one writer: ranks creating the SQLite store at once race on its migration
            mlflow.set_experiment(job.mlflow_experiment)
            active = stack.enter_context(mlflow.start_run(run_name=f"{job.stage}"))
        if active is not None:
            mlflow.set_tags({"stage": job.stage, "code_version": job.code_version})
        metadata, data_version = stage_fn(job, reporter)
        if active is not None:
            numeric = {k: v for k, v in metadata.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
            mlflow.log_metrics({k.replace("/", "_"): float(v) for k, v in numeric.items()})
            metadata = {**metadata, "mlflow_run_id": active.info.run_id, "mlflow_experiment": job.mlflow_experiment}
        if is_rank_zero():
            reporter.report(metadata, data_version)
            if pipes is None:
                text = json.dumps({"metadata": metadata, "data_version": data_version}, indent=2, default=str)
                if args.report == "-":
                    print(text)
                else:
                    Path(args.report).write_text(text)
