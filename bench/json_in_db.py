"""Could the database build S1's JSON faster than the app does? Times both in one run.

    .venv/bin/python bench/json_in_db.py --db sqlite --scale small
    .venv/bin/python bench/json_in_db.py --db postgresql --scale small

S1 (`bench/run.py`) asks, with caches off, for 20 events of the most tagged topic with
every participant's person and affiliations (250-320 KB), and its target is 30% of
`/healthz`'s throughput: about 3x `/healthz`'s cost a request, where the app spends ~30x.
One idea is to have the database write the response: SQLite's `json_object` and
`json_group_array`, PostgreSQL's `json_build_object` and `json_agg`, nested per
participant and affiliation, so that Python only passes the text on.

This bench measures that idea's floor: one statement that builds a response of the same
shape (the page's events with their fields, participants, persons and affiliations, with
the same visibility rules; not byte-identical: no feed links, no `links`/`meta`), run on
the driver's connection, against the app answering S1 in-process (the ASGI app called
directly, as `bench/instructions.py` does: no socket, no HTTP parser), in alternating
blocks so both see the same machine. If the statement alone costs as much as the app's
whole request, building JSON in the database is not the way to S1's target.

Not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.dataset import BENCH_SECRET, DEFAULT_PG_ADMIN_URL, discover, prepare  # noqa: E402
from bench.scenarios import SERVERS  # noqa: E402

# The page: S1's filter, order and limit, with the public visibility rule.
_PAGE = """
  SELECT e.* FROM event e
  WHERE e.deleted_at IS NULL AND e.status = 'published' AND e.published_at <= {now}
    AND EXISTS (SELECT 1 FROM tagging t JOIN topic tp ON tp.id = t.topic_id
                WHERE t.entity_type = 'event' AND t.entity_id = e.id AND tp.slug = {topic})
  ORDER BY e.starts_at DESC, e.id DESC LIMIT 20
"""

_SQLITE = f"""
WITH page AS ({_PAGE.format(now="strftime('%Y-%m-%d %H:%M:%f', 'now')", topic=":topic")})
SELECT json_group_array(json_object(
  'id', 'evt_' || p.id, 'slug', p.slug, 'created_at', p.created_at, 'updated_at', p.updated_at,
  'title', p.title, 'subtitle', p.subtitle, 'event_type', p.event_type, 'summary', p.summary,
  'body', p.body, 'body_text', p.body_text, 'starts_at', p.starts_at, 'ends_at', p.ends_at,
  'timezone', p.timezone, 'attendance_mode', p.attendance_mode, 'event_status', p.event_status,
  'venue', json_object('name', p.venue_name, 'address', p.venue_address),
  'online_url', p.online_url, 'online_platform', p.online_platform,
  'registration_url', p.registration_url,
  'hero_image', json_object('url', p.hero_image_url, 'alt', p.hero_image_alt,
                            'caption', p.hero_image_caption, 'credit', p.hero_image_credit),
  'status', p.status, 'published_at', p.published_at,
  'participants', (
    SELECT json_group_array(json_object(
      'role', ep.role, 'title', ep.title, 'position', ep.position,
      'person', json_object(
        'id', 'per_' || pe.id, 'slug', pe.slug, 'created_at', pe.created_at,
        'updated_at', pe.updated_at, 'name', pe.name, 'sort_name', pe.sort_name,
        'title', pe.title, 'degrees', pe.degrees, 'bio', pe.bio, 'bio_text', pe.bio_text,
        'photo', json_object('url', pe.photo_url, 'alt', pe.photo_alt, 'credit', pe.photo_credit),
        'email', pe.email, 'phone', pe.phone, 'office', pe.office,
        'profile_url', pe.profile_url, 'cv_url', pe.cv_url,
        'affiliations', (
          SELECT json_group_array(json_object(
            'role', a.role, 'start_year', a.start_year, 'end_year', a.end_year,
            'is_current', json(CASE WHEN a.is_current THEN 'true' ELSE 'false' END),
            'is_primary', json(CASE WHEN a.is_primary THEN 'true' ELSE 'false' END),
            'position', a.position,
            'organization', json_object('id', 'org_' || o.id, 'slug', o.slug, 'name', o.name)))
          FROM (SELECT * FROM affiliation WHERE person_id = pe.id ORDER BY position, id) a
          JOIN organization o ON o.id = a.organization_id AND o.deleted_at IS NULL))))
    FROM (SELECT * FROM event_participant WHERE event_id = p.id ORDER BY position) ep
    JOIN person pe ON pe.id = ep.person_id AND pe.deleted_at IS NULL)))
FROM page p
"""

_POSTGRESQL = f"""
WITH page AS ({_PAGE.format(now="now()", topic="%(topic)s")})
SELECT coalesce(json_agg(json_build_object(
  'id', 'evt_' || p.id, 'slug', p.slug, 'created_at', p.created_at, 'updated_at', p.updated_at,
  'title', p.title, 'subtitle', p.subtitle, 'event_type', p.event_type, 'summary', p.summary,
  'body', p.body, 'body_text', p.body_text, 'starts_at', p.starts_at, 'ends_at', p.ends_at,
  'timezone', p.timezone, 'attendance_mode', p.attendance_mode, 'event_status', p.event_status,
  'venue', json_build_object('name', p.venue_name, 'address', p.venue_address),
  'online_url', p.online_url, 'online_platform', p.online_platform,
  'registration_url', p.registration_url,
  'hero_image', json_build_object('url', p.hero_image_url, 'alt', p.hero_image_alt,
                                  'caption', p.hero_image_caption, 'credit', p.hero_image_credit),
  'status', p.status, 'published_at', p.published_at,
  'participants', (
    SELECT coalesce(json_agg(json_build_object(
      'role', ep.role, 'title', ep.title, 'position', ep.position,
      'person', json_build_object(
        'id', 'per_' || pe.id, 'slug', pe.slug, 'created_at', pe.created_at,
        'updated_at', pe.updated_at, 'name', pe.name, 'sort_name', pe.sort_name,
        'title', pe.title, 'degrees', pe.degrees, 'bio', pe.bio, 'bio_text', pe.bio_text,
        'photo', json_build_object('url', pe.photo_url, 'alt', pe.photo_alt,
                                   'credit', pe.photo_credit),
        'email', pe.email, 'phone', pe.phone, 'office', pe.office,
        'profile_url', pe.profile_url, 'cv_url', pe.cv_url,
        'affiliations', (
          SELECT coalesce(json_agg(json_build_object(
            'role', a.role, 'start_year', a.start_year, 'end_year', a.end_year,
            'is_current', a.is_current, 'is_primary', a.is_primary, 'position', a.position,
            'organization', json_build_object('id', 'org_' || o.id, 'slug', o.slug,
                                              'name', o.name)) ORDER BY a.position, a.id), '[]')
          FROM affiliation a JOIN organization o ON o.id = a.organization_id
          WHERE a.person_id = pe.id AND o.deleted_at IS NULL))) ORDER BY ep.position), '[]')
    FROM event_participant ep JOIN person pe ON pe.id = ep.person_id
    WHERE ep.event_id = p.id AND pe.deleted_at IS NULL)
) ORDER BY p.starts_at DESC, p.id DESC), '[]')::text
FROM page p
"""


def _statement_runner(url: str, topic: str) -> Any:
    """A function running the statement once on one connection: the JSON text's bytes."""
    if url.startswith("sqlite"):
        import sqlite3

        connection = sqlite3.connect(url.removeprefix("sqlite:///"))

        def run_sqlite() -> bytes:
            text: str = connection.execute(_SQLITE, {"topic": topic}).fetchone()[0]
            return text.encode()

        return run_sqlite
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    pg = psycopg.connect(dsn, autocommit=True)

    def run_pg() -> bytes:
        row = pg.execute(_POSTGRESQL, {"topic": topic}, prepare=True).fetchone()
        assert row is not None
        return str(row[0]).encode()

    return run_pg


def _app_runner(url: str, topic: str) -> Any:
    """A coroutine function answering S1 with the app in-process: the body's length."""
    os.environ.update(
        {"DATABASE_URL": url, "SECRET_KEY": BENCH_SECRET, "LOG_LEVEL": "WARNING"}
        | SERVERS["nocache"]
    )
    from app.main import create_app
    from bench.instructions import _call

    app = create_app()
    path = f"/api/v1/events?topic={urllib.parse.quote(topic)}"
    path += "&include=participants.person.affiliations&limit=20"
    return app, lambda: _call(app, "GET", path, b"")


def _summary(times: list[float]) -> str:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered) * 1000:7.2f} ms   p99 {p99 * 1000:7.2f} ms"


async def _measure(url: str, topic: str, rounds: int, block: int) -> None:
    statement = _statement_runner(url, topic)
    app, request = _app_runner(url, topic)
    in_db: list[float] = []
    in_app: list[float] = []
    size = 0
    async with app.router.lifespan_context(app):
        for _ in range(5):  # warm both: statements kept, pages cached
            statement()
            assert await request() == 200
        for _ in range(rounds):
            for _ in range(block):
                start = time.perf_counter()
                size = len(statement())
                in_db.append(time.perf_counter() - start)
            for _ in range(block):
                start = time.perf_counter()
                await request()
                in_app.append(time.perf_counter() - start)
    ratio = statistics.median(in_db) / statistics.median(in_app)
    print(f"S1 built by the database (one statement, {size:,} bytes): {_summary(in_db)}")
    print(f"S1 answered by the app in-process (whole request):      {_summary(in_app)}")
    print(f"database's statement / app's request, p50: {ratio:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--scale", choices=["small", "large"], default="small")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--block", type=int, default=10, help="requests per turn of each")
    parser.add_argument("--pg-admin-url", default=DEFAULT_PG_ADMIN_URL)
    args = parser.parse_args()
    url = prepare(args.db, args.scale, args.pg_admin_url)
    topic = discover(url).top_topic
    print(f"Dossier S1 JSON in the database: {args.db}, {args.scale} dataset, topic {topic!r}")
    asyncio.run(_measure(url, topic, args.rounds, args.block))


if __name__ == "__main__":
    main()
