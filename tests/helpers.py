"""Shared test helpers: a tiny tokenizer and model, and a scripted stand-in for a causal LM."""

import torch

from foresight.config import ModelConfig
from foresight.modeling import train_tokenizer

BLOCK = "<imaginary>a</imaginary><keyword>springfield</keyword><analysis>b</analysis><confidence>0.7</confidence>"
POLICY = "<think>look</think><search>Acme founder</search>"
TURNS = [BLOCK + POLICY, BLOCK + "<think>got it</think><answer>Jane Roe</answer>"]


# A one-layer model: enough for token bookkeeping and loss checks, seconds to build.
TINY_MODEL = ModelConfig(hidden_size=32, num_layers=1, num_heads=2, num_kv_heads=1, intermediate_size=64)


def tiny_tokenizer():
    texts = TURNS + ["<information>Doc 1 (Title: Acme) Acme was founded by Jane Roe in Springfield.</information>",
                     "Who founded Acme?", "Answer the question using the search tool."] * 20
    return train_tokenizer(texts, vocab_size=400)


class ScriptedModel:
    """Stands in for a causal LM: returns the next scripted turn for every sequence."""

    device = torch.device("cpu")

    def __init__(self, tokenizer, turns=TURNS):
        self.tokenizer = tokenizer
        self.turns = turns
        self.calls = 0

    def generate(self, input_ids, attention_mask, max_new_tokens, eos_token_id, pad_token_id, **kwargs):
        turn = self.tokenizer(self.turns[self.calls] + self.tokenizer.eos_token, add_special_tokens=False)["input_ids"]
        self.calls += 1
        new = torch.tensor([turn] * input_ids.shape[0])
        return torch.cat([input_ids, new], dim=1)
