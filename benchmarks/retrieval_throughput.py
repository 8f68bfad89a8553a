"""Benchmark: retrieval throughput on the shipped HotpotQA corpus (994 passages).

(a) Search-environment episodes per second: the oracle behavior policy runs every HotpotQA
    training question through ``SearchEnvironment`` on each retriever. Reference: BM25
    (bm25s) in the same run; ratios are retriever / reference. "title hit" is the share of
    oracle searches (a supporting title) whose observation contains that title.
(b) bm25s against rank-bm25 (``BM25Okapi``) on the same corpus and queries (the oracle
    queries and the questions), both fed the same tokens (bm25s' tokenizer: lowercase
    words, English stopwords removed): index build seconds and queries per second, bm25s
    one query at a time (as the environment calls it) and in one batch. Reference: rank-bm25.
(c) Dense queries per second one at a time against one ``batch_retrieve`` call (what the
    HTTP server does per request). Reference: one at a time.

Dense indexes come from the cache ($FORESIGHT_HOME/indexes, or --cache-dir); the first run
encodes the corpus, later runs load it (the "ready" column says which).

    .venv/bin/python benchmarks/retrieval_throughput.py [--repeat 3] [--threads N] [--cache-dir DIR]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from foresight.envs.retrieval import BM25Retriever, DenseRetriever, load_corpora
from foresight.envs.search import SearchEnvironment
from foresight.policies import BehaviorPolicy, run_policy
from foresight.registry import CORPORA, training_tasks


def _episodes(name: str, retriever, tasks, ready_s: float, note: str, reference: float | None) -> float:
    env = SearchEnvironment(retriever)
    oracle = BehaviorPolicy("oracle", 0.0)
    start = time.perf_counter()
    trajectories = [run_policy(task, oracle, env, seed=0) for task in tasks]
    rate = len(trajectories) / (time.perf_counter() - start)
    searches = [s for t in trajectories for s in t["steps"] if s["action_type"] == "search"]
    hit = sum(f"(Title: {s['action']})" in s["observation"] for s in searches) / len(searches)
    ratio = f"{rate / reference:8.3g}x" if reference else "      ref"
    print(f"  {name:22s} {rate:8.1f} episodes/s  {ratio}  title hit {hit:5.1%}  ready {ready_s:6.1f} s ({note})")
    return rate


def _rank_bm25_top_k(index, query_tokens: list[list[str]], k: int) -> list[list[int]]:
    tops = []
    for tokens in query_tokens:
        scores = index.get_scores(tokens)
        tops.append(np.argsort(-scores, kind="stable")[:k].tolist())
    return tops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="passes over the query set in (b) and (c)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads for the encoder")
    parser.add_argument("--cache-dir", default=None, help="index cache root (default $FORESIGHT_HOME/indexes)")
    parser.add_argument("--k", type=int, default=3)
    args = parser.parse_args()

    import bm25s
    import torch
    from rank_bm25 import BM25Okapi

    from foresight.envs.retrieval import default_cache_dir

    if args.threads:
        torch.set_num_threads(args.threads)
    cache_dir = args.cache_dir or default_cache_dir()
    passages = load_corpora(CORPORA["hotpotqa"])
    tasks = training_tasks("hotpotqa")
    queries = [q for t in tasks for q in t.oracle["queries"]] + [t.question for t in tasks]
    print(f"corpus: {len(passages)} passages; {len(tasks)} oracle episodes; {len(queries)} queries; "
          f"torch threads {torch.get_num_threads()}; k={args.k}")

    print("\n(a) search-environment episodes/s (oracle policy), reference: BM25")
    start = time.perf_counter()
    bm25 = BM25Retriever(passages)
    reference = _episodes("bm25 (bm25s)", bm25, tasks, time.perf_counter() - start, "built", None)
    dense = {}
    for name, kwargs in (("dense exact", {"index": "exact"}), ("dense faiss flat", {"index": "faiss"})):
        start = time.perf_counter()
        dense[name] = DenseRetriever(passages, cache_dir=cache_dir, **kwargs)
        note = "embeddings from cache" if dense[name].embeddings_cache_hit else "corpus encoded"
        _episodes(name, dense[name], tasks, time.perf_counter() - start, note, reference)

    print("\n(b) bm25s vs rank-bm25 (BM25Okapi), same tokens, reference: rank-bm25")
    corpus_tokens = bm25s.tokenize([f"{p.title} {p.text}" for p in passages], stopwords="en",
                                   show_progress=False, return_ids=False)
    query_tokens = [t for t in bm25s.tokenize(queries, stopwords="en", show_progress=False, return_ids=False) if t]
    runs = query_tokens * args.repeat

    start = time.perf_counter()
    okapi = BM25Okapi(corpus_tokens)
    okapi_build = time.perf_counter() - start
    start = time.perf_counter()
    okapi_top = _rank_bm25_top_k(okapi, runs, args.k)
    okapi_qps = len(runs) / (time.perf_counter() - start)

    start = time.perf_counter()
    fast = bm25s.BM25()
    fast.index(corpus_tokens, show_progress=False)
    fast_build = time.perf_counter() - start
    start = time.perf_counter()
    single = [fast.retrieve([q], k=args.k, show_progress=False)[0][0].tolist() for q in runs]
    single_qps = len(runs) / (time.perf_counter() - start)
    start = time.perf_counter()
    fast.retrieve(runs, k=args.k, show_progress=False)
    batch_qps = len(runs) / (time.perf_counter() - start)

    agree = np.mean([a[0] == b[0] for a, b in zip(okapi_top, single)])
    print(f"  {'rank-bm25 BM25Okapi':22s} build {okapi_build:6.3f} s  {okapi_qps:9.1f} queries/s     ref")
    print(f"  {'bm25s one at a time':22s} build {fast_build:6.3f} s  {single_qps:9.1f} queries/s  {single_qps / okapi_qps:6.1f}x")
    print(f"  {'bm25s batch':22s} {'':14s}  {batch_qps:9.1f} queries/s  {batch_qps / okapi_qps:6.1f}x")
    print(f"  build time ratio rank-bm25 / bm25s: {okapi_build / fast_build:.2f}x; same top-1 on {agree:.1%} of "
          f"{len(query_tokens)} queries (bm25s scores like Lucene, BM25Okapi floors negative idf)")

    print("\n(c) dense queries/s, reference: one query at a time")
    for name, retriever in dense.items():
        sample = queries * args.repeat
        start = time.perf_counter()
        for q in sample:
            retriever.retrieve(q, args.k)
        one = len(sample) / (time.perf_counter() - start)
        start = time.perf_counter()
        retriever.batch_retrieve(sample, args.k)
        batch = len(sample) / (time.perf_counter() - start)
        print(f"  {name:22s} one at a time {one:8.1f} queries/s   batch {batch:8.1f} queries/s   {batch / one:5.1f}x")


if __name__ == "__main__":
    main()
