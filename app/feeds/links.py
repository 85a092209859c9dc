"""Feed autodiscovery: the feed URLs a topic or person exposes to frontends."""

from __future__ import annotations

FEED_FORMATS = {"rss": "rss", "atom": "atom", "json": "json"}


def feed_links(kind: str, slug: str, api_base_url: str) -> dict[str, str]:
    """Absolute URLs of the feeds (and, for topics, the calendar) of one topic or person."""
    base = api_base_url.rstrip("/")
    path = {"topic": "topics", "person": "people"}[kind]
    links = {fmt: f"{base}/feeds/{path}/{slug}.{ext}" for fmt, ext in FEED_FORMATS.items()}
    if kind == "topic":
        links["ics"] = f"{base}/calendar/topics/{slug}.ics"
    return links
