"""``foresight``: run the demo, open the UI, audit the catalog.

    foresight demo [--preset default|tiny]   materialize every asset, print the benchmark table
    foresight ui [--port 3000]                Dagster UI on the same instance
    foresight audit checkpoint <id|latest>    data, parents and config behind a checkpoint (latest: newest FC-RL)
    foresight audit score [<benchmark>]       which checkpoint produced each score
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time

from foresight.paths import REPO_ROOT, home


def use_project_instance() -> str:
    """Point DAGSTER_HOME at ``$FORESIGHT_HOME/dagster`` holding the repo's dagster.yaml."""
    dagster_home = home() / "dagster"
    dagster_home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REPO_ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    return str(dagster_home)


def materialize_all(preset: str, instance) -> dict[str, float]:
    """Materialize the six assets (every benchmark partition) on ``instance``.

    Returns:
        Wall seconds per asset (benchmark partitions as ``benchmark_scores[<name>]``).

    Raises:
        RuntimeError: a run failed.
    """
    import dagster as dg

    from assets import ALL_ASSETS, ALL_CHECKS, benchmark_partitions
    from assets.evaluation import benchmark_scores
    from pipelines.definitions import RESOURCES
    from pipelines.presets import run_config

    config = run_config(preset)
    timings: dict[str, float] = {}
    upstream = [a for a in ALL_ASSETS if a is not benchmark_scores]
    result = dg.materialize([*upstream, *ALL_CHECKS], instance=instance, resources=RESOURCES,
                            run_config={"ops": {k: v for k, v in config["ops"].items() if k != "benchmark_scores"}},
                            tags={"foresight/kind": "training"}, raise_on_error=False)
    if not result.success:
        raise RuntimeError(f"training run {result.run_id} failed; see `foresight ui` or the log above")
    for stat in instance.get_run_step_stats(result.run_id):
        if stat.end_time and stat.start_time:
            timings[stat.step_key] = stat.end_time - stat.start_time
    eval_config = {"ops": {"benchmark_scores": config["ops"].get("benchmark_scores", {"config": {}})}}
    for key in benchmark_partitions.get_partition_keys():
        start = time.time()
        result = dg.materialize(ALL_ASSETS, selection=[benchmark_scores], partition_key=key, instance=instance,
                                resources=RESOURCES, run_config=eval_config, raise_on_error=False)
        if not result.success:
            raise RuntimeError(f"evaluation run {result.run_id} ({key}) failed")
        timings[f"benchmark_scores[{key}]"] = time.time() - start
    return timings


def benchmark_table(checkpoint_id: str | None = None) -> str:
    """The latest score of every benchmark and metric, as a markdown table."""
    from assets.common import markdown_table
    from foresight.catalog import Catalog

    _, rows = Catalog().query("latest_scores.sql")
    metrics = ["exact_match", "f1", "format_adherence", "mean_confidence", "ece", "brier", "grounding_rate", "n"]
    by_benchmark: dict[str, dict] = {}
    for benchmark, metric, value, ckpt in rows:
        if checkpoint_id is None or ckpt == checkpoint_id:
            by_benchmark.setdefault(benchmark, {})[metric] = value
    body = [[b, *[by_benchmark[b].get(m, float("nan")) for m in metrics]] for b in sorted(by_benchmark)]
    return markdown_table(["benchmark", *metrics], body)


def cmd_demo(args) -> int:
    use_project_instance()
    import dagster as dg

    start = time.time()
    timings = materialize_all(args.preset, dg.DagsterInstance.get())
    print("\nWall time per asset (s):")
    for step, seconds in timings.items():
        print(f"  {step:32s} {seconds:7.1f}")
    print(f"  {'total':32s} {time.time() - start:7.1f}")
    print("\nBenchmark scores of the FC-RL checkpoint:\n")
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="foresight", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="materialize every asset on the embedded default and print the scores")
    demo.add_argument("--preset", default="default", help="run-config preset (default, tiny)")
    demo.set_defaults(func=cmd_demo)
    ui = sub.add_parser("ui", help="open the Dagster UI on the project's instance")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=cmd_ui)
    audit = sub.add_parser("audit", help="lineage of a checkpoint or of scores, from the catalog")
    audit.add_argument("what", choices=["checkpoint", "score"])
    audit.add_argument("target", nargs="?", help="checkpoint id/path or 'latest'; benchmark name for scores")
    audit.set_defaults(func=cmd_audit)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
