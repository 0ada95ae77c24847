"""One typed settings object, read from ``GUARANTOR_*`` environment variables, then from the
user's settings file.

Every module takes its configuration from here so that a person can see, in one place,
every knob the product has and what it defaults to. The settings file holds what a person set
once (`guarantor data use`, `guarantor data download`) so that every later command, in any
shell, finds it without a variable; a variable still wins over it.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from platformdirs import user_cache_dir, user_config_dir
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from guarantor.errors import UsageError


class Settings(BaseSettings):
    # Empty counts as unset, as for most tools read from the environment: `GUARANTOR_DATA_DIR=` made the
    # current folder the data folder, and `GUARANTOR_CHECK_WORKERS=` an error.
    # No setting is infinite or NaN: GUARANTOR_WEB_SESSION_HOURS=1e400 made every login answer 500.
    model_config = SettingsConfigDict(
        env_prefix="GUARANTOR_", extra="ignore", env_ignore_empty=True, allow_inf_nan=False
    )

    data_dir: Path | None = Field(
        default=None,
        description=(
            "Folder with the O*NET files (tasks.tsv, exposure_labels.tsv, ...). "
            "Unset: GUARANTOR_HOME/data, where `guarantor data download` writes them."
        ),
    )
    home: Path = Field(
        default=Path.home() / ".guarantor",
        description="Where Guarantor keeps its database and downloaded data.",
    )
    cache_dir: Path = Field(
        default_factory=lambda: Path(user_cache_dir("guarantor")),
        description=(
            "Where built exposure models are kept, one per model version and data version, shared by every "
            "GUARANTOR_HOME of the user: the first command that needs a model builds it, the others reuse it. "
            "Default: the user's cache folder (~/.cache/guarantor on Linux)."
        ),
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the database. Unset: SQLite at GUARANTOR_HOME/guarantor.db.",
    )
    download_base_url: str = Field(
        default="https://raw.githubusercontent.com/openai/GPTs-are-GPTs/main/data/",
        description="Where `guarantor data download` fetches the upstream label files from.",
    )
    observed_base_url: str = Field(
        default="https://raw.githubusercontent.com/microsoft/working-with-ai/84c4eba/data/",
        description=(
            "Where `guarantor data download` fetches the observed AI-use files (Working with AI, CC BY 4.0) from. "
            "They are optional: when they cannot be fetched, the download says so and keeps the rest."
        ),
    )
    download_timeout_s: float = Field(default=30.0, gt=0, le=3600, description="Timeout of one download, in seconds.")
    github_api_url: str = Field(
        default="https://api.github.com",
        description="GitHub's REST API for `guarantor sync github` (a GitHub Enterprise server: https://HOST/api/v3).",
    )
    linear_api_url: str = Field(
        default="https://api.linear.app/graphql",
        description="Linear's GraphQL API for `guarantor sync linear`; the key comes from LINEAR_API_KEY.",
    )
    sync_max_wait_s: float = Field(
        default=900.0,
        ge=0,
        le=86400,
        description=(
            "The longest a sync waits when a tracker's rate limit asks it to; a longer wait stops the sync, "
            "which resumes from its last stored page when run again."
        ),
    )
    classify_workers: int = Field(
        default_factory=lambda: min(_cpus(), 8),
        ge=1,
        le=64,
        description=(
            "Processes that predict the tasks of a `classify` input longer than one chunk (2,048 tasks), forked "
            "from the command's own, which reads and writes; 1: the command's process alone. Default: the CPUs "
            "the process may use, at most 8."
        ),
    )
    check_workers: int = Field(default=8, ge=1, le=256, description="Indicators `check` evaluates at once.")
    check_retries: int = Field(default=1, ge=0, le=10, description="Retries of a source that fails, per check.")
    web_session_hours: float = Field(
        default=8.0, gt=0, le=24 * 366, description="How long a browser login lasts, in hours (at most a year)."
    )
    web_port: int = Field(default=8000, ge=1, le=65535, description="The port `guarantor serve` listens on.")
    web_no_login: bool = Field(
        default=False,
        description="One person on their own machine: a browser on loopback, asking by a loopback name, is "
        "logged in as admin without a password (`serve --no-login`; refused beyond loopback).",
    )
    web_threads: int = Field(
        default=4,
        ge=1,
        le=256,
        description=(
            "Threads per server process for requests that read the database. Few is faster: waiting requests "
            "queue in order instead of contending for the interpreter (p95 65 ms against 90 ms with 10 threads, "
            "50 clients, 2 cores); raise it when slow sources make web-triggered checks common."
        ),
    )
    web_cache_s: float = Field(
        default=2.0,
        ge=0,
        le=3600,
        description=(
            "Caching in the server, in seconds; 0: none, every request computes its answer. Pages and API answers "
            "are kept per data version: a change made through this process shows at once, through another "
            "process or machine on the same database within 0.5 s. The organisation view, and who a session or "
            "token belongs to (at most 5 s), are kept this long."
        ),
    )
    web_max_body_bytes: int = Field(
        default=1 << 20,
        ge=1024,
        le=1 << 30,
        description=(
            "The largest request body the server reads, in bytes (1 MiB); a larger one is refused with 413 "
            "before it is read whole."
        ),
    )
    login_free_failures: int = Field(
        default=5,
        ge=1,
        le=1000,
        description=(
            "Failed logins allowed for one user name, or from one client address, before each further attempt "
            "must wait (1 s, doubling with every failure up to GUARANTOR_LOGIN_MAX_WAIT_S)."
        ),
    )
    login_max_wait_s: int = Field(
        default=900, ge=1, le=86400, description="The longest a user or client must wait after repeated failed logins."
    )
    measure_timeout_max_s: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description=(
            "The longest one measurement may take, in seconds, whatever an indicator's or source's timeout asks: "
            "a wall-clock deadline covering connecting, every read and the whole answer. An edit through the web "
            "or the API asking for more is refused."
        ),
    )
    web_checks_at_once: int = Field(
        default=2,
        ge=1,
        le=64,
        description=(
            "Checks of one workspace that requests to the server may run at once, each on threads of its own, so "
            "checks on slow sources never hold the threads that answer pages; one more is answered 429."
        ),
    )
    edit_min_schedule_s: float = Field(
        default=60.0,
        ge=1,
        le=86400,
        description=(
            "The shortest schedule (every) an edit through the web or the API may set, in seconds: each slot "
            "queries every indicator of the outcome, so a schedule of one second would load its sources."
        ),
    )
    edit_max_bytes: int = Field(
        default=1 << 20,
        ge=4096,
        le=64 << 20,
        description="The largest workspace file an edit through the web or the API may leave, in bytes (1 MiB).",
    )
    edit_max_indicators: int = Field(
        default=500,
        ge=1,
        le=100_000,
        description="The most indicators a workspace may hold after an edit through the web or the API.",
    )
    web_trusted_proxies: str = Field(
        default="",
        description=(
            "Addresses of the reverse proxies whose X-Forwarded-For names the client (comma-separated); from "
            "anyone else, the connection's own address is the client's, so the per-address login limit holds."
        ),
    )

    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir if self.data_dir is not None else self.home / "data"

    @property
    def resolved_database_url(self) -> str:
        """libpq's and Heroku's spellings (``postgres://``, ``postgresql://``) name the driver
        Guarantor installs, psycopg 3: SQLAlchemy would look for psycopg2, or refuse ``postgres``."""
        url = self.database_url or f"sqlite:///{self.home / 'guarantor.db'}"
        scheme, sep, rest = url.partition("://")
        return f"postgresql+psycopg://{rest}" if sep and scheme in ("postgres", "postgresql") else url

    @property
    def model_dir(self) -> Path:
        return self.cache_dir / "models"


def _cpus() -> int:
    """The CPUs this process may run on (its affinity, which containers set), where the system says."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


CONFIG_ENV = "GUARANTOR_CONFIG"


def settings_file() -> Path:
    """The user's settings file: GUARANTOR_CONFIG, else ``settings.env`` in the platform's config
    folder (~/.config/guarantor on Linux). It holds ``GUARANTOR_NAME=value`` lines, as a .env file."""
    explicit = os.environ.get(CONFIG_ENV)
    return Path(explicit) if explicit else Path(user_config_dir("guarantor")) / "settings.env"


def remember(field: str, value: str) -> Path:
    """Keep a setting in the user's settings file for every later command; returns the file."""
    from dotenv import set_key

    path = settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(exist_ok=True)
    set_key(path, f"GUARANTOR_{field.upper()}", value, quote_mode="always")
    get_settings.cache_clear()
    return path


def remembered() -> set[str]:
    """The settings the file sets and the environment does not (so they come from the file)."""
    from dotenv import dotenv_values

    path = settings_file()
    if not path.is_file():
        return set()
    keys = {k for k, v in dotenv_values(path).items() if v}
    return {k.removeprefix("GUARANTOR_").lower() for k in keys if not os.environ.get(k)}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings from the environment and the settings file. A value that is not valid is the
    invocation's mistake, not a bug: a usage error naming the variable, not pydantic's report of a
    model's field."""
    try:
        return Settings(_env_file=settings_file())
    except ValidationError as exc:
        problems = [f"GUARANTOR_{str(e['loc'][0]).upper()}={e['input']!r}: {e['msg']}" for e in exc.errors()]
        raise UsageError("; ".join(problems)) from exc
