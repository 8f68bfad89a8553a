"""Assets: the WM-AMT, FE-SFT and FC-RL checkpoints, each trained in a launched process."""


from collections import Counter

import dagster as dg
import pyarrow as pa
from pydantic import BaseModel

from assets.common import latest_metadata, world_inputs
from foresight.config import FCRLConfig, FESFTConfig, MidTrainConfig, TrainingJob
from foresight.lineage import code_version, read_manifest
from foresight.paths import subdir
from foresight.rl_data import rl_tasks, task_rows
from foresight.schema import write_snapshot
from resources import CatalogResource, RetrieverResource, TrainingLauncher
from resources.config_bridge import dagster_config, to_core

FESFTConfigDagster = dagster_config(FESFTConfig)

MidTrainConfigDagster = dagster_config(MidTrainConfig)

TRAINING_TAGS = {"foresight/kind": "training"}


def augmented_input(context: dg.AssetExecutionContext) -> dict[str, dict[str, str]]:
    """Job input naming the latest ``augmented_trajectories`` snapshot (path, data version)."""
    data = latest_metadata(context, "augmented_trajectories")
    return {"augmented_trajectories": {"path": data["path"], "data_version": data["data_version"]}}


def train_checkpoint(
    context: dg.AssetExecutionContext, launcher: TrainingLauncher, catalog: CatalogResource, stage: str,
    config: BaseModel, inputs: dict[str, dict[str, str]], parent: str | None,
    retriever: RetrieverResource | None = None,
) -> dg.MaterializeResult:
    """Launch ``foresight.training.<stage>`` from checkpoint ``parent`` (None: from scratch),
    register the checkpoint in the catalog, return its materialization."""
    job = TrainingJob(
        stage=stage, config=config.model_dump(), parent_checkpoint=parent, inputs=inputs,
        output_root=str(subdir("checkpoints") / stage), code_version=code_version(),
        retriever=retriever.config() if retriever else None,
    )
    metadata, version = launcher.launch(context, f"foresight.training.{stage}", job)
    manifest = read_manifest(metadata["checkpoint_path"])
    catalog.get().register_checkpoint(manifest, metadata["checkpoint_path"], metadata.get("mlflow_run_id"), context.run_id)
    metadata.update({"parent_checkpoint": parent or "", "code_version": job.code_version,
                     **{f"input/{name}": spec["data_version"] for name, spec in inputs.items()}})
    return dg.MaterializeResult(metadata=metadata, data_version=dg.DataVersion(version or manifest["checkpoint_id"]))


@dg.asset(group_name="training", deps=["augmented_trajectories"], code_version="1", kinds={"pytorch", "mlflow"},
          op_tags=TRAINING_TAGS, pool="training")
def wm_amt_checkpoint(context: dg.AssetExecutionContext, config: MidTrainConfigDagster,
                      launcher: TrainingLauncher, catalog: CatalogResource) -> dg.MaterializeResult:
    """World Model Agentic Mid-Training: causal LM with packing over blocks + plain trajectories."""
    return train_checkpoint(context, launcher, catalog, "wm_amt", to_core(config, MidTrainConfig), augmented_input(context), None)


@dg.asset(group_name="training", deps=["wm_amt_checkpoint", "augmented_trajectories"], code_version="1",
          kinds={"pytorch", "mlflow"}, op_tags=TRAINING_TAGS, pool="training")
def fe_sft_checkpoint(context: dg.AssetExecutionContext, config: FESFTConfigDagster,
                      launcher: TrainingLauncher, catalog: CatalogResource) -> dg.MaterializeResult:
    """Format-Eliciting SFT: chat-format block + policy span, loss on assistant turns only."""
    return train_checkpoint(context, launcher, catalog, "fe_sft", to_core(config, FESFTConfig), augmented_input(context),
                            latest_metadata(context, "wm_amt_checkpoint")["checkpoint_path"])


class RLSources(BaseModel):
    """Training-split tasks the RL stage samples from (source -> max tasks, None = all)."""

    # The generated worlds only by default: on the real sets a CPU-scale policy never succeeds,
    # so their GRPO groups have zero reward variance and add compute without gradient.
    sources: dict[str, int | None] = {"search_world": None, "arithmetic_world": None}


class FCRLAssetConfig(FCRLConfig, RLSources):
    """FC-RL settings plus the task sources of its rollouts."""


FCRLAssetConfigDagster = dagster_config(FCRLAssetConfig)


@dg.asset(group_name="training", deps=["fe_sft_checkpoint", "search_world", "arithmetic_world"], code_version="1",
          kinds={"pytorch", "mlflow"}, op_tags=TRAINING_TAGS, pool="training")
def fc_rl_checkpoint(context: dg.AssetExecutionContext, config: FCRLAssetConfigDagster, launcher: TrainingLauncher,
                     catalog: CatalogResource, retriever: RetrieverResource) -> dg.MaterializeResult:
    """Foresight-Conditioned RL: GRPO with multi-turn rollouts and span advantages (world-model span:
    calibration + grounding; policy span: task reward + omega x confidence).

    The RL task set is snapshotted (content hash in the catalog) and is the run's recorded input.
    """
    cfg = to_core(config, FCRLAssetConfig)
    rl = FCRLConfig.model_validate(cfg.model_dump(exclude={"sources"}))
    inputs = rl_inputs(context, catalog, cfg.sources, rl)
    return train_checkpoint(context, launcher, catalog, "fc_rl", rl, inputs,
                            latest_metadata(context, "fe_sft_checkpoint")["checkpoint_path"], retriever)


def rl_inputs(context: dg.AssetExecutionContext, catalog: CatalogResource, sources: dict[str, int | None],
              rl: FCRLConfig) -> dict[str, dict[str, str]]:
    """Snapshot the RL task set (registered in the catalog by content hash) and name it and the worlds as inputs."""
    worlds = world_inputs(context)
    tasks = rl_tasks(sources, rl.num_tasks, rl.seed, worlds={k: v["path"] for k, v in worlds.items()})
    path, digest = write_snapshot(pa.Table.from_pylist(task_rows(tasks)), subdir("rl_tasks"), "rl_tasks")
    catalog.get().register_snapshot(digest, "rl_tasks", str(path), len(tasks), 0, dict(Counter(t.source for t in tasks)))
    return {"rl_tasks": {"path": str(path), "data_version": digest}, **worlds}
