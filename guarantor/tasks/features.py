"""Text features shared by training and prediction.

Written on numpy and scipy alone so that classifying a file does not import scikit-learn: the
import alone would cost most of the time budget of a short run. Training uses the same code,
so what the model learned and what it is shown can never drift apart.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import pairwise

import numpy as np
from scipy import sparse

_TOKEN = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")


def normalise(text: str) -> str:
    """A task statement reduced to its lower-cased words: case, punctuation and spacing do not make
    two statements different tasks."""
    return " ".join(_TOKEN.findall(text.lower()))


def terms(text: str) -> list[str]:
    """Unigrams and bigrams of a lower-cased text."""
    words = _TOKEN.findall(text.lower())
    return words + [f"{a} {b}" for a, b in pairwise(words)]


class Featurizer:
    """Sublinear TF-IDF over unigrams and bigrams, rows scaled to unit length."""

    def __init__(self, vocabulary: Sequence[str], idf: np.ndarray) -> None:
        self.vocabulary = list(vocabulary)
        self.idf = idf.astype(np.float32)
        index = {term: i for i, term in enumerate(self.vocabulary)}
        # A bigram kept in the vocabulary has both its words kept too (min_df holds for each), so
        # bigrams are looked up by a pair of word ids: no string is built for them at predict time.
        self._words = {t: i for t, i in index.items() if " " not in t}
        width = len(self.vocabulary)
        self._width = width
        self._pairs = {}
        for term, i in index.items():
            if " " in term:
                a, b = term.split(" ")
                self._pairs[self._words[a] * width + self._words[b]] = i

    @classmethod
    def fit(cls, texts: Iterable[str], min_df: int = 2) -> Featurizer:
        df: Counter[str] = Counter()
        n = 0
        for text in texts:
            df.update(set(terms(text)))
            n += 1
        vocabulary = sorted(t for t, c in df.items() if c >= min_df)
        idf = np.array([np.log((1 + n) / (1 + df[t])) + 1.0 for t in vocabulary], dtype=np.float32)
        return cls(vocabulary, idf)

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return self.encode(texts)[0]

    def encode(self, texts: Sequence[str]) -> tuple[sparse.csr_matrix, np.ndarray]:
        """The features of each text, and the share of its words that the training statements used
        at least twice: low for another language or for words that are no words; 0 without any."""
        words_of, pairs, width = self._words.get, self._pairs.get, self._width
        findall = _TOKEN.findall
        indptr = [0]
        cols: list[int] = []
        familiarity = np.zeros(len(texts), dtype=np.float32)
        for row, text in enumerate(texts):
            ids = [words_of(w, -1) for w in findall(text.lower())]
            start = len(cols)
            cols.extend(i for i in ids if i >= 0)
            if ids:
                familiarity[row] = (len(cols) - start) / len(ids)
            cols.extend(j for a, b in pairwise(ids) if a >= 0 and b >= 0 and (j := pairs(a * width + b)) is not None)
            indptr.append(len(cols))
        matrix = sparse.csr_matrix(
            (
                np.ones(len(cols), dtype=np.float32),
                np.asarray(cols, dtype=np.int32),
                np.asarray(indptr, dtype=np.int64),
            ),
            shape=(len(texts), width),
        )
        matrix.sum_duplicates()
        if matrix.nnz:
            matrix.data = (1.0 + np.log(matrix.data)) * self.idf[matrix.indices]
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sparse.csr_matrix(sparse.diags(1.0 / norms).astype(np.float32) @ matrix), familiarity
