"""Recipes: the paper's rows as stage configs, the SFT variants' examples, and the report's statistics."""

import math

import pytest
from helpers import tiny_tokenizer

from foresight.blocks import augment
from foresight.config import FCRLConfig, FESFTConfig, MidTrainConfig
from foresight.formatting import sft_conversations
from foresight.protocol import BlockTags, parse_turn
from foresight.recipes import (
    BASELINE,
    FULL_METHOD,
    RECIPES,
    midtrain_config,
    recipe,
    rl_config,
    sft_config,
)
from foresight.report import difference_interval, mean_interval, verdict


def test_recipes_cover_the_papers_rows_with_shared_prefixes():
    rows = {r.paper_row for r in RECIPES.values()}
    for row in ("standard AMT + SFT", "WM-AMT + FE-SFT", "standard AMT + SFT + RL", "State-SFT + RL", "IWM + RL",
                "WM-AMT + FE-SFT + RL (GRPO)", "WM-AMT + FE-SFT + FC-RL (full method)", "WM-AMT + FC-RL (RL without SFT)"):
        assert row in rows
    assert {RECIPES[n].sft_key for n in RECIPES if n.startswith("wm_amt.fe_sft.")} == {"wm_amt.fe_sft"}
    assert recipe(FULL_METHOD).main and recipe(BASELINE).main
    with pytest.raises(KeyError, match="unknown recipe"):
        recipe("wm_amt.fe_sft.ppo")


def test_stage_configs_follow_the_recipe():
    assert midtrain_config("amt", MidTrainConfig(), 2).augmented_fraction == 0.0
    assert midtrain_config("wm_amt", MidTrainConfig(), 2).seed == 2
    assert sft_config("wm_amt.none", FESFTConfig(), 0) is None
    assert sft_config("amt.state_sft", FESFTConfig(), 1).format == "state_sft"
    base = FCRLConfig()
    grpo = rl_config(recipe(BASELINE), base, 1)
    assert grpo.advantage == "episode" and grpo.rewards.calibration == 0 and grpo.rewards.grounding == 0
    assert not grpo.require_block  # standard SFT taught no block
    full = rl_config(recipe(FULL_METHOD), base, 0)
    assert full.advantage == "span" and full.omega == base.omega and full.require_block
    sweep = rl_config(recipe("wm_amt.fe_sft.fc_rl-omega0.5"), base, 0)
    assert sweep.omega == {**base.omega, "search": 0.5}
    assert rl_config(recipe("wm_amt.fe_sft.fc_rl-noground"), base, 0).rewards.grounding == 0.0
    assert rl_config(recipe("wm_amt.fe_sft.none"), base, 0) is None


def test_sft_variants_render_their_own_examples(trajectory):
    [traj] = augment([trajectory])
    tags = BlockTags()
    [fe] = sft_conversations([traj], "fe_sft", tags)
    [plain] = sft_conversations([traj], "sft", tags)
    [state] = sft_conversations([traj], "state_sft", tags)
    iwm = sft_conversations([traj], "iwm", tags)

    def assistant(conversation):
        return [m["content"] for m in conversation if m["role"] == "assistant"]

    assert all(parse_turn(t).well_formed for t in assistant(fe))
    assert all("<imaginary>" not in t and parse_turn(t).policy_ok for t in assistant(plain))
    assert all("<keyword>" in t and "<confidence>" not in t and "<analysis>" not in t for t in assistant(state))
    # IWM: the plain conversation plus one next-observation example per tool step.
    assert iwm[0] == plain and len(iwm) == 2
    assert iwm[1][-1] == {"role": "assistant", "content": "<information>" + trajectory["steps"][0]["observation"] + "</information>"}
    assert iwm[1][-2]["content"].endswith("<search>Acme founder</search>")
    tokenizer = tiny_tokenizer()  # the chat template renders consecutive assistant turns
    assert "<information>" in tokenizer.apply_chat_template(iwm[1], tokenize=False)
    with pytest.raises(ValueError, match="unknown SFT format"):
        sft_conversations([traj], "dpo", tags)


def test_intervals_and_verdicts():
    # 0.2, 0.4, 0.6: mean 0.4, sd 0.2, t(0.975, 2) = 4.3027 -> half-width 4.3027 * 0.2 / sqrt(3) = 0.49683
    mean, half = mean_interval([0.2, 0.4, 0.6])
    assert mean == pytest.approx(0.4) and half == pytest.approx(0.49683, abs=1e-4)
    assert math.isnan(mean_interval([0.3])[1])
    diff, low, high = difference_interval([0.5, 0.6, 0.7], [0.1, 0.2, 0.3])
    assert diff == pytest.approx(0.4) and 0 < low < 0.4 < high
    assert verdict(low, high, higher_is_better=True) == "holds"
    assert verdict(low, high, higher_is_better=False) == "reversed"  # e.g. ECE went up
    assert verdict(-0.1, 0.2, True).startswith("not resolved")
    assert verdict(float("nan"), float("nan"), True).startswith("not resolved")


def test_the_ordering_compares_calibration_with_a_blocked_grpo_row_when_the_baseline_states_no_confidence():
    from foresight.report import GridScores, ordering

    rows = []
    for seed in (0, 1):
        for recipe_name, em, ece, grounding in ((FULL_METHOD, 0.3 + seed / 100, 0.2, 0.5), (BASELINE, 0.1, float("nan"), 0.0),
                                                 ("wm_amt.fe_sft.grpo", 0.2, 0.6 + seed / 100, 0.3)):
            for metric, value in (("exact_match", em), ("ece", ece), ("grounding_rate", grounding)):
                rows.append((recipe_name, seed, "search_world", metric, value, None, "ckpt"))
    table, sentences = ordering(GridScores(rows))
    ece = next(s for s in sentences if s.startswith("- ECE"))
    assert "WM-AMT + FE-SFT + RL (GRPO)" in ece and "**holds**" in ece  # 0.2 against 0.6: lower is better
    assert "`amt.sft.grpo`" in table.splitlines()[2]  # success is compared with the baseline itself
    assert "Trivially" in next(s for s in sentences if s.startswith("- grounding"))
