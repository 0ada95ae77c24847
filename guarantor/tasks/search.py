"""Find the O*NET occupation a person means by the job title they use today.

O*NET's titles are formal ("Software Quality Assurance Analysts and Testers") while people write
"Sr. QA Engineer", "HRBP" or "sofware developer". A title is read in four steps, each of which a
person can check:

1. normalised: lower case, words only, seniority and level words dropped ("senior", "II"),
   parentheses dropped when something is left, abbreviations spelled out ("SRE", "HRBP", "RN");
2. corrected: a word no title uses is replaced by the closest word one does ("scientst");
3. matched against every occupation's names, its O*NET title and the job titles of
   ``titles.tsv`` (a list written for Guarantor of titles in use today), by the words they share,
   rare words weighing more;
4. where no name matches well, the title is compared with each occupation's task statements
   (TF-IDF), so a title made of words O*NET uses for the work itself still finds it.

The score of the best name is the confidence: 1.0 for a title or alias met word for word.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from difflib import get_close_matches
from functools import cache
from importlib import resources

import numpy as np

from guarantor.errors import Ambiguous, InputError, NotFound
from guarantor.tasks.catalogue import Occupation

CLEAR = 0.75
"""A best match at least this good, and ``MARGIN`` ahead of the next occupation, is the pick."""
MARGIN = 0.1
FLOOR = 0.3
"""Below this, an occupation is not offered as a candidate."""
TASKS_WEIGHT = 0.3
"""How much the similarity to an occupation's task statements adds when no name matches well."""

_CODE = re.compile(r"^\d{2}-\d{4}(\.\d{2})?$")
_CODE_AND_TITLE = re.compile(r"^(\d{2}-\d{4}\.\d{2})\s+\S")
_WORD = re.compile(r"[a-z0-9]+")
_STOP = {"of", "the", "and", "a", "an", "for", "to", "in", "at", "with", "on", "or"}
_LEVEL = {
    "senior", "sr", "junior", "jr", "lead", "principal", "staff", "intern", "trainee",
    "apprentice", "i", "ii", "iii", "iv", "v", "1", "2", "3", "4", "certified", "graduate",
    "entry", "experienced", "expert", "mid", "deputy",
}  # fmt: skip
_ABBREVIATIONS = {
    "sre": "site reliability engineer",
    "qa": "quality assurance",
    "hrbp": "hr business partner",
    "ml": "machine learning",
    "mlops": "machine learning engineer",
    "ai": "ai",
    "pm": "product manager",
    "mgr": "manager",
    "eng": "engineer",
    "engr": "engineer",
    "dev": "developer",
    "devs": "developer",
    "swe": "software engineer",
    "rn": "registered nurse",
    "lpn": "licensed practical nurse",
    "lvn": "licensed practical nurse",
    "np": "nurse practitioner",
    "cpa": "accountant",
    "acca": "accountant",
    "cto": "chief technology officer",
    "ceo": "chief executive officer",
    "cfo": "chief financial officer",
    "coo": "chief operating officer",
    "cmo": "chief marketing officer",
    "cio": "chief information officer",
    "cpo": "chief people officer",
    "chro": "chief human resources officer",
    "vp": "vp",
    "svp": "vp",
    "evp": "vp",
    "sdr": "sales development representative",
    "bdr": "business development representative",
    "ae": "account executive",
    "csm": "customer success manager",
    "ops": "operations",
    "tech": "technician",
    "techs": "technician",
    "rep": "representative",
    "admin": "administrator",
    "ed": "education",
    "bi": "business intelligence",
    "pentester": "penetration tester",
    "uxui": "ux designer",
    "fpa": "fp and a",
    "dba": "database administrator",
    "emt": "emt",
    "hr": "hr",
    "it": "it",
    "l&d": "learning and development",
    "head": "manager",
    "ap": "accounts payable",
    "ar": "accounts receivable",
    "adviser": "advisor",
    "centre": "center",
    "programme": "program",
}
_TECHNOLOGIES = {
    "react", "angular", "vue", "python", "java", "javascript", "typescript", "golang", "rust", "ruby", "rails",
    "php", "node", "nodejs", "django", "kotlin", "swift", "scala", "dotnet", "net", "aws", "azure", "gcp",
    "kubernetes", "terraform", "unity", "unreal", "flutter", "sql", "saas", "b2b", "b2c", "remote", "hybrid",
}  # fmt: skip
"""Words that say which tools or setting a role has, not which role it is: dropped, never corrected
into an O*NET word ("React" is not "Reactor")."""
_PARENS = re.compile(r"\([^)]*\)|\[[^\]]*\]")


@dataclass(frozen=True)
class Match:
    occupation: Occupation = field(repr=False)
    score: float
    via: str
    """The name that matched: the O*NET title, a job title of ``titles.tsv``, or "task statements"."""
    code: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", self.occupation.code)


def _stem(word: str) -> str:
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _tokens(text: str) -> list[str]:
    text = text.lower().replace("&", " and ").replace("/", " ")
    text = re.sub(r"\bexcept\b.*", "", text)  # O*NET's "…, Except Special Education"
    text = re.sub(r"\bto the\b.*", "", text)  # "Executive Assistant to the CEO"
    words: list[str] = []
    for w in _WORD.findall(text.replace("l and d", "l&d")):
        words.extend(_ABBREVIATIONS.get(w, w).split())
    return [_stem(w) for w in words if w not in _STOP]


def _significant(words: list[str]) -> list[str]:
    """The words that say which role it is: no seniority, level or technology, unless nothing else."""
    return [w for w in words if w not in _LEVEL and w not in _TECHNOLOGIES] or words


class TitleIndex:
    """Every occupation's names, their words and the words' weights, built once per data file."""

    def __init__(self, occupations: dict[str, Occupation], aliases: list[tuple[str, str]]) -> None:
        self.occupations = occupations
        self.names: list[tuple[str, tuple[str, ...], str]] = []  # (code, words, name as written)
        for o in occupations.values():
            self.names.append((o.code, tuple(_tokens(o.title)), o.title))
        for alias, code in aliases:
            if code in occupations:
                self.names.append((code, tuple(_significant(_tokens(alias))), alias))
        df = Counter(w for _, words, _ in self.names for w in set(words))
        n = len(self.names)
        self.weight = {w: math.log(1 + n / c) for w, c in df.items()}
        self.unknown = math.log(1 + n)
        self.vocabulary = sorted(self.weight)
        self.exact: dict[str, str] = {}
        for code, words, _ in self.names:
            self.exact.setdefault(" ".join(sorted(words)), code)

    def normalise(self, text: str) -> list[str]:
        words = _tokens(_PARENS.sub(" ", text)) or _tokens(text)
        kept = _significant(words)
        joined: list[str] = []
        for w in kept:  # "copy writer" -> "copywriter", "front end" -> "frontend"
            if joined and joined[-1] + w in self.weight:
                joined[-1] += w
            else:
                joined.append(w)
        return [c for w in joined for c in self._correct(w)]

    def _correct(self, word: str) -> list[str]:
        """A word no name uses: two words that names use ("scrummaster"), else the closest one."""
        if word in self.weight or len(word) < 4 or word.isdigit():
            return [word]
        for i in range(3, len(word) - 2):
            if word[:i] in self.weight and word[i:] in self.weight:
                return [word[:i], word[i:]]
        close = get_close_matches(word, self.vocabulary, n=1, cutoff=0.8)
        return [close[0] if close else word]

    def rank(self, text: str, tasks: TaskIndex | None) -> list[Match]:
        words = self.normalise(text)
        if not words:
            return []
        key = " ".join(sorted(words))
        query = set(words)
        q_norm = math.sqrt(sum(self.weight.get(w, self.unknown) ** 2 for w in query))
        best: dict[str, tuple[float, str]] = {}
        for code, name_words, written in self.names:
            if not name_words:
                continue
            shared = query & set(name_words)
            if not shared:
                continue
            n_norm = math.sqrt(sum(self.weight[w] ** 2 for w in set(name_words)))
            score = sum(self.weight[w] ** 2 for w in shared) / (q_norm * n_norm)
            if score > best.get(code, (0.0, ""))[0]:
                best[code] = (score, written)
        exact = self.exact.get(key)
        if exact is not None:
            best[exact] = (1.0, best.get(exact, (1.0, text))[1])
        top = max((s for s, _ in best.values()), default=0.0)
        if tasks is not None and top < CLEAR:
            for code, sim in tasks.similar(" ".join(words)):
                score, via = best.get(code, (0.0, "task statements"))
                best[code] = (score + TASKS_WEIGHT * sim, via)
        ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[0]))
        return [Match(self.occupations[code], round(min(s, 1.0), 3), via) for code, (s, via) in ranked]


class TaskIndex:
    """Each occupation's task statements as one TF-IDF vector, for titles no name matches."""

    def __init__(self, occupations: dict[str, Occupation]) -> None:
        from guarantor.tasks.features import Featurizer

        self.codes = list(occupations)
        docs = [" ".join(t.text for t in o.tasks) for o in occupations.values()]
        self.featurizer = Featurizer.fit(docs)
        self.matrix = self.featurizer.transform(docs)

    def similar(self, text: str, k: int = 20) -> list[tuple[str, float]]:
        sims = np.asarray((self.matrix @ self.featurizer.transform([text]).T).todense()).ravel()
        order = np.argsort(-sims)[:k]
        return [(self.codes[i], float(sims[i])) for i in order if sims[i] > 0]


@cache
def _aliases() -> list[tuple[str, str]]:
    text = resources.files("guarantor.tasks").joinpath("titles.tsv").read_text(encoding="utf-8")
    out = []
    for line_no, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        title, sep, code = line.partition("\t")
        if not sep or not _CODE.match(code.strip()):
            raise InputError(f"titles.tsv:{line_no}: expected a title, a tab and an O*NET-SOC code.")
        out.append((title.strip(), code.strip()))
    return out


_indexes: dict[int, tuple[dict[str, Occupation], TitleIndex, list[TaskIndex]]] = {}


def _index(occupations: dict[str, Occupation]) -> tuple[TitleIndex, list[TaskIndex]]:
    """One index per occupations mapping (``read_occupations`` gives one per version of the data
    file); it is held with the mapping, so its id cannot be reused while the entry lives."""
    entry = _indexes.get(id(occupations))
    if entry is None or entry[0] is not occupations:
        entry = _indexes[id(occupations)] = (occupations, TitleIndex(occupations, _aliases()), [])
    return entry[1], entry[2]


def rank(occupations: dict[str, Occupation], query: str) -> list[Match]:
    """Every occupation that matches a title, best first (for candidates and the benchmark). The
    task statements are read only for a title whose best name is not a clear match."""
    index, tasks = _index(occupations)
    matches = index.rank(query, None)
    if not matches or matches[0].score < CLEAR:
        if not tasks:
            tasks.append(TaskIndex(occupations))
        matches = index.rank(query, tasks[0])
    return matches


def search_occupations(occupations: dict[str, Occupation], query: str, limit: int = 20) -> list[Occupation]:
    """Occupations for a search box: codes by prefix, titles by what the person means."""
    q = query.strip()
    if not q:
        return []
    if _CODE.match(q) or q[:2].isdigit():
        return [o for code, o in sorted(occupations.items()) if code.startswith(q)][:limit]
    return [m.occupation for m in rank(occupations, q)[:limit] if m.score >= FLOOR]


def find_occupation(occupations: dict[str, Occupation], query: str) -> Match:
    """The occupation a person means by a title or code; several close matches are ambiguous."""
    q = query.strip()
    written = _CODE_AND_TITLE.match(q)  # as init and the pages write a role: "29-1141.00 Registered Nurses"
    if written and written[1] in occupations:
        return Match(occupations[written[1]], 1.0, "code")
    if _CODE.match(q):
        hits = [o for code, o in occupations.items() if code == q or code.startswith(q + ".")]
        if len(hits) == 1:
            return Match(hits[0], 1.0, "code")
        if len(hits) > 1:
            raise Ambiguous(f"Several occupations have code {q}.", [f"{o.code}  {o.title}" for o in hits])
        raise NotFound(f"No occupation has code {q}.")
    for o in occupations.values():
        if o.title.lower() == q.lower():
            return Match(o, 1.0, o.title)
    ranked = rank(occupations, q)
    if ranked and ranked[0].score >= CLEAR:
        second = ranked[1].score if len(ranked) > 1 else 0.0
        if ranked[0].score - second >= MARGIN or ranked[0].score == 1.0 > second:
            return ranked[0]
    candidates = [f"{m.occupation.code}  {m.occupation.title}" for m in ranked[:8] if m.score >= FLOOR]
    if candidates:
        raise Ambiguous(f"{query!r} matches several occupations; name one by title or code.", candidates)
    closest = [f"{m.occupation.code}  {m.occupation.title}" for m in ranked[:5]]
    raise NotFound(
        f"No occupation matches {query!r}.",
        hint="Closest titles:\n" + "\n".join(f"  {c}" for c in closest)
        if closest
        else "No occupation's title or tasks share a word with it: try another wording, or an O*NET-SOC code "
        "(the web app's Roles page lists them by family).",
    )


def role_problem(occupations: dict[str, Occupation], role: str) -> str | None:
    """Why a workspace's ``role:`` names no one occupation (none, or several, with the candidates),
    or None when it names one."""
    try:
        find_occupation(occupations, role)
    except Ambiguous as exc:
        return f"{role!r} matches several occupations; write one of them: {'; '.join(exc.candidates[:5])}"
    except NotFound as exc:
        closest = "; ".join(line.strip() for line in (exc.hint or "").splitlines()[1:4])
        return f"no occupation matches {role!r}" + (f" (closest: {closest})" if closest else "")
    return None
