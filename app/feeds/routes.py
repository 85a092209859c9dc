"""Feed and calendar endpoints: `/feeds/…{.rss,.atom,.json}` and `/calendar/…ics`.

The extension is part of the path: a format that does not exist (`/feeds/articles.xml`)
names no resource, so it is a 404 problem naming the formats there are, like any unknown
path, and like a missing extension (`/feeds/articles`, which matches no route).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from app.config import Settings
from app.content.changed import last_public_change
from app.content.queries import last_event_end
from app.content.types import (
    ALL_TYPES,
    ARTICLE,
    EVENT,
    PERSON,
    PUBLICATION,
    STREAM_TYPES,
    TOPIC,
    ContentType,
)
from app.content.visibility import Viewer
from app.feeds.entries import Author, build_entries
from app.feeds.formats import MEDIA_TYPES, RENDERERS, FeedDocument, FeedFormat
from app.feeds.ical import MEDIA_TYPE as CALENDAR_MEDIA_TYPE
from app.feeds.ical import build_calendar
from app.feeds.sources import (
    Items,
    Renamed,
    calendar_events,
    latest,
    person_items,
    person_or_404,
    topic_items,
    topic_or_404,
)
from app.feeds.urls import api_base, api_url, public_url, site_root
from app.http.caching import cacheable_response, is_private, max_age_until, surrogate_keys
from app.http.deps import SessionDep, SettingsDep
from app.http.errors import (
    PROBLEM_MEDIA_TYPE,
    MovedPermanently,
    NotFound,
    problem_example,
    problem_responses,
)
from app.models import Topic

router = APIRouter(tags=["feeds"])


class CalendarFormat(StrEnum):
    """The file extension of a calendar."""

    ics = "ics"


# Plain strings, checked by `_feed_format` and `_calendar_format` (404 when unknown); the
# schema still lists the formats there are.
FormatParam = Annotated[
    str,
    Path(
        description="`rss` (RSS 2.0), `atom` (Atom 1.0) or `json` (JSON Feed 1.1); any other "
        "extension: 404.",
        json_schema_extra={"enum": [f.value for f in FeedFormat]},
    ),
]
CalendarParam = Annotated[
    str,
    Path(
        description="`ics` (iCalendar, RFC 5545); any other extension: 404.",
        json_schema_extra={"enum": [f.value for f in CalendarFormat]},
    ),
]
SlugParam = Annotated[
    str, Path(description="The topic's slug (e.g. `kidnapping`) or id.", max_length=200)
]
PersonParam = Annotated[
    str, Path(description="The person's slug (e.g. `beatriz-magaloni`) or id.", max_length=200)
]

# JSON Feed is a JSON object (https://jsonfeed.org/version/1.1); RSS and Atom are XML text.
_JSON_FEED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["version", "title", "items"],
    "properties": {
        "version": {"type": "string"},
        "title": {"type": "string"},
        "items": {"type": "array", "items": {"type": "object"}},
    },
}
_FEED_CONTENT = {
    media.split(";")[0]: {
        "schema": _JSON_FEED_SCHEMA if media.split(";")[0].endswith("+json") else {"type": "string"}
    }
    for media in MEDIA_TYPES.values()
}
_FEED_HEADERS = {
    "Last-Modified": {
        "description": "When what it says last changed (an HTTP-date, to the second): send it "
        "back as `If-Modified-Since` for a 304. The newest change of an item, person or "
        "topic it shows, or of an item of its types edited, going public (a scheduled "
        "item, when its time comes) or leaving the public surface (an item leaving it "
        "leaves no other trace); a calendar's, also the last end of an "
        "event. Absent only where nothing was ever public.",
        "schema": {"type": "string"},
    },
    "Vary": {
        "description": "`Accept-Encoding` where gzip applies (bodies of 1,000 bytes or more) "
        "and, from CORS, `Origin`: the bytes depend on no other request header (not "
        "`Accept`, nor `Authorization`, which only makes a response private).",
        "schema": {"type": "string"},
    },
}
_NOT_MODIFIED = (
    "Not Modified: the `If-None-Match` ETag is current or, without `If-None-Match`, nothing "
    "changed since `If-Modified-Since`."
)
FEED_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The feed in the requested format. Feeds take no query parameters: "
        "a query string (`?utm_source=…`, as readers append) is ignored, and answered with "
        "the same feed, ETag and cache entry.",
        "content": _FEED_CONTENT,
        "headers": _FEED_HEADERS,
    },
    304: {"description": _NOT_MODIFIED},
    **problem_responses(400, 404),
}
CALENDAR_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "An iCalendar (RFC 5545) file. Calendars take no query parameters: a "
        "query string is ignored, and answered with the same calendar, ETag and cache entry.",
        "content": {"text/calendar": {"schema": {"type": "string"}}},
        "headers": _FEED_HEADERS,
    },
    304: {"description": _NOT_MODIFIED},
    **problem_responses(400, 404),
}
_FEED_ROUTE: dict[str, Any] = {"response_class": Response, "responses": FEED_RESPONSES}
_CALENDAR_ROUTE: dict[str, Any] = {"response_class": Response, "responses": CALENDAR_RESPONSES}


def _renamed(example: str) -> dict[int | str, dict[str, Any]]:
    """The 301 a topic's feed or calendar answers its former slug with (`_moved`)."""
    return {
        301: {
            "content": {
                PROBLEM_MEDIA_TYPE: {
                    **problem_responses(301)[301]["content"][PROBLEM_MEDIA_TYPE],
                    "example": problem_example(
                        301, f"The topic was renamed: this is now at {example}."
                    ),
                }
            },
            "description": "The topic was renamed: `Location` is the same resource under "
            "the slug it has now (never cached: another topic may take the old slug later).",
            "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}},
        }
    }


_TOPIC_FEED_ROUTE: dict[str, Any] = _FEED_ROUTE | {
    "responses": _renamed("https://api.example.org/feeds/topics/crime.atom") | FEED_RESPONSES
}
_TOPIC_CALENDAR_ROUTE: dict[str, Any] = _CALENDAR_ROUTE | {
    "responses": _renamed("https://api.example.org/calendar/topics/crime.ics") | CALENDAR_RESPONSES
}


def _feed_format(extension: str) -> FeedFormat:
    """The feed format an extension names; 404 when it names none (no such resource)."""
    try:
        return FeedFormat(extension)
    except ValueError:
        raise NotFound(
            f"No feed in the format '.{extension[:20]}': feeds are served as .rss (RSS 2.0), "
            ".atom (Atom 1.0) and .json (JSON Feed 1.1)."
        ) from None


def _calendar_format(extension: str) -> CalendarFormat:
    """The calendar format an extension names; 404 when it names none."""
    try:
        return CalendarFormat(extension)
    except ValueError:
        raise NotFound(
            f"No calendar in the format '.{extension[:20]}': calendars are served as .ics "
            "(iCalendar)."
        ) from None


# The types whose items feeds and calendars show references to (authors, speakers,
# participants, topics): a deleted one leaves the entries that showed it, which do not
# change themselves (`last_public_change`'s `gone`).
REFERENCED = (PERSON, TOPIC)


def _respond(
    request: Request,
    settings: Settings,
    viewer: Viewer,
    body: bytes,
    media_type: str,
    ids: Iterable[str],
    sources: Iterable[ContentType],
    last_modified: datetime | None,
    max_age: int | None = None,
) -> Response:
    # Collection keys for every type the feed could hold, or whose writes can change its
    # `updated`: publishing the first article must purge the (so far empty) article feed
    # too, and deleting a person every feed whose `updated` that deletion moves.
    extra = ["feeds", *(ctype.collection for ctype in (*sources, *REFERENCED))]
    return cacheable_response(
        request,
        body,
        media_type=media_type,
        max_age=settings.cache_max_age if max_age is None else max_age,
        private=is_private(request, False),
        keys=surrogate_keys(ids, extra),
        # RFC 9110 §8.8.2.1: never later than the response (rows dated ahead of this
        # server's clock, by another's).
        last_modified=None if last_modified is None else min(last_modified, viewer.now),
        # The bytes depend on neither `Accept` (no negotiation: the extension names the
        # format, and errors are problem+json, uncached, whatever it says) nor
        # `Authorization` (feeds show no drafts; a key only makes the response private):
        # `Vary: Accept` had CDNs keep a copy per `Accept` that feed readers send.
        vary="",
    )


def _feed(
    request: Request,
    session: SessionDep,
    settings: Settings,
    viewer: Viewer,
    items: Items,
    fmt: FeedFormat,
    doc: FeedDocument,
    sources: Sequence[ContentType],
    ids: Iterable[str] = (),
    subject_updated: datetime | None = None,
) -> Response:
    """`subject_updated`: when the topic or person the feed is of last changed (its title)."""
    doc.entries = build_entries(session, settings, items, viewer)
    doc.changed = newest(
        subject_updated, last_public_change(session, sources, viewer, gone=REFERENCED)
    )
    if doc.updated is None:
        # Nothing of its types was ever public: the feed has said the same since the site's
        # last public change, whatever it was (not 1970); so every write may move it.
        doc.changed = last_public_change(session, ALL_TYPES, viewer)
        sources = ALL_TYPES
    body = RENDERERS[fmt](doc)
    mentioned = {i for entry in doc.entries for i in entry.mentions} | set(ids)
    return _respond(
        request, settings, viewer, body, MEDIA_TYPES[fmt], mentioned, sources, doc.updated
    )


def _moved(request: Request, settings: Settings, path: str) -> MovedPermanently:
    """The 301 of a feed or calendar whose topic was renamed: to the same one under the
    slug the topic has now (never cached: another topic may take the old slug later)."""
    location = api_url(api_base(settings, request), path)
    return MovedPermanently(
        f"The topic was renamed: this is now at {location}.", headers={"Location": location}
    )


def newest(*moments: datetime | None) -> datetime | None:
    """The latest of the moments given (None: none is)."""
    return max((moment for moment in moments if moment is not None), default=None)


def publisher(settings: Settings) -> Author:
    """Who publishes the feeds: the public site, named by its host (`www.example.org`)."""
    root = site_root(settings)
    return Author(urlsplit(root).hostname or root, root)


def _document(
    request: Request,
    settings: Settings,
    path: str,
    fmt: FeedFormat,
    title: str,
    description: str,
    home: str | None,
) -> FeedDocument:
    base = api_base(settings, request)
    return FeedDocument(
        feed_id=api_url(base, path),
        title=title,
        description=description,
        home_url=home or site_root(settings),
        self_url=api_url(base, f"{path}.{fmt.value}"),
        entries=[],
        publisher=publisher(settings),
        language=settings.feed_language,
    )


@router.get("/feeds/topics/{slug}.{fmt}", summary="Feed of a topic", **_TOPIC_FEED_ROUTE)
def topic_feed(
    slug: SlugParam, fmt: FormatParam, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    """Subscribe to a topic ("Subscribe to Kidnapping"): the topic's stream — its latest 50
    public articles, events, publications and quotes, newest `published_at` first — as RSS 2.0,
    Atom 1.0 or JSON Feed 1.1.

    Links are absolute URLs on the public website; GUIDs are stable `tag:` URIs. Responses
    carry an `ETag` and a `Last-Modified` (send `If-None-Match`, or `If-Modified-Since`, for
    a 304). Unknown topic or format: 404. A slug the topic had before it was renamed: 301 to
    the same feed under its slug now.
    """
    feed_format = _feed_format(fmt)
    viewer = Viewer()
    try:
        topic = topic_or_404(session, slug, viewer)
    except Renamed as renamed:
        raise _moved(request, settings, f"/feeds/topics/{renamed.slug}.{fmt}") from None
    doc = _document(
        request,
        settings,
        f"/feeds/topics/{topic.slug}",
        feed_format,
        topic.name,
        topic.description
        or f"The latest articles, events, publications and quotes on {topic.name}.",
        public_url(settings, "topic", slug=topic.slug, id=f"top_{topic.id}"),
    )
    items = topic_items(session, topic, viewer, settings.secret_key)
    return _feed(
        request,
        session,
        settings,
        viewer,
        items,
        feed_format,
        doc,
        STREAM_TYPES,
        [f"top_{topic.id}"],
        topic.updated_at,
    )


def _collection_feed(
    request: Request,
    session: SessionDep,
    settings: Settings,
    fmt: str,
    ctype: ContentType,
    title: str,
) -> Response:
    feed_format = _feed_format(fmt)
    viewer = Viewer()
    doc = _document(
        request,
        settings,
        f"/feeds/{ctype.collection}",
        feed_format,
        title,
        f"The latest {ctype.collection}, newest first.",
        None,
    )
    items = latest(session, ctype, viewer, settings.secret_key)
    return _feed(request, session, settings, viewer, items, feed_format, doc, [ctype])


@router.get("/feeds/articles.{fmt}", summary="Feed of articles", **_FEED_ROUTE)
def articles_feed(
    fmt: FormatParam, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    """The latest 50 public articles (news, commentary, interviews…), newest `published_at`
    first, with their full sanitized body, authors and topics. Unknown format: 404."""
    return _collection_feed(request, session, settings, fmt, ARTICLE, "Articles")


@router.get("/feeds/events.{fmt}", summary="Feed of events", **_FEED_ROUTE)
def events_feed(
    fmt: FormatParam, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    """The latest 50 public events in the order they were announced (newest `published_at`
    first). Each entry states when (in the event's time zone) and where the event takes
    place; the JSON Feed adds `_dossier.starts_at`, `ends_at` and `timezone`. For a
    calendar subscription use `/calendar/events.ics`. Unknown format: 404."""
    return _collection_feed(request, session, settings, fmt, EVENT, "Events")


@router.get("/feeds/publications.{fmt}", summary="Feed of publications", **_FEED_ROUTE)
def publications_feed(
    fmt: FormatParam, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    """The latest 50 public publications, newest `published_at` first, with abstract,
    authors in order and DOI link. Unknown format: 404."""
    return _collection_feed(request, session, settings, fmt, PUBLICATION, "Publications")


@router.get("/feeds/people/{slug}.{fmt}", summary="Feed of a person", **_FEED_ROUTE)
def person_feed(
    slug: PersonParam,
    fmt: FormatParam,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """A person's latest 50 public articles (as author), events (as participant) and
    publications (as author), merged newest `published_at` first. Unknown person or
    format: 404."""
    feed_format = _feed_format(fmt)
    viewer = Viewer()
    person = person_or_404(session, slug, viewer)
    doc = _document(
        request,
        settings,
        f"/feeds/people/{person.slug}",
        feed_format,
        person.name,
        f"Articles, events and publications of {person.name}.",
        public_url(settings, "person", slug=person.slug, id=f"per_{person.id}"),
    )
    items = person_items(session, person, viewer, settings.secret_key)
    sources = [ARTICLE, EVENT, PUBLICATION]
    return _feed(
        request,
        session,
        settings,
        viewer,
        items,
        feed_format,
        doc,
        sources,
        [f"per_{person.id}"],
        person.updated_at,
    )


def _calendar(
    request: Request,
    session: SessionDep,
    settings: Settings,
    viewer: Viewer,
    path: str,
    name: str,
    description: str,
    topic: Topic | None = None,
) -> Response:
    rows, changes_at = calendar_events(session, viewer, settings.secret_key, topic)
    body, shown, references_updated = build_calendar(
        session,
        settings,
        rows,
        viewer,
        name=name,
        description=description,
        source_url=api_url(api_base(settings, request), path + ".ics"),
    )
    ids = shown | ({f"top_{topic.id}"} if topic is not None else set())
    max_age = max_age_until(changes_at, viewer.now, settings.cache_max_age)
    # As a feed's `updated`, and the last event's end: which events are upcoming, and so
    # which the calendar holds and in which order, changes then by time alone.
    last_modified = newest(
        topic.updated_at if topic is not None else None,
        references_updated,
        last_public_change(session, [EVENT], viewer, gone=REFERENCED),
        last_event_end(session, viewer),
    )
    return _respond(
        request,
        settings,
        viewer,
        body,
        CALENDAR_MEDIA_TYPE,
        ids,
        [EVENT],
        last_modified,
        max_age,
    )


@router.get(
    "/calendar/topics/{slug}.{fmt}",
    summary="Calendar of a topic's events",
    **_TOPIC_CALENDAR_ROUTE,
)
def topic_calendar(
    slug: SlugParam,
    fmt: CalendarParam,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """An iCalendar subscription of the public events tagged with the topic: every upcoming
    event (soonest first) and, up to 50 in all, the most recent past ones. Each VEVENT has a
    stable UID, times in the event's own time zone (with VTIMEZONE), location or online URL,
    STATUS (CANCELLED for cancelled events, TENTATIVE for postponed ones) and the event's
    public URL. Unknown topic, or an extension other than `.ics`: 404. A slug the topic had
    before it was renamed: 301 to the same calendar under its slug now."""
    _calendar_format(fmt)
    viewer = Viewer()
    try:
        topic = topic_or_404(session, slug, viewer)
    except Renamed as renamed:
        raise _moved(request, settings, f"/calendar/topics/{renamed.slug}.{fmt}") from None
    return _calendar(
        request,
        session,
        settings,
        viewer,
        f"/calendar/topics/{topic.slug}",
        f"{topic.name} — events",
        f"Events on {topic.name}.",
        topic,
    )


@router.get("/calendar/events.{fmt}", summary="Calendar of all events", **_CALENDAR_ROUTE)
def events_calendar(
    fmt: CalendarParam, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    """An iCalendar subscription of all public events: every upcoming event (soonest first)
    and, up to 50 in all, the most recent past ones. An extension other than `.ics`: 404."""
    _calendar_format(fmt)
    return _calendar(
        request, session, settings, Viewer(), "/calendar/events", "Events", "All public events."
    )
