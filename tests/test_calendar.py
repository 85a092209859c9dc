"""iCalendar subscriptions: parsed with `icalendar`, checked against the demo events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import example, given, settings
from hypothesis import strategies as st
from icalendar import Calendar
from icalendar.parser.string import _foldline
from sqlalchemy.orm import Session, sessionmaker

from app.content.events import notify_write
from app.content.types import BY_COLLECTION
from app.content.writes import create_item
from app.feeds.ical import fold

SITE = "https://www.example.org"
HAMAS = "The Hamas Attack on Israel: Implications for Israel and the Middle East"
CONFERENCE = "Violence, Organized Crime, and Governance: Mexico in Comparative Perspective"
SCREENING = "Screams Before Silence: Screening and Conversation with Sheryl Sandberg"


def calendar(client: TestClient, path: str) -> Calendar:
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def events_by_summary(cal: Calendar) -> dict[str, Any]:
    return {str(event["SUMMARY"]): event for event in cal.walk("VEVENT")}


def test_events_calendar(demo_client: TestClient) -> None:
    cal = calendar(demo_client, "/calendar/events.ics")
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["PRODID"]).startswith("-//Dossier//")
    assert str(cal["X-WR-CALNAME"]) == "Events"
    events = events_by_summary(cal)
    assert set(events) == {HAMAS, CONFERENCE, SCREENING}
    uids = [str(e["UID"]) for e in events.values()]
    assert len(set(uids)) == 3
    assert all(uid.startswith("evt_") and uid.endswith("@www.example.org") for uid in uids)
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["America/Los_Angeles"]
    for event in events.values():
        assert event.decoded("DTSTAMP").utcoffset() == timedelta(0)
        assert str(event["URL"]).startswith(SITE + "/events/")
        assert event["DTSTART"].params["TZID"] == "America/Los_Angeles"
        assert str(event["STATUS"]) == "CONFIRMED"


def test_event_values(demo_client: TestClient) -> None:
    events = events_by_summary(calendar(demo_client, "/calendar/events.ics"))
    hamas = events[HAMAS]
    start, end = hamas.decoded("DTSTART"), hamas.decoded("DTEND")
    assert (start.year, start.month, start.day, start.hour, start.minute) == (2023, 10, 12, 12, 0)
    assert str(start.tzinfo) == "America/Los_Angeles"
    assert start.astimezone(UTC) == datetime(2023, 10, 12, 19, 0, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2023, 10, 12, 20, 30, tzinfo=UTC)
    assert str(hamas["LOCATION"]) == "Online (Zoom)"  # "Zoom Only": online on Zoom, no link given
    assert "Speakers: Amichai Magen, Abbas Milani, Or Rabinowitz; Moderator: Larry Diamond" in str(
        hamas["DESCRIPTION"]
    )
    assert (
        str(hamas["URL"])
        == f"{SITE}/events/hamas-attack-on-israel-implications-for-israel-and-the-middle-east"
    )

    conference = events[CONFERENCE]
    assert str(conference["LOCATION"]) == (
        "Bechtel Conference Center, Encina Hall, 616 Jane Stanford Way, Stanford, CA 94305"
    )
    assert conference.decoded("DTSTART").astimezone(UTC) == datetime(2011, 10, 3, 16, 0, tzinfo=UTC)
    assert conference.decoded("DTEND").astimezone(UTC) == datetime(2011, 10, 5, 0, 0, tzinfo=UTC)
    assert "Hosts: Mariano-Florentino Cuéllar, Beatriz Magaloni" in str(conference["DESCRIPTION"])
    assert [str(c) for c in conference["CATEGORIES"].cats] == [
        "Kidnapping",
        "Mexico",
        "Organized Crime",
    ]

    screening = events[SCREENING]
    start = screening.decoded("DTSTART")
    assert (start.hour, start.utcoffset()) == (18, timedelta(hours=-8))  # PST in November
    assert "LOCATION" not in screening  # in person, venue not given


def test_topic_calendars(demo_client: TestClient) -> None:
    mexico = events_by_summary(calendar(demo_client, "/calendar/topics/mexico.ics"))
    assert set(mexico) == {CONFERENCE}
    kidnapping = calendar(demo_client, "/calendar/topics/kidnapping.ics")
    assert str(kidnapping["X-WR-CALNAME"]) == "Kidnapping — events"
    # The screening is not on the page's list, so not tagged Kidnapping (tests/test_demo.py).
    assert set(events_by_summary(kidnapping)) == {HAMAS, CONFERENCE}
    israel = calendar(demo_client, "/calendar/topics/israel.ics")
    assert set(events_by_summary(israel)) == {HAMAS, SCREENING}
    empty = calendar(demo_client, "/calendar/topics/human-rights.ics")
    assert events_by_summary(empty) == {}
    # RFC 5545 §3.4: at least one component, even with no events: the UTC zone.
    [zone] = empty.subcomponents
    assert (zone.name, str(zone["TZID"])) == ("VTIMEZONE", "UTC")
    [standard] = zone.subcomponents
    assert standard.decoded("TZOFFSETTO") == standard.decoded("TZOFFSETFROM") == timedelta(0)


def test_calendar_caching(demo_client: TestClient) -> None:
    first = demo_client.get("/calendar/topics/kidnapping.ics")
    etag = first.headers["etag"]
    assert first.headers["cache-control"].startswith("public, max-age=")
    assert {"events", "evt_1"} <= set(first.headers["surrogate-key"].split())
    assert demo_client.get("/calendar/topics/kidnapping.ics").content == first.content
    again = demo_client.get("/calendar/topics/kidnapping.ics", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/calendar/topics/no-such-topic.ics", 404),
        ("/calendar/events.xml", 404),
        ("/calendar/events.rss", 404),
        ("/calendar/topics/kidnapping.json", 404),
        ("/calendar/topics/no-such-topic.xyz", 404),
    ],
)
def test_calendar_errors(demo_client: TestClient, path: str, status: int) -> None:
    response = demo_client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == status
    if not path.endswith(".ics"):
        assert "calendars are served as .ics" in response.json()["detail"]


def _write(factory: sessionmaker[Session], collection: str, data: dict[str, Any]) -> None:
    with factory() as session, session.begin():
        row = create_item(session, collection, data, "test")
    notify_write(BY_COLLECTION[collection], row)  # as the admin routes do, for response caches


def test_status_location_and_zones(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    now = datetime.now(UTC)
    base = {"status": "published", "published_at": (now - timedelta(days=1)).isoformat()}
    soon = (now + timedelta(days=5)).replace(microsecond=0)
    _write(
        session_factory,
        "events",
        {
            **base,
            "title": "Cancelled talk",
            "event_status": "cancelled",
            "timezone": "Europe/Berlin",
            "starts_at": soon.isoformat(),
            "ends_at": (soon + timedelta(hours=2)).isoformat(),
            "venue": {"name": "Aula", "address": "Unter den Linden 6, Berlin"},
        },
    )
    _write(
        session_factory,
        "events",
        {
            **base,
            "title": "Postponed webinar",
            "event_status": "postponed",
            "attendance_mode": "online",
            "online_url": "https://meet.example.org/abc",
            "starts_at": soon.isoformat(),
            "timezone": "Asia/Tokyo",
        },
    )
    _write(
        session_factory,
        "events",
        {
            **base,
            "title": "Hybrid panel",
            "attendance_mode": "hybrid",
            "online_url": "https://meet.example.org/h",
            "venue": {"name": "Encina Hall"},
            "starts_at": soon.isoformat(),
        },
    )
    events = events_by_summary(calendar(client, "/calendar/events.ics"))
    cancelled = events["Cancelled talk"]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert str(cancelled["LOCATION"]) == "Aula, Unter den Linden 6, Berlin"
    assert cancelled.decoded("DTSTART").astimezone(UTC) == soon
    assert cancelled["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert "This event has been cancelled." in str(cancelled["DESCRIPTION"])
    postponed = events["Postponed webinar"]
    assert str(postponed["STATUS"]) == "TENTATIVE"
    assert str(postponed["LOCATION"]) == "https://meet.example.org/abc"
    assert postponed["DTSTART"].params["TZID"] == "Asia/Tokyo"
    assert "DTEND" not in postponed
    hybrid = events["Hybrid panel"]
    assert str(hybrid["LOCATION"]) == "Encina Hall; online: https://meet.example.org/h"
    assert "TZID" not in hybrid["DTSTART"].params  # UTC events are written as UTC times (…Z)
    assert hybrid.decoded("DTSTART").utcoffset() == timedelta(0)
    cal = calendar(client, "/calendar/events.ics")
    assert {str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")} >= {"Europe/Berlin", "Asia/Tokyo"}


def test_upcoming_events_first(
    client: TestClient, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.feeds.sources.FEED_SIZE", 3)
    now = datetime.now(UTC)
    published = {"status": "published", "published_at": (now - timedelta(days=400)).isoformat()}
    for days in (-300, -200, -100, 10, 20):
        _write(
            session_factory,
            "events",
            {
                **published,
                "title": f"Day {days}",
                "starts_at": (now + timedelta(days=days)).isoformat(),
            },
        )
    summaries = set(events_by_summary(calendar(client, "/calendar/events.ics")))
    # Both upcoming events, then the most recent past one.
    assert summaries == {"Day 10", "Day 20", "Day -100"}


@settings(max_examples=400, deadline=None, derandomize=True)
@given(
    text=st.text(
        alphabet=st.sampled_from([*"ab \\^;,:é€😀ß", chr(0x10FFFF), "\u0301"]),
        min_size=50,
        max_size=400,
    ),
    name=st.sampled_from(["DESCRIPTION:", "X:", "LOCATION;LANGUAGE=en:"]),
)
@example(text="a" * 70 + "\\n" + "b" * 80, name="X:")  # an escape at the fold
@example(text="a" * 71 + "^^" + "b" * 80, name="X:")
@example(text="a" * 71 + "€" * 40, name="X:")  # a 3-octet character across the fold
@example(text="\\" * 100, name="X:")
def test_lines_fold_as_icalendar_folds_them(text: str, name: str) -> None:
    """Dossier folds content lines itself (icalendar encodes them a character at a time):
    the same bytes as icalendar's own folding, for any text — multi-byte characters never
    split, no line over 75 octets, no backslash or caret escape cut from what it escapes."""
    line = name + text
    folded = fold(line)
    assert folded == _foldline(line).encode()
    for physical in folded.split(b"\r\n"):
        assert len(physical) <= 75
        physical.decode()  # whole UTF-8 characters on every line


def test_a_calendar_is_the_same_bytes_every_time_with_its_zones_in_order(
    demo_client: TestClient,
) -> None:
    first = demo_client.get("/calendar/events.ics").content
    assert demo_client.get("/calendar/events.ics").content == first
    zones = [line for line in first.split(b"\r\n") if line.startswith(b"TZID:")]
    assert zones
    assert zones == sorted(zones)
    unfolded = first.replace(b"\r\n ", b"")
    assert unfolded == Calendar.from_ical(first).to_ical().replace(b"\r\n ", b"")


def test_calendar_name_is_escaped_text(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    """A topic's name becomes the calendar's NAME, X-WR-CALNAME and X-WR-CALDESC, TEXT
    values (RFC 5545 §3.3.11): commas, semicolons, backslashes and line breaks escaped. A
    name with a line break was a 500 (icalendar refuses a raw newline in a content line)."""
    name = "Hostages, kidnapping; ransom\\extortion\r\nEND:VCALENDAR"
    _write(session_factory, "topics", {"name": name, "slug": "odd-name"})
    _write(
        session_factory,
        "events",
        {
            "title": "Tagged",
            "status": "published",
            "published_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
            "starts_at": "2026-06-01T10:00:00Z",
            "topics": ["odd-name"],
        },
    )
    response = client.get("/calendar/topics/odd-name.ics")
    assert response.status_code == 200, response.text
    unfolded = response.content.replace(b"\r\n ", b"")
    head = unfolded.split(b"BEGIN:VTIMEZONE")[0].split(b"\r\n")
    escaped = b"Hostages\\, kidnapping\\; ransom\\\\extortion\\nEND:VCALENDAR"
    for prop in (b"NAME:", b"X-WR-CALNAME:"):
        [line] = [line for line in head if line.startswith(prop)]
        assert line == prop + escaped + " — events".encode()
    [desc] = [line for line in head if line.startswith(b"X-WR-CALDESC:")]
    assert desc == b"X-WR-CALDESC:Events on " + escaped + b"."
    cal = Calendar.from_ical(response.content)
    assert [str(e["SUMMARY"]) for e in cal.walk("VEVENT")] == ["Tagged"]


def test_each_zone_holds_the_rules_of_its_own_events_years(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    """VTIMEZONE rules cover the years a zone's events span, a year either side: one
    event dated 2999 (a typo) gave every zone of the calendar a thousand years of
    transitions (32 KB -> 312 KB); only its own zone has them now."""
    now = datetime.now(UTC)
    base = {"status": "published", "published_at": (now - timedelta(days=1)).isoformat()}
    soon = (now + timedelta(days=5)).replace(microsecond=0)
    for title, zone, starts in [
        ("Berlin talk", "Europe/Berlin", soon),
        ("Far talk", "America/New_York", soon.replace(year=2999)),
        ("Past talk", "America/New_York", soon.replace(year=1000)),
    ]:
        body = {**base, "title": title, "timezone": zone, "starts_at": starts.isoformat()}
        _write(session_factory, "events", body)
    cal = calendar(client, "/calendar/events.ics")
    zones = {str(tz["TZID"]): tz for tz in cal.walk("VTIMEZONE")}
    assert set(zones) == {"Europe/Berlin", "America/New_York"}
    # Two or three years of Berlin's summer and winter time (~500 bytes), not a thousand
    # years of them (35 KB).
    assert len(zones["Europe/Berlin"].to_ical()) < 2_000


def test_an_event_is_modified_when_a_name_it_shows_changes(
    client: TestClient, writer: dict[str, str]
) -> None:
    """A speaker's and a topic's names are in the event's DESCRIPTION and CATEGORIES: a
    rename changed them while LAST-MODIFIED and DTSTAMP kept the event's own time."""
    import time

    person = client.post("/api/v1/people", json={"name": "Ana Díaz"}, headers=writer)
    topic = client.post("/api/v1/topics", json={"name": "Kidnapping"}, headers=writer)
    assert (person.status_code, topic.status_code) == (201, 201)
    body = {
        "title": "Seminar",
        "status": "published",
        "starts_at": "2030-01-01T17:00:00Z",
        "participants": [{"person": person.json()["slug"], "role": "speaker"}],
        "topics": [topic.json()["slug"]],
    }
    assert client.post("/api/v1/events", json=body, headers=writer).status_code == 201
    before = events_by_summary(calendar(client, "/calendar/events.ics"))["Seminar"]
    for path, change in (
        (person.headers["location"], {"name": "Ana María Díaz"}),
        (topic.headers["location"], {"name": "Abductions"}),
    ):
        time.sleep(1.05)  # iCalendar's times are to the second
        assert client.patch(path, json=change, headers=writer).status_code == 200
        after = events_by_summary(calendar(client, "/calendar/events.ics"))["Seminar"]
        for name in ("LAST-MODIFIED", "DTSTAMP"):
            assert after.decoded(name) > before.decoded(name), (change, name)
        before = after
    assert "Ana María Díaz" in str(after["DESCRIPTION"])
    assert str(after["CATEGORIES"].cats[0]) == "Abductions"
    assert str(after["SEQUENCE"]) == str(before["SEQUENCE"])  # no change of time or place
    # Deleted, the speaker leaves the event's text, and the event is modified then too.
    time.sleep(1.05)
    assert client.delete(person.headers["location"], headers=writer).status_code == 204
    gone = events_by_summary(calendar(client, "/calendar/events.ics"))["Seminar"]
    assert "Ana María Díaz" not in str(gone.get("DESCRIPTION", ""))
    assert gone.decoded("LAST-MODIFIED") > after.decoded("LAST-MODIFIED")
