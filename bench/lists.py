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
import itertools
import sys
import time
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402
from sqlmodel import col  # noqa: E402

from app.content.cursors import encode_token  # noqa: E402
from app.content.filters import FILTERS  # noqa: E402
from app.content.types import ALL_TYPES  # noqa: E402
from app.db import make_engine, make_session_factory  # noqa: E402
from app.models import (  # noqa: E402
    Affiliation,
    Article,
    ArticleAuthor,
    Organization,
    Person,
    Tagging,
    Topic,
)
from bench.dataset import BENCH_SECRET, DEFAULT_PG_ADMIN_URL, RESULTS, discover, prepare  # noqa: E402
from bench.server import Server  # noqa: E402


@dataclass
class Values:
    """What the URLs name, found in the database."""

    topic: str  # the topic on the most events
    rare_topic: str  # a topic on the fewest items (but some)
    word: str  # the generator's most common content word
    author: str  # the person who wrote the most articles
    organization: str  # the organization with the most affiliations
    article: str


def values(url: str) -> Values:
    targets = discover(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            rare_topic = session.scalar(
                select(col(Topic.slug))
                .join(Tagging, col(Tagging.topic_id) == col(Topic.id))
                .group_by(col(Topic.slug))
                .order_by(func.count(), col(Topic.slug))
                .limit(1)
            )
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
    return Values(
        targets.top_topic,
        rare_topic or targets.top_topic,
        targets.search_word,
        author or "",
        organization or "",
        article or "",
    )


def urls(url: str) -> list[str]:
    found = values(url)
    topic, word, author = found.topic, found.word, found.author
    organization, article = found.organization, found.article
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
        # A bound inside the data's years: the rows older than it were each looked up among
        # the shown changes through an array (47,000 ids at `large`: a 503).
        "/api/v1/articles?updated_since=2020-01-01T00:00:00Z",
        # A rare topic's stream narrowed: PostgreSQL walked each type's items asking whether
        # they were tagged (~0.3 s at `large`), not the topic's taggings.
        f"/api/v1/topics/{found.rare_topic}/stream?q={word}",
        f"/api/v1/topics/{found.rare_topic}/stream?topic={topic}",
        f"/api/v1/topics/{topic}/stream?updated_since=2020-01-01T00:00:00Z",
        f"/api/v1/search?q={word}&type=event",
        # Two types: PostgreSQL read every match of both and sorted them (1.1 s at `large`).
        f"/api/v1/search?q={word}&type=article,event",
        "/api/v1/changes",
        f"/api/v1/changes?since={poll}",
        "/feeds/articles.rss",
        f"/feeds/topics/{topic}.atom",
        f"/feeds/people/{author}.json",
        "/calendar/events.ics",
        f"/calendar/topics/{topic}.ics",
    ]


def every_url(url: str) -> list[str]:
    """Every collection, narrowed by each of its filters (a typical value), by a popular and
    a rare topic, a common word and an `updated_since` long past, or by nothing, in every
    order it offers, both ways: the combinations a fixed list of URLs misses (it found
    quotes by `position` without an index, and ranges of time sorted by title, 0.3-0.8 s)."""
    found = values(url)
    typical = {
        "from": "2025-01-01T00:00:00Z",
        "to": "2025-02-01T00:00:00Z",
        "published_after": "2025-06-01T00:00:00Z",
        "published_before": "2025-07-01T00:00:00Z",
        "upcoming": "true",
        "year": "2020",
        "person": found.author,
        "author": found.author,
        "speaker": found.author,
        "organization": found.organization,
        "article": found.article,
    }
    narrowing = [
        ("topic", found.topic),
        ("topic", found.rare_topic),
        ("q", found.word),
        ("updated_since", "2000-01-01T00:00:00Z"),
    ]
    paths = []
    for ctype in ALL_TYPES:
        filters = FILTERS.get(ctype.collection, {})
        choices = [
            (name, typical.get(name) or (spec.choices[0] if spec.choices else ""))
            for name, spec in filters.items()
        ]
        if ctype.publishable:
            choices += narrowing
        for (name, value), sort in itertools.product([("", ""), *choices], ctype.sorts):
            for direction in ("", "-"):
                query = {"sort": direction + sort, **({name: value} if name else {})}
                paths.append(f"/api/v1/{ctype.collection}?{urllib.parse.urlencode(query)}")
    return paths


def sweep_arguments(description: str, unit: str) -> argparse.ArgumentParser:
    """The options `bench/lists.py` and `bench/graphql_lists.py` share (`unit`: what each
    sends, for the help)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--scale", choices=("small", "large"), default="large")
    parser.add_argument(
        "--requests", type=int, default=5, help=f"timed requests per {unit} after the first"
    )
    parser.add_argument("--slow", type=float, default=50, help="mark medians above this many ms")
    parser.add_argument("--pg-admin-url", default=DEFAULT_PG_ADMIN_URL)
    parser.add_argument(
        "--pg-db", default=None, help="PostgreSQL database name (default dossier_bench_<scale>)"
    )
    return parser


def sweep_env(url: str) -> dict[str, str]:
    """The server's settings for a sweep: the bench database, the response cache off."""
    return {
        "DATABASE_URL": url,
        "SECRET_KEY": BENCH_SECRET,
        "LOG_LEVEL": "WARNING",
        "RESPONSE_CACHE": "false",
    }


def timed(
    connection: http.client.HTTPConnection,
    requests: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, float, float, bytes]:
    """Sends the request 1 + `requests` times, one at a time: (the last status, the first
    one's ms, the median ms of the others, the last answer)."""
    times, status, answer = [], 0, b""
    for _ in range(1 + requests):
        started = time.perf_counter()
        connection.request(method, path, body, headers or {})
        response = connection.getresponse()
        answer = response.read()
        times.append(1000 * (time.perf_counter() - started))
        status = response.status
    first, rest = times[0], sorted(times[1:])
    return status, first, rest[len(rest) // 2] if rest else first, answer


def main() -> None:
    parser = sweep_arguments(__doc__.splitlines()[0], "URL")
    parser.add_argument(
        "--every",
        action="store_true",
        help="every list x filter x sort (about 500 URLs); print only those over --slow",
    )
    args = parser.parse_args()
    url = prepare(args.db, args.scale, args.pg_admin_url, pg_db=args.pg_db)
    env = sweep_env(url)
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
        paths = every_url(url) if args.every else urls(url)
        slow = 0
        for path in paths:
            status, first, median, _ = timed(connection, args.requests, "GET", path)
            mark = "  <- slow" if median > args.slow else ""
            slow += bool(mark)
            if mark or not args.every:
                print(f"{status:>6} {first:9.1f} {median:8.1f}  {path}{mark}", flush=True)
        connection.close()
        print(f"{len(paths)} URLs, {slow} with a median over {args.slow:g} ms")


if __name__ == "__main__":
    main()
