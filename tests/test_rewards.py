import pytest

from foresight.protocol import parse_confidence, parse_turn
from foresight.rewards import calibration_reward, episode_rewards, keyword_grounding

GOOD = ("<imaginary>search then answer</imaginary><keyword>springfield, founded</keyword>"
        "<analysis>nothing yet</analysis><confidence>0.8</confidence><think>look</think><search>Acme</search>")


@pytest.mark.parametrize("q, outcome, expected", [(1.0, 1.0, 1.0), (0.0, 1.0, 0.0), (0.8, 1.0, 0.96),
                                                  (0.0, 0.0, 0.0), (1.0, 0.0, -1.0), (0.3, 0.0, -0.09)])
def test_calibration_reward_is_brier_style(q, outcome, expected):
    assert calibration_reward(q, outcome) == pytest.approx(expected)


def test_missing_confidence_gets_the_worst_calibration():
    assert calibration_reward(None, 1.0) == 0.0 and calibration_reward(None, 0.0) == -1.0


def test_confidence_parsing():
    assert parse_confidence("0.25") == 0.25 and parse_confidence("80%") == 0.8 and parse_confidence("80") == 0.8
    assert parse_confidence("high") is None and parse_confidence("250") is None


def test_parse_turn_handles_missing_and_truncated_parts():
    assert parse_turn(GOOD).well_formed
    missing = parse_turn(GOOD.replace("<analysis>nothing yet</analysis>", ""))
    assert not missing.well_formed and missing.action_type == "search" and missing.confidence == 0.8
    truncated = parse_turn(GOOD[: GOOD.index("<search>") + 5])
    assert not truncated.well_formed and truncated.action_type is None
    assert parse_turn("garbage").confidence is None
    doubled = parse_turn(GOOD + "<search>again</search>")
    assert doubled.action == "Acme" and not doubled.well_formed  # two actions in one turn
    nested = parse_turn(GOOD.replace("search then answer", "maybe <answer>Paris</answer>"))
    assert nested.action_type == "search"  # an answer inside the rollout is not an action


def test_the_turns_own_query_does_not_ground_its_keywords():
    own_query = GOOD.replace("springfield, founded", "founder").replace("<search>Acme</search>", "<search>Acme founder</search>")
    turns = [parse_turn(own_query), parse_turn("<answer>x</answer>")]
    # "founder" appears only in the turn's own <search>, which is not tau_{>t}
    r = episode_rewards(turns, ["Doc 1 (Title: Other) Nothing relevant.", ""], 0.0, True, "Who started Acme?")
    assert r["grounding"] == 0.0


def test_grounding_counts_keywords_seen_later_but_not_question_words():
    assert keyword_grounding(["springfield", "mars"], "Acme was founded in Springfield", "Who founded Acme?") == 0.5
    assert keyword_grounding(["acme"], "Acme was founded", "Who founded Acme?") == 0.0  # copied from the question
    assert keyword_grounding([], "anything", "q") == 0.0


def test_episode_rewards_combine_terms():
    turns = [parse_turn(GOOD), parse_turn("<think>x</think><answer>Jane Roe</answer>")]
    observations = ["Doc 1 (Title: Acme) Acme was founded in Springfield.", ""]
    r = episode_rewards(turns, observations, outcome=1.0, answered=True, question="Who founded Acme?")
    assert r["outcome"] == 1.0
    assert r["calibration"] == pytest.approx((0.96 + 0.0) / 2)  # second turn has no confidence
    # turn 1: "springfield" appears later, "founded" is a question word -> 1/2; turn 2 has no keywords
    assert r["grounding"] == pytest.approx((0.5 + 0.0) / 2)
    assert r["format"] == pytest.approx(0.5)
    assert episode_rewards(turns, observations, 1.0, answered=False, question="q")["format"] == 0.0
