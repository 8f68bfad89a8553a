"""Typed configuration of every stage (pydantic models, JSON-serializable).

The Dagster assets expose these as run config; the training processes receive them as
JSON (:class:`TrainingJob`) so a launched process needs only this package.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, Field

from foresight.envs import PASSAGE_MAX_WORDS
from foresight.envs.retrieval import RetrieverConfig
from foresight.protocol import BlockTags


class ModelConfig(BaseModel):
    """The model to start from.

    ``model_name_or_path=None`` builds the embedded default: a small Llama-architecture
    model from config with a BPE tokenizer trained on the trajectory text. A local HF
    checkpoint directory (or a hub id, where a hub is reachable) is used instead when set.
    """

    model_name_or_path: str | None = None
    vocab_size: int = 2048
    hidden_size: int = 128
    num_layers: int = 4
    num_heads: int = 4
    num_kv_heads: int = 4
    intermediate_size: int = 384
    max_position_embeddings: int = 2048


class TrainConfig(BaseModel):
    """Optimizer and batch settings shared by the three training stages."""

    max_steps: int = 100
    learning_rate: float = 1e-3
    per_device_batch_size: int = 8
    gradient_accumulation_steps: int = 1
    max_length: int = 512
    trust_remote_code: bool = Field(False, description="run model code shipped with a checkpoint (off unless you trust it)")
    warmup_ratio: float = Field(0.05, ge=0.0, lt=1.0, description="share of steps spent warming up the learning rate")
    seed: int = 0
    bf16: bool = False
    use_cpu: bool = True
    deepspeed: str | None = Field(None, description="path of a DeepSpeed JSON config (GPU runs)")
    logging_steps: int = 10
    # TRL turns it on by default; at the embedded scale memory is no constraint and the
    # recomputed forward pass made every step 17% slower. Turn it on for large models.
    gradient_checkpointing: bool = Field(False, description="recompute activations in the backward pass (saves GPU memory)")
    # SFT stages only. TRL's fused LM head projects in tiles so the (tokens, vocab) logits never
    # exist at once (and logs entropy and token accuracy): a memory saving at 100k+ vocabularies.
    # At the embedded 2,048-token vocabulary on CPU it only costs time: 0.59 against 0.53 s per
    # 2 x 1024-token WM-AMT step on 2 cores (benchmarks/sft_step_time.py).
    fused_lm_head: bool = Field(False, description="SFT stages: TRL's chunked log-prob loss instead of full-logit "
                                "cross-entropy (turn on for large vocabularies on GPU)")


class MidTrainConfig(TrainConfig):
    """WM-AMT: causal-LM loss with packing over trajectories, blocks at sampled steps.

    The default learning rate is high for a from-scratch 1M-parameter model: at 1e-3 it had
    not learned to copy an entity from the question into its query after 100 steps, at 3e-3
    it had; at 1e-2 the loss after 130 steps was 2.3 against 0.6 (docs/worlds.md has the numbers).
    Batches of 2 x 1024 tokens: small batches buy more optimizer steps in the same minutes
    (on 2 CPU cores 4 x 512 ran at the bare model's 7.6k tokens/s, 8 x 512 at 6.7k), and at
    512 tokens 41% of the search world's augmented trajectories were split across packed
    rows, so their later actions were trained without the question they answer.
    The two 1024-token rows go as two micro-batches of one (gradient accumulation): TRL's
    packing is padding-free, so a micro-batch of two becomes one 2048-token row whose
    attention CPU SDPA computes in full under a block mask; one row each took 0.36 s per
    optimizer step against 0.53 s, the same tokens and loss (benchmarks/sft_step_time.py).
    """

    max_steps: int = 1400
    learning_rate: float = 3e-3
    per_device_batch_size: int = 1
    gradient_accumulation_steps: int = 2
    max_length: int = 1024

    model: ModelConfig = ModelConfig()
    augmented_fraction: float = Field(0.8, ge=0.0, le=1.0, description="share of documents with blocks; the rest plain")
    block_probability: float = Field(0.7, ge=0.0, le=1.0, description="chance a step of an augmented document gets its block")
    tags: BlockTags = BlockTags()


class FESFTConfig(TrainConfig):
    """FE-SFT: chat-format SFT, world-model span then policy span, loss on assistant turns only.

    Whole trajectories are kept intact (packing never splits one); ``max_length`` should
    cover them: longer ones are truncated, and the metadata counts them. Micro-batches of one
    packed row, as in :class:`MidTrainConfig`.
    """

    max_steps: int = 300
    learning_rate: float = 2e-3
    max_length: int = 1024
    per_device_batch_size: int = 1
    gradient_accumulation_steps: int = 2
    min_outcome: float | None = Field(1.0, description="train only on trajectories with at least this outcome "
                                      "(successful ones: rejection-sampling SFT); None keeps all")
    per_task: int | None = Field(1, ge=1, description="keep this many of each task's trajectories, best first "
                                 "(outcome, then fewest steps); None keeps all")
    tags: BlockTags = BlockTags()
    format: Literal["fe_sft", "sft", "state_sft", "iwm"] = Field(
        "fe_sft", description='"fe_sft": full block before every action; "sft": no block; "state_sft": the '
        'block\'s trajectory part only (no confidence); "iwm": no block plus next-observation prediction examples')


class RewardWeights(BaseModel):
    """Weights of the RL reward terms.

    With ``FCRLConfig.advantage="span"`` outcome and format make the episode (task) reward
    behind A_E, calibration and grounding the world-model span reward R_WM (the paper weighs
    the two equally). With ``"episode"`` (plain GRPO) all four are summed into one reward, as
    TRL's GRPOTrainer does; the GRPO recipes set calibration and grounding to 0.
    """

    outcome: float = 1.0
    calibration: float = 1.0
    grounding: float = 1.0
    format: float = 0.5


class RolloutConfig(BaseModel):
    """Multi-turn rollout settings shared by RL and evaluation."""

    max_turns: int = 5  # a 4-hop search-world question needs 4 searches and an answer
    max_new_tokens: int = 128
    max_context: int = 1536
    top_k: int = 3
    passage_max_words: int = PASSAGE_MAX_WORDS


class FCRLConfig(TrainConfig):
    """FC-RL with TRL's GRPOTrainer and multi-turn rollouts in the real environments."""

    max_steps: int = 16
    learning_rate: float = 3e-4
    per_device_batch_size: int = 16
    num_generations: int = 8
    # Below 1: a CPU-scale policy sampled at 1.0 almost never succeeds, so GRPO groups had no
    # outcome variance (measured: 0 of 320 episodes at 1.0, 1-4% per step at 0.6).
    temperature: float = 0.6
    beta: float = 0.0
    epsilon: float = 0.2
    num_tasks: int = 160
    rollout: RolloutConfig = RolloutConfig()
    rewards: RewardWeights = RewardWeights()
    tags: BlockTags = BlockTags()
    advantage: Literal["span", "episode"] = Field(
        "span", description='"span": FC-RL, A_WM on world-model tokens and A_E + omega * A_S on policy tokens; '
        '"episode": plain GRPO, one advantage per episode on every generated token')
    omega: dict[str, float] = Field({"search": 0.2, "math": 0.1}, description="weight of the confidence advantage "
                                    "A_S in the policy span, per domain (paper: 0.2 search, 0.1 math; 0 = GRPO)")
    format_penalty: float = Field(0.5, ge=0.0, description="subtracted from R_WM of a step whose block is malformed "
                                  "or whose confidence does not parse")
    require_block: bool = Field(True, description="the format reward requires the world-model block "
                                "(False for recipes trained without blocks)")


class EvalConfig(BaseModel):
    """Benchmark evaluation: greedy multi-turn episodes on held-out questions."""

    num_questions: int = Field(20, description="held-out questions per real benchmark")
    world_questions: int | None = Field(None, description="held-out questions per generated world (None = all)")
    batch_size: int = 16
    rollout: RolloutConfig = RolloutConfig()
    ece_bins: int = 10
    tags: BlockTags = BlockTags()
    trust_remote_code: bool = False


class TrainingJob(BaseModel):
    """Everything a launched training or evaluation process needs, as one JSON document.

    Attributes:
        stage: "wm_amt" | "fe_sft" | "fc_rl" | "eval".
        config: the stage's resolved config (one of the classes above), as a dict.
        inputs: input name -> {"path": ..., "data_version": ...}.
        parent_checkpoint: path of the checkpoint to start from (None for WM-AMT from scratch).
        output_root: where the checkpoint directory is created (atomically).
        code_version: the code version recorded in the lineage manifest.
        job_id: unique per launch and identical on every rank: names the checkpoint.
        mlflow_experiment: MLflow experiment name.
        retriever: the search environments' retriever (None = BM25), from the Dagster resource.
    """

    stage: str
    config: dict
    inputs: dict[str, dict[str, str]] = {}
    parent_checkpoint: str | None = None
    output_root: str
    code_version: str
    job_id: str = Field(default_factory=lambda: datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8])
    mlflow_experiment: str = "foresight"
    retriever: RetrieverConfig | None = None
    extras: dict = {}

    def worlds(self) -> dict[str, str]:
        """Generated world directories among the inputs (source name -> directory)."""
        from foresight.worlds import WORLD_SOURCES

        return {name: spec["path"] for name, spec in self.inputs.items() if name in WORLD_SOURCES}
