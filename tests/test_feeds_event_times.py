"""When an event takes place, as feeds and calendars state it: events that span a change of
the clocks, and events whose end is their start."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy.orm import Session, sessionmaker

from tests.admin_helpers import Keys, event_body

# The clocks change during these events: London goes from GMT to BST at 01:00 UTC on
# 28 March 2027; Los Angeles from PDT back to PST at 09:00 UTC on 1 November 2026 (01:30
# happens twice there that night).
ACROSS_SPRING = {
    "title": "Across spring forward",
    "starts_at": "2027-03-28T00:30:00Z",
    "ends_at": "2027-03-28T02:30:00Z",
    "timezone": "Europe/London",
}
ACROSS_FALL_BACK = {
    "title": "Across fall back",
    "starts_at": "2026-11-01T08:30:00Z",
    "ends_at": "2026-11-01T09:45:00Z",
    "timezone": "America/Los_Angeles",
}
INSTANT = {
    "title": "Instant",
    "starts_at": "2026-12-01T09:30:00Z",
    "ends_at": "2026-12-01T09:30:00Z",
    "timezone": "Europe/Berlin",
}


@pytest.fixture
def keys(session_factory: sessionmaker[Session]) -> Keys:
    return Keys(session_factory, seed=True)


def _create(client: TestClient, keys: Keys, *events: dict[str, Any]) -> None:
    for fields in events:
        body = event_body(**fields, participants=[], sponsors=[], topics=["kidnapping"])
        response = client.post("/api/v1/events", json=body, headers=keys.writer)
        assert response.status_code == 201, response.text


def _when(client: TestClient) -> dict[str, str]:
    """Each event's 'When:' paragraph in the JSON Feed of events."""
    items = client.get("/feeds/events.json").json()["items"]
    return {
        item["title"]: item["content_html"].split("<strong>When:</strong> ")[1].split("</p>")[0]
        for item in items
    }


def test_an_event_across_a_change_of_the_clocks_names_both_zones(
    client: TestClient, keys: Keys
) -> None:
    """'00:30-03:30 BST' put the start an hour early (00:30 BST is 23:30 UTC): each time
    names its own zone when the two differ."""
    _create(client, keys, ACROSS_SPRING, ACROSS_FALL_BACK)
    when = _when(client)
    assert when["Across spring forward"] == "Sunday, 28 March 2027, 00:30 GMT–03:30 BST"
    assert when["Across fall back"] == "Sunday, 1 November 2026, 01:30 PDT–01:45 PST"
    # The calendar has had them right all along.
    raw = client.get("/calendar/events.ics").content
    events = {str(e["SUMMARY"]): e for e in Calendar.from_ical(raw).walk("VEVENT")}
    spring = events["Across spring forward"]
    assert spring.decoded("DTSTART").astimezone(UTC) == datetime(2027, 3, 28, 0, 30, tzinfo=UTC)
    assert spring.decoded("DTEND").astimezone(UTC) == datetime(2027, 3, 28, 2, 30, tzinfo=UTC)


def test_an_event_that_ends_as_it_starts_is_an_instant(client: TestClient, keys: Keys) -> None:
    """Writes accept `ends_at` equal to `starts_at`; RFC 5545 §3.8.2.2 wants DTEND later
    than DTSTART (CalDAV servers refuse the event), and a DATE-TIME DTSTART without DTEND is
    that instant (§3.6.1). Feeds read it as an event without an end."""
    _create(client, keys, INSTANT, {**INSTANT, "title": "Without end", "ends_at": None})
    raw = client.get("/calendar/events.ics").content
    events = {str(e["SUMMARY"]): e for e in Calendar.from_ical(raw).walk("VEVENT")}
    for title in ("Instant", "Without end"):
        event = events[title]
        assert "DTEND" not in event
        assert event.decoded("DTSTART").astimezone(UTC) == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    for event in events.values():
        if "DTEND" in event:
            assert event.decoded("DTEND") > event.decoded("DTSTART")
    when = _when(client)
    assert when["Instant"] == when["Without end"] == "Tuesday, 1 December 2026, 10:30 CET"
