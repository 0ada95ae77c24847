"""Text features shared by training and prediction.

Prediction runs on numpy alone, vectorised over a chunk of texts: importing scipy costs more than
classifying a short file (it pulls in most of numpy's submodules), and a Python loop per term
costs more than the model. Training converts the same rows to scipy for scikit-learn, so what the
model learned and what it is shown can never drift apart.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scipy import sparse

_TOKEN = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")
_BREAK = "\x00"
"""Joins the texts of a chunk, so that one regular expression pass reads them all; it is no word
character, so it splits words exactly as a space does."""
_TOKEN_OR_BREAK = re.compile(f"{_TOKEN.pattern}|{_BREAK}")


def normalise(text: str) -> str:
    """A task statement reduced to its lower-cased words: case, punctuation and spacing do not make
    two statements different tasks."""
    return " ".join(_TOKEN.findall(text.lower()))


def terms(text: str) -> list[str]:
    """Unigrams and bigrams of a lower-cased text."""
    words = _TOKEN.findall(text.lower())
    return words + [f"{a} {b}" for a, b in pairwise(words)]


def find(sorted_keys: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of ``keys`` is in ``sorted_keys``, and whether it is there at all."""
    if not len(sorted_keys):
        return np.zeros(len(keys), dtype=np.int64), np.zeros(len(keys), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return at, sorted_keys[at] == keys


def spread(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The indices ``starts[i]:starts[i] + lengths[i]`` for every i, laid end to end, without a loop
    (a value per slice is laid beside them with ``np.repeat(values, lengths)``)."""
    full = lengths > 0
    starts, lengths = starts[full], lengths[full]
    step = np.ones(int(lengths.sum()), dtype=np.int64)
    if len(step):
        step[0] = starts[0]
        step[np.cumsum(lengths[:-1])] = starts[1:] - starts[:-1] - lengths[:-1] + 1
    return np.cumsum(step)


@dataclass(frozen=True)
class Rows:
    """Sparse rows in CSR arrays (term ids sorted within each row), each of unit length."""

    data: np.ndarray  # float32 weight of each entry
    indices: np.ndarray  # int64 term of each entry
    indptr: np.ndarray  # int64, len(rows) + 1
    width: int

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def slice(self, start: int, stop: int) -> Rows:
        a, b = self.indptr[start], self.indptr[stop]
        return Rows(self.data[a:b], self.indices[a:b], self.indptr[start : stop + 1] - a, self.width)

    def row_ids(self) -> np.ndarray:
        """The row of each entry."""
        return np.repeat(np.arange(len(self)), np.diff(self.indptr))

    def dot(self, w: np.ndarray) -> np.ndarray:
        """``rows @ w`` for dense ``w`` of shape (width, k)."""
        out = np.zeros((len(self), w.shape[1]), dtype=np.float32)
        filled = np.diff(self.indptr) > 0
        if filled.any():
            out[filled] = np.add.reduceat(w[self.indices] * self.data[:, None], self.indptr[:-1][filled])
        return out

    def csr(self) -> sparse.csr_matrix:
        """The same rows for scikit-learn and scipy's products (training, title and activity matches)."""
        from scipy import sparse

        return sparse.csr_matrix((self.data, self.indices, self.indptr), shape=(len(self), self.width))


class Featurizer:
    """Sublinear TF-IDF over unigrams and bigrams, rows scaled to unit length."""

    def __init__(self, vocabulary: Sequence[str], idf: np.ndarray, pair_keys: np.ndarray, pair_ids: np.ndarray) -> None:
        """``pair_keys``: each bigram as a * width + b of its words' term ids, sorted; ``pair_ids``:
        their term ids (``of`` finds both; a saved model keeps them, for a quick start)."""
        self.vocabulary = list(vocabulary)
        self.idf = idf.astype(np.float32)
        self.width = len(self.vocabulary)
        self.pair_keys, self.pair_ids = pair_keys, pair_ids
        self._lookup = {t: i for i, t in enumerate(self.vocabulary) if " " not in t}
        self._lookup[_BREAK] = -2

    @classmethod
    def of(cls, vocabulary: Sequence[str], idf: np.ndarray) -> Featurizer:
        # A bigram kept in the vocabulary has both its words kept too (min_df holds for each), so
        # bigrams are looked up by a pair of word ids, and no string is built for them.
        words = {t: i for i, t in enumerate(vocabulary) if " " not in t}
        pairs = [(i, t.split(" ")) for i, t in enumerate(vocabulary) if " " in t]
        keys = np.array([words[a] * len(vocabulary) + words[b] for _, (a, b) in pairs], dtype=np.int64)
        order = np.argsort(keys)
        return cls(vocabulary, idf, keys[order], np.array([i for i, _ in pairs], dtype=np.int64)[order])

    @classmethod
    def fit(cls, texts: Iterable[str], min_df: int = 2) -> Featurizer:
        df: Counter[str] = Counter()
        n = 0
        for text in texts:
            df.update(set(terms(text)))
            n += 1
        vocabulary = sorted(t for t, c in df.items() if c >= min_df)
        idf = np.array([np.log((1 + n) / (1 + df[t])) + 1.0 for t in vocabulary], dtype=np.float32)
        return cls.of(vocabulary, idf)

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return self.encode(texts)[0].csr()

    def encode(self, texts: Sequence[str]) -> tuple[Rows, np.ndarray]:
        """The features of each text, and the share of its words that the training statements used
        at least twice: low for another language or for words that are no words; 0 without any."""
        joined = _BREAK.join(texts).lower()
        if joined.count(_BREAK) != max(len(texts) - 1, 0):  # a text with the break in it: a space there
            joined = _BREAK.join(t.replace(_BREAK, " ") for t in texts).lower()
        get = self._lookup.get
        ids = np.array([get(w, -1) for w in _TOKEN_OR_BREAK.findall(joined)], dtype=np.int64)
        row = np.cumsum(ids == -2)
        words = ids != -2
        known = ids >= 0
        n = len(texts)
        familiarity = np.zeros(n, dtype=np.float32)
        seen = np.bincount(row[words], minlength=n)
        has = seen > 0
        familiarity[has] = np.bincount(row[known], minlength=n)[has] / seen[has]
        both = known[:-1] & known[1:]
        at, found = find(self.pair_keys, ids[:-1][both] * self.width + ids[1:][both])
        entry_rows = np.concatenate([row[known], row[:-1][both][found]])
        entry_terms = np.concatenate([ids[known], self.pair_ids[at[found]]])
        keys, counts = np.unique(entry_rows * self.width + entry_terms, return_counts=True)
        rows, cols = np.divmod(keys, self.width)
        data = (1.0 + np.log(counts.astype(np.float32))) * self.idf[cols]
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
        norms = np.zeros(n, dtype=np.float32)
        filled = np.diff(indptr) > 0
        if filled.any():
            norms[filled] = np.sqrt(np.add.reduceat(data * data, indptr[:-1][filled]))
        data /= np.repeat(norms, np.diff(indptr))
        return Rows(data, cols, indptr, self.width), familiarity
