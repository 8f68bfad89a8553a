"""Benchmark: multi-turn episodes per second of the agent loop, batched vs one at a time.

The reference is the same loop with ``batch_size=1`` measured in the same run on the same
model, tasks and environments; the printed ratio is batched / reference. Uses the latest
FE-SFT (or any) checkpoint under $FORESIGHT_HOME, or a randomly initialised small Llama.

    .venv/bin/python benchmarks/rollout_throughput.py [--checkpoint DIR] [--episodes 32]
"""

from __future__ import annotations

import argparse
import time

from foresight.agent import run_episodes
from foresight.config import ModelConfig, RolloutConfig
from foresight.modeling import build_model, load_checkpoint, train_tokenizer
from foresight.registry import benchmark_tasks, environments


def _model(checkpoint: str | None):
    if checkpoint:
        return load_checkpoint(checkpoint)
    texts = [t.question for t in benchmark_tasks("hotpotqa")] * 5
    tokenizer = train_tokenizer(texts, vocab_size=2048)
    return build_model(tokenizer, ModelConfig(), seed=0), tokenizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--episodes", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    model, tokenizer = _model(args.checkpoint)
    model.eval()
    tasks = (benchmark_tasks("hotpotqa") + benchmark_tasks("gsm8k"))[: args.episodes]
    envs = environments()
    cfg = RolloutConfig()
    results = {}
    for name, batch in (("reference (batch_size=1)", 1), (f"batched (batch_size={args.batch_size})", args.batch_size)):
        start = time.perf_counter()
        episodes = run_episodes(model, tokenizer, tasks, envs, cfg, do_sample=True, temperature=1.0, batch_size=batch)
        seconds = time.perf_counter() - start
        tokens = sum(sum(e.env_mask) for e in episodes)
        results[name] = len(episodes) / seconds
        print(f"{name:28s} {len(episodes) / seconds:7.2f} episodes/s  {tokens / seconds:8.1f} generated tokens/s")
    reference, batched = results.values()
    print(f"ratio batched / reference: {batched / reference:.2f}x")


if __name__ == "__main__":
    main()
