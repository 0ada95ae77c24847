"""Exposure model quality on occupations it never saw, next to GPT-4's labels on the same rows."""

from __future__ import annotations

import sys
import time

from _common import DATA_DIR, report

from guarantor.tasks import catalogue
from guarantor.tasks.evaluation import cross_validate


def main() -> None:
    folds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    rows = catalogue.read_labelled(DATA_DIR)
    applicability = catalogue.read_applicability(DATA_DIR.parent / "observed")
    start = time.perf_counter()
    result = cross_validate(rows, folds, applicability=applicability)
    seconds = time.perf_counter() - start
    m, t, g = result.model, result.text_only, result.gpt4
    report(
        "model_quality",
        {
            "folds": folds,
            "rows": result.rows,
            "occupations": result.occupations,
            "accuracy": m.accuracy,
            "kappa": m.kappa,
            "macro_f1": m.macro_f1,
            "occupation_r": result.model_r.expected,
            "occupation_r_from_labels": result.model_r.labels,
            "text_only_accuracy": t.accuracy,
            "text_only_kappa": t.kappa,
            "text_only_macro_f1": t.macro_f1,
            "text_only_occupation_r": result.text_only_r.expected,
            "gpt4_accuracy": g.accuracy,
            "gpt4_kappa": g.kappa,
            "gpt4_macro_f1": g.macro_f1,
            "gpt4_occupation_r": result.gpt4_r,
            "kappa_ratio_to_gpt4": m.kappa / g.kappa,
            "automation_accuracy_vs_gpt4": result.automation_vs_gpt4.accuracy,
            "cv_seconds": seconds,
        },
    )


if __name__ == "__main__":
    main()
