"""Asset: benchmark scores of the FC-RL checkpoint, one partition per benchmark."""


import dagster as dg

from assets.common import latest_metadata, markdown_table
from foresight.config import EvalConfig, TrainingJob
from foresight.lineage import code_version
from foresight.paths import subdir
from foresight.registry import BENCHMARKS
from resources import CatalogResource, TrainingLauncher
from resources.config_bridge import dagster_config, to_core

EvalConfigDagster = dagster_config(EvalConfig)

benchmark_partitions = dg.StaticPartitionsDefinition(list(BENCHMARKS))


# Re-evaluate whenever the FC-RL checkpoint is rematerialized or this asset's code changes.
EVAL_AUTOMATION = dg.AutomationCondition.eager() | dg.AutomationCondition.code_version_changed()


@dg.asset(group_name="evaluation", deps=["fc_rl_checkpoint"], partitions_def=benchmark_partitions,
          automation_condition=EVAL_AUTOMATION, code_version="1", kinds={"duckdb", "mlflow"})
def benchmark_scores(context: dg.AssetExecutionContext, config: EvalConfigDagster,
                     launcher: TrainingLauncher, catalog: CatalogResource) -> dg.MaterializeResult:
    """Exact match, F1, format adherence, mean confidence, ECE, Brier and grounding rate on held-out questions."""
    benchmark = context.partition_key
    checkpoint = latest_metadata(context, "fc_rl_checkpoint")
    job = TrainingJob(
        stage="eval", config=to_core(config, EvalConfig).model_dump(), parent_checkpoint=checkpoint["checkpoint_path"],
        output_root=str(subdir("scores")), code_version=code_version(), extras={"benchmark": benchmark},
    )
    metadata, version = launcher.launch(context, "foresight.training.evaluate", job)
    metrics = {k.removeprefix("metric/"): v for k, v in metadata.items() if k.startswith("metric/")}
    catalog.get().register_scores(version, checkpoint["checkpoint_id"], benchmark, metrics,
                                  metadata.get("episodes_path"), metadata.get("mlflow_run_id"), context.run_id)
    table = markdown_table(["metric", "value"], [[k, v] for k, v in metrics.items()])
    return dg.MaterializeResult(
        metadata={**metadata, "scores": dg.MetadataValue.md(table)}, data_version=dg.DataVersion(version),
    )
