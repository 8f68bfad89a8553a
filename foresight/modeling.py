"""Tokenizer and model of the embedded default, and loading of local/hub checkpoints.

The embedded default is a small Llama-architecture causal LM built from config with a
byte-level BPE tokenizer trained (``tokenizers``) on the trajectory text. Both are saved
as a standard HF directory (safetensors weights, tokenizer files, chat template).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedTokenizerFast,
)

from foresight.config import ModelConfig

IM_START, IM_END, PAD = "<|im_start|>", "<|im_end|>", "<|pad|>"
SPECIAL_TOKENS = [PAD, IM_START, IM_END, "<|endoftext|>"]

# ChatML-style template. Assistant content (with its end-of-turn token) sits inside
# {% generation %} so TRL's assistant_only_loss trains on the model's own turns only;
# tool turns (observations) get label -100.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' }}"
    "{% if message['role'] == 'assistant' %}"
    "{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}"
    "{% else %}{{ message['content'] + '<|im_end|>' }}{% endif %}"
    "{{ '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def train_tokenizer(texts: Iterable[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE tokenizer on ``texts``.

    Args:
        texts: training corpus (trajectory renderings).
        vocab_size: target vocabulary size including the special tokens.

    Returns:
        A fast tokenizer with ``eos_token=<|im_end|>``, ``pad_token=<|pad|>`` and the chat template.
    """
    tok = Tokenizer(models.BPE())
    # A space before a capitalized word or a digit becomes its own token, so a name or a
    # number has the same token ids after a space ("is Liman") as after a tag
    # ("<answer>Liman"): copying an entity from an observation into a query or an answer is
    # then copying ids. With GPT-2's merged " Liman" 153 of the search world's 189 answers
    # had different ids in the two places and a 1M-parameter model failed to copy them
    # (docs/worlds.md). Costs 21% more tokens on the trajectories; lowercase words keep
    # their merged space.
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r" (?=[A-Z0-9])"), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token=IM_END, pad_token=PAD, bos_token=None,
        additional_special_tokens=[IM_START],
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.padding_side = "left"
    return fast


def build_model(tokenizer: PreTrainedTokenizerFast, cfg: ModelConfig, seed: int) -> LlamaForCausalLM:
    """Build the small Llama of the embedded default with random weights (seeded)."""
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=cfg.hidden_size, intermediate_size=cfg.intermediate_size,
        num_hidden_layers=cfg.num_layers, num_attention_heads=cfg.num_heads,
        num_key_value_heads=cfg.num_kv_heads, max_position_embeddings=cfg.max_position_embeddings,
        tie_word_embeddings=True, pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id, bos_token_id=None,
    )
    return LlamaForCausalLM(config)


def ensure_chat_format(tokenizer, model) -> None:
    """Give a pretrained tokenizer/model the special tokens and chat template of this project.

    Adds ``<|im_start|>``/``<|im_end|>``/pad when missing (resizing the embeddings) and sets
    :data:`CHAT_TEMPLATE`, whose ``{% generation %}`` markers assistant-only loss needs.
    """
    missing = [t for t in (IM_START, IM_END) if t not in tokenizer.get_vocab()]
    if missing:
        tokenizer.add_special_tokens({"additional_special_tokens": missing})
    if tokenizer.pad_token is None:
        tokenizer.add_special_tokens({"pad_token": PAD})
    tokenizer.eos_token = IM_END
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.padding_side = "left"
    if len(tokenizer) > model.get_input_embeddings().weight.shape[0]:
        model.resize_token_embeddings(len(tokenizer))
    model.config.eos_token_id = tokenizer.eos_token_id
    model.config.pad_token_id = tokenizer.pad_token_id
    if model.generation_config is not None:
        model.generation_config.eos_token_id = tokenizer.eos_token_id
        model.generation_config.pad_token_id = tokenizer.pad_token_id


def load_checkpoint(path: str, trust_remote_code: bool = False):
    """Load a model and tokenizer from a local HF directory (or hub id) with safetensors only.

    Returns:
        (model in float32 on CPU, tokenizer with the project's chat format).

    Raises:
        OSError: the path holds no loadable checkpoint (no pickle fallback is attempted).
    """
    tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    model = AutoModelForCausalLM.from_pretrained(
        path, trust_remote_code=trust_remote_code, use_safetensors=True, dtype=torch.float32,
    )
    ensure_chat_format(tokenizer, model)
    return model, tokenizer
