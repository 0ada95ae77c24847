"""The one error tree and the exit-code table.

Every failure a person can cause or meet is a ``GuarantorError`` with an exit code from
``ExitCode`` and an HTTP status with a short code; the CLI maps them to a message and the exit code
in one place (``cli.main``) and the web app to the status (``web.errors``), so a script can rely on
the number meaning the same thing in every command and every release. Both live on the class, so a
new subclass states them beside its exit code instead of in a table kept elsewhere.
Third-party exceptions are translated where they are caught (``raise X from exc``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from guarantor import redact


class ExitCode(IntEnum):
    """Exit codes of every ``guarantor`` command. Numbers never change meaning."""

    OK = 0
    """The command did what was asked."""
    INTERNAL = 1
    """A bug in Guarantor: please report it with the message."""
    USAGE = 2
    """The command line itself is wrong (unknown option, missing argument), or a ``GUARANTOR_``
    setting is not valid."""
    INPUT = 3
    """An input file is malformed: the message names file, line and field."""
    NOT_FOUND = 4
    """Something named does not exist (a role, a file, an analysis)."""
    AMBIGUOUS = 5
    """A query matched several things; the message lists the candidates."""
    DATA_MISSING = 6
    """The O*NET data is not where Guarantor looks; the message says how to get it."""
    NETWORK = 7
    """A download or remote call failed."""
    DATABASE = 8
    """The database could not be reached or migrated."""
    MODEL = 9
    """The exposure model could not be built or loaded."""
    AT_RISK = 10
    """`check`: every outcome is met, but at least one is at risk (a warning level or a fast burn)."""
    BROKEN = 11
    """`check`: at least one outcome misses its target or has spent its error budget."""
    NO_DATA = 12
    """`check`: at least one outcome has no data (empty result, missing value); none is broken."""
    SOURCE_ERROR = 13
    """`check`: at least one source failed (refused, timed out, not a number); none is broken."""
    REFUSED = 14
    """Not allowed: not logged in, a role too low, a missing CSRF token, or serving beyond loopback
    without accounts."""
    CONFLICT = 15
    """Something is in the way: an edit against a workspace that changed since, a file that exists, a
    port in use."""
    INTERRUPTED = 130
    """Stopped by Ctrl-C; nothing half-written is kept."""
    OUTPUT_CLOSED = 141
    """What read the output stopped reading (``| head``): what it read was written whole, and the
    command stopped there. 128 + SIGPIPE, as a Unix tool that signal ends."""


class GuarantorError(Exception):
    """The root of the tree. A subclass states its exit code, HTTP status and short code as class
    keywords (``class X(GuarantorError, exit_code=…, http_status=…, code=…)``); what it leaves out it
    inherits from its parent, so a new subclass is never silently mapped anywhere else."""

    exit_code: ExitCode = ExitCode.INTERNAL
    http_status: int = 500
    code: str = "internal"

    def __init_subclass__(
        cls, *, exit_code: ExitCode | None = None, http_status: int | None = None, code: str | None = None
    ) -> None:
        super().__init_subclass__()
        if exit_code is not None:
            cls.exit_code = exit_code
        if http_status is not None:
            cls.http_status = http_status
        if code is not None:
            cls.code = code

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        """Masked of secrets here, once for every face that shows an error (exit text, API
        body, status reason, alert, log line): one built from a driver's or library's message
        may quote a URL with its password or a header with its token."""
        message = redact.secrets(message)
        super().__init__(message)
        self.message = message
        self.hint = redact.secrets(hint) if hint is not None else None

    def __reduce__(self) -> tuple[object, ...]:
        """Pickled as it is, whatever its ``__init__`` asks: an error met by the process that reads
        a large export (``work.reader``) is raised again by the one that writes it."""
        return _unpickled, (type(self), self.args, self.__dict__)


def _unpickled(cls: type[GuarantorError], args: tuple[object, ...], state: dict[str, object]) -> GuarantorError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class UsageError(GuarantorError, exit_code=ExitCode.USAGE, http_status=400, code="usage"):
    """The command line itself is wrong in a way the parser cannot see (a value given twice)."""


class InputError(GuarantorError, exit_code=ExitCode.INPUT, http_status=422, code="invalid"):
    """An input a person gave is malformed; the message names the file, line and field."""


class TooLarge(InputError, http_status=413, code="too_large"):
    """An input past a limit (a request body, a file, a line, YAML nesting or alias expansion)."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in an input file, with where it is."""

    file: str
    line: int | None
    column: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class ValidationFailed(InputError):
    """Several problems found at once, so a person can fix them all in one pass."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class NotFound(GuarantorError, exit_code=ExitCode.NOT_FOUND, http_status=404, code="not_found"):
    """Something named does not exist, or the caller may not know it exists (another team's)."""


class Ambiguous(GuarantorError, exit_code=ExitCode.AMBIGUOUS, http_status=400, code="ambiguous"):
    """A query matched several things: the person picks one from the candidates in the hint."""

    def __init__(self, message: str, candidates: list[str]) -> None:
        super().__init__(message, hint="Candidates:\n" + "\n".join(f"  {c}" for c in candidates))
        self.candidates = candidates


class DataMissing(GuarantorError, exit_code=ExitCode.DATA_MISSING, http_status=503, code="data_missing"):
    """The O*NET data is not where Guarantor looks: the server is not ready, not the request wrong."""


class NetworkError(GuarantorError, exit_code=ExitCode.NETWORK, http_status=502, code="network"):
    """A download or remote call failed: another host's fault, so a gateway error."""


class DatabaseError(GuarantorError, exit_code=ExitCode.DATABASE, http_status=503, code="database"):
    """The database could not be reached or migrated."""


class DatabaseBusy(DatabaseError, code="database_busy"):
    """Another process holds the database's lock for longer than the wait allows (SQLite's "database
    is locked"): nothing was changed, and the same request a moment later may go through."""

    retry_after = 2


class ModelError(GuarantorError, exit_code=ExitCode.MODEL, http_status=503, code="model"):
    """The exposure model could not be built or loaded."""


class Unauthenticated(GuarantorError, exit_code=ExitCode.REFUSED, http_status=401, code="unauthenticated"):
    """No valid session or token: the web app answers 401 (the API) or sends to the login page."""


class Forbidden(GuarantorError, exit_code=ExitCode.REFUSED, http_status=403, code="forbidden"):
    """Known, but not allowed: a role too low, a CSRF token missing, or an unsafe configuration."""


class Conflict(GuarantorError, exit_code=ExitCode.CONFLICT, http_status=409, code="conflict"):
    """Something is in the way: a workspace changed since it was read, a file exists, a port in use."""


class TooManyAttempts(Forbidden, http_status=429, code="too_many_attempts"):
    """Logins refused for a while after repeated failures, for a user or a client address."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, hint=f"Try again in {retry_after} s.")
        self.retry_after = retry_after


class Busy(GuarantorError, exit_code=ExitCode.CONFLICT, http_status=429, code="busy"):
    """As many checks of the workspace as the admin allows at once are running: one more would take
    threads the pages need. Asked again after ``retry_after`` seconds, it may run."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, hint=f"Try again in {retry_after} s.")
        self.retry_after = retry_after


def from_os_error(exc: OSError) -> GuarantorError:
    """An operating-system error no code path translated, as the error it is to a person: a file
    that is not there (not found), a host that cannot be reached (network), or a file that cannot
    be read or written (input)."""
    message = f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc)
    if isinstance(exc, FileNotFoundError):
        return NotFound(message)
    if isinstance(exc, ConnectionError | TimeoutError) or type(exc).__module__ == "socket":
        return NetworkError(message)
    return InputError(message)
