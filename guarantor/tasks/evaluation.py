"""Cross-validation grouped by occupation, so every figure is a figure on unseen occupations.

Splitting by row would let the model see sibling tasks of the same occupation and overstate
what it does on a role nobody labelled.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from guarantor.tasks.catalogue import AUTOMATION_LEVELS, EXPOSURE_LEVELS, LabelledTask
from guarantor.tasks.model import ExposureModel


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
class Evaluation:
    folds: int
    rows: int
    occupations: int
    model: Scores
    gpt4: Scores
    automation_vs_gpt4: Scores

    def as_dict(self) -> dict[str, object]:
        return {
            "folds": self.folds,
            "rows": self.rows,
            "occupations": self.occupations,
            "model": self.model.as_dict(),
            "gpt4_labels": self.gpt4.as_dict(),
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


def fold_of(code: str, folds: int) -> int:
    """A stable fold for an occupation: the same on every machine and every run."""
    return int(hashlib.sha256(code.encode()).hexdigest(), 16) % folds


def cross_validate(
    rows: Sequence[LabelledTask], folds: int = 5, progress: Callable[[int], None] | None = None
) -> Evaluation:
    fold = np.array([fold_of(r.task.onet_soc_code, folds) for r in rows])
    y = np.array([EXPOSURE_LEVELS.index(r.human_exposure) for r in rows])
    y_gpt4 = np.array([EXPOSURE_LEVELS.index(r.gpt4_exposure) for r in rows])
    y_auto = np.array([AUTOMATION_LEVELS.index(r.gpt4_automation) for r in rows])
    pred = np.zeros_like(y)
    pred_auto = np.zeros_like(y)
    for k in range(folds):
        train = [r for r, f in zip(rows, fold, strict=True) if f != k]
        test = np.flatnonzero(fold == k)
        model = ExposureModel.train(train, {})
        p = model.predict([rows[int(i)].task.text for i in test], with_evidence=False)
        pred[test] = p.exposure.argmax(1)
        pred_auto[test] = p.automation.argmax(1)
        if progress:
            progress(k + 1)
    return Evaluation(
        folds=folds,
        rows=len(rows),
        occupations=len({r.task.onet_soc_code for r in rows}),
        model=scores(y, pred, len(EXPOSURE_LEVELS)),
        gpt4=scores(y, y_gpt4, len(EXPOSURE_LEVELS)),
        automation_vs_gpt4=scores(y_auto, pred_auto, len(AUTOMATION_LEVELS)),
    )
