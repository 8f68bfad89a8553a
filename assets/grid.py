"""Assets: the recipe grid, every comparison row of the paper's tables with several seeds.

Four checkpoint-and-score assets, each partitioned by (stage key x seed) so that shared
stages are trained once per seed (:mod:`foresight.recipes`):

    grid_midtrain_checkpoint [mid_training x seed]  (amt, wm_amt)
      -> grid_sft_checkpoint [sft x seed]           (wm_amt.fe_sft, amt.sft, ...; <mid>.none passes through)
      -> grid_rl_checkpoint [recipe x seed]         (every recipe; <...>.none passes through)
      -> grid_scores [recipe x seed]                (every benchmark in one evaluation process)
      -> recipe_report                              (markdown + plots from the catalog)

Partition mappings follow the recipe keys, so the UI's lineage shows which mid-training and
SFT partition each recipe's checkpoint came from, and a backfill of any recipe (or of the
whole grid) materializes each shared stage once. Stage configs are the main pipeline's typed
configs with the recipe's changes applied (:func:`foresight.recipes.rl_config` etc.).
"""


import dagster as dg

from assets.common import markdown_table, partition_metadata, world_inputs
from assets.training import (
    TRAINING_TAGS,
    FCRLAssetConfig,
    FCRLAssetConfigDagster,
    FESFTConfigDagster,
    MidTrainConfigDagster,
    augmented_input,
    rl_inputs,
    train_checkpoint,
)
from foresight.config import (
    EvalConfig,
    FCRLConfig,
    FESFTConfig,
    MidTrainConfig,
    TrainingJob,
)
from foresight.lineage import code_version
from foresight.paths import subdir
from foresight.recipes import (
    MID_KEYS,
    RECIPES,
    SFT_KEYS,
    midtrain_config,
    recipe,
    rl_config,
    sft_config,
    sft_parent,
)
from foresight.registry import BENCHMARKS
from foresight.report import write_report
from resources import CatalogResource, RetrieverResource, TrainingLauncher
from resources.config_bridge import dagster_config, to_core

SEEDS = ["0", "1", "2"]
# Run tag naming the run-config preset of a grid run (`foresight grid --preset`); scores and
# partition reuse are kept per preset, so checkpoints trained at different scales never mix.
GRID_PRESET_TAG = "foresight/grid_preset"

_seeds = dg.StaticPartitionsDefinition(SEEDS)
midtrain_partitions = dg.MultiPartitionsDefinition({"mid_training": dg.StaticPartitionsDefinition(MID_KEYS), "seed": _seeds})
sft_partitions = dg.MultiPartitionsDefinition({"sft": dg.StaticPartitionsDefinition(SFT_KEYS), "seed": _seeds})
recipe_partitions = dg.MultiPartitionsDefinition({"recipe": dg.StaticPartitionsDefinition(list(RECIPES)), "seed": _seeds})


def _same_seed(upstream_dim: str, downstream_dim: str, children: dict[str, list[str]]) -> dg.MultiPartitionMapping:
    """Upstream stage key -> the downstream keys built on it, seed to the same seed."""
    return dg.MultiPartitionMapping({
        upstream_dim: dg.DimensionPartitionMapping(downstream_dim, dg.StaticPartitionMapping(children)),
        "seed": dg.DimensionPartitionMapping("seed", dg.IdentityPartitionMapping()),
    })


MID_TO_SFT = _same_seed("mid_training", "sft", {m: [k for k in SFT_KEYS if sft_parent(k) == m] for m in MID_KEYS})
SFT_TO_RECIPE = _same_seed("sft", "recipe", {k: [n for n, r in RECIPES.items() if r.sft_key == k] for k in SFT_KEYS})


def _keys(context: dg.AssetExecutionContext) -> dict[str, str]:
    return context.partition_key.keys_by_dimension


def _pass_through(parent: dict, reason: str) -> dg.MaterializeResult:
    """A stage the recipe skips: the parent's checkpoint, recorded as this stage's (lineage stays explicit)."""
    return dg.MaterializeResult(
        metadata={"checkpoint_path": parent["checkpoint_path"], "checkpoint_id": parent["checkpoint_id"],
                  "parent_checkpoint": parent["checkpoint_path"], "skipped": reason},
        data_version=dg.DataVersion(parent["checkpoint_id"]),
    )


GRID = {"group_name": "recipe_grid", "code_version": "1", "op_tags": TRAINING_TAGS, "pool": "training"}


@dg.asset(partitions_def=midtrain_partitions, deps=["augmented_trajectories"], kinds={"pytorch", "mlflow"}, **GRID)
def grid_midtrain_checkpoint(context: dg.AssetExecutionContext, config: MidTrainConfigDagster,
                             launcher: TrainingLauncher, catalog: CatalogResource) -> dg.MaterializeResult:
    """Mid-training of a recipe grid row: WM-AMT, or standard AMT (the same data and schedule, no blocks)."""
    keys = _keys(context)
    cfg = midtrain_config(keys["mid_training"], to_core(config, MidTrainConfig), int(keys["seed"]))
    return train_checkpoint(context, launcher, catalog, "wm_amt", cfg, augmented_input(context), None)


@dg.asset(partitions_def=sft_partitions, kinds={"pytorch", "mlflow"},
          deps=[dg.AssetDep("grid_midtrain_checkpoint", partition_mapping=MID_TO_SFT), "augmented_trajectories"], **GRID)
def grid_sft_checkpoint(context: dg.AssetExecutionContext, config: FESFTConfigDagster,
                        launcher: TrainingLauncher, catalog: CatalogResource) -> dg.MaterializeResult:
    """SFT of a recipe grid row: FE-SFT, standard SFT, State-SFT or IWM; ``<mid>.none`` passes the
    mid-training checkpoint through (RL without SFT)."""
    keys = _keys(context)
    parent = partition_metadata(context, "grid_midtrain_checkpoint", mid_training=sft_parent(keys["sft"]), seed=keys["seed"])
    cfg = sft_config(keys["sft"], to_core(config, FESFTConfig), int(keys["seed"]))
    if cfg is None:
        return _pass_through(parent, "this recipe has no SFT stage")
    return train_checkpoint(context, launcher, catalog, "fe_sft", cfg, augmented_input(context), parent["checkpoint_path"])


@dg.asset(partitions_def=recipe_partitions, kinds={"pytorch", "mlflow"},
          deps=[dg.AssetDep("grid_sft_checkpoint", partition_mapping=SFT_TO_RECIPE), "search_world", "arithmetic_world"],
          **GRID)
def grid_rl_checkpoint(context: dg.AssetExecutionContext, config: FCRLAssetConfigDagster, launcher: TrainingLauncher,
                       catalog: CatalogResource, retriever: RetrieverResource) -> dg.MaterializeResult:
    """RL of a recipe grid row: FC-RL (span advantages, with the recipe's omega and reward terms) or
    plain GRPO; recipes without RL pass the SFT checkpoint through."""
    keys = _keys(context)
    r = recipe(keys["recipe"])
    parent = partition_metadata(context, "grid_sft_checkpoint", sft=r.sft_key, seed=keys["seed"])
    cfg = to_core(config, FCRLAssetConfig)
    rl = rl_config(r, FCRLConfig.model_validate(cfg.model_dump(exclude={"sources"})), int(keys["seed"]))
    if rl is None:
        return _pass_through(parent, "this recipe has no RL stage")
    inputs = rl_inputs(context, catalog, cfg.sources, rl)
    return train_checkpoint(context, launcher, catalog, "fc_rl", rl, inputs, parent["checkpoint_path"], retriever)


class GridEvalConfig(EvalConfig):
    """Evaluation of a grid checkpoint: every listed benchmark in one process."""

    benchmarks: list[str] = list(BENCHMARKS)


GridEvalConfigDagster = dagster_config(GridEvalConfig)


@dg.asset(partitions_def=recipe_partitions, group_name="recipe_grid", code_version="1", kinds={"duckdb", "mlflow"},
          deps=["grid_rl_checkpoint", "search_world", "arithmetic_world"],
          automation_condition=dg.AutomationCondition.eager() | dg.AutomationCondition.code_version_changed())
def grid_scores(context: dg.AssetExecutionContext, config: GridEvalConfigDagster, launcher: TrainingLauncher,
                catalog: CatalogResource, retriever: RetrieverResource) -> dg.MaterializeResult:
    """Held-out scores of a recipe grid checkpoint on every benchmark, registered per benchmark in the
    catalog with the recipe and seed (the report's input)."""
    keys = _keys(context)
    checkpoint = partition_metadata(context, "grid_rl_checkpoint", recipe=keys["recipe"], seed=keys["seed"])
    cfg = to_core(config, GridEvalConfig)
    unknown = sorted(set(cfg.benchmarks) - set(BENCHMARKS))
    if unknown:
        raise dg.Failure(f"unknown benchmarks {unknown}; known: {list(BENCHMARKS)}")
    job = TrainingJob(
        stage="eval", config=EvalConfig.model_validate(cfg.model_dump(exclude={"benchmarks"})).model_dump(),
        parent_checkpoint=checkpoint["checkpoint_path"], inputs=world_inputs(context), output_root=str(subdir("scores")),
        code_version=code_version(), retriever=retriever.config(), extras={"benchmarks": cfg.benchmarks},
    )
    metadata, version = launcher.launch(context, "foresight.training.evaluate", job)
    preset = context.run.tags.get(GRID_PRESET_TAG, "ui")
    rows = []
    for benchmark in cfg.benchmarks:
        prefix = f"{benchmark}/metric/"
        metrics = {k.removeprefix(prefix): v for k, v in metadata.items() if k.startswith(prefix)}
        score_id = metadata[f"{benchmark}/score_id"]
        catalog.get().register_scores(score_id, checkpoint["checkpoint_id"], benchmark, metrics,
                                      metadata[f"{benchmark}/episodes_path"], metadata.get("mlflow_run_id"), context.run_id)
        catalog.get().register_recipe_score(keys["recipe"], int(keys["seed"]), benchmark, score_id,
                                            checkpoint["checkpoint_id"], context.run_id, preset)
        rows.append([benchmark, metrics["exact_match"], metrics["format_adherence"], metrics["ece"], metrics["grounding_rate"]])
    table = markdown_table(["benchmark", "exact_match", "format_adherence", "ece", "grounding_rate"], rows)
    return dg.MaterializeResult(metadata={**metadata, "recipe": keys["recipe"], "scores": dg.MetadataValue.md(table)},
                                data_version=dg.DataVersion(version))


@dg.asset(group_name="recipe_grid", code_version="1", deps=["grid_scores"], kinds={"duckdb"},
          automation_condition=dg.AutomationCondition.eager())
def recipe_report(context: dg.AssetExecutionContext, catalog: CatalogResource) -> dg.MaterializeResult:
    """The grid's markdown report with plots: score by recipe and benchmark (mean and 95% interval
    over seeds), the paper's ordering checked, reliability diagrams, format adherence against
    grounding and calibration, the omega sweep and the block's token overhead. It covers the grid
    preset of this run (``foresight/grid_preset`` tag), else the most recently scored one."""
    path, summary = write_report(catalog.get(), subdir("reports"), context.run.tags.get(GRID_PRESET_TAG))
    context.log.info(f"report written to {path}")
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path)), "report": dg.MetadataValue.md(summary)})


GRID_ASSETS = [grid_midtrain_checkpoint, grid_sft_checkpoint, grid_rl_checkpoint, grid_scores, recipe_report]
