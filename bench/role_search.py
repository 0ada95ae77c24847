"""Job titles as people write them today, matched to O*NET occupations: top-1 and top-3.

The titles and the occupations a careful reader accepts for each are in ``data/role_titles.tsv``.
Titles written word for word in Guarantor's own list (``guarantor/tasks/titles.tsv``) are counted
apart, so the figure on titles the list never names is visible too.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from _common import DATA_DIR, report

from guarantor.tasks.catalogue import read_occupations
from guarantor.tasks.search import _aliases, _index, rank

TITLES = Path(__file__).parent / "data" / "role_titles.tsv"


def read_titles(path: Path = TITLES) -> list[tuple[str, set[str]]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            title, codes = line.split("\t")
            out.append((title, set(codes.split(","))))
    return out


def main() -> None:
    occupations = read_occupations(DATA_DIR)
    titles = read_titles()
    index = _index(occupations)[0]
    listed = {" ".join(sorted(index.normalise(alias))) for alias, _ in _aliases()}
    start = time.perf_counter()
    results = [(title, ok, rank(occupations, title)[:3]) for title, ok in titles]
    seconds = time.perf_counter() - start
    figures: dict[str, float] = {"titles": len(titles)}
    for name, keep in (
        ("all", lambda t: True),
        ("not_listed", lambda t: " ".join(sorted(index.normalise(t))) not in listed),
    ):
        chosen = [(t, ok, top) for t, ok, top in results if keep(t)]
        figures[f"{name}_titles"] = len(chosen)
        figures[f"{name}_top1"] = sum(bool(top) and top[0].occupation.code in ok for _, ok, top in chosen) / len(chosen)
        figures[f"{name}_top3"] = sum(any(m.occupation.code in ok for m in top) for _, ok, top in chosen) / len(chosen)
    figures["ms_per_title"] = 1000 * seconds / len(titles)
    if "-v" in sys.argv:
        for title, ok, top in results:
            if not top or top[0].occupation.code not in ok:
                picks = "; ".join(f"{m.occupation.code} {m.occupation.title} ({m.score})" for m in top)
                print(f"MISS {title!r}: {picks}", file=sys.stderr)
    report("role_search", figures)


if __name__ == "__main__":
    main()
