"""iCalendar (RFC 5545) subscriptions of events, built with the `icalendar` library.

Times are written in each event's own IANA time zone (`DTSTART;TZID=America/Los_Angeles`)
with the matching VTIMEZONE components, so a seminar at noon in California stays at noon
in California whatever the subscriber's zone, daylight saving included. DTSTAMP is the
event's last revision (RFC 5545 §3.8.7.2 for calendars without METHOD), so the bytes and
the ETag change only when an event does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from app.config import Settings
from app.content.relations import RELATIONS, Link
from app.content.types import EVENT
from app.content.visibility import Viewer
from app.feeds.entries import printable, references_updated, utc
from app.feeds.eventinfo import (
    STATUS_NOTES,
    event_zone,
    has_end,
    local,
    location_text,
    participants_text,
)
from app.feeds.urls import calendar_uid, public_url, site_link

if TYPE_CHECKING:
    from icalendar import Event, Timezone

# `icalendar` (80 modules, ~0.1 s) is imported by the first calendar a process serves,
# not by every server start.

PRODID = "-//Dossier//Dossier event calendars//EN"
MEDIA_TYPE = "text/calendar; charset=utf-8"
# How often subscribers are asked to poll at most (RFC 7986 §5.7 REFRESH-INTERVAL, and
# Outlook's X-PUBLISHED-TTL): hourly, or `CACHE_MAX_AGE` when longer (`refresh_interval`).
REFRESH_INTERVAL = timedelta(hours=1)


def refresh_interval(settings: Settings) -> timedelta:
    """The polling interval a calendar suggests: REFRESH_INTERVAL, or the responses' own
    freshness (`CACHE_MAX_AGE`) when that is longer. A poll sooner than `max-age` gets the
    copy a CDN or the client's cache already holds, so a shorter interval only told
    clients to poll for nothing; a longer one than `max-age` (the default 60 s) is no
    contradiction: each poll revalidates (304 while nothing changed). A setting, not the
    response's `max-age` (shortened until the next event ends): the bytes, and the ETag,
    change only when the content does."""
    return max(REFRESH_INTERVAL, timedelta(seconds=settings.cache_max_age))


# RFC 5545 §3.8.1.11 offers TENTATIVE, CONFIRMED and CANCELLED for VEVENT. A postponed
# event will happen but its date is no longer certain: TENTATIVE. A rescheduled one has a
# confirmed new date (SEQUENCE grows with every revision, so clients replace the old one).
STATUS = {
    "scheduled": "CONFIRMED",
    "rescheduled": "CONFIRMED",
    "postponed": "TENTATIVE",
    "cancelled": "CANCELLED",
}


def _description(
    row: Any, people: str | None, online_url: str | None, registration_url: str | None
) -> str:
    lead = row.summary or row.subtitle
    body = row.body_text
    if lead and body and body.startswith(lead):
        lead = None  # the summary is often the body's first paragraph
    parts = [STATUS_NOTES.get(row.event_status), lead, people, body]
    if registration_url:
        parts.append(f"Registration: {registration_url}")
    if row.attendance_mode != "in_person" and online_url:
        where = f"on {row.online_platform}" if row.online_platform else "online"
        parts.append(f"Join {where}: {online_url}")
    return "\n\n".join(p for p in parts if p)


def _wall_time(value: datetime, zone: tzinfo) -> datetime:
    """The moment in the event's zone (`DTSTART;TZID=…`), or in UTC when that wall-clock
    time happens twice and this is its second occurrence (clocks going back): RFC 5545
    §3.3.5 reads a repeated local time as the first, an hour early here."""
    moment = local(value, zone)
    if moment.fold and moment.replace(fold=0).utcoffset() != moment.utcoffset():
        return moment.astimezone(UTC)
    return moment


def _vevent(
    settings: Settings, row: Any, people: str | None, topics: list[str], changed: datetime
) -> Event:
    """`changed`: when the event, or a name it shows, last changed (`_changed`)."""
    from icalendar import Event

    zone = event_zone(row)
    event = Event()
    event.add("uid", calendar_uid(settings, EVENT, row))
    event.add("dtstamp", changed)
    event.add("created", utc(row.created_at))
    event.add("last-modified", changed)
    event.add("sequence", max(row.version - 1, 0))
    event.add("dtstart", _wall_time(row.starts_at, zone))
    if has_end(row):  # RFC 5545 §3.8.2.2: DTEND is later than DTSTART
        event.add("dtend", _wall_time(row.ends_at, zone))
    event.add("summary", printable(row.title))
    # Links an editor may give relative to the site: a calendar has no base URL.
    online_url = site_link(settings, row.online_url)
    registration_url = site_link(settings, row.registration_url)
    description = _description(row, people, online_url, registration_url)
    if description:
        event.add("description", printable(description))
    location = location_text(row, online_url)
    if location:
        event.add("location", printable(location))
    event.add("status", STATUS.get(row.event_status, "CONFIRMED"))
    url = public_url(settings, "event", slug=row.slug, id=EVENT.public_id(row.id))
    if url:
        event.add("url", url)
    if topics:
        event.add("categories", [printable(t) for t in topics])
    return event


def _changed(row: Any, shown: list[Link], gone: datetime | None) -> datetime:
    """When the event last changed, or a person's or topic's name in its DESCRIPTION or
    CATEGORIES (renamed, or `gone`: deleted): a renamed speaker changed the event's text,
    and its LAST-MODIFIED said it had not."""
    moments = [utc(row.updated_at), references_updated(shown), gone]
    return max(moment for moment in moments if moment is not None)


def _names_gone(session: Session, event_ids: list[int]) -> dict[int, datetime]:
    """When a person or topic an event showed was deleted, by event: its DESCRIPTION or
    CATEGORIES lost the name then (the links stay, for a restore)."""
    from sqlalchemy import func, select
    from sqlmodel import col

    from app.models import EventParticipant, Person, Tagging, Topic

    if not event_ids:
        return {}
    people = (
        select(col(EventParticipant.event_id), func.max(Person.deleted_at))
        .join(Person, col(Person.id) == col(EventParticipant.person_id))
        .where(col(EventParticipant.event_id).in_(event_ids), col(Person.deleted_at).is_not(None))
        .group_by(col(EventParticipant.event_id))
    )
    topics = (
        select(col(Tagging.entity_id), func.max(Topic.deleted_at))
        .join(Topic, col(Topic.id) == col(Tagging.topic_id))
        .where(
            col(Tagging.entity_type) == EVENT.name,
            col(Tagging.entity_id).in_(event_ids),
            col(Topic.deleted_at).is_not(None),
        )
        .group_by(col(Tagging.entity_id))
    )
    gone: dict[int, datetime] = {}
    for statement in (people, topics):
        for event_id, deleted_at in session.execute(statement):
            if deleted_at is None:
                continue
            moment = utc(deleted_at)
            gone[event_id] = max(gone.get(event_id, moment), moment)
    return gone


def build_calendar(
    session: Session,
    settings: Settings,
    rows: Sequence[Any],
    viewer: Viewer,
    *,
    name: str,
    description: str,
    source_url: str,
) -> tuple[bytes, set[str], datetime | None]:
    """The calendar, the public ids of everything it shows (for Surrogate-Key), and the
    newest change of a person or topic it shows (`Last-Modified`)."""
    from icalendar import Calendar, vDuration, vText

    participants = RELATIONS["event"]["participants"].loader(session, rows, viewer)
    topics = RELATIONS["event"]["topics"].loader(session, rows, viewer)
    gone = _names_gone(session, [row.id for row in rows])
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    # icalendar knows NAME and the X-WR- properties by no type, and writes an unknown
    # property's value as it is: vText escapes commas, semicolons, backslashes and line
    # breaks (a topic name with one was a 500) as in the TEXT values they are.
    name_text, description_text = vText(printable(name)), vText(printable(description))
    calendar.add("name", name_text)  # RFC 7986
    calendar.add("x-wr-calname", name_text)  # what Apple, Google and Outlook read
    calendar.add("description", description_text)
    calendar.add("x-wr-caldesc", description_text)
    calendar.add("source", source_url, parameters={"VALUE": "URI"})
    interval = refresh_interval(settings)
    calendar.add("refresh-interval", interval, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(interval).to_ical().decode())
    shown: set[str] = set()
    references: list[Link] = []
    for row in rows:
        people = participants.get(row.id, [])
        tags = topics.get(row.id, [])
        references += people + tags
        shown.add(EVENT.public_id(row.id))
        shown.update(f"per_{link.target.id}" for link in people)
        shown.update(f"top_{link.target.id}" for link in tags)
        names = [link.target.name for link in tags]
        calendar.add_component(
            _vevent(
                settings,
                row,
                participants_text(people),
                names,
                _changed(row, people + tags, gone.get(row.id)),
            )
        )
    if rows:
        # VTIMEZONE rules only for the years each zone's events span (not 1970-2038): one
        # event dated 2999 by a typo gave every zone a thousand years of transitions
        # (32 KB -> 312 KB), now only its own.
        spans: dict[str, tuple[date, date]] = {}
        for row in rows:
            tzid = str(event_zone(row))
            start, end = utc(row.starts_at).date(), utc(row.ends_at or row.starts_at).date()
            low, high = spans.get(tzid, (start, end))
            spans[tzid] = (min(low, start), max(high, end))
        everywhere = (min(low for low, _ in spans.values()), max(h for _, h in spans.values()))
        # What `calendar.add_missing_timezones` does, in a fixed order (it walks a set) and
        # with each zone's rules worked out once per span (~2 ms a zone).
        found = []
        for tzid in sorted(calendar.get_missing_tzids()):
            low, high = spans.get(tzid, everywhere)
            found.append(_timezone(tzid, _days_from(low, -366), _days_from(high, 366)))
        calendar.subcomponents[0:0] = [zone for zone in found if zone is not None]
    else:
        # RFC 5545 §3.4: a calendar holds at least one component. With no events, it holds
        # the zone of its (empty) schedule, UTC, as Google's export of an empty calendar
        # does; validators refuse a VCALENDAR with none.
        calendar.add_component(_utc_zone())
    body = b"".join(fold(line) + b"\r\n" for line in calendar.content_lines() if line)
    return body, shown, references_updated(references)


def _days_from(day: date, days: int) -> date:
    """`day` moved by `days`, stopping at the ends of the calendar (writes keep events
    in the years 1000-2999, but rows written otherwise must not break a calendar)."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


@lru_cache(maxsize=256)
def _timezone(tzid: str, first: date, last: date) -> Timezone | None:
    """The VTIMEZONE of `tzid` for events between `first` and `last` (None: unknown zone).
    Kept and shared by calendars: serializing a component does not change it."""
    from icalendar import Timezone

    try:
        return Timezone.from_tzid(tzid, first_date=first, last_date=last)
    except (ValueError, OverflowError):  # OverflowError: a span reaching year 9999
        return None


def _utc_zone() -> Timezone:
    from icalendar import Timezone, TimezoneStandard

    zone = Timezone()
    zone.add("tzid", "UTC")
    standard = TimezoneStandard()
    standard.add("dtstart", datetime(1970, 1, 1))
    standard.add("tzname", "UTC")
    standard.add("tzoffsetfrom", timedelta(0))
    standard.add("tzoffsetto", timedelta(0))
    zone.add_component(standard)
    return zone


_LIMIT = 74  # octets of a folded line before its CRLF (75 with the next line's space)


def fold(line: str) -> bytes:
    """A content line folded as `icalendar` folds it (RFC 5545 §3.1: at most 75 octets a
    line, never inside a UTF-8 character; and, as `icalendar` does for older clients, never
    right after a backslash or caret, so no escape is split), in one pass over its bytes:
    `icalendar` encodes it a character at a time, which was most of a calendar's time."""
    data = line.encode()
    if len(data) <= _LIMIT:
        return data
    parts = []
    start, end = 0, len(data)
    while end - start > _LIMIT:
        cut = start + _LIMIT
        while data[cut] & 0xC0 == 0x80:  # a UTF-8 continuation byte: back to its character
            cut -= 1
        if cut - start > 1 and data[cut - 1] in b"\\^":
            cut -= 1
        parts.append(data[start:cut])
        start = cut
    parts.append(data[start:])
    return b"\r\n ".join(parts)
