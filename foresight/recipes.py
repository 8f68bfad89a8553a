"""Named training recipes: the comparison rows of the paper's tables (arXiv:2606.27483).

A recipe is a path through the three stages: mid-training {standard AMT, WM-AMT}, then SFT
{none, standard SFT, State-SFT, FE-SFT, IWM}, then RL {none, GRPO, FC-RL} with FC-RL
variants (the omega sweep, FC-RL without R_ground). Each stage of a recipe has a key that
names the path up to it (``wm_amt``, ``wm_amt.fe_sft``, ``wm_amt.fe_sft.fc_rl``), so two
recipes sharing a prefix share that stage's checkpoint: the grid trains each prefix once
per seed.

What the stages mean here (:func:`stage_configs` turns a recipe into typed stage configs):

- ``amt``: WM-AMT's data and schedule without any block (``augmented_fraction=0``);
- ``sft``: FE-SFT's data with every block removed; ``state_sft``: blocks reduced to their
  trajectory part (``<imaginary>``, ``<keyword>``: the predicted future state, no gap analysis
  and no verbalized confidence); ``iwm``: plain SFT plus next-observation prediction examples
  (implicit world modeling, "Agent Learning via Early Experience", arXiv:2510.08558);
  ``none``: the mid-training checkpoint goes straight to RL (the paper's "RL without SFT");
- ``grpo``: plain GRPO (one advantage per episode, outcome and format rewards only);
  ``fc_rl``: span advantages with calibration and grounding (:mod:`foresight.advantages`).

The paper does not say which mid-training State-SFT and IWM start from; here they start
from standard AMT, as alternatives to WM-AMT's way of teaching world modeling.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from foresight.config import FCRLConfig, FESFTConfig, MidTrainConfig

MidTraining = Literal["amt", "wm_amt"]
SFTKind = Literal["none", "sft", "state_sft", "fe_sft", "iwm"]
RLKind = Literal["none", "grpo", "fc_rl"]


class Recipe(BaseModel):
    """One comparison row.

    Attributes:
        mid_training, sft, rl: the stage choices.
        omega: FC-RL's search-domain omega when it differs from the config's (the sweep).
        grounding: FC-RL's R_ground in R_WM (False: the "without R_ground" ablation).
        paper_row: the row's label in the paper's table.
        main: one of the rows the headline comparison rests on (run with several seeds).
    """

    mid_training: MidTraining
    sft: SFTKind
    rl: RLKind
    omega: float | None = None
    grounding: bool = True
    paper_row: str
    main: bool = False

    @property
    def sft_key(self) -> str:
        return f"{self.mid_training}.{self.sft}"

    @property
    def name(self) -> str:
        """The recipe's key: ``<mid>.<sft>.<rl>`` plus a variant suffix for FC-RL ablations."""
        suffix = "" if self.omega is None else f"-omega{self.omega:g}"
        suffix += "" if self.grounding else "-noground"
        return f"{self.sft_key}.{self.rl}{suffix}"


RECIPES: dict[str, Recipe] = {r.name: r for r in [
    Recipe(mid_training="amt", sft="sft", rl="none", paper_row="standard AMT + SFT"),
    Recipe(mid_training="amt", sft="fe_sft", rl="none", paper_row="standard AMT + FE-SFT"),
    Recipe(mid_training="wm_amt", sft="sft", rl="none", paper_row="WM-AMT + SFT"),
    Recipe(mid_training="wm_amt", sft="fe_sft", rl="none", paper_row="WM-AMT + FE-SFT", main=True),
    Recipe(mid_training="amt", sft="sft", rl="grpo", paper_row="standard AMT + SFT + RL", main=True),
    Recipe(mid_training="amt", sft="fe_sft", rl="grpo", paper_row="standard AMT + FE-SFT + RL"),
    Recipe(mid_training="amt", sft="state_sft", rl="grpo", paper_row="State-SFT + RL"),
    Recipe(mid_training="amt", sft="iwm", rl="grpo", paper_row="IWM + RL"),
    Recipe(mid_training="wm_amt", sft="fe_sft", rl="grpo", paper_row="WM-AMT + FE-SFT + RL (GRPO)", main=True),
    Recipe(mid_training="wm_amt", sft="fe_sft", rl="fc_rl", paper_row="WM-AMT + FE-SFT + FC-RL (full method)", main=True),
    Recipe(mid_training="wm_amt", sft="fe_sft", rl="fc_rl", omega=0.0, paper_row="FC-RL, omega = 0"),
    Recipe(mid_training="wm_amt", sft="fe_sft", rl="fc_rl", omega=0.1, paper_row="FC-RL, omega = 0.1"),
    Recipe(mid_training="wm_amt", sft="fe_sft", rl="fc_rl", omega=0.5, paper_row="FC-RL, omega = 0.5"),
    Recipe(mid_training="wm_amt", sft="fe_sft", rl="fc_rl", grounding=False, paper_row="FC-RL without R_ground"),
    Recipe(mid_training="wm_amt", sft="none", rl="fc_rl", paper_row="WM-AMT + FC-RL (RL without SFT)"),
]}

MID_KEYS = sorted({r.mid_training for r in RECIPES.values()})
SFT_KEYS = sorted({r.sft_key for r in RECIPES.values()})
FULL_METHOD = "wm_amt.fe_sft.fc_rl"
BASELINE = "amt.sft.grpo"  # the paper's headline comparison: standard AMT + SFT + GRPO


def recipe(name: str) -> Recipe:
    """The recipe called ``name``.

    Raises:
        KeyError: no such recipe (the message lists them).
    """
    if name not in RECIPES:
        raise KeyError(f"unknown recipe {name!r}; recipes: {sorted(RECIPES)}")
    return RECIPES[name]


def sft_parent(sft_key: str) -> str:
    """The mid-training key an SFT key starts from (``wm_amt.fe_sft`` -> ``wm_amt``)."""
    return sft_key.split(".")[0]


def midtrain_config(mid_key: str, base: MidTrainConfig, seed: int) -> MidTrainConfig:
    """Mid-training config of ``mid_key``: standard AMT drops every block."""
    update = {"seed": seed}
    if mid_key == "amt":
        update["augmented_fraction"] = 0.0
    return base.model_copy(update=update)


def sft_config(sft_key: str, base: FESFTConfig, seed: int) -> FESFTConfig | None:
    """SFT config of ``sft_key`` (its ``format`` names the SFT variant); None for ``<mid>.none``."""
    kind = sft_key.split(".")[1]
    return None if kind == "none" else base.model_copy(update={"seed": seed, "format": kind})


def rl_config(r: Recipe, base: FCRLConfig, seed: int) -> FCRLConfig | None:
    """RL config of a recipe; None when it has no RL stage.

    GRPO: one advantage per episode over outcome and format only. FC-RL: span advantages,
    with the recipe's omega (search) and, for the ablation, no grounding term. Recipes whose
    SFT taught no full block (standard SFT, State-SFT, IWM) earn the format reward with the
    think span and one action alone.
    """
    if r.rl == "none":
        return None
    update: dict = {"seed": seed, "require_block": r.sft in ("fe_sft", "none")}
    rewards = base.rewards.model_copy()
    if r.rl == "grpo":
        update["advantage"] = "episode"
        rewards = rewards.model_copy(update={"calibration": 0.0, "grounding": 0.0})
    else:
        update["advantage"] = "span"
        if r.omega is not None:
            update["omega"] = {**base.omega, "search": r.omega}
        if not r.grounding:
            rewards = rewards.model_copy(update={"grounding": 0.0})
    update["rewards"] = rewards
    return base.model_copy(update=update)
