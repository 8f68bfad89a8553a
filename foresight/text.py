"""Answer normalization and answer-level scores (exact match, token F1).

Normalization follows the SQuAD / Search-R1 convention: lowercase, drop punctuation,
drop the articles a/an/the, collapse whitespace.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation)
_WORD = re.compile(r"[^\W_]+")

# Small English stopword list for keyword extraction and grounding; a word on it never
# counts as a predicted or grounded keyword (generic words would game R_ground).
STOPWORDS = frozenset(
    """a an the of in on at to for from by with and or but is are was were be been being
    which who whom whose what when where why how that this these those it its as into than
    then there their they them he she his her him i we you our your not no do does did
    has have had about after before over under between during also other same such one two
    many much more most some any each all both either neither only own so very can will just
    should now first second name named called
    doc title information result""".split()
)


def normalize_answer(text: str) -> str:
    """Normalize an answer string for comparison (SQuAD / Search-R1 convention).

    Args:
        text: raw answer string.

    Returns:
        Lowercased string without punctuation, articles and redundant whitespace.
    """
    text = text.lower().translate(_PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str | None, gold_answers: Iterable[str]) -> float:
    """Normalized exact match: 1.0 if the prediction equals any gold answer, else 0.0.

    A missing prediction (``None``) scores 0.0.
    """
    if prediction is None:
        return 0.0
    pred = normalize_answer(prediction)
    return float(any(pred == normalize_answer(g) for g in gold_answers))


def token_f1(prediction: str | None, gold_answers: Iterable[str]) -> float:
    """Best token-level F1 of the prediction against the gold answers (SQuAD definition)."""
    if prediction is None:
        return 0.0
    pred_tokens = normalize_answer(prediction).split()
    best = 0.0
    for gold in gold_answers:
        gold_tokens = normalize_answer(gold).split()
        common = Counter(pred_tokens) & Counter(gold_tokens)
        overlap = sum(common.values())
        if overlap == 0:
            continue
        precision = overlap / len(pred_tokens)
        recall = overlap / len(gold_tokens)
        best = max(best, 2 * precision * recall / (precision + recall))
    return best


def content_words(text: str) -> list[str]:
    """Lowercased alphanumeric words of ``text`` that are not stopwords, in order."""
    return [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 1]


def _word_tokens(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in ("a", "an", "the")]


def contains_answer(text: str, gold_answers: Iterable[str]) -> bool:
    """True when the words of any gold answer occur contiguously among the words of ``text``.

    Words are split at punctuation (so "4*8" does not contain "48", and "1.5" matches
    "1.5"); case and articles are ignored. Used by the leak check of world-model blocks
    and by the hindsight gap analysis.
    """
    words = _word_tokens(text)
    for gold in gold_answers:
        needle = _word_tokens(gold)
        n = len(needle)
        if n and any(words[i : i + n] == needle for i in range(len(words) - n + 1)):
            return True
    return False
