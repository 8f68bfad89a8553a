"""FC-RL under ``accelerate launch`` with DeepSpeed ZeRO-2: two CPU processes (gloo), a few steps.

The same module the Dagster asset launches (``foresight.training.fc_rl``) runs here with the
shipped accelerate config, so the span advantages' cross-process gather, TRL's GRPO loss and
ZeRO-2's sharded optimizer are exercised together.
"""

import json
import os
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import torch
from helpers import BLOCK, POLICY, TINY_MODEL, tiny_tokenizer
from safetensors.torch import load_file

from foresight.config import FCRLConfig, RolloutConfig, TrainingJob
from foresight.formatting import prompt_messages
from foresight.modeling import build_model
from foresight.paths import REPO_ROOT
from foresight.rl_data import rl_tasks, task_rows


def _formatted_parent(tokenizer, questions: list[str], steps: int = 120):
    """The tiny model after a few steps of imitating blocked turns with three different confidences,
    so its samples carry parseable, varied blocks: an untrained model's garbage gives every episode
    the same rewards and so all-zero advantages, which would hide a broken update."""
    model = build_model(tokenizer, TINY_MODEL, 0)
    texts = [tokenizer.apply_chat_template(prompt_messages("search", q) + [{"role": "assistant", "content": turn}],
                                           tokenize=False)
             for q in questions for turn in (BLOCK.replace("0.7", c) + POLICY for c in ("0.2", "0.5", "0.9"))]
    batch = tokenizer(texts, add_special_tokens=False, padding=True, return_tensors="pt")
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(steps):
        model(**batch, labels=labels).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return model


def test_fc_rl_runs_on_two_deepspeed_zero2_processes(tmp_path):
    tokenizer = tiny_tokenizer()
    tasks = rl_tasks({"musique": 8}, 8, seed=0)
    parent = tmp_path / "parent"
    _formatted_parent(tokenizer, [t.question for t in tasks]).save_pretrained(parent)
    tokenizer.save_pretrained(parent)
    (parent / "lineage.json").write_text(json.dumps({"checkpoint_id": "parent", "stage": "fe_sft"}))
    tasks_path = tmp_path / "rl_tasks.parquet"
    pq.write_table(pa.Table.from_pylist(task_rows(tasks)), tasks_path)
    # 2 processes x 4 completions per step = 2 groups of 4 episodes per optimizer step.
    cfg = FCRLConfig(max_steps=2, per_device_batch_size=4, num_generations=4, logging_steps=1, num_tasks=8,
                     rollout=RolloutConfig(max_turns=2, max_new_tokens=64, max_context=1024))
    job = TrainingJob(stage="fc_rl", config=cfg.model_dump(), parent_checkpoint=str(parent),
                      inputs={"rl_tasks": {"path": str(tasks_path), "data_version": "test"}},
                      output_root=str(tmp_path / "out"), code_version="test")
    (tmp_path / "job.json").write_text(job.model_dump_json())
    env = {**os.environ, "DS_ACCELERATOR": "cpu", "FORESIGHT_HOME": str(tmp_path / "home"),
           "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}", "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--config_file",
           str(REPO_ROOT / "configs" / "accelerate" / "zero2_cpu.yaml"), "--num_processes", "2",
           "-m", "foresight.training.fc_rl", "--job", str(tmp_path / "job.json"), "--report", str(tmp_path / "report.json")]
    done = subprocess.run(cmd, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
    metadata = json.loads((tmp_path / "report.json").read_text())["metadata"]
    assert metadata["processes"] == 2 and metadata["distributed_type"] == "DEEPSPEED"
    assert metadata["train/global_step"] == 2.0
    assert metadata["episodes"] == 2 * 4  # rank 0's episodes: 2 steps x 4 completions
    assert metadata["last/fcrl/wm_advantage_abs"] > 0  # the blocks' rewards differed within groups
    trained = load_file(os.path.join(metadata["checkpoint_path"], "model.safetensors"))
    start = load_file(str(parent / "model.safetensors"))
    assert any(not (trained[k] == start[k]).all() for k in start)  # the optimizer moved the weights
