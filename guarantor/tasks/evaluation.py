"""Cross-validation grouped by occupation, so every figure is a figure on unseen occupations.

Splitting by row would let the model see sibling tasks of the same occupation and overstate
what it does on a role nobody labelled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from guarantor.tasks.catalogue import AUTOMATION_LEVELS, EXPOSURE_LEVELS, LabelledTask
from guarantor.tasks.model import ExposureModel, fold_of


@dataclass(frozen=True)
class Scores:
    accuracy: float
    kappa: float
    macro_f1: float
    confusion: list[list[int]]  # rows: true label, columns: predicted

    def as_dict(self) -> dict[str, object]:
        return {
            "accuracy": self.accuracy,
            "kappa": self.kappa,
            "macro_f1": self.macro_f1,
            "confusion": self.confusion,
        }


@dataclass(frozen=True)
class Agreement:
    """Occupation-level agreement with the human labels: Pearson r across occupations of beta
    (E1 share + half the E2 share). ``expected`` takes beta from the model's probabilities, the
    estimate of a share; ``labels`` from its labels, as the human and GPT-4 betas are."""

    expected: float
    labels: float


@dataclass(frozen=True)
class Evaluation:
    folds: int
    rows: int
    occupations: int
    model: Scores
    text_only: Scores
    gpt4: Scores
    automation_vs_gpt4: Scores
    model_r: Agreement
    text_only_r: Agreement
    gpt4_r: float

    def as_dict(self) -> dict[str, object]:
        return {
            "folds": self.folds,
            "rows": self.rows,
            "occupations": self.occupations,
            "model": self.model.as_dict() | {"occupation_r": asdict(self.model_r)},
            "text_only": self.text_only.as_dict() | {"occupation_r": asdict(self.text_only_r)},
            "gpt4_labels": self.gpt4.as_dict() | {"occupation_r": self.gpt4_r},
            "automation_vs_gpt4": self.automation_vs_gpt4.as_dict(),
        }


def scores(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> Scores:
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(confusion, (y_true, y_pred), 1)
    total = confusion.sum()
    observed = np.trace(confusion) / total
    expected = float((confusion.sum(0) * confusion.sum(1)).sum()) / total**2
    kappa = (observed - expected) / (1 - expected) if expected < 1 else 0.0
    tp = np.diag(confusion).astype(float)
    support = confusion.sum(1) > 0
    precision = np.divide(tp, confusion.sum(0), out=np.zeros_like(tp), where=confusion.sum(0) > 0)
    recall = np.divide(tp, confusion.sum(1), out=np.zeros_like(tp), where=support)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(tp), where=(precision + recall) > 0)
    return Scores(float(observed), float(kappa), float(f1[support].mean()), confusion.tolist())


def occupation_r(groups: np.ndarray, human: np.ndarray, p: np.ndarray) -> float:
    """Pearson r across occupations (``groups``) of the human beta and the beta of ``p``, each
    task's (n, 3) probabilities or one-hot labels."""
    counts = np.bincount(groups)
    observed = np.bincount(groups, weights=(human == 1) + 0.5 * (human == 2)) / counts
    predicted = np.bincount(groups, weights=p[:, 1] + 0.5 * p[:, 2]) / counts
    return float(np.corrcoef(observed, predicted)[0, 1])


def cross_validate(
    rows: Sequence[LabelledTask],
    folds: int = 5,
    progress: Callable[[int], None] | None = None,
    applicability: Mapping[str, float] | None = None,
) -> Evaluation:
    """Each fold's occupations are predicted by a model trained on the others, each occupation's
    tasks as one role (the model's default for a role), and each task alone (``text_only``)."""
    applicability = applicability or {}
    codes = np.array([r.task.onet_soc_code for r in rows])
    groups = np.unique(codes, return_inverse=True)[1]
    fold = np.array([fold_of(c, folds) for c in codes])
    y = np.array([EXPOSURE_LEVELS.index(r.human_exposure) for r in rows])
    y_gpt4 = np.array([EXPOSURE_LEVELS.index(r.gpt4_exposure) for r in rows])
    y_auto = np.array([AUTOMATION_LEVELS.index(r.gpt4_automation) for r in rows])
    role_p = np.zeros((len(rows), len(EXPOSURE_LEVELS)))
    text_p = np.zeros_like(role_p)
    pred_auto = np.zeros_like(y)
    for k in range(folds):
        train = [r for r, f in zip(rows, fold, strict=True) if f != k]
        model = ExposureModel.train(train, {}, applicability)
        test = np.flatnonzero(fold == k)
        p = model.predict([rows[int(i)].task.text for i in test], with_evidence=False)
        text_p[test] = p.exposure
        pred_auto[test] = p.automation.argmax(1)
        for code in np.unique(codes[test]):  # each occupation's tasks read as one role
            members = np.flatnonzero(codes == code)
            role_p[members] = model.role_stage.apply(text_p[members], applicability.get(str(code)[:7]))
        if progress:
            progress(k + 1)
    n = len(EXPOSURE_LEVELS)

    def agreement(p: np.ndarray) -> Agreement:
        return Agreement(occupation_r(groups, y, p), occupation_r(groups, y, np.eye(n)[p.argmax(1)]))

    return Evaluation(
        folds=folds,
        rows=len(rows),
        occupations=len(set(codes)),
        model=scores(y, role_p.argmax(1), n),
        text_only=scores(y, text_p.argmax(1), n),
        gpt4=scores(y, y_gpt4, n),
        automation_vs_gpt4=scores(y_auto, pred_auto, len(AUTOMATION_LEVELS)),
        model_r=agreement(role_p),
        text_only_r=agreement(text_p),
        gpt4_r=occupation_r(groups, y, np.eye(n)[y_gpt4]),
    )
