"""HTTP retrieval service compatible with Search-R1's ``search_r1/search/retrieval_server.py``.

Protocol (the same JSON as Search-R1, so either side can be swapped for the other):

- ``POST /retrieve`` with ``{"queries": [str, ...], "topk": int | null, "return_scores": bool}``
  (``topk`` missing, null or 0 falls back to the server's default);
- response ``{"result": [per query]}``, where a query's entry is a list of
  ``{"document": {"id", "contents"}, "score": float}`` when ``return_scores`` is true and a
  list of bare documents ``{"id", "contents"}`` otherwise; ``contents`` is the FlashRAG /
  wiki-18 string ``"Title"\\ntext`` (Search-R1's dense server returns the corpus rows).

:func:`create_app` serves any :class:`foresight.envs.retrieval.Retriever`;
:class:`RemoteRetriever` is the client, usable wherever a local retriever is (it asks for
scores, as Search-R1's rollout code does). ``GET /health`` reports the corpus size.
Start a server with ``foresight serve-retriever`` (see docs/retrieval.md).
"""

from __future__ import annotations

import json
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from foresight.envs.retrieval import (
    Passage,
    Retriever,
    RetrieverConfig,
    build_retriever,
    load_corpora,
    parse_contents,
    passage_contents,
)


class QueryRequest(BaseModel):
    """Body of ``POST /retrieve`` (Search-R1's ``QueryRequest``)."""

    queries: list[str]
    topk: int | None = Field(None, ge=0)
    return_scores: bool = False


def document(passage: Passage) -> dict:
    """A passage as a Search-R1 / FlashRAG corpus row ``{"id", "contents"}``."""
    return {"id": passage.id, "contents": passage_contents(passage)}


def create_app(retriever: Retriever, default_topk: int = 3):
    """A FastAPI app serving ``retriever`` with Search-R1's ``/retrieve`` protocol.

    Args:
        retriever: any retriever of :mod:`foresight.envs.retrieval`.
        default_topk: passages per query when a request gives no ``topk`` (Search-R1: 3).

    Returns:
        A ``fastapi.FastAPI`` application (run it with uvicorn, or test it with TestClient).
    """
    from fastapi import FastAPI

    app = FastAPI(title="foresight retriever (Search-R1 protocol)")
    # FastAPI runs sync endpoints on a thread pool; encoders and indexes are not
    # guaranteed thread-safe, so requests are served one at a time (each is a batch).
    lock = threading.Lock()
    corpus_size = len(getattr(retriever, "passages", []))

    @app.post("/retrieve")
    def retrieve(request: QueryRequest) -> dict:
        topk = request.topk or default_topk
        with lock:
            passages, scores = retriever.batch_retrieve_with_scores(request.queries, topk)
        if request.return_scores:
            result = [[{"document": document(p), "score": s} for p, s in zip(ps, ss)] for ps, ss in zip(passages, scores)]
        else:
            result = [[document(p) for p in ps] for ps in passages]
        return {"result": result}

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "retriever": type(retriever).__name__, "passages": corpus_size}

    return app


def retrieve_url(url: str) -> str:
    """The ``/retrieve`` endpoint of ``url``: a bare ``http://host:port`` gets ``/retrieve`` appended."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"retrieval server url must be http(s)://host:port[/retrieve], got {url!r}")
    if parts.path in ("", "/"):
        return urllib.parse.urlunsplit(parts._replace(path="/retrieve"))
    return url


class RemoteRetriever(Retriever):
    """Client of a Search-R1-compatible retrieval server (this module's or Search-R1's own).

    Args:
        url: the server's ``/retrieve`` URL (``http://127.0.0.1:8000/retrieve``, as Search-R1's
            ``retriever.url``); a bare ``http://host:port`` works too.
        timeout: seconds per HTTP request.

    Raises:
        ValueError: a url that is not http(s).
    """

    def __init__(self, url: str, timeout: float = 30.0):
        self.url = retrieve_url(url)
        self.timeout = timeout

    def _post(self, payload: dict) -> dict:
        body = json.dumps(payload).encode()
        request = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as err:
            detail = err.read().decode("utf-8", "replace")[:500]
            raise RuntimeError(f"retrieval server {self.url} answered HTTP {err.code}: {detail}") from err
        except urllib.error.URLError as err:
            raise ConnectionError(f"retrieval server {self.url} is unreachable ({err.reason}); "
                                  "start one with `foresight serve-retriever` or fix the url") from err
        except TimeoutError as err:
            raise ConnectionError(f"retrieval server {self.url} did not answer within {self.timeout} s") from err
        except OSError as err:  # e.g. the connection was reset mid-response
            raise ConnectionError(f"retrieval server {self.url}: {err}") from err
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ValueError(f"retrieval server {self.url} sent a response that is not JSON: {err}") from err

    def batch_retrieve_with_scores(self, queries: Sequence[str], k: int = 3) -> tuple[list[list[Passage]], list[list[float]]]:
        """Top-``k`` passages and scores per query from the server (one HTTP request).

        Raises:
            ConnectionError: the server cannot be reached (the message names the URL).
            RuntimeError: it answered with an HTTP error. ValueError: a malformed response.
        """
        if k <= 0 or not queries:
            return [[] for _ in queries], [[] for _ in queries]
        data = self._post({"queries": list(queries), "topk": k, "return_scores": True})
        result = data.get("result") if isinstance(data, dict) else None
        if not isinstance(result, list) or len(result) != len(queries):
            raise ValueError(f"retrieval server {self.url}: expected {{'result': [{len(queries)} lists]}}, got {str(data)[:200]}")
        passages: list[list[Passage]] = []
        scores: list[list[float]] = []
        for hits in result:
            try:
                row = [(hit["document"], float(hit["score"])) for hit in hits]
                passages.append([Passage(str(doc.get("id", "")), *parse_contents(doc["contents"])) for doc, _ in row])
            except (KeyError, TypeError, ValueError, AttributeError) as err:
                raise ValueError(f"retrieval server {self.url}: malformed hit in {str(hits)[:200]}: {err!r}") from err
            scores.append([s for _, s in row])
        return passages, scores


def serve(corpus_paths: Sequence[str | Path], cfg: RetrieverConfig, host: str = "127.0.0.1", port: int = 8000,
          default_topk: int = 3) -> None:
    """Load corpora, build (or load from cache) the retriever and serve it with uvicorn.

    Bad corpus records are quarantined and reported on stderr, not fatal.

    Raises:
        ValueError: a remote config (a server must hold its corpus), or no passages loaded.
    """
    import uvicorn

    if cfg.kind == "remote":
        raise ValueError("serve-retriever serves a local retriever: use kind bm25 or dense")
    rejects = []
    passages = load_corpora(corpus_paths, rejects)
    for bad in rejects[:5]:
        print(f"quarantined: {bad.message()}", file=sys.stderr)
    if rejects:
        print(f"{len(rejects)} corpus record(s) quarantined in total", file=sys.stderr)
    if not passages:
        raise ValueError(f"no passages in {list(map(str, corpus_paths))}")
    retriever = build_retriever(cfg, passages)
    print(f"serving {len(passages)} passages ({cfg.kind}, index {cfg.index if cfg.kind == 'dense' else 'bm25s'}) "
          f"at http://{host}:{port}/retrieve", file=sys.stderr)
    uvicorn.run(create_app(retriever, default_topk), host=host, port=port)
