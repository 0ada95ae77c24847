"""The exposure model: learns the human E0/E1/E2 label and GPT-4's T0-T4 automation level.

Two stages. The text stage reads one task statement (TF-IDF and logistic regression): it is what
bulk ``classify`` uses, tens of thousands of tasks a second. The role stage reads a task among the
other tasks of its role: the text stage's probabilities for the task, their mean over the role's
other tasks and the occupation's observed AI applicability. Raters judged tasks knowing the
occupation, and an occupation's tasks lean the same way, so the role says what one line of text
cannot. It is trained on out-of-fold text-stage probabilities (grouped by occupation), so it
learns from predictions as poor as those it will see on an occupation nobody labelled.

Built from the data in the configured folder, deterministically, and cached keyed on the model
version and a hash of the data, so a change to either rebuilds it. Prediction needs numpy and
scipy only; scikit-learn is imported to train.
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
from typing import Any

import numpy as np
from scipy import sparse

from guarantor.errors import ModelError
from guarantor.tasks.catalogue import AUTOMATION_LEVELS, EXPOSURE_LEVELS, LabelledTask
from guarantor.tasks.features import Featurizer, normalise

VERSION = "tfidf-lr-role-2"
"""Bump when training changes, so cached models built by older code are rebuilt."""

EVIDENCE_K = 3
EVIDENCE_FLOOR = 0.35
"""Cosine similarity below which a labelled task is not shown as evidence: under it, matches share
a word or two and nothing a person would call the same kind of work ("Review pull requests" and
"Pull knuckles to open them for coupling" score 0.23)."""
SAME_TASK = 0.9
"""Cosine similarity from which a labelled task is the same task written a little differently: its
human label is shown instead of a prediction."""
CANDIDATE_MAX_DF = 100
"""Terms in more labelled tasks than this do not propose evidence (see _candidate_index)."""
UNFAMILIAR = 0.5
"""Share of a statement's words the model has seen, under which it is flagged as outside what the
model knows (another language, a code, a typo storm): its label is a guess, whatever the probability."""
_C = 4.0
_ROLE_C = 1.0
ROLE_FOLDS = 5

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
    matrix: sparse.csr_matrix

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
        self._index = _candidate_index(evidence.matrix)

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
        automation = _fit(x, [AUTOMATION_LEVELS.index(r.gpt4_automation) for r in rows], len(AUTOMATION_LEVELS))
        codes = [r.task.onet_soc_code for r in rows]
        role_stage = _fit_role_stage(texts, y, codes, applicability, step)
        evidence = Evidence(codes, texts, [r.human_exposure for r in rows], x)
        return cls(featurizer, exposure, automation, role_stage, evidence, {"version": VERSION, **meta})

    def predict(self, texts: Sequence[str], with_evidence: bool = True, role: Role | None = None) -> Predictions:
        """Each task alone (the text stage), or, given ``role``, as the tasks of that one role."""
        x, familiarity = self.featurizer.encode(texts)
        exposure = _softmax(np.asarray(x @ self.exposure_w) + self.exposure_b)
        if role is not None and len(texts):
            exposure = self.role_stage.apply(exposure, role.applicability)
        automation = _softmax(np.asarray(x @ self.automation_w) + self.automation_b)
        if with_evidence:
            evidence, similarity = _nearest(x, self.evidence.matrix, self._index, EVIDENCE_K)
        else:
            evidence = similarity = np.zeros((len(texts), 0))
        return Predictions(exposure, automation, evidence, similarity, familiarity)

    def save(self, path: Path) -> None:
        """Written to a file of its own and renamed, so that two processes building the same model
        into the shared cache never read or write half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        ev = self.evidence.matrix
        with os.fdopen(handle, "wb") as tmp:
            np.savez(
                tmp,
                vocabulary=np.array("\n".join(self.featurizer.vocabulary)),
                idf=self.featurizer.idf,
                exposure_w=self.exposure_w,
                exposure_b=self.exposure_b,
                automation_w=self.automation_w,
                automation_b=self.automation_b,
                role_w=self.role_stage.w,
                role_b=self.role_stage.b,
                role_mean=self.role_stage.mean,
                role_scale=self.role_stage.scale,
                role_prior=self.role_stage.prior,
                ev_data=ev.data,
                ev_indices=ev.indices,
                ev_indptr=ev.indptr,
                ev_shape=np.array(ev.shape),
                ev_codes=np.array("\n".join(self.evidence.codes)),
                ev_texts=np.array("\n".join(self.evidence.texts)),
                ev_labels=np.array("".join(label[1] for label in self.evidence.labels)),
                meta=np.array(json.dumps(self.meta)),
            )
        Path(name).replace(path)

    @classmethod
    def load(cls, path: Path) -> ExposureModel:
        try:
            with np.load(path, allow_pickle=False) as z:
                featurizer = Featurizer(str(z["vocabulary"]).split("\n"), z["idf"])
                matrix = sparse.csr_matrix((z["ev_data"], z["ev_indices"], z["ev_indptr"]), shape=tuple(z["ev_shape"]))
                evidence = Evidence(
                    str(z["ev_codes"]).split("\n"),
                    str(z["ev_texts"]).split("\n"),
                    [f"E{c}" for c in str(z["ev_labels"])],
                    matrix,
                )
                return cls(
                    featurizer,
                    (z["exposure_w"], z["exposure_b"]),
                    (z["automation_w"], z["automation_b"]),
                    RoleStage(z["role_w"], z["role_b"], z["role_mean"], z["role_scale"], z["role_prior"]),
                    evidence,
                    json.loads(str(z["meta"])),
                )
        except (OSError, KeyError, ValueError) as exc:
            raise ModelError(
                f"Could not load the model at {path}: {exc}", hint="Rebuild it with `guarantor model build`."
            ) from exc


def _text_stage(
    texts: Sequence[str], y: np.ndarray
) -> tuple[Featurizer, sparse.csr_matrix, tuple[np.ndarray, np.ndarray]]:
    """The featurizer fitted on ``texts``, their features, and the exposure head's weights."""
    featurizer = Featurizer.fit(texts)
    x = featurizer.transform(texts)
    return featurizer, x, _fit(x, y, len(EXPOSURE_LEVELS))


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
        p[test] = _softmax(np.asarray(featurizer.transform([texts[int(i)] for i in test]) @ w) + b)
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


def _candidate_index(corpus: sparse.csr_matrix) -> sparse.csr_matrix:
    """The corpus transposed, keeping only terms rare enough to say which tasks are alike.

    A common word ("and", "prepare") links every task to thousands of others: kept in, the
    similarity product is nearly dense and costs seconds per thousand rows.
    """
    df = np.bincount(corpus.indices, minlength=corpus.shape[1])
    rare = sparse.diags((df <= CANDIDATE_MAX_DF).astype(np.float32))
    index = sparse.csr_matrix(corpus @ rare)
    index.eliminate_zeros()
    return sparse.csr_matrix(index.T)


def _nearest(
    x: sparse.csr_matrix, corpus: sparse.csr_matrix, index: sparse.csr_matrix, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The k corpus rows most similar to each row of x, by exact cosine (both are unit length).

    Candidates come from rare shared terms, those within half of a row's best candidate score
    are ranked exactly; a row sharing no rare term gets no evidence (index -1, similarity 0).
    """
    s = sparse.csr_matrix(x @ index)
    n = s.shape[0]
    counts = np.diff(s.indptr)
    rows = np.repeat(np.arange(n), counts)
    best = np.zeros(n, dtype=np.float32)
    has = counts > 0
    best[has] = np.maximum.reduceat(s.data, s.indptr[:-1][has])
    keep = s.data >= 0.5 * best[rows]
    r, c = rows[keep], s.indices[keep]
    exact = np.asarray(x[r].multiply(corpus[c]).sum(axis=1)).ravel()
    order = np.lexsort((-exact, r))
    r, c, exact = r[order], c[order], exact[order]
    rank = np.arange(len(r)) - np.searchsorted(r, np.arange(n))[r]
    top = rank < k
    nearest = np.full((n, k), -1, dtype=np.int64)
    similarity = np.zeros((n, k), dtype=np.float32)
    nearest[r[top], rank[top]] = c[top]
    similarity[r[top], rank[top]] = exact[top]
    return nearest, similarity
