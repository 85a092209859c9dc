"""One place for every setting; each is an environment variable (see README)."""

from __future__ import annotations

import re
from functools import lru_cache

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./dossier.db"
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_URL_TEMPLATES: dict[str, str | None] = {
    "article": "/news/{slug}",
    "event": "/events/{slug}",
    "publication": "/publications/{slug}",
    "person": "/people/{slug}",
    "topic": "/topics/{slug}",
    "quote": "/news/{article_slug}#quote-{slug}",
    "resource": "/resources/{slug}",
    "organization": "/organizations/{slug}",
}
# A language tag's shape (RFC 5646): an ISO 639 language of 2-3 letters, then subtags
# (script, region, variant…) of 1-8 letters or digits, joined by hyphens.
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*", re.ASCII)


# The drivers Dossier installs, by database: a URL naming another (`postgresql+asyncpg`)
# was a traceback of the driver's missing module at the first connection.
_DRIVERS = {"sqlite": ("pysqlite",), "postgresql": ("psycopg",)}


def normalize_database_url(url: str) -> str:
    """Accept `postgresql://`, `postgres://` and `postgresql+psycopg2://` (libpq's URL
    too: what hosts and older tools hand out) and pick the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    scheme = url.partition(":")[0]
    if "://" not in url:
        return url
    database, _, driver = scheme.partition("+")
    if database not in _DRIVERS:
        raise ValueError(f"Dossier runs on SQLite or PostgreSQL, not '{scheme}'")
    if driver and driver not in _DRIVERS[database]:
        raise ValueError(
            f"Dossier connects to {'SQLite' if database == 'sqlite' else 'PostgreSQL'} with "
            f"{_DRIVERS[database][0]}, not '{driver}': write the URL as "
            f"'{'sqlite:///' if database == 'sqlite' else 'postgresql://'}…'"
        )
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL; postgresql://user@host/db selects PostgreSQL.",
    )
    database_read_url: str | None = Field(
        default=None, description="Optional read replica used for public reads."
    )
    db_pool_size: int = Field(default=5, ge=1, description="Connections per worker (PostgreSQL).")
    db_statement_timeout_ms: int = Field(
        default=5000, ge=0, description="Statement timeout for PostgreSQL queries, in milliseconds."
    )
    redis_url: str | None = Field(default=None, description="Optional shared cache tier.")
    cache_channel: str = Field(
        default="dossier:invalidate",
        description="Redis pub/sub channel on which workers broadcast cache purges.",
    )
    public_site_url: str = Field(
        default="https://www.example.org",
        description="Base URL of the public website; feeds build absolute links from it.",
    )
    api_base_url: str = Field(
        default="",
        description="Public base URL of this API, for the links it gives to itself (feeds' "
        "self links and ids, the feed links of topics and people). Empty: each request's own "
        "scheme and host, as pagination links and `Location` use.",
    )
    feed_language: str = Field(
        default="en",
        description="The language of the feeds' text, as a language tag (BCP 47: `en`, "
        "`en-US`, `fr`): RSS `<language>`, Atom `xml:lang`, JSON Feed `language`.",
    )
    url_templates: dict[str, str | None] = Field(
        default=DEFAULT_URL_TEMPLATES,
        description="Per-type path templates on the public site (JSON object); a type left "
        "out keeps its default, and one given null has no page (no link).",
    )
    cache_max_age: int = Field(default=60, ge=0, description="max-age of public GET responses.")
    response_cache: bool = Field(
        default=True, description="Cache public GET responses in process (purged on writes)."
    )
    response_cache_max_bytes: int = Field(
        default=64 * 1024 * 1024, ge=0, description="Size bound of each worker's response cache."
    )
    cache_version_poll: float = Field(
        default=1.0,
        ge=0,
        description="Seconds between reads of the content versions, which purge the response "
        "cache of writes made by other processes (dossier import, SQL); 0: never.",
    )
    changes_settle: float = Field(
        default=5.0,
        ge=0,
        le=3600,
        description="Seconds a change waits before `/api/v1/changes` lists it: a write that "
        "read the clock before another committed can still commit for that long, and a "
        "partner's token must not move past it.",
    )
    cors_origins: list[str] = Field(default=["*"], description="Allowed CORS origins (JSON list).")
    secret_key: str = Field(
        default="dossier-development-secret-change-me",
        description="Signs pagination cursors and change tokens.",
    )
    max_body_bytes: int = Field(
        default=1_000_000, ge=1, description="Largest accepted request body."
    )
    graphql_max_depth: int = Field(default=10, ge=1)
    graphql_max_cost: int = Field(default=10_000, ge=1)
    graphql_max_query_bytes: int = Field(default=20_000, ge=1)
    graphql_fast_path: bool = Field(default=True, description="Compiled GraphQL execution.")
    worker_threads: int = Field(
        default=2,
        ge=1,
        le=256,
        description="Threads per worker running request handlers (database work). Python runs "
        "one thread at a time: more threads than the database can overlap only add switching.",
    )
    include_max_depth: int = Field(default=3, ge=0, description="Deepest `include` path.")
    auth_failure_limit: int = Field(
        default=10,
        ge=1,
        description="Failed authentications per minute, per client address and presented key "
        "(its lookup prefix), before that key gets 429 from that address.",
    )
    log_level: str = Field(default="INFO")
    database_wait: float = Field(
        default=30.0,
        ge=0,
        description="Seconds `dossier serve` waits for an unreachable database at start, "
        "trying again each second, before it gives up (exit 1). 0: it gives up at once.",
    )
    migrate_on_start: bool = Field(
        default=True,
        description="`dossier serve` applies pending migrations before it serves. Off: it "
        "refuses to start on a database behind this release (run `dossier migrate` first).",
    )

    @field_validator("feed_language")
    @classmethod
    def _language_tag(cls, value: str) -> str:
        tag = value.strip()
        if not _LANGUAGE_TAG.fullmatch(tag):
            raise ValueError(f"should be a language tag such as 'en' or 'en-US', not {value!r}")
        return tag

    @field_validator("url_templates")
    @classmethod
    def _over_the_defaults(cls, value: dict[str, str | None]) -> dict[str, str | None]:
        """Templates for some types: the others keep theirs (given only an article's,
        every event's feed link was the site's root, its JSON Feed `url` null). A type
        given null (or "") has no page on the site."""
        unknown = sorted(set(value) - set(DEFAULT_URL_TEMPLATES))
        if unknown:
            raise ValueError(
                f"names no content type: {', '.join(map(repr, unknown))}; the types are "
                f"{', '.join(DEFAULT_URL_TEMPLATES)}"
            )
        return {**DEFAULT_URL_TEMPLATES, **value}

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in _LOG_LEVELS:
            raise ValueError(f"should be one of {', '.join(_LOG_LEVELS)}, not {value!r}")
        return level

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if not value:  # set but empty: unset
            return None
        if value.partition("://")[0] not in ("redis", "rediss", "unix"):
            raise ValueError(
                "should be a redis://, rediss:// or unix:// URL "
                f"(e.g. redis://127.0.0.1:6379/0), not {value!r}"
            )
        return value

    @field_validator("database_url", "database_read_url")
    @classmethod
    def _normalize(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not value:  # set but empty, as `DATABASE_URL=` in a shell or .env: unset
            return DEFAULT_DATABASE_URL if info.field_name == "database_url" else None
        return normalize_database_url(value)


@lru_cache
def get_settings() -> Settings:
    return Settings()
