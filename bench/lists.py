"""Every list, filter, sort, search, stream, feed and the change log, one request at a time.

    .venv/bin/python bench/lists.py --db postgresql --scale large

The issue's S1-S9 exercise a few paths; this sweeps them all, so a filter that falls off
its index at a million rows shows up (it found `upcoming`, the change log's polls and
SQLite's enum filters at 0.4-1.7 s). Not a test: it prints figures and asserts nothing.

For each URL: the first request (cold: a total not yet counted at this content version,
a plan not yet cached) and the median of `--requests` more, on one `dossier serve` with the
response cache off. Rows slower than `--slow` ms (median) are marked.
"""

from __future__ import annotations

import argparse
import http.client
import sys
import time
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402
from sqlmodel import col  # noqa: E402

from app.content.cursors import encode_token  # noqa: E402
from app.db import make_engine, make_session_factory  # noqa: E402
from app.models import Affiliation, Article, ArticleAuthor, Organization, Person  # noqa: E402
from bench.dataset import BENCH_SECRET, DEFAULT_PG_ADMIN_URL, RESULTS, discover, prepare  # noqa: E402
from bench.server import Server  # noqa: E402


def urls(url: str) -> list[str]:
    targets = discover(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            author = session.scalar(
                select(col(Person.slug))
                .join(ArticleAuthor, col(ArticleAuthor.person_id) == col(Person.id))
                .group_by(col(Person.slug))
                .order_by(func.count().desc(), col(Person.slug))
                .limit(1)
            )
            organization = session.scalar(
                select(col(Organization.slug))
                .join(Affiliation, col(Affiliation.organization_id) == col(Organization.id))
                .group_by(col(Organization.slug))
                .order_by(func.count().desc(), col(Organization.slug))
                .limit(1)
            )
            article = session.scalar(select(col(Article.slug)).order_by(col(Article.id)).limit(1))
    finally:
        engine.dispose()
    topic, word = targets.top_topic, targets.search_word
    recent = datetime.now(UTC) - timedelta(minutes=5)
    poll = encode_token(BENCH_SECRET, "changes", [recent, 0, 0])
    since = urllib.parse.quote(recent.isoformat())
    return [
        "/api/v1/events",
        "/api/v1/events?sort=title",
        "/api/v1/events?sort=-created_at",
        "/api/v1/events?from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z",
        "/api/v1/events?event_type=seminar",
        "/api/v1/events?attendance_mode=online",
        f"/api/v1/events?person={author}",
        "/api/v1/events?role=moderator",
        f"/api/v1/events?person={author}&role=speaker",
        "/api/v1/events?upcoming=true",
        "/api/v1/events?upcoming=false",
        "/api/v1/events?upcoming=true&event_type=lecture",
        "/api/v1/events?upcoming=true&sort=title",
        "/api/v1/events?upcoming=false&sort=title",
        f"/api/v1/events?topic={topic}&upcoming=true",
        f"/api/v1/events?updated_since={since}",
        "/api/v1/articles",
        "/api/v1/articles?article_type=interview",
        f"/api/v1/articles?author={author}",
        "/api/v1/articles?published_after=2025-06-01T00:00:00Z&published_before=2025-07-01T00:00:00Z",
        "/api/v1/articles?sort=title",
        "/api/v1/articles?sort=-updated_at",
        f"/api/v1/articles?q={word}",
        f"/api/v1/articles?topic={topic}&article_type=news",
        "/api/v1/publications",
        "/api/v1/publications?publication_type=book",
        f"/api/v1/publications?author={author}",
        "/api/v1/publications?year=2020",
        "/api/v1/publications?year=2011",
        "/api/v1/publications?year=2021&sort=-published_at",
        "/api/v1/publications?year=2020&publication_type=book",
        "/api/v1/people",
        f"/api/v1/people?organization={organization}",
        "/api/v1/people?sort=-sort_name",
        "/api/v1/quotes",
        f"/api/v1/quotes?speaker={author}",
        f"/api/v1/quotes?article={article}",
        "/api/v1/resources?resource_type=hotline",
        "/api/v1/topics",
        "/api/v1/organizations",
        f"/api/v1/topics/{topic}/stream",
        f"/api/v1/topics/{topic}/stream?sort=published_at",
        f"/api/v1/topics/{topic}/stream?q={word}",
        f"/api/v1/topics/{topic}/stream?updated_since={since}",
        # A partner's first sync of a topic: a bound that narrows nothing (SQLite gathered
        # the ids of every change first: ~1 s a page at `large`).
        f"/api/v1/topics/{topic}/stream?updated_since=2000-01-01T00:00:00Z",
        "/api/v1/events?updated_since=2000-01-01T00:00:00Z",
        f"/api/v1/search?q={word}&type=event",
        "/api/v1/changes",
        f"/api/v1/changes?since={poll}",
        "/feeds/articles.rss",
        f"/feeds/topics/{topic}.atom",
        f"/feeds/people/{author}.json",
        "/calendar/events.ics",
        f"/calendar/topics/{topic}.ics",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--scale", choices=("small", "large"), default="large")
    parser.add_argument(
        "--requests", type=int, default=5, help="timed requests per URL after the first"
    )
    parser.add_argument("--slow", type=float, default=50, help="mark medians above this many ms")
    parser.add_argument("--pg-admin-url", default=DEFAULT_PG_ADMIN_URL)
    parser.add_argument(
        "--pg-db", default=None, help="PostgreSQL database name (default dossier_bench_<scale>)"
    )
    args = parser.parse_args()
    url = prepare(args.db, args.scale, args.pg_admin_url, pg_db=args.pg_db)
    env = {
        "DATABASE_URL": url,
        "SECRET_KEY": BENCH_SECRET,
        "LOG_LEVEL": "WARNING",
        "RESPONSE_CACHE": "false",
    }
    print(
        f"Dossier lists: {args.db}, {args.scale} dataset, one request at a time, response cache off"
    )
    print(f"{'status':>6} {'first ms':>9} {'p50 ms':>8}  url")
    with Server("lists", env, 1, RESULTS) as server:
        server.start()
        parts = urllib.parse.urlsplit(server.base_url)
        connection = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port, timeout=120
        )
        for path in urls(url):
            times, status = [], 0
            for _ in range(1 + args.requests):
                started = time.perf_counter()
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                times.append(1000 * (time.perf_counter() - started))
                status = response.status
            first, rest = times[0], sorted(times[1:])
            median = rest[len(rest) // 2]
            mark = "  <- slow" if median > args.slow else ""
            print(f"{status:>6} {first:9.1f} {median:8.1f}  {path}{mark}", flush=True)
        connection.close()


if __name__ == "__main__":
    main()
