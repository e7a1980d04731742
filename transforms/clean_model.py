"""A learned paragraph filter behind the cleaning rules: drops the page chrome whose wording no rule knows.

The rules of transforms/clean.py reach full precision on the items whose errors were read, but each blind
set brings chrome worded in ways they never met (donation appeals, paywall offers, sponsor reads...). This
is a small linear model (logistic regression, trained by `python -m bench.train_clean_model` on the
labelled items of tests/data/clean_gold) over features of one paragraph's own text, so that a paragraph
scores the same wherever it stands and whatever is cleaned around it (cleaning stays idempotent):

- lowercase word unigrams and bigrams, and the first and last word marked as such (an imperative, a
  closing "ENDS"), from a vocabulary learned on the labelled items (words seen in at least two items);
- its shape: length class, how it ends (sentence stop, colon, question, closing mark, none), share of
  capitalised words, a URL / "@" (a handle, an email) / "©" / "|" in it, quote marks, two sentences.

At run time it is numpy only, from the coefficients shipped in `newsbeam.configs/data/clean_model.npz`;
all the paragraphs of one item are scored in one call. `ParagraphModel.drop_filter(threshold)` is what
`clean.extract(drop_filter=...)` takes: it drops a paragraph the rules kept when its chrome probability is
at least the threshold, never one a `keep` rule protects, only an `eligible` (short) one, and never all of
them.
"""

from __future__ import annotations

import functools
import importlib.resources
import io
import itertools
import math
import re
from collections.abc import Iterable, Sequence

import numpy as np

MODEL_FILE = "data/clean_model.npz"  # inside the newsbeam.configs package
_MAX_WORD_CHARS = 12  # a paragraph of up to max_words words has at most max_words x 12 characters too
_WORD = re.compile(r"\w+")
_URL = re.compile(r"https?://|www\.|\.(?:com|org|net)\b", re.I)
_CAPITALISED = re.compile(r"\b[A-ZÀ-ÞĀ-Ž]")
_QUOTE = re.compile('["“”„«»]')
_CLOSERS = frozenset(")]\"'»”’›")
_STOPS = frozenset(".!?…")
_COLONS = frozenset(":;")
_OPENING_QUOTES = frozenset("\"'“„«")
_SENTENCE_BREAK = re.compile(r"[.!?…][\"'»”’)]* +[\"'«“„(]*[A-ZÀ-ÞĀ-Ž0-9]")

# the shape features, in the order of the model's `shape_weights`
SHAPE_FEATURES = (
    "words<=3",
    "words<=8",
    "words<=15",
    "words<=30",
    "words>30",
    "ends_stop",  # . ! ? …
    "ends_colon",  # : ;
    "ends_question",
    "ends_closer",  # ) ] " ' » ” ’ ›
    "ends_none",
    "caps_share",  # of the words, those that start with a capital
    "url",
    "at_sign",  # an @handle or an email address
    "copyright",
    "pipe",
    "quote",
    "starts_quote",
    "sentences>1",
)
_SIZE = (
    (1.0, 0.0, 0.0, 0.0, 0.0),
    (0.0, 1.0, 0.0, 0.0, 0.0),
    (0.0, 0.0, 1.0, 0.0, 0.0),
    (0.0, 0.0, 0.0, 1.0, 0.0),
    (0.0, 0.0, 0.0, 0.0, 1.0),
)


def tokens(text: str) -> list[str]:
    """The paragraph's vocabulary features: lowercase words, adjacent pairs, and the first / last word
    marked ("^sign", "$ends")."""
    words = _WORD.findall(text.lower())
    if not words:
        return []
    return [*words, *map(" ".join, itertools.pairwise(words)), "^" + words[0], "$" + words[-1]]


def shape(text: str) -> tuple[float, ...]:
    """The paragraph's shape features, as SHAPE_FEATURES names them (C-speed tests only: this runs on
    every short paragraph the rules keep)."""
    spaces = text.count(" ")
    words = spaces + 1
    size = _SIZE[0 if words <= 3 else 1 if words <= 8 else 2 if words <= 15 else 3 if words <= 30 else 4]
    last = text[-1:]
    stop = last in _STOPS
    closer = last in _CLOSERS
    colon = last in _COLONS
    return (
        *size,
        float(stop),
        float(colon),
        float(last == "?"),
        float(closer),
        float(not (stop or closer or colon)),
        len(_CAPITALISED.findall(text)) / words,
        float(_URL.search(text) is not None),
        float("@" in text),
        float("©" in text),
        float("|" in text),
        float(_QUOTE.search(text) is not None),
        float(text[:1] in _OPENING_QUOTES),
        float(_SENTENCE_BREAK.search(text) is not None),
    )


def eligible(paragraph: str, max_words: int) -> bool:
    """Whether the filter may judge `paragraph` at all: up to `max_words` words (long paragraphs are
    narrative here, and where a model's errors would be), or 12 times as many characters."""
    # the length first: counting spaces reads a paragraph whole
    return len(paragraph) <= max_words * _MAX_WORD_CHARS and paragraph.count(" ") < max_words


class ParagraphModel:
    """Chrome probability of a paragraph, from a vocabulary's weights, shape weights and an intercept."""

    def __init__(
        self,
        vocabulary: Sequence[str],
        token_weights: np.ndarray,
        shape_weights: np.ndarray,
        intercept: float,
        threshold: float,
        max_words: int,
    ) -> None:
        if len(vocabulary) != len(token_weights) or len(shape_weights) != len(SHAPE_FEATURES):
            raise ValueError("clean model: vocabulary, token weights and shape weights do not agree")
        self._weights = dict(zip(vocabulary, map(float, token_weights), strict=True))
        self._shape_weights = np.asarray(shape_weights, dtype=np.float64)
        self._row = np.append(self._shape_weights, 1.0)
        self.intercept = float(intercept)
        self.threshold = float(threshold)  # the one `bench.train_clean_model` chose
        self.max_words = int(max_words)

    def scores(self, paragraphs: Sequence[str]) -> np.ndarray:
        """The chrome probability of each paragraph, in [0, 1]: one vectorised call per item."""
        return 1.0 / (1.0 + np.exp(-self._logits(paragraphs)))

    def _logits(self, paragraphs: Sequence[str]) -> np.ndarray:
        if not paragraphs:
            return np.zeros(0)
        get = self._weights.get
        zero = itertools.repeat(0.0)
        # one row per paragraph: its shape, then its words' summed weight (its coefficient is 1 in _row)
        rows = [(*shape(p), sum(map(get, tokens(p), zero))) for p in paragraphs]
        return np.array(rows) @ self._row + self.intercept

    def drop_filter(self, threshold: float | None = None):
        """What `clean.extract(drop_filter=...)` takes: (paragraphs the rules kept, those a `keep` rule
        protects) -> the indices to drop."""
        limit = self.threshold if threshold is None else threshold
        # compared as logits: p >= t  <=>  logit >= log(t / (1 - t))
        least = math.inf if limit >= 1.0 else math.log(limit / (1.0 - limit))
        max_words = self.max_words

        def chrome(body: list[str], kept: set[str]) -> Iterable[int]:
            candidates = [i for i, p in enumerate(body) if p not in kept and eligible(p, max_words)]
            if not candidates:
                return ()
            logits = self._logits([body[i] for i in candidates])
            drop = [i for i, logit in zip(candidates, logits.tolist(), strict=True) if logit >= least]
            return drop if len(drop) < len(body) else ()  # never all of it: the article is what is left

        return chrome

    def save(self, path) -> None:
        vocabulary = sorted(self._weights)
        np.savez_compressed(
            path,
            vocabulary=np.array(vocabulary, dtype=str),
            token_weights=np.array([self._weights[t] for t in vocabulary], dtype=np.float32),
            shape_weights=self._shape_weights.astype(np.float32),
            intercept=np.array(self.intercept),
            threshold=np.array(self.threshold),
            max_words=np.array(self.max_words),
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> ParagraphModel:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            return cls(
                [str(t) for t in arrays["vocabulary"]],
                arrays["token_weights"],
                arrays["shape_weights"],
                float(arrays["intercept"]),
                float(arrays["threshold"]),
                int(arrays["max_words"]),
            )


@functools.lru_cache(maxsize=1)
def load_model() -> ParagraphModel:
    """The shipped model (bundled with the package; never fetched). One per process."""
    data = importlib.resources.files("newsbeam.configs").joinpath(MODEL_FILE).read_bytes()
    return ParagraphModel.from_bytes(data)
