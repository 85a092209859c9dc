"""How an event's time, place and people read in feeds and calendars."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.content.relations import Link

EN_DASH = "\u2013"


def event_zone(row: Any) -> tzinfo:
    """The event's IANA time zone (writes validate it; UTC if it is ever unknown)."""
    try:
        return ZoneInfo(row.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: `Europe`, a directory
        return UTC


def local(value: datetime, zone: tzinfo) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone)


def _day(value: datetime) -> str:
    return f"{value:%A}, {value.day} {value:%B %Y}"


def has_end(row: Any) -> bool:
    """Whether the event lasts: an end at its start (writes allow it) is an instant, as an
    event without an end is (RFC 5545 §3.6.1), and is written as one."""
    return row.ends_at is not None and row.ends_at != row.starts_at


def when_text(row: Any) -> str:
    """'Thursday, 12 October 2023, 12:00-13:30 PDT' (with an en dash) in the event's zone.

    Each time names its zone when the two differ (the night clocks change: '00:30 GMT-03:30
    BST'), or the start would read an hour off."""
    zone = event_zone(row)
    start = local(row.starts_at, zone)
    if not has_end(row):
        return f"{_day(start)}, {start:%H:%M %Z}"
    end = local(row.ends_at, zone)
    if end.date() != start.date():
        return f"{_day(start)}, {start:%H:%M %Z} {EN_DASH} {_day(end)}, {end:%H:%M %Z}"
    if (start.utcoffset(), start.tzname()) != (end.utcoffset(), end.tzname()):
        return f"{_day(start)}, {start:%H:%M %Z}{EN_DASH}{end:%H:%M %Z}"
    return f"{_day(start)}, {start:%H:%M}{EN_DASH}{end:%H:%M %Z}"


def venue_text(row: Any) -> str | None:
    parts = [p for p in (row.venue_name, row.venue_address) if p]
    return ", ".join(parts) or None


def location_text(row: Any, online_url: str | None = None) -> str | None:
    """Where to go: the venue, or how to attend online for online events (both when
    hybrid): the platform and URL ("Zoom: https://…"), the URL, "Online (Zoom)" or "Online".
    `online_url`: the row's, made absolute (feeds and calendars are read off the site)."""
    venue = venue_text(row)
    url, platform = online_url or row.online_url, row.online_platform
    if platform:
        online = f"{platform}: {url}" if url else f"Online ({platform})"
    else:
        online = url or "Online"
    if row.attendance_mode == "online":
        return online
    if row.attendance_mode == "hybrid":
        if not venue:
            return online
        return f"{venue}; {online}" if platform else f"{venue}; online: {online}"
    return venue


_ROLE_LABELS = {
    "speaker": ("Speaker", "Speakers"),
    "moderator": ("Moderator", "Moderators"),
    "host": ("Host", "Hosts"),
    "panelist": ("Panelist", "Panelists"),
    "discussant": ("Discussant", "Discussants"),
    "organizer": ("Organizer", "Organizers"),
}


def participants_text(links: Sequence[Link]) -> str | None:
    """'Speakers: A, B; Moderator: C', roles in order of first appearance."""
    by_role: dict[str, list[str]] = {}
    for link in links:
        by_role.setdefault(str(link.extra.get("role", "")), []).append(link.target.name)
    parts = []
    for role, names in by_role.items():
        singular, plural = _ROLE_LABELS.get(role, (role.capitalize(), role.capitalize()))
        parts.append(f"{plural if len(names) > 1 else singular}: {', '.join(names)}")
    return "; ".join(parts) or None


STATUS_NOTES = {
    "cancelled": "This event has been cancelled.",
    "postponed": "This event has been postponed.",
    "rescheduled": "This event has been rescheduled.",
}
