"""The recipe grid's report: the paper's comparison tables, measured here, with intervals over seeds.

Reads the catalog (``sql/recipe_scores.sql``: the latest score of every recipe, seed and
benchmark, and the episodes behind it) and writes ``report.md`` with PNG plots:

- score by recipe and benchmark: mean exact match and its 95% interval over seeds
  (Student t; no interval from a single seed);
- the paper's headline ordering, full method against standard AMT + SFT + GRPO, on success,
  ECE and grounding: the difference of means with a Welch 95% interval, and a verdict;
- reliability diagrams (stated confidence against observed success, every turn pooled);
- format adherence against grounding rate and calibration (1 - ECE): the format-capability gap;
- the omega sweep and the block's token overhead (world-model span tokens over the rest).
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from scipy import stats  # noqa: E402

from foresight.catalog import Catalog  # noqa: E402
from foresight.recipes import BASELINE, FULL_METHOD, RECIPES  # noqa: E402
from foresight.worlds import WORLD_SOURCES  # noqa: E402

HEADLINE_BENCHMARK = "search_world"
REAL = "real (mean)"  # the real benchmarks' mean exact match, per seed


def mean_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float]:
    """(mean, half-width of the Student-t interval); half-width NaN for fewer than two values.

    Raises:
        ValueError: no values.
    """
    n = len(values)
    if n == 0:
        raise ValueError("no values")
    mean = sum(values) / n
    if n < 2:
        return mean, float("nan")
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return mean, stats.t.ppf(0.5 + level / 2, n - 1) * sd / math.sqrt(n)


def difference_interval(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean(a) - mean(b) and its Welch interval (low, high) from scipy's ``ttest_ind``; NaN bounds
    with fewer than two values each, and a zero-width interval when every value within each side is equal."""
    diff = sum(a) / len(a) - sum(b) / len(b)
    if len(a) < 2 or len(b) < 2:
        return diff, float("nan"), float("nan")
    if len(set(a)) == 1 and len(set(b)) == 1:  # no spread: the interval is the point (exact, not rounded)
        return diff, diff, diff
    with warnings.catch_warnings():
        # One side constant over seeds (a baseline at 0.1 on every seed) is exact data; scipy's
        # precision check still flags its zero variance.
        warnings.filterwarnings("ignore", "Precision loss occurred in moment calculation", RuntimeWarning)
        interval = stats.ttest_ind(a, b, equal_var=False).confidence_interval(level)
    return diff, float(interval.low), float(interval.high)


def verdict(low: float, high: float, higher_is_better: bool) -> str:
    """'holds', 'reversed' or 'not resolved' for an interval of (full - baseline)."""
    if math.isnan(low):
        return "not resolved (fewer than two seeds)"
    good, bad = (low > 0, high < 0) if higher_is_better else (high < 0, low > 0)
    return "holds" if good else "reversed" if bad else "not resolved (the interval includes 0)"


def _fmt(mean: float, half: float) -> str:
    return f"{mean:.3f}" if math.isnan(half) else f"{mean:.3f} ± {half:.3f}"


class GridScores:
    """The catalog's grid scores: ``values[(recipe, benchmark, metric)] = {seed: value}``."""

    def __init__(self, rows: list[tuple]):
        self.values: dict[tuple[str, str, str], dict[int, float]] = defaultdict(dict)
        self.episodes: dict[tuple[str, str], list[str]] = defaultdict(list)
        for recipe, seed, benchmark, metric, value, episodes_path, _checkpoint, *_ in rows:
            self.values[(recipe, benchmark, metric)][seed] = value
            if metric == "exact_match" and episodes_path:
                self.episodes[(recipe, benchmark)].append(episodes_path)
        self.recipes = [r for r in RECIPES if any(k[0] == r for k in self.values)]
        self.benchmarks = sorted({k[1] for k in self.values}, key=lambda b: (b not in WORLD_SOURCES, b))
        real = [b for b in self.benchmarks if b not in WORLD_SOURCES]
        for recipe in self.recipes:  # the real benchmarks' mean, per seed that has them all
            seeds = set.intersection(*(set(self.values[(recipe, b, "exact_match")]) for b in real)) if real else set()
            for seed in seeds:
                self.values[(recipe, REAL, "exact_match")][seed] = sum(
                    self.values[(recipe, b, "exact_match")][seed] for b in real) / len(real)

    def seeds(self, recipe: str, benchmark: str, metric: str) -> list[float]:
        """Finite values over seeds (NaN metrics, e.g. ECE without confidences, left out)."""
        return [v for _, v in sorted(self.values.get((recipe, benchmark, metric), {}).items())
                if v is not None and not math.isnan(v)]

    def cell(self, recipe: str, benchmark: str, metric: str) -> str:
        values = self.seeds(recipe, benchmark, metric)
        return _fmt(*mean_interval(values)) if values else "-"


def _table(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows])


def main_table(g: GridScores) -> str:
    """Recipe rows: each world's success, the real benchmarks' mean, and (on the headline world) the
    block's quality: ECE, grounding, format adherence with and without the block, token overhead."""
    worlds = [b for b in g.benchmarks if b in WORLD_SOURCES]
    header = ["recipe", "paper row", "seeds"] + [f"{b} EM" for b in worlds] + [
        "real EM (mean)", "ECE", "grounding", "format (block)", "format (policy)", "block overhead"]
    rows = []
    for r in g.recipes:
        n = len(g.seeds(r, HEADLINE_BENCHMARK, "exact_match")) or max(len(g.seeds(r, b, "exact_match")) for b in g.benchmarks)
        rows.append([f"`{r}`", RECIPES[r].paper_row, str(n)] + [g.cell(r, b, "exact_match") for b in worlds] + [
            g.cell(r, REAL, "exact_match"), g.cell(r, HEADLINE_BENCHMARK, "ece"),
            g.cell(r, HEADLINE_BENCHMARK, "grounding_rate"), g.cell(r, HEADLINE_BENCHMARK, "format_adherence"),
            g.cell(r, HEADLINE_BENCHMARK, "policy_format_adherence"), g.cell(r, HEADLINE_BENCHMARK, "block_token_overhead")])
    return _table(header, rows)


# A block-free baseline states no confidence, so it has no ECE; calibration is then compared with
# the GRPO rows that write blocks (the paper's next-closest rows), and the report names the comparator.
CALIBRATION_COMPARATORS = ("wm_amt.fe_sft.grpo", "amt.fe_sft.grpo")


def ordering(g: GridScores) -> tuple[str, list[str]]:
    """The headline comparison table and one plain sentence per criterion.

    Each criterion compares the full method with standard AMT + SFT + GRPO; where that baseline
    has no value (ECE of a model that states no confidence), with the first of
    :data:`CALIBRATION_COMPARATORS` that has one, named in the table and the sentence.
    """
    criteria = [("success (exact match)", "exact_match", True), ("ECE", "ece", False), ("grounding rate", "grounding_rate", True)]
    rows, sentences = [], []
    for label, metric, higher in criteria:
        full = g.seeds(FULL_METHOD, HEADLINE_BENCHMARK, metric)
        comparator = next((c for c in (BASELINE, *CALIBRATION_COMPARATORS) if g.seeds(c, HEADLINE_BENCHMARK, metric)), None)
        if not full or comparator is None or (comparator != BASELINE and metric != "ece"):
            missing = " and ".join(name for name, present in (("the full method", full), (f"`{BASELINE}`", comparator)) if not present)
            sentences.append(f"- {label}: not measured (no finite {metric} on {HEADLINE_BENCHMARK} for {missing or f'`{BASELINE}`'}; "
                             "ECE needs parseable confidences).")
            continue
        base = g.seeds(comparator, HEADLINE_BENCHMARK, metric)
        diff, low, high = difference_interval(full, base)
        v = verdict(low, high, higher)
        interval = "no interval" if math.isnan(low) else f"95% interval [{low:+.3f}, {high:+.3f}]"
        rows.append([label, f"`{comparator}`", _fmt(*mean_interval(full)), _fmt(*mean_interval(base)), f"{diff:+.3f}", interval, v])
        direction = "higher" if higher else "lower"
        against = RECIPES[comparator].paper_row + ("" if comparator == BASELINE else
                                                   f", as `{BASELINE}` states no confidence")
        trivial = " Trivially so: the comparator writes no keywords." if metric == "grounding_rate" and not any(base) else ""
        sentences.append(f"- {label}: the paper's ordering (full method {direction} than {against}) "
                         f"**{v}** here: {diff:+.3f} ({interval}; {len(full)} vs {len(base)} seeds).{trivial}")
    table = _table(["criterion", "compared with", "full method", "comparator", "difference", "interval", "paper's ordering"], rows)
    return table, sentences


def _bars(ax, labels, means, halves, title):
    ax.bar(range(len(labels)), means, yerr=[0 if math.isnan(h) else h for h in halves], capsize=3, color="#4c72b0")
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=7)
    ax.set_title(title, fontsize=9)


def _plot_scores(g: GridScores, path: Path) -> None:
    panels = g.benchmarks if len(g.benchmarks) <= 4 else [b for b in g.benchmarks if b in WORLD_SOURCES] + [REAL]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 4.5), squeeze=False)
    for ax, benchmark in zip(axes[0], panels):
        recipes = [r for r in g.recipes if g.seeds(r, benchmark, "exact_match")]
        mi = [mean_interval(g.seeds(r, benchmark, "exact_match")) for r in recipes]
        _bars(ax, recipes, [m for m, _ in mi], [h for _, h in mi], f"{benchmark}: exact match (95% CI over seeds)")
        baseline = [v for r in recipes for v in g.seeds(r, benchmark, "baseline_exact_match")]
        if baseline:  # the generated worlds' majority-answer baseline: the floor a model must beat
            ax.axhline(baseline[0], ls="--", color="grey", lw=1, label="trivial baseline")
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def reliability_points(paths: list[str], bins: int = 10) -> list[tuple[float, float, int]]:
    """(mean confidence, observed success, turns) per non-empty equal-width bin, every turn's q_t
    against its episode's outcome, pooled over the episode files."""
    pairs = []
    for path in paths:
        for row in pq.read_table(path, columns=["confidences", "outcome"]).to_pylist():
            pairs += [(q, row["outcome"]) for q in row["confidences"] if q is not None]
    out = []
    for b in range(bins):
        members = [(q, y) for q, y in pairs if b / bins <= q < (b + 1) / bins or (b == bins - 1 and q == 1.0)]
        if members:
            out.append((sum(q for q, _ in members) / len(members), sum(y for _, y in members) / len(members), len(members)))
    return out


def _plot_reliability(g: GridScores, path: Path) -> list[str]:
    recipes = [r for r in g.recipes if reliability_points(g.episodes.get((r, HEADLINE_BENCHMARK), []))]
    shown = [r for r in recipes if RECIPES[r].main or r == FULL_METHOD][:4] or recipes[:4]
    fig, axes = plt.subplots(1, max(1, len(shown)), figsize=(3.6 * max(1, len(shown)), 3.6), squeeze=False)
    for ax, r in zip(axes[0], shown):
        points = reliability_points(g.episodes[(r, HEADLINE_BENCHMARK)])
        ax.plot([0, 1], [0, 1], "--", color="grey", lw=1)
        ax.scatter([p[0] for p in points], [p[1] for p in points], s=[10 + 2 * math.sqrt(p[2]) for p in points])
        ax.plot([p[0] for p in points], [p[1] for p in points])
        ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="stated confidence", ylabel="observed success")
        ax.set_title(f"{r} ({HEADLINE_BENCHMARK})", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return shown


def _plot_format_gap(g: GridScores, path: Path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    for ax, metric, label in ((axes[0], "grounding_rate", "grounding rate"), (axes[1], "ece", "calibration (1 - ECE)")):
        for r in g.recipes:
            fmt, val = g.seeds(r, HEADLINE_BENCHMARK, "format_adherence"), g.seeds(r, HEADLINE_BENCHMARK, metric)
            if fmt and val:
                y = mean_interval(val)[0]
                ax.scatter(mean_interval(fmt)[0], 1 - y if metric == "ece" else y)
                ax.annotate(r, (mean_interval(fmt)[0], 1 - y if metric == "ece" else y), fontsize=6)
        ax.set(xlabel="format adherence", ylabel=label, xlim=(-0.05, 1.05), ylim=(-0.05, 1.05))
    fig.suptitle(f"format-capability gap ({HEADLINE_BENCHMARK})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def omega_sweep(g: GridScores) -> list[tuple[float, str, str]]:
    """(omega, recipe, exact match cell) for every FC-RL recipe from WM-AMT + FE-SFT with scores."""
    out = []
    for r in g.recipes:
        rec = RECIPES[r]
        if rec.rl == "fc_rl" and rec.sft == "fe_sft" and rec.grounding and g.seeds(r, HEADLINE_BENCHMARK, "exact_match"):
            out.append((0.2 if rec.omega is None else rec.omega, r, g.cell(r, HEADLINE_BENCHMARK, "exact_match")))
    return sorted(out)


def _plot_omega(g: GridScores, path: Path) -> None:
    sweep = omega_sweep(g)
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    mi = [mean_interval(g.seeds(r, HEADLINE_BENCHMARK, "exact_match")) for _, r, _ in sweep]
    ax.errorbar([o for o, _, _ in sweep], [m for m, _ in mi], yerr=[0 if math.isnan(h) else h for _, h in mi], marker="o", capsize=3)
    ax.set(xlabel="omega (search)", ylabel=f"{HEADLINE_BENCHMARK} exact match", title="omega sweep")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _plot_overhead(g: GridScores, path: Path) -> None:
    recipes = [r for r in g.recipes if g.seeds(r, HEADLINE_BENCHMARK, "block_token_overhead")]
    fig, ax = plt.subplots(figsize=(6, 4))
    mi = [mean_interval(g.seeds(r, HEADLINE_BENCHMARK, "block_token_overhead")) for r in recipes]
    _bars(ax, recipes, [m for m, _ in mi], [h for _, h in mi], f"block token overhead ({HEADLINE_BENCHMARK})")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write_report(catalog: Catalog, out_root: Path, preset: str | None = None) -> tuple[Path, str]:
    """Write ``<out_root>/<utc time>/report.md`` and its plots from the catalog's grid scores of one
    grid preset (``preset``, else the most recently scored one): scores of different presets
    (e.g. 400 and 1,400 mid-training steps) are never averaged together.

    Returns:
        (report path, the summary in markdown: the preset, the ordering verdicts, the main table).

    Raises:
        ValueError: the catalog holds no grid scores (of ``preset``) yet.
    """
    catalog.migrate()  # a catalog written before recipe_scores.grid_preset existed gains the column
    columns, rows = catalog.query("recipe_scores.sql")
    at = {c: i for i, c in enumerate(columns)}
    if rows and preset is None:
        preset = max(rows, key=lambda r: r[at["created_at"]])[at["grid_preset"]]
    rows = [r for r in rows if r[at["grid_preset"]] == preset]
    if not rows:
        raise ValueError(f"no recipe grid scores of preset {preset!r} in the catalog; materialize grid_scores first")
    g = GridScores(rows)
    out = out_root / datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    _plot_scores(g, out / "score_by_recipe.png")
    shown = _plot_reliability(g, out / "reliability.png")
    _plot_format_gap(g, out / "format_gap.png")
    _plot_omega(g, out / "omega_sweep.png")
    _plot_overhead(g, out / "token_overhead.png")
    order_table, sentences = ordering(g)
    summary = "\n".join([
        f"Grid preset `{preset}` (scores of other presets are not mixed in).", "",
        "## The paper's ordering", f"Full method (`{FULL_METHOD}`) against standard AMT + SFT + GRPO (`{BASELINE}`) "
        f"on {HEADLINE_BENCHMARK}, mean and 95% interval over seeds:", "", order_table, "", *sentences, "",
        "## Score by recipe", main_table(g),
    ])
    per_benchmark = _table(["recipe"] + g.benchmarks + [REAL],
                           [[f"`{r}`"] + [g.cell(r, b, "exact_match") for b in g.benchmarks + [REAL]] for r in g.recipes])
    sweep = _table(["omega", "recipe", f"{HEADLINE_BENCHMARK} EM"], [[f"{o:g}", f"`{r}`", c] for o, r, c in omega_sweep(g)])
    text = "\n".join([
        "# Recipe grid report", "", f"Generated {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC from the catalog "
        f"({len(g.recipes)} recipes, {len(g.benchmarks)} benchmarks). Intervals: Student t over seeds; "
        "'-' where a recipe has no score.", "", summary, "",
        "![score by recipe](score_by_recipe.png)", "",
        "## Exact match by benchmark", per_benchmark, "",
        f"## Reliability diagrams ({', '.join(shown) or 'no recipe states confidences'})", "![reliability](reliability.png)", "",
        "## Format adherence against grounding and calibration", "![format gap](format_gap.png)", "",
        "## Omega sweep", sweep, "", "![omega sweep](omega_sweep.png)", "",
        "## Token overhead of the block", "![token overhead](token_overhead.png)", "",
    ])
    (out / "report.md").write_text(text)
    return out / "report.md", summary
