"""Dates in the forms trackers and spreadsheets write them, read the same way for a whole column.

Exports carry ISO 8601 (GitHub, Linear's API), Jira's ``22/Dec/25 2:38 PM`` with the month in the
exporting user's language, numeric dates day first (Jira Server in most of the world) or month
first (US spreadsheets), JavaScript's ``Date.toString()`` (Linear's CSV export), RFC 2822 and
epoch seconds or milliseconds. A numeric date such as ``03/04/2024`` is read day first or month
first for the whole file: a date whose first number is over 12 says day first, one whose second is
over 12 says month first. Where no date in the file says which, the person is asked
(``--day-first`` / ``--month-first``), never guessed for them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from guarantor.clock import MAX_YEAR, MIN_YEAR
from guarantor.errors import InputError

# Short and long month names in the languages Jira and spreadsheets export in; dots dropped and
# lower-cased before lookup. A name two languages give different months would be left out.
_MONTHS: dict[int, tuple[str, ...]] = {
    1: (
        "jan",
        "january",
        "janv",
        "janvier",
        "januar",
        "jän",
        "jänner",
        "ene",
        "enero",
        "gen",
        "gennaio",
        "janeiro",
        "januari",
        "sty",
        "styczeń",
        "stycznia",
        "tammi",
        "tammikuu",
        "led",
        "leden",
    ),
    2: (
        "feb",
        "february",
        "févr",
        "fevr",
        "février",
        "fevrier",
        "februar",
        "febrero",
        "febbraio",
        "fev",
        "fevereiro",
        "februari",
        "lut",
        "luty",
        "lutego",
        "helmi",
        "helmikuu",
        "úno",
        "únor",
    ),
    3: (
        "mar",
        "march",
        "mars",
        "mär",
        "märz",
        "maerz",
        "marzo",
        "março",
        "marco",
        "maart",
        "mrt",
        "mrz",
        "marzec",
        "marca",
        "maalis",
        "maaliskuu",
        "bře",
        "březen",
    ),
    4: (
        "apr",
        "april",
        "avr",
        "avril",
        "abr",
        "abril",
        "aprile",
        "kwi",
        "kwiecień",
        "kwietnia",
        "huhti",
        "huhtikuu",
        "dub",
        "duben",
    ),
    5: ("may", "mai", "mayo", "mag", "maggio", "maio", "mei", "maj", "maja", "touko", "toukokuu", "kvě", "květen"),
    6: (
        "jun",
        "june",
        "juin",
        "juni",
        "junio",
        "giu",
        "giugno",
        "junho",
        "cze",
        "czerwiec",
        "czerwca",
        "kesä",
        "kesäkuu",
        "čvn",
        "červen",
    ),
    7: (
        "jul",
        "july",
        "juil",
        "juillet",
        "juli",
        "julio",
        "lug",
        "luglio",
        "julho",
        "lip",
        "lipiec",
        "lipca",
        "heinä",
        "heinäkuu",
        "čvc",
        "červenec",
    ),
    8: (
        "aug",
        "august",
        "août",
        "aout",
        "ago",
        "agosto",
        "augustus",
        "sie",
        "sierpień",
        "sierpnia",
        "elo",
        "elokuu",
        "srp",
        "srpen",
    ),
    9: (
        "sep",
        "sept",
        "september",
        "septembre",
        "set",
        "settembre",
        "septiembre",
        "setembro",
        "wrz",
        "wrzesień",
        "września",
        "syys",
        "syyskuu",
        "zář",
        "září",
    ),
    10: (
        "oct",
        "october",
        "octobre",
        "okt",
        "oktober",
        "octubre",
        "ott",
        "ottobre",
        "out",
        "outubro",
        "paź",
        "październik",
        "października",
        "loka",
        "lokakuu",
        "říj",
        "říjen",
    ),
    11: ("nov", "november", "novembre", "noviembre", "novembro", "lis", "listopad", "listopada", "marras", "marraskuu"),
    12: (
        "dec",
        "december",
        "déc",
        "décembre",
        "decembre",
        "dez",
        "dezember",
        "dic",
        "diciembre",
        "dicembre",
        "dezembro",
        "gru",
        "grudzień",
        "grudnia",
        "joulu",
        "joulukuu",
        "pro",
        "prosinec",
    ),
}
MONTHS = {name: number for number, names in _MONTHS.items() for name in names}

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
_EPOCH = re.compile(r"\d{9,10}(?:\d{3})?(?:\.\d+)?")
_NUMERIC = re.compile(r"(\d{1,4})[/.-](\d{1,2})[/.-](\d{1,4})(?:[ T,]+(.*))?")
_NAMED_DMY = re.compile(r"(\d{1,2})[/ .-]+([^\W\d_]+)\.?[/ .-]+(\d{2,4})(?:[ ,T]+(.*))?")  # 22/Dec/25 2:38 PM
_NAMED_MDY = re.compile(r"(?:[^\W\d_]+,? )?([^\W\d_]+)\.? (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})(?:[ ,T]+(.*))?")
_CLOCK = re.compile(r"(\d{1,2})[:.h](\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*([ap]\.?m\.?)?\s*(.*)", re.I)
_ZONE = re.compile(r"(?:gmt|utc|z)?\s*([+-])(\d{2}):?(\d{2})(?:\s*\(.*\))?|(?:gmt|utc|z)(?:\s*\(.*\))?", re.I)


class AmbiguousDate(InputError):
    """A numeric date whose order nothing has said yet: the caller may learn it from the file."""


@dataclass
class DateOrder:
    """How numeric dates of one file are read: ``day_first`` True, False, or None while nothing
    has said which; ``fmt`` a strptime format the person gave, used before anything else."""

    day_first: bool | None = None
    fmt: str | None = None

    def learn(self, values: Iterable[str]) -> DateOrder:
        """Read the order off every value of a column (None stays where none can say)."""
        if self.fmt or self.day_first is not None:
            return self
        seen = {True: "", False: ""}
        for raw in values:
            m = _NUMERIC.fullmatch(raw.strip())
            if not m or len(m[1]) == 4:
                continue
            a, b = int(m[1]), int(m[2])
            if a > 12 >= b:
                seen[True] = seen[True] or raw
            elif b > 12 >= a:
                seen[False] = seen[False] or raw
        if seen[True] and seen[False]:
            raise InputError(
                f"dates are written both day first ({seen[True]!r}) and month first ({seen[False]!r}): "
                "pass --date-format with the form they share, or fix the export"
            )
        if seen[True] or seen[False]:
            self.day_first = bool(seen[True])
        return self


def parse(raw: str, order: DateOrder, where: str) -> datetime | None:
    """A date of any form above, in UTC (UTC when the text gives no zone); None for an empty cell."""
    text = raw.strip()
    if not text:
        return None
    parsed = _parse(text, order, where)
    if parsed is None:
        raise InputError(
            f"{where}: {text[:60]!r} is not a date in a form Guarantor reads (ISO 8601, 22/Dec/25 2:38 PM, "
            "16/02/2017 15:26, Tue Aug 23 2022 13:54:01 GMT+0000, epoch seconds); give its form with --date-format"
        )
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise InputError(f"{where}: {text[:60]!r} is outside the years {MIN_YEAR} to {MAX_YEAR}")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _parse(text: str, order: DateOrder, where: str) -> datetime | None:
    if order.fmt:
        try:
            return datetime.strptime(text, order.fmt)
        except ValueError as exc:
            raise InputError(f"{where}: {text[:60]!r} does not match --date-format {order.fmt!r}") from exc
    if _ISO.match(text):
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            pass
    if _EPOCH.fullmatch(text):
        seconds = float(text) / (1000 if len(text.split(".")[0]) > 10 else 1)
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)
    if m := _NUMERIC.fullmatch(text):
        return _numeric(m, order, text, where)
    if m := _NAMED_DMY.fullmatch(text):
        return _at(_year(m[3]), MONTHS.get(m[2].lower()), int(m[1]), m[4])
    words = text.split()
    if words and words[0].rstrip(",").lower() in _WEEKDAYS and (m := _NAMED_DMY.fullmatch(" ".join(words[1:]))):
        return _at(_year(m[3]), MONTHS.get(m[2].lower()), int(m[1]), m[4])  # RFC 2822: Tue, 23 Aug 2022 …
    if m := _NAMED_MDY.fullmatch(text):
        return _at(int(m[3]), MONTHS.get(m[1].lower()), int(m[2]), m[4])  # Date.toString(), Aug 23, 2022
    return None


_WEEKDAYS = {
    "mon",
    "tue",
    "wed",
    "thu",
    "fri",
    "sat",
    "sun",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
}


def _numeric(m: re.Match[str], order: DateOrder, text: str, where: str) -> datetime | None:
    first, second, third = m[1], int(m[2]), m[3]
    if len(first) == 4:  # 2024/03/04: year first is always year-month-day
        return _at(int(first), second, int(third), m[4])
    if int(first) > 12:
        day_first = True
    elif second > 12:
        day_first = False
    elif order.day_first is None:
        raise AmbiguousDate(
            f"{where}: {text!r} can be read day first or month first, and no date in the file says which: "
            "pass --day-first or --month-first"
        )
    else:
        day_first = order.day_first
    day, month = (int(first), second) if day_first else (second, int(first))
    return _at(_year(third), month, day, m[4])


def _year(text: str) -> int:
    """Two-digit years are this century's: exports of tracker data are never from the 1900s."""
    year = int(text)
    return 2000 + year if len(text) <= 2 else year


def _at(year: int, month: int | None, day: int, clock: str | None) -> datetime | None:
    if month is None:
        return None
    try:
        date = datetime(year, month, day)
    except ValueError:
        return None
    if not clock:
        return date
    c = _CLOCK.fullmatch(clock.strip())
    if not c:
        return None
    hour, minute, second = int(c[1]), int(c[2]), int(c[3] or 0)
    if c[5]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if c[5].lower().startswith("p") else 0)
    try:
        stamp = date.replace(hour=hour, minute=minute, second=second, microsecond=int((c[4] or "0")[:6].ljust(6, "0")))
    except ValueError:
        return None
    rest = c[6].strip()
    if not rest:
        return stamp
    z = _ZONE.fullmatch(rest)
    if not z:
        return None
    if z[1]:
        offset = timedelta(hours=int(z[2]), minutes=int(z[3])) * (1 if z[1] == "+" else -1)
        return stamp.replace(tzinfo=UTC) - offset
    return stamp.replace(tzinfo=UTC)
