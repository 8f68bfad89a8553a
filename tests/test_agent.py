"""The agent loop's token bookkeeping with a scripted model, and the FE-SFT loss mask."""

import pytest
import torch
from helpers import BLOCK, TINY_MODEL, ScriptedModel, tiny_tokenizer

from foresight.agent import run_episodes
from foresight.config import RolloutConfig
from foresight.envs.retrieval import BM25Retriever, Passage
from foresight.envs.search import SearchEnvironment
from foresight.formatting import trajectory_messages
from foresight.modeling import build_model
from foresight.protocol import BlockTags
from foresight.tasks import Task


def test_observation_tokens_are_masked_and_turns_parsed():
    tokenizer = tiny_tokenizer()
    env = SearchEnvironment(BM25Retriever([Passage("1", "Acme", "Acme was founded by Jane Roe in Springfield."),
                                           Passage("2", "Other", "Unrelated text.")]), top_k=1)
    task = Task("t", "search", "Who founded Acme?", ["Jane Roe"], "unit", corpus="c")
    [episode] = run_episodes(ScriptedModel(tokenizer), tokenizer, [task], {"c": env}, RolloutConfig(max_turns=3))
    assert episode.answer == "Jane Roe" and episode.outcome == 1.0 and not episode.truncated
    assert len(episode.env_mask) == len(episode.completion_ids)
    policy = tokenizer.decode([t for t, m in zip(episode.completion_ids, episode.env_mask) if m == 1])
    environment = tokenizer.decode([t for t, m in zip(episode.completion_ids, episode.env_mask) if m == 0])
    assert "<information>" in environment and "Springfield" in environment
    assert "<information>" not in policy and "<answer>Jane Roe</answer>" in policy
    assert [t.well_formed for t in episode.turns] == [True, True]
    assert episode.observations[0].startswith("Doc 1 (Title: Acme)")


def test_a_tool_of_another_domain_is_an_error_observation_not_a_crash():
    tokenizer = tiny_tokenizer()
    env = SearchEnvironment(BM25Retriever([Passage("1", "Acme", "Acme text.")]), top_k=1)
    task = Task("t", "search", "Who founded Acme?", ["Jane Roe"], "unit", corpus="c")
    turns = [BLOCK + "<think>x</think><python>print(1+1)</python>", BLOCK + "<think>y</think><answer>Bob</answer>"]
    [episode] = run_episodes(ScriptedModel(tokenizer, turns), tokenizer, [task], {"c": env}, RolloutConfig(max_turns=3))
    assert episode.observations[0].startswith("Error: the python tool is not available")
    assert episode.answer == "Bob" and episode.outcome == 0.0


def test_fe_sft_trains_on_assistant_turns_only():
    tokenizer = tiny_tokenizer()
    traj = {"domain": "search", "question": "Who founded Acme?", "steps": [
        {"think": "look", "action_type": "search", "action": "Acme founder", "observation": "Doc 1 (Title: Acme) Springfield."},
        {"think": "done", "action_type": "answer", "action": "Jane Roe", "observation": ""},
    ]}
    out = tokenizer.apply_chat_template(trajectory_messages(traj, BlockTags()), tokenize=True, return_dict=True,
                                        return_assistant_tokens_mask=True)
    ids, mask = out["input_ids"], out["assistant_masks"]
    trained = tokenizer.decode([i for i, m in zip(ids, mask) if m])
    masked = tokenizer.decode([i for i, m in zip(ids, mask) if not m])
    assert "<search>Acme founder</search>" in trained and "<answer>Jane Roe</answer>" in trained
    assert "<information>" in masked and "Who founded Acme?" in masked
    assert "<information>" not in trained and "Who founded" not in trained


def test_embedded_default_model_is_a_small_llama():
    tokenizer = tiny_tokenizer()
    model = build_model(tokenizer, TINY_MODEL, seed=0)
    assert model.config.model_type == "llama" and model.config.vocab_size == len(tokenizer)
    assert tokenizer.eos_token == "<|im_end|>" and "{% generation %}" in tokenizer.chat_template


def test_sft_trainer_dataset_keeps_whole_trajectories_and_masks_observations(tmp_path):
    """What FE-SFT really trains on: TRL's tokenized, packed dataset (not just the template)."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    from foresight.policies import BehaviorPolicy, run_policy
    from foresight.registry import environments, training_tasks

    tokenizer = tiny_tokenizer()
    task = training_tasks("musique", 1)[0]
    traj = run_policy(task, BehaviorPolicy("oracle", 0.0), environments()[task.corpus], seed=0)
    conversation = trajectory_messages(traj, BlockTags())
    length = len(tokenizer.apply_chat_template(conversation, tokenize=True, return_dict=True)["input_ids"])
    model = build_model(tokenizer, TINY_MODEL, 0)
    args = SFTConfig(output_dir=str(tmp_path), assistant_only_loss=True, packing=True, packing_strategy="bfd",
                     max_length=length + 8, use_cpu=True, bf16=False, report_to=[], max_steps=1)
    trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_dict({"messages": [conversation]}),
                         processing_class=tokenizer)
    row = trainer.train_dataset[0]
    trained = tokenizer.decode([i for i, label in zip(row["input_ids"], row["labels"]) if label != -100])
    assert f"<answer>{task.gold_answers[0]}</answer>" in trained  # the last turn survives
    assert "<information>" not in trained and "Doc 1 (Title:" not in trained


def test_full_logit_loss_equals_trls_fused_loss_on_packed_assistant_only_batches(tmp_path):
    """The SFT stages' default loss path (full logits) trains the same objective as TRL's fused head:
    same masked tokens, same per-document position resets, same token mean."""
    from datasets import Dataset
    from trl import SFTConfig

    from foresight.policies import BehaviorPolicy, run_policy
    from foresight.registry import environments, training_tasks
    from foresight.training.common import ForesightSFTTrainer

    tokenizer = tiny_tokenizer()
    conversations = [trajectory_messages(run_policy(task, BehaviorPolicy("oracle", 0.0), environments()[task.corpus], seed=0),
                                         BlockTags()) for task in training_tasks("musique", 2)]
    model = build_model(tokenizer, TINY_MODEL, 0)
    args = SFTConfig(output_dir=str(tmp_path), assistant_only_loss=True, packing=True, packing_strategy="bfd",
                     max_length=4096, use_cpu=True, bf16=False, report_to=[], max_steps=1, per_device_train_batch_size=2)
    losses = {}
    for fused in (True, False):
        trainer = ForesightSFTTrainer(model=model, args=args, train_dataset=Dataset.from_dict({"messages": conversations}),
                                      processing_class=tokenizer, fused_lm_head=fused)
        batch = next(iter(trainer.get_train_dataloader()))
        assert (batch["position_ids"] == 0).sum() == 2  # both conversations share one packed row
        with torch.no_grad():
            losses[fused] = trainer.compute_loss(model, dict(batch)).item()
    assert losses[True] > 1.0 and abs(losses[True] - losses[False]) < 1e-4 * losses[True]


def test_model_episodes_become_schema_valid_sibling_trajectories(tmp_path):
    from foresight.policies import episode_trajectory, model_trajectories
    from foresight.schema import validate_records

    tokenizer = tiny_tokenizer()
    env = SearchEnvironment(BM25Retriever([Passage("1", "Acme", "Acme was founded by Jane Roe in Springfield.")]), top_k=1)
    task = Task("t", "search", "Who founded Acme?", ["Jane Roe"], "unit", corpus="c")
    [episode] = run_episodes(ScriptedModel(tokenizer), tokenizer, [task], {"c": env}, RolloutConfig(max_turns=3))
    result = validate_records([episode_trajectory(episode, "self", 0)], "scripted")
    [traj] = result.trajectories
    assert [s["action_type"] for s in traj["steps"]] == ["search", "answer"] and traj["outcome"] == 1.0
    assert traj["steps"][0]["observation"].startswith("Doc 1 (Title: Acme)") and traj["behavior_policy"] == "self"

    # A real (untrained) checkpoint sampled with temperature: K siblings per task, every
    # episode kept, the ones without any action quarantined with the field named.
    model = build_model(tokenizer, TINY_MODEL, 0)
    model.save_pretrained(tmp_path / "ckpt")
    tokenizer.save_pretrained(tmp_path / "ckpt")
    rollout = RolloutConfig(max_turns=2, max_new_tokens=16, max_context=512)
    trajectories = model_trajectories([task], str(tmp_path / "ckpt"), "self", 3, 1.0, {"c": env}, rollout, seed=0)
    assert sorted(t["trajectory_id"] for t in trajectories) == ["t/self/0", "t/self/1", "t/self/2"]
    checked = validate_records(trajectories, "self")
    assert len(checked.trajectories) + len(checked.quarantined) == 3
    assert all(q.field == "steps" for q in checked.quarantined)


def test_names_and_numbers_tokenize_the_same_after_a_space_and_after_a_tag():
    tok = tiny_tokenizer()
    # The ids of a name inside an observation ("... by Jane Roe in") must be the ids the
    # model writes in its answer ("<answer>Jane Roe"), or copying it is a spelling task.
    observation = tok("founded by Jane Roe in 1999", add_special_tokens=False)["input_ids"]
    action = tok("<answer>Jane Roe</answer>", add_special_tokens=False)["input_ids"]
    name = tok("Jane Roe", add_special_tokens=False)["input_ids"]
    number = tok("1999", add_special_tokens=False)["input_ids"]

    def contains(seq, sub):
        return any(seq[i:i + len(sub)] == sub for i in range(len(seq) - len(sub) + 1))

    assert contains(observation, name) and contains(action, name) and contains(observation, number)
    text = "<|im_start|>tool\nDoc 1 (Title: Acme) Acme was founded by Jane Roe.<|im_end|>\n"
    assert tok.decode(tok(text, add_special_tokens=False)["input_ids"]) == text


def test_fe_sft_keeps_the_best_successful_trajectory_of_each_task():
    from foresight.training.fe_sft import select_trajectories

    def traj(tid, task, outcome, steps):
        return {"trajectory_id": tid, "task_id": task, "outcome": outcome, "steps": [{}] * steps}

    trajs = [traj("a/detour", "a", 1.0, 4), traj("a/direct", "a", 1.0, 3), traj("a/wrong", "a", 0.0, 2),
             traj("b/only", "b", 1.0, 5), traj("c/failed", "c", 0.0, 3)]
    assert [t["trajectory_id"] for t in select_trajectories(trajs, 1.0, 1)] == ["a/direct", "b/only"]
    assert [t["trajectory_id"] for t in select_trajectories(trajs, 1.0, None)] == ["a/detour", "a/direct", "b/only"]
    assert [t["trajectory_id"] for t in select_trajectories(trajs, None, 2)] == ["a/detour", "a/direct", "b/only", "c/failed"]
    with pytest.raises(ValueError, match="no trajectory left"):
        select_trajectories([trajs[-1]], 1.0, 1)
