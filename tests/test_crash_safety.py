"""Crash safety: `dossier import` killed with SIGKILL mid-way leaves all or nothing.

A database holding the demo dataset gets a few thousand generated items imported by a
real `dossier import` process, which is SIGKILLed once the import is provably writing
(PostgreSQL: its transaction has an xid; SQLite: it holds the write lock) and still
running. The database must then hold exactly what it held before — byte-identical
`dossier export` — or, had the commit won the race, everything; and it must still be
usable: a later import completes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from app.config import normalize_database_url
from app.content.types import BY_COLLECTION
from app.db import make_engine, make_session_factory, session_scope
from app.transfer import export_lines
from tests.support import load_demo_into

TOPICS, ORGANIZATIONS, PEOPLE, EVENTS, ARTICLES = 20, 20, 300, 1500, 1000
TOTAL = TOPICS + ORGANIZATIONS + PEOPLE + EVENTS + ARTICLES
PREFIX = TOPICS + ORGANIZATIONS + PEOPLE


def big_import_file(path: Path) -> Path:
    """About three thousand items with relations between them, in the export format."""
    lines: list[dict[str, Any]] = []
    for t in range(TOPICS):
        lines.append(
            {"type": "topic", "data": {"slug": f"crash-topic-{t}", "name": f"Crash topic {t}"}}
        )
    for o in range(ORGANIZATIONS):
        lines.append(
            {
                "type": "organization",
                "data": {"slug": f"crash-org-{o}", "name": f"Crash organization {o}"},
            }
        )
    for p in range(PEOPLE):
        person = {
            "slug": f"crash-person-{p}",
            "name": f"Crash Person {p}",
            "bio": f"<p>Biography number {p}, with <em>markup</em>.</p>",
            "topics": [f"crash-topic-{p % TOPICS}", "kidnapping"],
            "affiliations": [{"organization": f"crash-org-{p % ORGANIZATIONS}", "role": "Fellow"}],
        }
        lines.append({"type": "person", "data": person})
    for e in range(EVENTS):
        event = {
            "slug": f"crash-event-{e}",
            "title": f"Crash seminar {e}",
            "event_type": "seminar",
            "starts_at": f"2024-{e % 12 + 1:02d}-{e % 28 + 1:02d}T16:00:00Z",
            "timezone": "UTC",
            "attendance_mode": "online",
            "participants": [
                {"person": f"crash-person-{e % PEOPLE}", "role": "speaker"},
                {"person": f"crash-person-{(e + 7) % PEOPLE}", "role": "moderator"},
            ],
            "sponsors": [f"crash-org-{e % ORGANIZATIONS}"],
            "topics": [f"crash-topic-{e % TOPICS}"],
            "status": "published",
            "published_at": "2024-01-01T00:00:00Z",
        }
        lines.append({"type": "event", "data": event})
    for a in range(ARTICLES):
        article = {
            "slug": f"crash-article-{a}",
            "title": f"Crash article {a}",
            "article_type": "news",
            "body": f"<p>Article body {a}.</p>" * 5,
            "authors": [f"crash-person-{a % PEOPLE}"],
            "topics": [f"crash-topic-{a % TOPICS}", "kidnapping"],
            "status": "published",
            "published_at": "2024-02-01T00:00:00Z",
        }
        lines.append({"type": "article", "data": article})
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    return path


def snapshot(url: str) -> bytes:
    """The database's whole content, as `dossier export` writes it."""
    engine = make_engine(url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            return b"".join(export_lines(session))
    finally:
        engine.dispose()


def count_items(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return sum(
                connection.scalar(select(func.count()).select_from(ctype.model)) or 0  # type: ignore[arg-type]
                for ctype in BY_COLLECTION.values()
            )
    finally:
        engine.dispose()


def is_writing(url: str) -> bool:
    """True while another connection holds an open transaction that has written rows."""
    if url.startswith("sqlite"):
        connection = __import__("sqlite3").connect(make_url(url).database, timeout=0)
        try:
            connection.execute("BEGIN IMMEDIATE")  # fails while another writer holds the lock
            connection.rollback()
            return False
        except Exception as exc:
            return "locked" in str(exc)
        finally:
            connection.close()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            writers = connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
                )
            )
            return bool(writers)
    finally:
        engine.dispose()


def run_import(url: str, path: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    return subprocess.Popen(
        [sys.executable, "-c", "from app.cli import main; main()", "import", str(path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.fixture
def demo_database(empty_database_url: str) -> str:
    url = normalize_database_url(empty_database_url)
    load_demo_into(url)
    return url


def test_import_killed_midway_leaves_all_or_nothing(demo_database: str, tmp_path: Path) -> None:
    url = demo_database
    source = big_import_file(tmp_path / "big.ndjson")
    before, items_before = snapshot(url), count_items(url)

    process = run_import(url, source)
    deadline = time.monotonic() + 60
    while not is_writing(url):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the import never started writing"
        time.sleep(0.02)
    time.sleep(0.3)  # a moment more, well inside the write transaction
    assert process.poll() is None, "the import finished before it could be killed; make it bigger"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL

    # PostgreSQL rolls back a dead client's transaction once it notices the closed socket.
    deadline = time.monotonic() + 30
    while is_writing(url):
        assert time.monotonic() < deadline, "the killed import's transaction never ended"
        time.sleep(0.05)
    after = snapshot(url)
    items_after = count_items(url)
    assert items_after in (items_before, items_before + TOTAL)
    if items_after == items_before:
        assert after == before  # nothing at all changed: not a single row, not a tag
    else:  # the commit won the race: then all of it is there
        assert after.count(b'"slug":"crash-') >= TOTAL

    # The database is intact and usable: an import now completes (a prefix of the same
    # file, to keep the test short: the people and everything they refer to).
    prefix = tmp_path / "prefix.ndjson"
    prefix.write_bytes(b"".join(source.read_bytes().splitlines(keepends=True)[:PREFIX]))
    finished = run_import(url, prefix)
    _, stderr = finished.communicate(timeout=120)
    assert finished.returncode == 0, stderr.decode()
    assert count_items(url) == (
        items_after if items_after > items_before else items_before + PREFIX
    )
