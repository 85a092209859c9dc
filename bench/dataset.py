"""The benchmark's database: created, migrated, demo + generated once per backend and scale.

SQLite: `bench/results/dossier_bench_<scale>.db`; PostgreSQL: the database
`dossier_bench_<scale>`. A database that already holds the complete generated dataset
of that scale is reused (generation is one transaction, so it is all there or not at all).
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlmodel import col

from app.content.cursors import encode_token
from app.content.visibility import Viewer, visible
from app.db import make_engine, make_session_factory, session_scope
from app.generate import SCALES
from app.generate.content import Plan
from app.generate.generator import analyze, database_size, generate, generated_count
from app.generate.text import COMMON_WORD
from app.migrations import current_revision, upgrade_to_head
from app.models import Affiliation, ApiKey, Article, Person, Tagging, Topic

RESULTS = Path(__file__).resolve().parent / "results"
BENCH_SECRET = "dossier-bench-secret"
DEFAULT_PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def database_url(db: str, scale: str, pg_admin_url: str, pg_db: str | None = None) -> str:
    """The bench database's URL; `pg_db` names the PostgreSQL database instead of
    `dossier_bench_<scale>` (two people benchmarking on one server keep theirs apart)."""
    if db == "sqlite":
        return f"sqlite:///{RESULTS / f'dossier_bench_{scale}.db'}"
    name = pg_db or f"dossier_bench_{scale}"
    return make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)


def _reset(db: str, url: str, pg_admin_url: str, fresh: bool) -> None:
    if db == "sqlite":
        path = Path(make_url(url).database or "")
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        return
    name = make_url(url).database
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            if fresh:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            exists = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            )
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def prepare(
    db: str, scale: str, pg_admin_url: str, fresh: bool = False, pg_db: str | None = None
) -> str:
    """Make the database ready (reusing a complete one); returns its URL."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    url = database_url(db, scale, pg_admin_url, pg_db)
    _reset(db, url, pg_admin_url, fresh)
    engine = make_engine(url)
    try:
        before = current_revision(engine)
        upgrade_to_head(url)
        expected = Plan.for_factor(SCALES[scale]).events
        with engine.connect() as connection:
            have = generated_count(connection)
            has_topics = bool(connection.scalar(select(func.count()).select_from(Topic)))
        if have == expected:
            if before != current_revision(engine):
                analyze(engine)  # a migration may have rewritten tables: fresh statistics
            print(
                f"Reusing {db} database with the generated {scale} dataset ({database_size(engine) / 1e6:,.0f} MB)."
            )
            return url
        if have:
            raise SystemExit(f"The {db} bench database holds another dataset; run with --fresh.")
        if not has_topics:
            from app.demo.loader import load_demo

            with session_scope(make_session_factory(engine)) as session:
                load_demo(session)
        print(f"Generating the {scale} dataset on {db} ...", flush=True)
        report = generate(engine, scale)
        print(
            f"Generated {report.total_rows:,} rows ({report.plan.content_rows:,} content items) in "
            f"{report.seconds:.1f} s (load {report.load_seconds:.1f} s + analyze {report.analyze_seconds:.1f} s); "
            f"database size {database_size(engine) / 1e6:,.0f} MB."
        )
    finally:
        engine.dispose()
    return url


def create_admin_key(url: str) -> str:
    """An `admin` API key: through `dossier keys create` when that command exists."""
    name = f"bench-{os.getpid()}-{int(time.time())}"
    command = [
        str(Path(sys.executable).with_name("dossier")),
        "keys",
        "create",
        "--name",
        name,
        "--scope",
        "admin",
    ]
    try:
        done = subprocess.run(
            command,
            env={**os.environ, "DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        found = re.findall(r"\bdsk_\S+", done.stdout)
        if done.returncode == 0 and found:
            return found[-1]
    except (OSError, subprocess.TimeoutExpired):
        pass
    from app.http.auth import new_key

    secret, prefix, secret_hash = new_key()
    engine = make_engine(url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            session.add(ApiKey(name=name, prefix=prefix, secret_hash=secret_hash, scopes="admin"))
    finally:
        engine.dispose()
    return secret


@dataclass(frozen=True)
class Targets:
    """What the scenarios ask for, found in the database."""

    top_topic: str  # the topic tagged on the most events
    people: list[str]  # public people with 3+ affiliations
    articles: list[tuple[str, str]]  # (slug, title) of public articles to PATCH
    search_word: str
    public_articles: int


def discover(url: str) -> Targets:
    engine = make_engine(url)
    viewer = Viewer()
    try:
        with make_session_factory(engine)() as session:
            top = session.execute(
                select(col(Topic.slug))
                .join(Tagging, col(Tagging.topic_id) == col(Topic.id))
                .where(col(Tagging.entity_type) == "event", visible(Topic, viewer))
                .group_by(col(Topic.slug))
                .order_by(func.count().desc(), col(Topic.slug))
                .limit(1)
            ).scalar_one()
            affiliated = (
                select(col(Affiliation.person_id))
                .group_by(col(Affiliation.person_id))
                .having(func.count() >= 3)
            )
            people = session.scalars(
                select(col(Person.slug))
                .where(col(Person.id).in_(affiliated), visible(Person, viewer))
                .order_by(col(Person.id))
                .limit(200)
            ).all()
            articles = session.execute(
                select(col(Article.slug), col(Article.title))
                .where(visible(Article, viewer), col(Article.slug).like("gen-%"))
                .order_by(col(Article.id))
                .limit(50)
            ).all()
            public = (
                session.scalar(
                    select(func.count()).select_from(Article).where(visible(Article, viewer))
                )
                or 0
            )
    finally:
        engine.dispose()
    return Targets(top, list(people), [(s, t) for s, t in articles], COMMON_WORD, public)


def token_scope(token: str) -> str | None:
    """The scope inside a cursor issued by the server (see app.content.cursors)."""
    body = token.partition(".")[0]
    try:
        payload: Any = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        return str(payload["s"])
    except (ValueError, KeyError, TypeError):
        return None


def deep_article_cursor(url: str, scope: str, page: int, public_articles: int) -> tuple[str, int]:
    """A cursor for page `page` (20 per page) of `/api/v1/articles`, made with the bench's key.

    When there are fewer pages, the deepest full page is used; returns (cursor, page).
    """
    page = max(2, min(page, public_articles // 20))
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            last_id, last_published = session.execute(
                select(col(Article.id), col(Article.published_at))
                .where(visible(Article, Viewer()))
                .order_by(col(Article.published_at).desc(), col(Article.id).desc())
                .offset((page - 1) * 20 - 1)
                .limit(1)
            ).one()
    finally:
        engine.dispose()
    return encode_token(BENCH_SECRET, scope, [last_published, last_id]), page
