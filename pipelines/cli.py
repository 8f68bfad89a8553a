"""``foresight``: run the demo, open the UI, audit the catalog.

    foresight demo [--preset default|tiny]   materialize every asset, print the benchmark table
    foresight grid [--recipes ...] [--seeds 0 1 2] [--preset ...]
                                              train and score recipe grid rows, write the report
    foresight ui [--port 3000]                Dagster UI on the same instance
    foresight audit checkpoint <id|latest>    data, parents and config behind a checkpoint (latest: newest FC-RL)
    foresight audit score [<benchmark>]       which checkpoint produced each score
    foresight serve-retriever --corpus PATH   Search-R1-compatible /retrieve server (docs/retrieval.md)
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time

from foresight.paths import REPO_ROOT, home
from pipelines.presets import PRESETS


def use_project_instance() -> str:
    """Point DAGSTER_HOME at ``$FORESIGHT_HOME/dagster`` holding the repo's dagster.yaml."""
    dagster_home = home() / "dagster"
    dagster_home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REPO_ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    return str(dagster_home)


def materialize_all(preset: str, instance) -> dict[str, float]:
    """Materialize every asset (every benchmark partition of both score assets) on ``instance``.

    Returns:
        Wall seconds per asset (partitions as ``benchmark_scores[<benchmark>]``, ``fe_sft_scores[...]``).

    Raises:
        RuntimeError: a run failed.
    """
    import dagster as dg

    from assets import ALL_ASSETS, ALL_CHECKS, SCORE_ASSETS, benchmark_partitions
    from pipelines.definitions import RESOURCES
    from pipelines.presets import run_config

    config = run_config(preset)
    timings: dict[str, float] = {}
    score_names = {a.key.to_user_string() for a in SCORE_ASSETS}
    upstream = [a for a in ALL_ASSETS if a not in SCORE_ASSETS]
    upstream_names = {a.key.to_user_string() for a in upstream}
    result = dg.materialize([*upstream, *ALL_CHECKS], instance=instance, resources=RESOURCES,
                            run_config={"ops": {k: v for k, v in config["ops"].items() if k in upstream_names}},
                            tags={"foresight/kind": "training"}, raise_on_error=False)
    if not result.success:
        raise RuntimeError(f"training run {result.run_id} failed; see `foresight ui` or the log above")
    for stat in instance.get_run_step_stats(result.run_id):
        if stat.end_time and stat.start_time:
            timings[stat.step_key] = stat.end_time - stat.start_time
    # One run per benchmark evaluates the FE-SFT and FC-RL checkpoints (the nightly job's shape).
    eval_config = {"ops": {k: v for k, v in config["ops"].items() if k in score_names}}
    for key in benchmark_partitions.get_partition_keys():
        result = dg.materialize(ALL_ASSETS, selection=SCORE_ASSETS, partition_key=key, instance=instance,
                                resources=RESOURCES, run_config=eval_config, raise_on_error=False)
        if not result.success:
            raise RuntimeError(f"evaluation run {result.run_id} ({key}) failed")
        for stat in instance.get_run_step_stats(result.run_id):
            if stat.end_time and stat.start_time:
                timings[f"{stat.step_key}[{key}]"] = stat.end_time - stat.start_time
    return timings


def materialize_grid(recipes: list[str], seeds: list[str], preset: str, instance, force: bool = False) -> dict[str, float]:
    """Materialize the recipe grid's partitions behind ``recipes`` x ``seeds``, then the report.

    Stages run in order (mid-training, SFT, RL, scores); a stage key shared by several recipes
    (e.g. ``wm_amt`` or ``wm_amt.fe_sft``) is materialized once per seed, and a partition whose
    latest materialization came from a run of the same preset (run tag ``foresight/grid_preset``)
    is reused unless ``force``; one of another preset or from the UI is rematerialized, so a
    preset's grid never mixes in checkpoints trained at another scale. The same as a UI backfill of the
    ``recipe_grid`` group over those partitions.

    Returns:
        Wall seconds per materialized partition (``asset[partition]``).

    Raises:
        KeyError: an unknown recipe or seed. RuntimeError: a run failed.
    """
    import dagster as dg

    from assets import ALL_ASSETS, GRID_ASSETS, SEEDS
    from assets.common import latest_partition_record
    from assets.grid import GRID_PRESET_TAG
    from foresight.recipes import recipe
    from pipelines.definitions import RESOURCES
    from pipelines.presets import run_config

    unknown = sorted(set(seeds) - set(SEEDS))
    if unknown:
        raise KeyError(f"unknown seeds {unknown}; the grid's seed partitions are {SEEDS}")
    chosen = [recipe(name) for name in recipes]
    ops = run_config(preset)["ops"]
    stages = [
        ("grid_midtrain_checkpoint", "mid_training", sorted({r.mid_training for r in chosen})),
        ("grid_sft_checkpoint", "sft", sorted({r.sft_key for r in chosen})),
        ("grid_rl_checkpoint", "recipe", [r.name for r in chosen]),
        ("grid_scores", "recipe", [r.name for r in chosen]),
    ]
    timings: dict[str, float] = {}

    def run(asset: str, partition: str | None) -> None:
        start = time.time()
        result = dg.materialize([*ALL_ASSETS, *GRID_ASSETS], selection=[asset], partition_key=partition, instance=instance,
                                resources=RESOURCES, run_config={"ops": {asset: {"config": ops[asset]["config"]}}} if asset in ops else {},
                                tags={GRID_PRESET_TAG: preset}, raise_on_error=False)
        if not result.success:
            raise RuntimeError(f"{asset}[{partition}] run {result.run_id} failed; see `foresight ui`")
        timings[f"{asset}[{partition}]" if partition else asset] = time.time() - start

    for asset, dimension, keys in stages:
        for seed in seeds:
            for key in keys:
                partition = dg.MultiPartitionKey({dimension: key, "seed": seed})
                done = latest_partition_record(instance, asset, partition)
                same_preset = done is not None and instance.get_run_by_id(done.run_id).tags.get(GRID_PRESET_TAG) == preset
                if force or not same_preset:
                    run(asset, partition)
    run("recipe_report", None)
    return timings


def cmd_grid(args) -> int:
    use_project_instance()
    import dagster as dg

    from foresight.recipes import RECIPES

    recipes = args.recipes or [name for name, r in RECIPES.items() if r.main]
    start = time.time()
    timings = materialize_grid(recipes, args.seeds, args.preset, dg.DagsterInstance.get(), args.force)
    for step, seconds in timings.items():
        print(f"  {step:60s} {seconds:7.1f}")
    print(f"  {'total':60s} {time.time() - start:7.1f}")
    event = dg.DagsterInstance.get().get_latest_materialization_event(dg.AssetKey("recipe_report"))
    print(f"\n{event.asset_materialization.metadata['report'].value}\n\nReport: {event.asset_materialization.metadata['path'].value}")
    return 0


def benchmark_table() -> str:
    """The latest scores as a markdown table, FE-SFT next to FC-RL (``fe_sft -> fc_rl`` for the
    calibration, grounding and format columns) and the trivial baseline on the generated
    worlds. World benchmarks get one extra row per hop (search) or operation (arithmetic) count.
    """
    from assets.common import markdown_table
    from foresight.catalog import Catalog

    _, rows = Catalog().query("latest_scores.sql")
    scores: dict[tuple[str, str], dict[str, float]] = {}
    for benchmark, stage, metric, value, _checkpoint in rows:
        scores.setdefault((benchmark, stage), {})[metric] = value
    paired = ["format_adherence", "mean_confidence", "ece", "brier", "grounding_rate"]
    header = ["benchmark", "fe_sft success", "fc_rl success", "trivial baseline", *paired, "n"]
    nan = float("nan")
    body = []
    for benchmark in sorted({b for b, _ in scores}):
        sft, rl = scores.get((benchmark, "fe_sft"), {}), scores.get((benchmark, "fc_rl"), {})
        body.append([benchmark, sft.get("exact_match", nan), rl.get("exact_match", nan),
                     rl.get("baseline_exact_match", "-"),
                     *[f"{sft.get(m, nan):.3f} -> {rl.get(m, nan):.3f}" for m in paired], int(rl.get("n", 0))])
        for group in sorted(k for k in {**sft, **rl} if k.startswith("exact_match_")):
            key, _, count = group.removeprefix("exact_match_").rpartition("_")
            body.append([f"  {benchmark} {key}={count}", sft.get(group, nan), rl.get(group, nan),
                         *[""] * (len(header) - 3)])
    return markdown_table(header, body)


def cmd_demo(args) -> int:
    use_project_instance()
    import dagster as dg

    start = time.time()
    timings = materialize_all(args.preset, dg.DagsterInstance.get())
    print("\nWall time per asset (s):")
    for step, seconds in timings.items():
        print(f"  {step:32s} {seconds:7.1f}")
    print(f"  {'total':32s} {time.time() - start:7.1f}")
    print("\nBenchmark scores (held-out questions):\n")
    print(benchmark_table())
    print(f"\nEverything is under {home()}; open the UI with `foresight ui`.")
    return 0


def cmd_ui(args) -> int:
    use_project_instance()
    cmd = [sys.executable, "-m", "dagster", "dev", "-m", "pipelines.definitions", "-h", args.host, "-p", str(args.port)]
    os.chdir(REPO_ROOT)
    os.execv(sys.executable, cmd)
    return 0  # not reached


def cmd_audit(args) -> int:
    from assets.common import markdown_table
    from foresight.catalog import Catalog

    catalog = Catalog()
    if args.what == "checkpoint":
        target = args.target
        if target in (None, "latest"):
            _, rows = catalog.query("latest_checkpoint.sql")
            if not rows:
                print("no checkpoint in the catalog yet", file=sys.stderr)
                return 1
            target = rows[0][0]
        columns, rows = catalog.query("audit_checkpoint.sql", {"checkpoint_id": os.path.basename(target.rstrip("/"))})
    else:
        columns, rows = catalog.query("audit_score.sql", {"benchmark": args.target})
    if not rows:
        print(f"nothing in the catalog for {args.what} {args.target!r}", file=sys.stderr)
        return 1
    shown = [c for c in columns if c != "config"]
    print(markdown_table(shown, [[r[columns.index(c)] for c in shown] for r in rows]))
    if "config" in columns:
        print("\nconfig per checkpoint:")
        for r in {r[columns.index("checkpoint_id")]: r for r in rows}.values():
            print(f"  {r[columns.index('checkpoint_id')]}: {r[columns.index('config')]}")
    return 0


def cmd_serve_retriever(args) -> int:
    from foresight.envs.retrieval import RetrieverConfig
    from foresight.envs.retrieval_server import serve

    cfg = RetrieverConfig(kind=args.kind, index=args.index, encoder=args.encoder,
                          query_prefix=args.query_prefix, passage_prefix=args.passage_prefix)
    serve(args.corpus, cfg, host=args.host, port=args.port, default_topk=args.topk)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="foresight", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="materialize every asset on the embedded default and print the scores")
    demo.add_argument("--preset", default="default", choices=sorted(PRESETS), help="run-config preset")
    demo.set_defaults(func=cmd_demo)
    grid = sub.add_parser("grid", help="train and score recipe grid rows (default: the main rows), write the report")
    grid.add_argument("--recipes", nargs="*", default=None, help="recipe keys (foresight.recipes.RECIPES); default: main rows")
    grid.add_argument("--seeds", nargs="*", default=["0", "1", "2"], help="seed partitions")
    grid.add_argument("--preset", default="default", choices=sorted(PRESETS), help="run-config preset")
    grid.add_argument("--force", action="store_true", help="rematerialize partitions even when their latest "
                      "materialization came from this preset")
    grid.set_defaults(func=cmd_grid)
    ui = sub.add_parser("ui", help="open the Dagster UI on the project's instance")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=cmd_ui)
    audit = sub.add_parser("audit", help="lineage of a checkpoint or of scores, from the catalog")
    audit.add_argument("what", choices=["checkpoint", "score"])
    audit.add_argument("target", nargs="?", help="checkpoint id/path or 'latest'; benchmark name for scores")
    audit.set_defaults(func=cmd_audit)
    retriever = sub.add_parser("serve-retriever", help="serve corpora over HTTP with Search-R1's /retrieve protocol")
    retriever.add_argument("--corpus", action="append", required=True, help="corpus file (repeat for several)")
    retriever.add_argument("--kind", choices=["bm25", "dense"], default="bm25")
    retriever.add_argument("--index", choices=["exact", "faiss"], default="exact", help="dense index kind")
    retriever.add_argument("--encoder", default=None, help="dense encoder dir or hub id (default: bundled MiniLM)")
    retriever.add_argument("--query-prefix", default="", help='e.g. "query: " for E5 encoders')
    retriever.add_argument("--passage-prefix", default="", help='e.g. "passage: " for E5 encoders')
    retriever.add_argument("--topk", type=int, default=3, help="passages per query when a request gives none")
    retriever.add_argument("--host", default="127.0.0.1")
    retriever.add_argument("--port", type=int, default=8000)
    retriever.set_defaults(func=cmd_serve_retriever)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
