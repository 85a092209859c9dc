"""`generate()`: write a deterministic synthetic dataset for benchmarks.

Same seed and scale, same starting database → identical rows (ids, slugs, text, times),
because every value comes from seeded random streams and a fixed base instant. Ids
continue after each table's current maximum, so the dataset can be added to a database
that already holds the demo content; existing topics head the topic popularity ranking
(the demo's "Kidnapping" becomes the most used topic). Everything the query layer
reads is written: link tables, `tagging`, and `search_document` (which the SQLite FTS5
triggers and the PostgreSQL GIN index pick up). The whole load is one transaction:
a failed run leaves nothing behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from time import perf_counter

from sqlalchemy import Connection, Engine, select, text
from sqlmodel import col

from app.db import take_writers_lock
from app.generate import DEFAULT_SEED, SCALES
from app.generate.content import Plan
from app.generate.publishable import SyntheticContent
from app.generate.writer import CHUNK_ROWS, BulkWriter, max_ids, reset_sequences
from app.models import Topic

GENERATED_SLUG = "gen-%"


class GenerationError(Exception):
    """The database cannot take a generated dataset (e.g. it already holds one)."""


@dataclass(frozen=True)
class GenerationReport:
    factor: float
    seed: int
    plan: Plan
    rows: dict[str, int]
    load_seconds: float
    analyze_seconds: float

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def seconds(self) -> float:
        return self.load_seconds + self.analyze_seconds


def scale_factor(scale: str | float) -> float:
    """`small` / `large`, or a factor of `large` (tests use tiny ones such as 0.001)."""
    if isinstance(scale, str):
        if scale not in SCALES:
            raise GenerationError(f"unknown scale '{scale}'; use one of {', '.join(SCALES)}")
        return SCALES[scale]
    if not 0 < scale <= 10:
        raise GenerationError("a scale factor must be in (0, 10]")
    return float(scale)


def generated_count(connection: Connection) -> int:
    """How many generated events the database holds (0: none were generated)."""
    return connection.execute(
        text("SELECT count(*) FROM event WHERE slug LIKE :pattern"), {"pattern": GENERATED_SLUG}
    ).scalar_one()


def _has_generated_content(connection: Connection) -> bool:
    for table in ("topic", "person", "event", "article"):
        found = connection.execute(
            text(f"SELECT 1 FROM {table} WHERE slug LIKE :pattern LIMIT 1"),
            {"pattern": GENERATED_SLUG},
        ).first()
        if found is not None:
            return True
    return False


def generate(
    engine: Engine,
    scale: str | float = "small",
    seed: int = DEFAULT_SEED,
    chunk_rows: int = CHUNK_ROWS,
) -> GenerationReport:
    """Write the synthetic dataset of `scale` into the (migrated) database of `engine`."""
    factor = scale_factor(scale)
    plan = Plan.for_factor(factor)
    started = perf_counter()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL statement_timeout = 0"))
            connection.execute(text("SET LOCAL synchronous_commit = off"))
        # The writers' lock before anything is read. Ids continue after the largest ones
        # read here, and each COPY locks rows (new ids, the rows its foreign keys name)
        # before its triggers take `content_version`: without the lock first, that is the
        # other way round from an API write (PostgreSQL: a deadlock; SQLite: a duplicate id).
        take_writers_lock(connection)
        if _has_generated_content(connection):
            raise GenerationError(
                "the database already holds generated content; use an empty or demo-only database"
            )
        bases = max_ids(connection)
        existing = connection.execute(
            select(col(Topic.id), col(Topic.name))
            .where(col(Topic.deleted_at).is_(None))
            .order_by(col(Topic.id))
        ).all()
        with BulkWriter(connection, chunk_rows) as writer:
            SyntheticContent(
                seed, plan, bases, {pk: name for pk, name in existing if pk is not None}, writer.add
            ).build_all()
        reset_sequences(connection)
    loaded = perf_counter()
    analyze(engine)
    rows = {name: count for name, count in writer.counts.items() if count}
    return GenerationReport(factor, seed, plan, rows, loaded - started, perf_counter() - loaded)


def analyze(engine: Engine) -> None:
    """Fresh planner statistics (and, on PostgreSQL, a visibility map) after a bulk load."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET statement_timeout = 0"))
            connection.execute(text("VACUUM (ANALYZE)"))
            connection.execute(text("RESET statement_timeout"))
        else:
            connection.execute(text("INSERT INTO search_fts(search_fts) VALUES ('optimize')"))
            connection.execute(text("ANALYZE"))
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


def database_size(engine: Engine) -> int:
    """Bytes the database occupies (PostgreSQL: the database; SQLite: the file and its WAL)."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            return int(
                connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
            )
        database = engine.url.database
    if not database or database == ":memory:":
        return 0
    return sum(
        Path(database + suffix).stat().st_size
        for suffix in ("", "-wal")
        if Path(database + suffix).exists()
    )
