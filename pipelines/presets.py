"""Run-config presets. ``default`` is the embedded default (the demo); ``tiny`` is for tests;
``grid`` shortens the recipe grid's stages so that a recipe x seed costs ~8 CPU minutes."""

from __future__ import annotations

_TINY_ROLLOUT = {"max_turns": 2, "max_new_tokens": 32, "max_context": 768}

PRESETS: dict[str, dict] = {
    "default": {},
    "tiny": {
        "search_world": {"num_people": 24, "num_organizations": 6, "num_cities": 6, "num_countries": 3,
                         "train_questions": {"1": 6, "2": 6}, "eval_questions": {"1": 2, "2": 2}},
        "arithmetic_world": {"num_names": 8, "train_problems": {"1": 6, "2": 6}, "eval_problems": {"1": 2, "2": 2}},
        "trajectories": {"sources": {"hotpotqa": 6, "musique": 6, "gsm8k": 6, "search_world": 6, "arithmetic_world": 6}},
        "wm_amt_checkpoint": {"max_steps": 3, "per_device_batch_size": 2, "max_length": 256, "logging_steps": 1,
                              "model": {"vocab_size": 600, "hidden_size": 32, "num_layers": 1, "num_heads": 2,
                                        "num_kv_heads": 1, "intermediate_size": 64}},
        "fe_sft_checkpoint": {"max_steps": 2, "per_device_batch_size": 2, "max_length": 256, "logging_steps": 1},
        "fc_rl_checkpoint": {"max_steps": 1, "per_device_batch_size": 2, "num_generations": 2, "num_tasks": 4,
                             "logging_steps": 1, "rollout": _TINY_ROLLOUT,
                             "sources": {"search_world": 2, "arithmetic_world": 2}},
        "benchmark_scores": {"num_questions": 3, "rollout": _TINY_ROLLOUT},
        "fe_sft_scores": {"num_questions": 3, "rollout": _TINY_ROLLOUT},
    },
}
# The recipe grid's stages take the main pipeline's stage settings.
PRESETS["tiny"].update({
    "grid_midtrain_checkpoint": PRESETS["tiny"]["wm_amt_checkpoint"],
    "grid_sft_checkpoint": PRESETS["tiny"]["fe_sft_checkpoint"],
    "grid_rl_checkpoint": PRESETS["tiny"]["fc_rl_checkpoint"],
    "grid_scores": {"num_questions": 3, "rollout": _TINY_ROLLOUT, "benchmarks": ["search_world", "gsm8k"]},
})


def run_config(preset: str) -> dict:
    """Dagster run config of a preset.

    Raises:
        KeyError: unknown preset.
    """
    if preset not in PRESETS:
        raise KeyError(f"unknown preset {preset!r}; known: {sorted(PRESETS)}")
    return {"ops": {asset: {"config": cfg} for asset, cfg in PRESETS[preset].items()}}

# The recipe grid on 2 CPU cores: WM-AMT/AMT 400 steps (0.8M tokens, ~2.5 min), SFT 150 steps,
# FC-RL/GRPO the default 16 steps, every benchmark with 10 questions per real set and every
# generated-world question. The main pipeline's defaults (1,400 / 300 / 16 steps) apply otherwise.
PRESETS["grid"] = {
    "grid_midtrain_checkpoint": {"max_steps": 400},
    "grid_sft_checkpoint": {"max_steps": 150},
    "grid_scores": {"num_questions": 10},
}
