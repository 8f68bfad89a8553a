"""FC-RL: span location in tricky outputs, the span advantage formulas on a hand-computed group,
per-token advantages in TRL's GRPOTrainer, and the masking of observation tokens in its loss."""

import math

import pytest
import torch
from helpers import BLOCK, POLICY, TINY_MODEL, ScriptedModel, tiny_tokenizer

from foresight.advantages import (
    EpisodeSignal,
    StepSignal,
    group_normalize,
    span_advantages,
    token_advantages,
)
from foresight.agent import run_episodes
from foresight.config import FCRLConfig, RolloutConfig
from foresight.envs.retrieval import BM25Retriever, Passage
from foresight.envs.search import SearchEnvironment
from foresight.modeling import build_model
from foresight.protocol import parse_turn, policy_span_start
from foresight.tasks import Task

NESTED = ("<imaginary>I will <think>search</think> then <search>q</search></imaginary><keyword>k</keyword>"
          "<analysis>a</analysis><confidence>0.4</confidence>")


@pytest.mark.parametrize("text, policy", [
    (BLOCK + POLICY, POLICY),
    (POLICY, POLICY),  # no block at all: the whole turn is the policy span
    ("plain words, no tags", "plain words, no tags"),
    (NESTED + "<think>t</think><search>real</search>", "<think>t</think><search>real</search>"),  # nested tags stay in the block
    (BLOCK + "<think>cut off mid-thou", "<think>cut off mid-thou"),  # truncated in the policy span
    ("<imaginary>a</imaginary><keyword>k1, k2", ""),  # truncated inside the block: all world-model span
    ("<imaginary>a</imaginary><keyword>k</keyword><analysis>x <search>inside</search>", ""),  # action inside an unclosed tag
    (BLOCK, ""),  # truncated right after the block
    (BLOCK + "\n<answer>x</answer>", "<answer>x</answer>"),  # no <think>: the action opens the policy span
    ("<imaginary>a</imaginary><think>t</think><answer>x</answer>", "<think>t</think><answer>x</answer>"),  # partial block
    (BLOCK + "<think>my <confidence> is low</think><answer>x</answer>", "<think>my <confidence> is low</think><answer>x</answer>"),
])
def test_policy_span_starts_after_the_block(text, policy):
    assert text[policy_span_start(text):] == policy


def test_malformed_blocks_parse_without_crashing():
    assert not parse_turn(NESTED.replace("0.4", "very sure") + POLICY).block_ok
    assert parse_turn(POLICY).policy_ok and not parse_turn(POLICY).block_ok
    assert parse_turn(BLOCK + POLICY).well_formed
    assert not parse_turn(BLOCK + "<think>x").policy_ok


def _search_env():
    return SearchEnvironment(BM25Retriever([Passage("1", "Acme", "Acme was founded by Jane Roe in Springfield."),
                                            Passage("2", "Other", "Unrelated text.")]), top_k=1)


TASK = Task("t", "search", "Who founded Acme?", ["Jane Roe"], "unit", corpus="c")
SCRIPTS = [
    [BLOCK + POLICY, BLOCK.replace("0.7", "0.9") + "<think>got it</think><answer>Jane Roe</answer>"],  # success
    [BLOCK + POLICY, BLOCK.replace("0.7", "0.9") + "<think>guess</think><answer>John Doe</answer>"],  # confident failure
    [POLICY, "<think>got it</think><answer>Jane Roe</answer>"],  # success without blocks
    ["<imaginary>a</imaginary><keyword>k1, k2"],  # truncated inside the block: no action, episode over
]


def _episodes(tokenizer):
    rollout = RolloutConfig(max_turns=3)
    return [run_episodes(ScriptedModel(tokenizer, s), tokenizer, [TASK], {"c": _search_env()}, rollout)[0] for s in SCRIPTS]


def test_turn_spans_split_each_turn_into_block_and_policy_tokens():
    tokenizer = tiny_tokenizer()
    success, _, no_block, truncated = _episodes(tokenizer)

    def decode(ids):
        return tokenizer.decode(ids, skip_special_tokens=True)

    (s0, p0, e0), (s1, p1, e1) = success.turn_spans
    ids = success.completion_ids
    block_text, policy_text = decode(ids[s0:p0]), decode(ids[p0:e0])
    assert block_text + policy_text == BLOCK + POLICY
    # A token that straddles the boundary (BPE merges "><") goes to the policy span.
    assert BLOCK.startswith(block_text) and len(BLOCK) - len(block_text) <= 1
    assert decode(ids[p1:e1]).endswith("<think>got it</think><answer>Jane Roe</answer>")
    assert all(m == 0 for m in success.env_mask[e0:s1]) and "<information>" in decode(ids[e0:s1])
    assert [p - s for s, p, _ in no_block.turn_spans] == [0, 0]  # no block: no world-model tokens
    [(s, p, e)] = truncated.turn_spans
    assert p == e and decode(truncated.completion_ids[s:p]) == SCRIPTS[3][0]
    block, total = success.block_tokens()
    assert 0 < block < total


# A hand-computed group (unit weights, format penalty 0.5, omega 0.2):
#   episode rewards 1, 0 -> mean 0.5, unbiased std sqrt(0.5) -> A_E = +-0.5 / (0.70711 + 1e-4) = +-0.70701
#   R_WM = 0.96 + 1 = 1.96 ; -0.25 + 0 = -0.25 ; -0.04 + 0.5 - 0.5 (malformed) = -0.04
#     mean 0.55667, deviations 1.40333 / -0.80667 / -0.59667, std sqrt(2.97607 / 2) = 1.21985
#     -> A_WM = 1.15033, -0.66122, -0.48909
#   q = 0.8, 0.5, 0.2 -> mean 0.5, std 0.3 -> A_S = +-0.3 / 0.3001 = +-0.99967, 0
#   A_policy = 0.70701 + 0.2 * 0.99967 = 0.90694 ; -0.70701 ; -0.70701 - 0.19993 = -0.90694
GROUP = [
    EpisodeSignal(1.0, [StepSignal(1 - (0.8 - 1) ** 2, 1.0, 0.8, True)]),
    EpisodeSignal(0.0, [StepSignal(-(0.5**2), 0.0, 0.5, True), StepSignal(-(0.2**2), 0.5, 0.2, False)]),
]


def test_span_advantages_match_the_hand_computed_group():
    [[(wm_a, pi_a)], [(wm_b1, pi_b1), (wm_b2, pi_b2)]] = span_advantages(GROUP, omega=0.2, format_penalty=0.5)
    assert [wm_a, wm_b1, wm_b2] == pytest.approx([1.15033, -0.66122, -0.48909], abs=2e-5)
    assert [pi_a, pi_b1, pi_b2] == pytest.approx([0.90694, -0.70701, -0.90694], abs=2e-5)


def test_omega_zero_is_plain_grpo_on_the_policy_span_and_matches_trls_normalization():
    from trl.trainer.utils import nanstd

    advantages = span_advantages(GROUP, omega=0.0)
    assert {pi for _, pi in advantages[1]} == {advantages[1][0][1]}  # every step of an episode: A_E alone
    rewards = torch.tensor([3.0, 1.0, 1.0, 0.0])
    trl = (rewards - rewards.mean()) / (nanstd(rewards) + 1e-4)
    assert group_normalize(rewards.tolist()) == pytest.approx(trl.tolist(), abs=1e-6)
    assert group_normalize([2.0]) == [0.0] and group_normalize([1.0, 1.0]) == [0.0, 0.0]


def test_an_unparseable_confidence_is_penalized_not_a_crash():
    group = [EpisodeSignal(0.0, [StepSignal(-1.0, 0.0, None, False)]), EpisodeSignal(0.0, [StepSignal(-1.0, 0.0, 0.0, True)])]
    [[(wm_bad, pi_bad)], [(wm_ok, pi_ok)]] = span_advantages(group, omega=0.2, format_penalty=0.5)
    assert wm_bad < 0 < wm_ok and math.isclose(pi_bad, pi_ok)  # q=None counts as q=0 in A_S


def test_token_advantages_fill_spans_and_leave_observations_at_zero():
    assert token_advantages(10, [(0, 3, 5), (7, 8, 10)], [(1.0, 2.0), (3.0, 4.0)]) == [1, 1, 1, 2, 2, 0, 0, 3, 4, 4]
    with pytest.raises(ValueError, match="outside"):
        token_advantages(4, [(0, 3, 5)], [(1.0, 2.0)])
    with pytest.raises(ValueError, match="step advantages"):
        token_advantages(4, [(0, 1, 2)], [])


@pytest.fixture(scope="module")
def trainer(tmp_path_factory):
    from foresight.training.fc_rl import build_trainer

    tokenizer = tiny_tokenizer()
    cfg = FCRLConfig(per_device_batch_size=4, num_generations=4, max_steps=1, rollout=RolloutConfig(max_context=512))
    return build_trainer(cfg, build_model(tokenizer, TINY_MODEL, 0), tokenizer, [TASK], {"c": _search_env()},
                         tmp_path_factory.mktemp("grpo"))


def test_trainer_puts_each_steps_span_advantage_on_its_tokens(trainer):
    from foresight.training.fc_rl import episode_signal

    episodes = _episodes(trainer.processing_class)
    trainer.last_episodes = episodes
    width = max(len(e.completion_ids) for e in episodes) + 3  # TRL pads completions on the right
    advantages = trainer._span_advantages(width, torch.device("cpu"))
    assert advantages.shape == (4, width) and advantages.dtype == torch.float32
    expected = span_advantages([episode_signal(e, trainer.fcrl) for e in episodes], omega=0.2)
    for row, episode, steps in zip(advantages.tolist(), episodes, expected):
        for (start, policy, end), (a_wm, a_pi) in zip(episode.turn_spans, steps):
            assert row[start:policy] == pytest.approx([a_wm] * (policy - start))
            assert row[policy:end] == pytest.approx([a_pi] * (end - policy))
        assert all(a == 0.0 for a, m in zip(row, episode.env_mask) if m == 0)  # observations
        assert all(a == 0.0 for a in row[len(episode.completion_ids):])  # padding
    # Final steps, both q = 0.9: the confident failure's block is pushed below the calibrated success's.
    (s_ok, p_ok, _), (s_bad, p_bad, _) = episodes[0].turn_spans[1], episodes[1].turn_spans[1]
    assert advantages[1, s_bad:p_bad].max() < advantages[0, s_ok:p_ok].min()


def test_observation_tokens_get_no_gradient_whatever_their_advantage(trainer):
    tokenizer = trainer.processing_class
    [episode] = _episodes(tokenizer)[:1]
    completion = torch.tensor([episode.completion_ids])
    env_mask = torch.tensor([episode.env_mask])
    inputs = {
        "prompt_ids": torch.tensor([episode.prompt_ids]), "prompt_mask": torch.ones(1, len(episode.prompt_ids), dtype=torch.long),
        "completion_ids": completion, "completion_mask": torch.ones_like(completion), "tool_mask": env_mask,
        "num_items_in_batch": env_mask.sum(),
    }
    trainer.model.train()
    trainer.current_gradient_accumulation_steps = 1

    def grads(advantages):
        trainer.model.zero_grad()
        trainer._compute_loss(trainer.model, {**inputs, "advantages": advantages}).backward()
        return torch.cat([p.grad.flatten() for p in trainer.model.parameters() if p.grad is not None])

    base = torch.ones(completion.shape)
    observation_changed = torch.where(env_mask == 0, torch.full_like(base, 1000.0), base)
    policy_changed = torch.where(env_mask == 1, torch.full_like(base, -1.0), base)
    assert torch.allclose(grads(base), grads(observation_changed))
    assert not torch.allclose(grads(base), grads(policy_changed))
