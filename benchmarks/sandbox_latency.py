"""Benchmark: per-call latency of the python sandbox, worker mode against process mode.

The reference is ``mode="process"`` (a fresh sandboxed child process per call), measured in the
same run on the same snippets; the printed ratio is reference / worker (times faster). The
snippets are the ``print(a * b)``-style arithmetic that trajectory ingestion sends (~8,000
calls). The worker's start is paid by its first call (and again every
``max_calls_per_worker`` calls): it is in the mean and shown separately as "first call".

    .venv/bin/python benchmarks/sandbox_latency.py [--calls 300] [--max-calls-per-worker 500]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from foresight.envs.sandbox import PythonSandbox, SandboxConfig

_TEMPLATES = ["print({a} * {b})", "print({a} + {b} * 3)", "x = {a} / {b}\nprint(round(x, 4))", "print(({a} - {b}) ** 2)"]


def _snippets(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(_TEMPLATES).format(a=rng.randint(2, 999), b=rng.randint(2, 99)) for _ in range(count)]


def _measure(mode: str, snippets: list[str], max_calls: int) -> tuple[list[float], list[str]]:
    seconds, observations = [], []
    with PythonSandbox(SandboxConfig(mode=mode, max_calls_per_worker=max_calls)) as sandbox:
        for code in snippets:
            start = time.perf_counter()
            observations.append(sandbox.step("python", code))
            seconds.append(time.perf_counter() - start)
    return seconds, observations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=300, help="snippets per mode")
    parser.add_argument("--max-calls-per-worker", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    snippets = _snippets(args.calls, args.seed)
    medians, means, outputs = {}, {}, {}
    for mode in ("process", "worker"):
        seconds, outputs[mode] = _measure(mode, snippets, args.max_calls_per_worker)
        medians[mode], means[mode] = statistics.median(seconds), statistics.fmean(seconds)
        p90 = statistics.quantiles(seconds, n=10)[-1]
        name = f"{mode} ({'reference' if mode == 'process' else 'max ' + str(args.max_calls_per_worker) + ' calls'})"
        print(f"{name:26s} median {medians[mode] * 1e3:7.2f} ms  p90 {p90 * 1e3:7.2f} ms  mean {means[mode] * 1e3:7.2f} ms"
              f"  first call {seconds[0] * 1e3:6.1f} ms  8,000 calls ~{means[mode] * 8000:6.1f} s")
    assert outputs["process"] == outputs["worker"], "the modes disagree on some observation"
    print(f"ratio process / worker: median {medians['process'] / medians['worker']:.1f}x, "
          f"mean {means['process'] / means['worker']:.1f}x ({args.calls} calls each, same observations)")


if __name__ == "__main__":
    main()
