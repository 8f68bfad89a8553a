"""Assets: benchmark scores of the FE-SFT and FC-RL checkpoints, one partition per benchmark.

``benchmark_scores`` evaluates the final (FC-RL) checkpoint, ``fe_sft_scores`` the checkpoint
before RL, so every benchmark shows what RL added. Both come from one factory; each
rematerializes by itself when its own checkpoint changes.
"""


import dagster as dg

from assets.common import latest_metadata, markdown_table, world_inputs
from foresight.config import EvalConfig, TrainingJob
from foresight.lineage import code_version
from foresight.paths import subdir
from foresight.registry import BENCHMARKS
from resources import CatalogResource, RetrieverResource, TrainingLauncher
from resources.config_bridge import dagster_config, to_core

EvalConfigDagster = dagster_config(EvalConfig)

benchmark_partitions = dg.StaticPartitionsDefinition(list(BENCHMARKS))


# Re-evaluate whenever the checkpoint is rematerialized or this asset's code changes.
EVAL_AUTOMATION = dg.AutomationCondition.eager() | dg.AutomationCondition.code_version_changed()


def score_asset(name: str, checkpoint_asset: str, stage: str) -> dg.AssetsDefinition:
    """A benchmark-partitioned scores asset of ``checkpoint_asset`` (launched evaluation process)."""

    @dg.asset(name=name, group_name="evaluation", deps=[checkpoint_asset, "search_world", "arithmetic_world"],
              partitions_def=benchmark_partitions, automation_condition=EVAL_AUTOMATION, code_version="2",
              kinds={"duckdb", "mlflow"})
    def scores(context: dg.AssetExecutionContext, config: EvalConfigDagster, launcher: TrainingLauncher,
               catalog: CatalogResource, retriever: RetrieverResource) -> dg.MaterializeResult:
        benchmark = context.partition_key
        checkpoint = latest_metadata(context, checkpoint_asset)
        job = TrainingJob(
            stage="eval", config=to_core(config, EvalConfig).model_dump(), parent_checkpoint=checkpoint["checkpoint_path"],
            inputs=world_inputs(context), output_root=str(subdir("scores")), code_version=code_version(),
            retriever=retriever.config(), extras={"benchmark": benchmark},
        )
        metadata, version = launcher.launch(context, "foresight.training.evaluate", job)
        metrics = {k.removeprefix("metric/"): v for k, v in metadata.items() if k.startswith("metric/")}
        catalog.get().register_scores(version, checkpoint["checkpoint_id"], benchmark, metrics,
                                      metadata.get("episodes_path"), metadata.get("mlflow_run_id"), context.run_id)
        table = markdown_table(["metric", "value"], [[k, v] for k, v in metrics.items()])
        return dg.MaterializeResult(
            metadata={**metadata, "stage": stage, "scores": dg.MetadataValue.md(table)},
            data_version=dg.DataVersion(version),
        )

    scores.__doc__ = (f"Held-out scores of the {stage} checkpoint: exact match (per hop/operation count on the "
                      "generated worlds, with a trivial baseline), F1, format adherence, mean confidence, ECE, "
                      "Brier and grounding rate.")
    return scores


benchmark_scores = score_asset("benchmark_scores", "fc_rl_checkpoint", "fc_rl")
fe_sft_scores = score_asset("fe_sft_scores", "fe_sft_checkpoint", "fe_sft")
SCORE_ASSETS = [fe_sft_scores, benchmark_scores]
