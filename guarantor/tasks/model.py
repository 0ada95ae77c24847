"""The exposure model: learns the human E0/E1/E2 label and GPT-4's T0-T4 automation level.

Two stages. The text stage reads one task statement (TF-IDF and logistic regression): it is what
bulk ``classify`` uses, tens of thousands of tasks a second. The role stage reads a task among the
other tasks of its role: the text stage's probabilities for the task, their mean over the role's
other tasks and the occupation's observed AI applicability. Raters judged tasks knowing the
occupation, and an occupation's tasks lean the same way, so the role says what one line of text
cannot. It is trained on out-of-fold text-stage probabilities (grouped by occupation), so it
learns from predictions as poor as those it will see on an occupation nobody labelled.

Built from the data in the configured folder, deterministically, and cached keyed on the model
version and a hash of the data, so a change to either rebuilds it. Prediction needs numpy only;
scikit-learn (and scipy) are imported to train.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from guarantor.errors import ModelError
from guarantor.tasks.catalogue import AUTOMATION_LEVELS, EXPOSURE_LEVELS, LabelledTask
from guarantor.tasks.features import Featurizer, Rows, find, normalise, spread

if TYPE_CHECKING:
    from scipy import sparse

VERSION = "tfidf-lr-role-4"
"""Bump when training or the file's layout changes, so cached models built by older code are rebuilt."""

EVIDENCE_K = 3
EVIDENCE_FLOOR = 0.35
"""Cosine similarity below which a labelled task is not shown as evidence: under it, matches share
a word or two and nothing a person would call the same kind of work ("Review pull requests" and
"Pull knuckles to open them for coupling" score 0.23)."""
SAME_TASK = 0.9
"""Cosine similarity from which a labelled task is the same task written a little differently: its
human label is shown instead of a prediction."""
CANDIDATE_MAX_DF = 100
"""Terms in more labelled tasks than this do not propose evidence (see EvidenceIndex)."""
UNFAMILIAR = 0.5
"""Share of a statement's words the model has seen, under which it is flagged as outside what the
model knows (another language, a code, a typo storm): its label is a guess, whatever the probability."""
_C = 4.0
_ROLE_C = 1.0
ROLE_FOLDS = 5
_BLOCK = 512
"""Rows whose evidence is searched at once (see EvidenceIndex.nearest)."""
_PART_BITS = 25
_ONE = 1 << (_PART_BITS - 1)
"""A part of a cosine (see EvidenceIndex._candidates) in fixed point: 1.0 and what it is counted in."""

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Role:
    """Says that the tasks predicted together are one role's, for the role stage; ``applicability``
    is its occupation's observed AI applicability score, None where unknown."""

    applicability: float | None = None


@dataclass
class Predictions:
    exposure: np.ndarray  # (n, 3) probabilities of E0, E1, E2
    automation: np.ndarray  # (n, 5) probabilities of T0..T4
    evidence: np.ndarray  # (n, k) indices into the model's labelled tasks
    similarity: np.ndarray  # (n, k) cosine similarity of each piece of evidence
    familiarity: np.ndarray  # (n,) share of each statement's words the model has seen

    def familiar(self, i: int) -> bool:
        return bool(self.familiarity[i] >= UNFAMILIAR)

    def exposure_label(self, i: int) -> str:
        return EXPOSURE_LEVELS[int(self.exposure[i].argmax())]

    def automation_label(self, i: int) -> str:
        return AUTOMATION_LEVELS[int(self.automation[i].argmax())]


@dataclass
class Evidence:
    """The labelled O*NET tasks a prediction can be checked against."""

    codes: list[str]
    texts: list[str]
    labels: list[str]
    index: EvidenceIndex

    @cached_property
    def by_text(self) -> dict[str, int]:
        """Each labelled text, normalised, to its first row: an exact match is found whatever the
        similarity index proposes. Built on first use: classifying a file never needs it."""
        index: dict[str, int] = {}
        for i, text in enumerate(self.texts):
            index.setdefault(normalise(text), i)
        return index


@dataclass
class RoleStage:
    """Multinomial logistic regression over ``role_features``, standardised."""

    w: np.ndarray  # (features, 3)
    b: np.ndarray  # (3,)
    mean: np.ndarray
    scale: np.ndarray
    prior: np.ndarray  # (3,) the share of each label in training: the role of a task alone

    def apply(self, p: np.ndarray, applicability: float | None) -> np.ndarray:
        """The probabilities of the tasks of one role, from their text-stage probabilities ``p``."""
        one = np.zeros(len(p), dtype=np.int64)
        score = np.full(len(p), np.nan if applicability is None else applicability)
        features = (role_features(p, one, score, self.prior) - self.mean) / self.scale
        return _softmax(features @ self.w + self.b)


def role_features(p: np.ndarray, groups: np.ndarray, applicability: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Per task: the log of its text-stage probabilities, the log of their mean over the other tasks
    of its role (group; ``prior`` for a task alone), the applicability score and a flag where it is
    unknown (NaN)."""
    sums = np.zeros((int(groups.max()) + 1 if len(groups) else 0, p.shape[1]))
    np.add.at(sums, groups, p)
    counts = np.bincount(groups)[groups][:, None]
    others = np.where(counts > 1, (sums[groups] - p) / np.maximum(counts - 1, 1), prior)
    unknown = np.isnan(applicability)
    return np.column_stack(
        [np.log(p + 1e-6), np.log(others + 1e-6), np.where(unknown, 0.0, applicability), unknown.astype(float)]
    )


def fold_of(code: str, folds: int) -> int:
    """A stable fold for an occupation: the same on every machine and every run."""
    return int(hashlib.sha256(code.encode()).hexdigest(), 16) % folds


class ExposureModel:
    def __init__(
        self,
        featurizer: Featurizer,
        exposure: tuple[np.ndarray, np.ndarray],
        automation: tuple[np.ndarray, np.ndarray],
        role_stage: RoleStage,
        evidence: Evidence,
        meta: dict[str, Any],
    ) -> None:
        self.featurizer = featurizer
        self.exposure_w, self.exposure_b = exposure
        self.automation_w, self.automation_b = automation
        self.role_stage = role_stage
        self.evidence = evidence
        self.meta = meta

    @classmethod
    def train(
        cls,
        rows: Sequence[LabelledTask],
        meta: dict[str, Any],
        applicability: Mapping[str, float],
        progress: Progress | None = None,
    ) -> ExposureModel:
        """``applicability``: observed AI applicability by 2018 SOC code (may be empty); ``progress``
        is told each step as it starts."""
        step = progress or (lambda _: None)
        texts = [r.task.text for r in rows]
        y = np.array([EXPOSURE_LEVELS.index(r.human_exposure) for r in rows])
        step(f"text stage on {len(rows):,} labelled tasks")
        featurizer, x, exposure = _text_stage(texts, y)
        step("automation levels")
        automation = _fit(x.csr(), [AUTOMATION_LEVELS.index(r.gpt4_automation) for r in rows], len(AUTOMATION_LEVELS))
        codes = [r.task.onet_soc_code for r in rows]
        role_stage = _fit_role_stage(texts, y, codes, applicability, step)
        evidence = Evidence(codes, texts, [r.human_exposure for r in rows], EvidenceIndex.of(x))
        return cls(featurizer, exposure, automation, role_stage, evidence, {"version": VERSION, **meta})

    def predict(self, texts: Sequence[str], with_evidence: bool = True, role: Role | None = None) -> Predictions:
        """Each task alone (the text stage), or, given ``role``, as the tasks of that one role."""
        x, familiarity = self.featurizer.encode(texts)
        exposure = _softmax(x.dot(self.exposure_w) + self.exposure_b)
        if role is not None and len(texts):
            exposure = self.role_stage.apply(exposure, role.applicability)
        automation = _softmax(x.dot(self.automation_w) + self.automation_b)
        if with_evidence:
            evidence, similarity = self.evidence.index.nearest(x, EVIDENCE_K)
        else:
            evidence = similarity = np.zeros((len(texts), 0))
        return Predictions(exposure, automation, evidence, similarity, familiarity)

    def save(self, path: Path) -> None:
        """Written to a file of its own and renamed, so that two processes building the same model
        into the shared cache never read or write half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        f, ev = self.featurizer, self.evidence
        with os.fdopen(handle, "wb") as tmp:
            np.savez(
                tmp,
                vocabulary=_utf8("\n".join(f.vocabulary)),
                idf=f.idf,
                pair_keys=f.pair_keys,
                pair_ids=f.pair_ids,
                exposure_w=self.exposure_w,
                exposure_b=self.exposure_b,
                automation_w=self.automation_w,
                automation_b=self.automation_b,
                role_w=self.role_stage.w,
                role_b=self.role_stage.b,
                role_mean=self.role_stage.mean,
                role_scale=self.role_stage.scale,
                role_prior=self.role_stage.prior,
                index_rare=ev.index.rare,
                index_post_ptr=ev.index.post_ptr,
                index_post_docs=ev.index.post_docs,
                index_post_weights=ev.index.post_weights,
                index_common_keys=ev.index.common_keys,
                index_common_weights=ev.index.common_weights,
                index_docs=np.array(ev.index.docs),
                ev_codes=_utf8("\n".join(ev.codes)),
                ev_texts=_utf8("\n".join(ev.texts)),
                ev_labels=_utf8("".join(label[1] for label in ev.labels)),
                meta=_utf8(json.dumps(self.meta)),
            )
        Path(name).replace(path)

    @classmethod
    def load(cls, path: Path) -> ExposureModel:
        try:
            with np.load(path, allow_pickle=False) as z:
                texts = ("vocabulary", "ev_codes", "ev_texts", "ev_labels", "meta")
                text = {key: z[key].tobytes().decode() for key in texts}
                featurizer = Featurizer(text["vocabulary"].split("\n"), z["idf"], z["pair_keys"], z["pair_ids"])
                index = EvidenceIndex(
                    z["index_rare"],
                    z["index_post_ptr"],
                    z["index_post_docs"],
                    z["index_post_weights"],
                    z["index_common_keys"],
                    z["index_common_weights"],
                    int(z["index_docs"]),
                )
                evidence = Evidence(
                    text["ev_codes"].split("\n"),
                    text["ev_texts"].split("\n"),
                    [f"E{c}" for c in text["ev_labels"]],
                    index,
                )
                return cls(
                    featurizer,
                    (z["exposure_w"], z["exposure_b"]),
                    (z["automation_w"], z["automation_b"]),
                    RoleStage(z["role_w"], z["role_b"], z["role_mean"], z["role_scale"], z["role_prior"]),
                    evidence,
                    json.loads(text["meta"]),
                )
        except (OSError, KeyError, ValueError) as exc:
            raise ModelError(
                f"Could not load the model at {path}: {exc}", hint="Rebuild it with `guarantor model build`."
            ) from exc


def _utf8(text: str) -> np.ndarray:
    """A text as the bytes of its UTF-8, not as numpy's own strings (four bytes a character, 6 MB
    for the labelled tasks' texts alone): the model file is half the size, and loads in 15 ms, not 24."""
    return np.frombuffer(text.encode(), dtype=np.uint8)


def _text_stage(texts: Sequence[str], y: np.ndarray) -> tuple[Featurizer, Rows, tuple[np.ndarray, np.ndarray]]:
    """The featurizer fitted on ``texts``, their features, and the exposure head's weights."""
    featurizer = Featurizer.fit(texts)
    x = featurizer.encode(texts)[0]
    return featurizer, x, _fit(x.csr(), y, len(EXPOSURE_LEVELS))


def _fit_role_stage(
    texts: Sequence[str], y: np.ndarray, codes: Sequence[str], applicability: Mapping[str, float], step: Progress
) -> RoleStage:
    """Trained on text-stage probabilities from models that never saw the task's occupation."""
    folds = np.array([fold_of(c, ROLE_FOLDS) for c in codes])
    p = np.zeros((len(texts), len(EXPOSURE_LEVELS)))
    for k in range(ROLE_FOLDS):
        step(f"role stage: held-out occupations, part {k + 1} of {ROLE_FOLDS}")
        train, test = np.flatnonzero(folds != k), np.flatnonzero(folds == k)
        if not len(test) or not len(train):
            continue
        featurizer, _, (w, b) = _text_stage([texts[int(i)] for i in train], y[train])
        p[test] = _softmax(featurizer.encode([texts[int(i)] for i in test])[0].dot(w) + b)
    groups = np.unique(np.asarray(codes), return_inverse=True)[1]
    scores = np.array([applicability.get(c[:7], np.nan) for c in codes])
    prior = np.bincount(y, minlength=len(EXPOSURE_LEVELS)) / max(len(y), 1)
    features = role_features(p, groups, scores, prior)
    mean, scale = features.mean(0), features.std(0) + 1e-9
    w, b = _fit((features - mean) / scale, y, len(EXPOSURE_LEVELS), C=_ROLE_C)
    return RoleStage(w, b, mean, scale, prior)


def _fit(
    x: sparse.csr_matrix | np.ndarray, y: Sequence[int] | np.ndarray, n_classes: int, C: float = _C
) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression; returns dense (features x classes) weights and biases."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C, max_iter=5000)
    model.fit(x, y)
    w = np.zeros((x.shape[1], n_classes), dtype=np.float32)
    b = np.full(n_classes, -1e4, dtype=np.float32)  # a class never seen stays impossible
    for j, cls in enumerate(model.classes_):
        w[:, cls] = model.coef_[j]
        b[cls] = model.intercept_[j]
    return w, b


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return out


class EvidenceIndex:
    """Finds the labelled tasks most like each statement, by exact cosine (rows are unit length).

    Candidates come from the rare terms a statement shares with a labelled task: a common word
    ("and", "prepare") links every task to thousands of others, and kept in, the candidates of a
    thousand rows number millions. Candidates within half of a row's best candidate score are
    ranked by their exact cosine, which adds the common terms' part; a row sharing no rare term, or
    whose best match is under ``EVIDENCE_FLOOR``, gets no evidence (index -1, similarity 0).
    """

    def __init__(
        self,
        rare: np.ndarray,
        post_ptr: np.ndarray,
        post_docs: np.ndarray,
        post_weights: np.ndarray,
        common_keys: np.ndarray,
        common_weights: np.ndarray,
        docs: int,
    ) -> None:
        """``rare``: whether each term proposes candidates; ``post_*``: for each rare term, from
        ``post_ptr[t]`` to ``post_ptr[t + 1]``, the labelled tasks using it and its weight there;
        ``common_*``: the other terms of each labelled task as key task * width + term, sorted, and
        their weights; ``docs``: how many labelled tasks there are."""
        self.rare, self.post_ptr, self.post_docs, self.post_weights = rare, post_ptr, post_docs, post_weights
        self.common_keys, self.common_weights = common_keys, common_weights
        self.docs, self.width = docs, len(rare)
        # What _candidates adds up, laid out once: each posting's task in a key's high bits, its
        # weight in fixed point.
        self._post_keys = post_docs.astype(np.int64) << _PART_BITS
        self._post_parts = post_weights.astype(np.float64) * _ONE

    @classmethod
    def of(cls, corpus: Rows) -> EvidenceIndex:
        rare = np.bincount(corpus.indices, minlength=corpus.width) <= CANDIDATE_MAX_DF
        docs, terms, weights = corpus.row_ids(), corpus.indices, corpus.data
        kept = rare[terms]
        by_term = np.argsort(terms[kept], kind="stable")
        post_ptr = np.zeros(corpus.width + 1, dtype=np.int64)
        np.cumsum(np.bincount(terms[kept], minlength=corpus.width), out=post_ptr[1:])
        keys = docs[~kept] * corpus.width + terms[~kept]
        order = np.argsort(keys)
        return cls(
            rare, post_ptr, docs[kept][by_term], weights[kept][by_term], keys[order], weights[~kept][order], len(corpus)
        )

    def nearest(self, x: Rows, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k labelled tasks nearest each row of ``x``: their indices and cosine similarities.

        Found for a few hundred rows at a time: their candidates then fit in the processor's cache,
        which makes the whole a third faster than one pass over thousands of rows."""
        parts = [self._nearest(x.slice(i, min(i + _BLOCK, len(x))), k) for i in range(0, len(x), _BLOCK)]
        if not parts:
            return np.full((0, k), -1, dtype=np.int64), np.zeros((0, k), dtype=np.float32)
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def _nearest(self, x: Rows, k: int) -> tuple[np.ndarray, np.ndarray]:
        n, docs = len(x), self.docs
        nearest = np.full((n, k), -1, dtype=np.int64)
        similarity = np.zeros((n, k), dtype=np.float32)
        rows = x.row_ids()
        rare = self.rare[x.indices]
        pair, score = self._candidates(rows[rare], x.indices[rare], x.data[rare])
        if not len(pair):
            return nearest, similarity
        r, c = np.divmod(pair, docs)
        first = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
        best = np.repeat(np.maximum.reduceat(score, first), np.diff(np.r_[first, len(r)]))
        keep = score >= 0.5 * best
        r, c, exact = r[keep], c[keep], score[keep] + self._common(x, rows, rare, r[keep], c[keep])
        order = np.lexsort((-exact, r))
        r, c, exact = r[order], c[order], exact[order]
        rank = np.arange(len(r)) - np.searchsorted(r, np.arange(n))[r]
        top = (rank < k) & (exact >= EVIDENCE_FLOOR)
        nearest[r[top], rank[top]] = c[top]
        similarity[r[top], rank[top]] = exact[top]
        return nearest, similarity

    def _candidates(self, rows: np.ndarray, terms: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each (row, labelled task) sharing a rare term, as key row * docs + task, sorted, and the
        part of their cosine those terms make.

        Each product of two weights (both at most 1: the rows are unit length) is kept as an
        integer in 2^-24ths, as fine as float32 itself, in the low bits of its pair's key: one sort
        of plain integers then groups the pairs and carries their parts along, several times
        faster than sorting the keys and gathering the parts after them.
        """
        start = self.post_ptr[terms]
        lengths = self.post_ptr[terms + 1] - start
        at = spread(start, lengths)
        packed = np.rint(np.repeat(weights, lengths) * self._post_parts[at]).astype(np.int64)
        packed += self._post_keys[at]
        packed += np.repeat(rows * (self.docs << _PART_BITS), lengths)
        packed.sort()
        keys = packed >> _PART_BITS
        last = np.flatnonzero(np.r_[keys[1:] != keys[:-1], True]) if len(keys) else keys
        sums = np.cumsum(packed & (_ONE * 2 - 1))[last]
        sums[1:] -= sums[:-1]
        return keys[last], (sums / _ONE).astype(np.float32)

    def _common(self, x: Rows, rows: np.ndarray, rare: np.ndarray, r: np.ndarray, c: np.ndarray) -> np.ndarray:
        """The part of each pair's cosine made by the common terms: each common term of row r's
        looked up among task c's."""
        counts = np.bincount(rows[~rare], minlength=len(x))
        at = spread((np.cumsum(counts) - counts)[r], counts[r])
        pair = np.repeat(np.arange(len(r)), counts[r])
        terms, weights = x.indices[~rare][at], x.data[~rare][at]
        where, hit = find(self.common_keys, c[pair] * self.width + terms)
        part = weights[hit] * self.common_weights[where[hit]]
        return np.bincount(pair[hit], weights=part, minlength=len(r)).astype(np.float32)
