"""Passage corpora and the BM25 retriever (bm25s) behind the search environment.

Corpus formats read here:
- FlashRAG / wiki-18 lines ``{"id", "contents": "\\"Title\\"\\ntext"}`` (Search-R1's corpus format);
- HotpotQA (HippoRAG) ``{title: [sentence, ...]}``;
- MuSiQue / 2Wiki (HippoRAG) ``[{"title", "text"}]``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import bm25s


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


def load_corpus(path: str | Path) -> list[Passage]:
    """Load a corpus file in any of the formats of this module.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a record lacks a title/text (message names file and record).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"corpus not found: {path}")
    if path.suffix == ".jsonl":
        passages = []
        with path.open(encoding="utf-8") as fh:
            for i, line in enumerate(fh):
                if not line.strip():
                    continue
                rec = json.loads(line)
                if "contents" not in rec:
                    raise ValueError(f"{path}, record {i}, field 'contents': missing")
                title, _, text = rec["contents"].partition("\n")
                passages.append(Passage(str(rec.get("id", i)), title.strip().strip('"'), text.strip()))
        return passages
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict):
        return [
            Passage(f"{path.stem}:{i}", title, "".join(sents).strip())
            for i, (title, sents) in enumerate(data.items())
        ]
    passages = []
    for i, rec in enumerate(data):
        if "title" not in rec or "text" not in rec:
            raise ValueError(f"{path}, record {i}, field 'title'/'text': missing")
        passages.append(Passage(f"{path.stem}:{i}", rec["title"], rec["text"]))
    return passages


class BM25Retriever:
    """Sparse BM25 retrieval over a passage list, backed by ``bm25s``.

    Title and text are indexed together, as in wiki-18 ``contents``.
    """

    def __init__(self, passages: list[Passage]):
        if not passages:
            raise ValueError("BM25Retriever needs a non-empty corpus")
        self.passages = passages
        self._index = bm25s.BM25()
        tokens = bm25s.tokenize([f"{p.title} {p.text}" for p in passages], stopwords="en", show_progress=False)
        self._index.index(tokens, show_progress=False)

    def retrieve(self, query: str, k: int = 3) -> list[Passage]:
        """Return the top-``k`` passages for ``query`` (fewer if the corpus is smaller)."""
        k = min(k, len(self.passages))
        tokens = bm25s.tokenize([query], stopwords="en", show_progress=False)
        if not tokens.ids[0]:  # a query of only stopwords matches nothing
            return self.passages[:0]
        ids, _scores = self._index.retrieve(tokens, k=k, show_progress=False)
        return [self.passages[int(i)] for i in ids[0]]
