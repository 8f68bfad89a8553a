"""Retrieval: corpus readers, BM25 and dense retrievers, the index cache, the Search-R1 HTTP protocol."""

import json
import threading
import time

import pytest

from foresight.envs.retrieval import (
    BM25Retriever,
    CorpusError,
    DenseRetriever,
    Passage,
    RetrieverConfig,
    build_retriever,
    corpus_hash,
    format_passages,
    load_corpus,
    parse_contents,
    passage_contents,
    write_flashrag_corpus,
)
from foresight.envs.retrieval_server import RemoteRetriever, create_app
from foresight.envs.search import SearchEnvironment
from foresight.paths import DATA_DIR

PASSAGES = [
    Passage("1", "Acme", "Acme Corporation was founded by Jane Roe in Springfield."),
    Passage("2", "Globex", "Globex is a multinational based in Cypress Creek."),
    Passage("3", "Initech", "Initech makes software and TPS reports."),
    Passage("4", "Seine", "The Seine is a river that flows through Paris before reaching the English Channel."),
    Passage("5", "Mount Everest", "Mount Everest is Earth's highest mountain above sea level, in the Himalayas."),
    Passage("6", "Photosynthesis", "Photosynthesis is the process by which green plants turn sunlight into chemical energy."),
    Passage("7", "Great Barrier Reef", "The Great Barrier Reef is the largest coral reef system, off Queensland, Australia."),
    Passage("8", "Ludwig van Beethoven", "Beethoven was a German composer and pianist of the Classical and Romantic eras."),
]
# Paraphrases with little word overlap: a dense encoder must find them by meaning.
DENSE_QUERIES = {
    "Which river runs through the French capital?": "4",
    "tallest peak in the world": "5",
    "how do plants make food from light": "6",
    "famous composer of symphonies from Germany": "8",
    "coral off the Australian coast": "7",
}


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("indexes")


@pytest.fixture(scope="module")
def dense(cache_dir):
    return DenseRetriever(PASSAGES, index="exact", cache_dir=cache_dir)


def test_passages_render_the_search_r1_way_and_round_trip_through_flashrag(tmp_path):
    assert format_passages(PASSAGES[:2], max_words=3).splitlines() == [
        "Doc 1 (Title: Acme) Acme Corporation was", "Doc 2 (Title: Globex) Globex is a"]
    odd = Passage("x", '"Weird Al" Yankovic', "An American musician.\nSecond line.")
    assert passage_contents(odd) == '""Weird Al" Yankovic"\nAn American musician.\nSecond line.'
    assert parse_contents(passage_contents(odd)) == (odd.title, odd.text)
    path = write_flashrag_corpus([*PASSAGES, odd], tmp_path / "sub" / "corpus.jsonl")
    first = json.loads(path.read_text().splitlines()[0])
    assert first == {"id": "1", "contents": '"Acme"\nAcme Corporation was founded by Jane Roe in Springfield.'}
    assert load_corpus(path) == [*PASSAGES, odd]
    assert [p.name for p in path.parent.iterdir()] == ["corpus.jsonl"]  # no temporary file left behind


def test_bm25_finds_the_known_passage_and_batches_like_single_queries():
    bm25 = BM25Retriever(PASSAGES)
    passages, scores = bm25.retrieve_with_scores("who founded Acme", 3)
    assert passages[0].id == "1" and scores == sorted(scores, reverse=True) and scores[0] > 0
    # Like Lucene (Search-R1's pyserini BM25), only passages sharing a term come back.
    assert [p.id for p in passages] == ["1"]
    queries = ["TPS reports software", "the of and", "river Paris", "Acme Globex"]
    batch, batch_scores = bm25.batch_retrieve_with_scores(queries, 2)
    assert batch == [bm25.retrieve(q, 2) for q in queries]
    assert batch[0][0].id == "3" and batch[1] == [] and batch[2][0].id == "4"
    assert {p.id for p in batch[3]} == {"1", "2"} and len(batch_scores[3]) == 2
    assert len(bm25.retrieve("Acme Globex Initech Seine", 50)) == 4  # k beyond the corpus is clamped
    assert SearchEnvironment(bm25, top_k=1).step("search", "the of") == "No results."


def test_dense_retrievers_find_passages_by_meaning_and_exact_matches_faiss(dense, cache_dir):
    flat = DenseRetriever(PASSAGES, index="faiss", cache_dir=cache_dir)
    hnsw = DenseRetriever(PASSAGES, index="faiss", faiss_hnsw_m=8, cache_dir=cache_dir)
    assert dense.embeddings.shape == (len(PASSAGES), 384) and dense.embeddings.dtype.name == "float32"
    queries = list(DENSE_QUERIES)
    exact, exact_scores = dense.batch_retrieve_with_scores(queries, 3)
    assert [r[0].id for r in exact] == list(DENSE_QUERIES.values())
    for other in (flat, hnsw):
        found, scores = other.batch_retrieve_with_scores(queries, 3)
        assert [r[0].id for r in found] == [r[0].id for r in exact]
        assert scores[0] == pytest.approx(exact_scores[0], abs=1e-4)
    assert all(s == sorted(s, reverse=True) and -1.0 <= s[-1] <= s[0] <= 1.0 for s in exact_scores)
    assert dense.retrieve(queries[0], 1) == exact[0][:1]
    assert len(dense.retrieve("anything", 100)) == len(PASSAGES)


def test_index_cache_is_reused_and_keyed_by_corpus_content(dense, cache_dir, monkeypatch):
    embeddings = dense.cache_path / "embeddings.npy"
    before = embeddings.stat().st_mtime_ns

    def no_encoding(self):
        raise AssertionError("passages were encoded again despite a cached index")

    monkeypatch.setattr(DenseRetriever, "_encode_passages", no_encoding)
    again = DenseRetriever(PASSAGES, index="exact", cache_dir=cache_dir)
    assert again.cache_hit and again.cache_path == dense.cache_path
    assert embeddings.stat().st_mtime_ns == before
    assert json.loads((dense.cache_path / "manifest.json").read_text())["settings"]["corpus"] == corpus_hash(PASSAGES)

    changed = [*PASSAGES[:-1], Passage("8", "Ludwig van Beethoven", "A composer.")]
    assert corpus_hash(changed) != corpus_hash(PASSAGES)
    with pytest.raises(AssertionError, match="encoded again"):  # a changed corpus is a new entry: it must encode
        DenseRetriever(changed, index="exact", cache_dir=cache_dir)
    monkeypatch.undo()

    first = BM25Retriever(PASSAGES, cache_dir=cache_dir)
    monkeypatch.setattr(BM25Retriever, "_build", no_encoding)
    second = BM25Retriever(PASSAGES, cache_dir=cache_dir)
    assert not first.cache_hit and second.cache_hit and second.cache_path == first.cache_path
    assert second.retrieve("who founded Acme", 1) == first.retrieve("who founded Acme", 1)
    assert not list(cache_dir.glob(".*"))  # no temporary build directories left


KILT_SAMPLE = DATA_DIR / "corpus" / "filtered_kilt_sample_100.jsonl"  # R1-Searcher's 99 KILT pages (shipped)
KILT_PAGE = {
    "wikipedia_title": "Albedo",
    "text": [
        "Albedo\n",
        "Albedo is the measure of the diffuse reflection of solar radiation. " + "word " * 120 + "\n",
        "Section::::Terrestrial albedo.\n",
        "BULLET::::- Fresh snow reflects about ninety percent.\n",
        "Section::::References.\n",
        "BULLET::::- Some journal citation that is not prose.\n",
    ],
}


def test_kilt_pages_become_100_word_passages_and_bad_records_are_quarantined(tmp_path):
    path = tmp_path / "kilt.jsonl"
    lines = [json.dumps(KILT_PAGE), json.dumps({"text": ["no title"]}), "{broken", json.dumps({"wikipedia_title": "Empty", "text": ["Empty\n"]})]
    path.write_text("\n".join(lines) + "\n")
    rejects = []
    passages = load_corpus(path, rejects)
    assert [p.id for p in passages] == ["kilt:0:0", "kilt:0:1"] and {p.title for p in passages} == {"Albedo"}
    assert len(passages[0].text.split()) == 100 and passages[0].text.startswith("Albedo is the measure")
    text = " ".join(p.text for p in passages)
    assert "Fresh snow reflects" in text and "::::" not in text and "journal citation" not in text
    assert not text.startswith("Albedo Albedo")  # the title paragraph is not text
    assert [(r.file, r.record, r.field) for r in rejects] == [
        (str(path), 1, "wikipedia_title"), (str(path), 2, "<json>"), (str(path), 3, "text")]
    assert "no title" in rejects[0].raw
    with pytest.raises(CorpusError, match=r"kilt\.jsonl, record 1, field 'wikipedia_title'"):
        load_corpus(path)


def test_the_kilt_sample_loads_without_rejects():
    rejects = []
    passages = load_corpus(KILT_SAMPLE, rejects)
    assert rejects == [] and len({p.title for p in passages}) == 99
    assert all(0 < len(p.text.split()) <= 100 and "::::" not in p.text for p in passages)


def test_list_dict_and_flashrag_readers_quarantine_bad_records(tmp_path):
    listed = tmp_path / "musique_corpus.json"
    listed.write_text(json.dumps([{"title": "A", "text": "a text"}, {"title": "B"}, "not an object", {"title": "C", "text": "c"}]))
    rejects = []
    assert [(p.id, p.title) for p in load_corpus(listed, rejects)] == [("musique_corpus:0", "A"), ("musique_corpus:3", "C")]
    assert [(r.record, r.field) for r in rejects] == [(1, "text"), (2, "<record>")]
    with pytest.raises(ValueError, match=r"musique_corpus\.json, record 1, field 'text'"):
        load_corpus(listed)

    hotpot = tmp_path / "hotpot_corpus.json"
    hotpot.write_text(json.dumps({"Good": ["One. ", "Two."], "Bad": 5}))
    rejects = []
    assert load_corpus(hotpot, rejects) == [Passage("hotpot_corpus:0", "Good", "One. Two.")]
    assert [(r.record, r.field) for r in rejects] == [(1, "Bad")]

    flashrag = tmp_path / "user.jsonl"
    flashrag.write_text('{"id": "a", "contents": "\\"T\\"\\nbody"}\n\n{"id": "b"}\n{"id": "c", "contents": 3}\n')
    rejects = []
    assert load_corpus(flashrag, rejects) == [Passage("a", "T", "body")]
    assert [(r.record, r.field) for r in rejects] == [(2, "contents"), (3, "contents")]


def test_search_r1_protocol_through_testclient_and_a_real_server(dense):
    import uvicorn
    from fastapi.testclient import TestClient

    bm25 = BM25Retriever(PASSAGES)
    client = TestClient(create_app(bm25))
    body = client.post("/retrieve", json={"queries": ["who founded Acme", "TPS reports"], "topk": 2, "return_scores": True}).json()
    assert list(body) == ["result"] and len(body["result"]) == 2
    hit = body["result"][0][0]
    assert set(hit) == {"document", "score"} and isinstance(hit["score"], float)
    assert hit["document"] == {"id": "1", "contents": '"Acme"\nAcme Corporation was founded by Jane Roe in Springfield.'}
    bare = client.post("/retrieve", json={"queries": ["Seine river"]}).json()["result"]
    assert bare[0][0] == {"id": "4", "contents": passage_contents(PASSAGES[3])}  # no scores: bare documents
    assert client.post("/retrieve", json={"queries": "not a list"}).status_code == 422

    dense_client = TestClient(create_app(dense))
    query = next(iter(DENSE_QUERIES))
    served = dense_client.post("/retrieve", json={"queries": [query], "topk": 3, "return_scores": True}).json()["result"][0]
    local, scores = dense.retrieve_with_scores(query, 3)
    assert [h["document"]["id"] for h in served] == [p.id for p in local]
    assert [h["score"] for h in served] == pytest.approx(scores)

    server = uvicorn.Server(uvicorn.Config(create_app(bm25), host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.time() + 20
        while not server.started and time.time() < deadline:
            time.sleep(0.05)
        assert server.started, "uvicorn did not start"
        port = server.servers[0].sockets[0].getsockname()[1]
        remote = RemoteRetriever(f"http://127.0.0.1:{port}", timeout=10)
        queries = ["who founded Acme", "Paris river", "the of", "Globex Cypress"]
        (got, got_scores), (want, want_scores) = remote.batch_retrieve_with_scores(queries, 3), bm25.batch_retrieve_with_scores(queries, 3)
        assert got == want and got[2] == [] and [len(s) for s in got_scores] == [len(s) for s in want_scores]
        assert sum(got_scores, []) == pytest.approx(sum(want_scores, []))
        env = SearchEnvironment(build_retriever(RetrieverConfig(kind="remote", url=f"http://127.0.0.1:{port}/retrieve"), None))
        assert env.step("search", "who founded Acme").startswith("Doc 1 (Title: Acme) Acme Corporation")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    with pytest.raises(ConnectionError, match=f"127.0.0.1:{port}/retrieve"):
        remote.retrieve("who founded Acme")


def test_config_factory_and_dagster_resource_mirror_each_other(tmp_path):
    from pydantic import ValidationError

    from resources.retrieval import RetrieverResource

    assert isinstance(build_retriever(RetrieverConfig(), PASSAGES, cache_dir=tmp_path), BM25Retriever)
    assert list(tmp_path.iterdir())  # cached
    assert isinstance(build_retriever(RetrieverConfig(cache=False), PASSAGES, cache_dir=tmp_path / "off"), BM25Retriever)
    assert not (tmp_path / "off").exists()
    with pytest.raises(ValidationError, match="url"):
        RetrieverConfig(kind="remote")
    with pytest.raises(ValueError, match="non-empty corpus"):
        build_retriever(RetrieverConfig(), [])
    defaults = RetrieverConfig()
    assert defaults.trust_remote_code is False and defaults.query_prefix == "" and defaults.passage_prefix == ""
    assert set(RetrieverResource.model_fields) == set(RetrieverConfig.model_fields)
    resource = RetrieverResource(kind="dense", index="faiss", faiss_hnsw_m=16)
    assert resource.config() == RetrieverConfig(kind="dense", index="faiss", faiss_hnsw_m=16)
    assert RetrieverResource().config() == defaults
    assert isinstance(RetrieverResource(cache=False).retriever(PASSAGES), BM25Retriever)
