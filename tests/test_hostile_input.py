"""Input that reviews found to cause a 500, a wrong answer or an invalid feed, on both
databases: each is now a clear 4xx that changes nothing, or is handled right."""

from __future__ import annotations

import html
import re
import threading
import time
from typing import Any

import feedparser
import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from lxml import etree
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.content.writes import create_item
from app.models import AuditEntry, Event
from tests.admin_helpers import Keys, event_body
from tests.admin_helpers import problem as _problem
from tests.support import backend_of


@pytest.fixture
def keys(session_factory: sessionmaker[Session]) -> Keys:
    return Keys(session_factory, seed=True)


def _writes(session_factory: sessionmaker[Session]) -> tuple[int, int]:
    with session_factory() as session:
        return (
            session.scalar(select(func.count()).select_from(Event)) or 0,
            session.scalar(select(func.count()).select_from(AuditEntry)) or 0,
        )


# --- ids ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ref",
    ["evt_%C2%B2", "evt_%D9%A1", "evt_01", "evt_0", "evt_2147483648", "evt_3000000000"],
)
def test_only_canonical_ids_in_range_name_an_item(client: TestClient, keys: Keys, ref: str) -> None:
    """`evt_²` (a digit to `str.isdigit`, not to `int`), Arabic-Indic digits, `evt_01` and ids past
    PostgreSQL's `integer` are no id: 404, never a 500 nor another item."""
    created = client.post("/api/v1/events", json=event_body(), headers=keys.writer)
    assert created.json()["id"] == "evt_1"
    url = f"/api/v1/events/{ref}"
    _problem(client.get(url), 404)
    _problem(client.patch(url, json={"subtitle": "x"}, headers=keys.writer), 404)
    _problem(client.delete(url, headers=keys.writer), 404)
    given = ref.replace("%C2%B2", "\u00b2").replace("%D9%A1", "\u0661")
    query = f'{{ event(id: "{given}") {{ title }} }}'
    assert client.post("/graphql", json={"query": query}).json() == {"data": {"event": None}}


def test_a_reference_that_is_no_id_is_an_unknown_item(client: TestClient, keys: Keys) -> None:
    before = _writes(client.app.state.session_factory)  # type: ignore[attr-defined]
    for ref in ("top_²", "top_2147483648"):
        problem = _problem(
            client.post("/api/v1/events", json=event_body(topics=[ref]), headers=keys.writer), 422
        )
        assert problem["errors"] == [
            {"loc": ["body", "topics", "0"], "msg": f"unknown topic '{ref}'"}
        ]
    assert _writes(client.app.state.session_factory) == before  # type: ignore[attr-defined]


def test_a_unicode_digit_in_a_number_parameter_is_a_400(client: TestClient) -> None:
    _problem(client.get("/api/v1/events", params={"limit": "²"}), 400)


# --- bodies ------------------------------------------------------------------------------


def test_a_deeply_nested_body_is_refused_before_it_is_walked(
    client: TestClient, keys: Keys, session_factory: sessionmaker[Session]
) -> None:
    """1,000 levels (orjson parses up to 1,024) used to exhaust Python's stack in the
    checks and in a merge patch: a 500."""
    before = _writes(session_factory)
    for depth in (33, 1000):
        nested = "[" * depth + "1" + "]" * depth
        body = f'{{"title": "x", "summary": {nested}}}'
        headers = {**keys.writer, "Content-Type": "application/json"}
        problem = _problem(client.post("/api/v1/events", content=body, headers=headers), 422)
        assert problem["errors"] == [{"loc": ["body"], "msg": "nests deeper than 32 levels"}]
        patch = {**keys.writer, "Content-Type": "application/merge-patch+json"}
        _problem(client.patch("/api/v1/people/larry-diamond", content=body, headers=patch), 422)
    assert _writes(session_factory) == before


def test_a_422_lists_at_most_fifty_errors(
    client: TestClient, keys: Keys, session_factory: sessionmaker[Session]
) -> None:
    """Each unknown field was an error of its own, naming every field the type has: a body
    of 900 KB with 70,000 of them got a 7 MB answer."""
    before = _writes(session_factory)
    body = {"title": "x", **{f"unknown_{i}": 1 for i in range(5_000)}}
    response = client.post("/api/v1/articles", json=body, headers=keys.writer)
    problem = _problem(response, 422)
    assert len(problem["errors"]) == 50
    assert problem["errors"][0]["loc"] == ["body", "unknown_0"]
    assert "It has 5,000 errors; the first 50 are listed." in problem["detail"]
    assert len(response.content) < 30_000
    assert _writes(session_factory) == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timezone", "Europe", "is not an IANA time zone"),  # a directory of the zone database
        ("timezone", "localtime", "is not an IANA time zone"),
        ("timezone", "Factory", "is not an IANA time zone"),
        ("starts_at", "0002-01-01T12:00:00Z", "between the years 1000 and 2999"),
        ("starts_at", "9998-12-30T12:00:00Z", "between the years 1000 and 2999"),
        ("title", "\u0001\u000b", "control characters (U+0001)"),
        ("title", "Bell\u0007", "control characters (U+0007)"),
        # C1 controls: XML takes them, no text means them (README: none anywhere).
        ("title", "It\u0092s", "control characters (U+0092)"),
        ("summary", "Next\u0085line", "control characters (U+0085)"),
        ("title", "\u200b\u200b", "must not be blank"),  # zero-width spaces
        ("title", "\u0301", "must not be blank"),  # a combining mark alone
        ("starts_at", 1893456000, "must be ISO 8601 text"),  # not seconds since 1970
        ("starts_at", "1893456000", "must be ISO 8601 text"),
        ("registration_url", "//evil.example/x", "must be an http:// or https:// address"),
        ("registration_url", "/\\evil.example", "must be an http:// or https:// address"),
    ],
)
def test_values_no_reader_could_use_are_refused(
    client: TestClient,
    keys: Keys,
    session_factory: sessionmaker[Session],
    field: str,
    value: object,
    message: str,
) -> None:
    before = _writes(session_factory)
    problem = _problem(
        client.post("/api/v1/events", json=event_body(**{field: value}), headers=keys.writer), 422
    )
    assert any(
        e["loc"][:2] == ["body", field] and message in e["msg"] for e in problem["errors"]
    ), problem
    assert _writes(session_factory) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [("is_primary", "yes"), ("is_primary", 1), ("start_year", 2000.0), ("start_year", True)],
)
def test_flags_and_numbers_take_json_booleans_and_integers_only(
    client: TestClient, keys: Keys, field: str, value: object
) -> None:
    affiliation = {"organization": "stanford-university", "role": "Fellow", field: value}
    problem = _problem(
        client.post(
            "/api/v1/people",
            json={"name": "Typed", "affiliations": [affiliation]},
            headers=keys.writer,
        ),
        422,
    )
    assert [e["loc"] for e in problem["errors"]] == [["body", "affiliations", "0", field]]


def test_a_related_item_listed_twice_is_a_422_naming_it(client: TestClient, keys: Keys) -> None:
    event = client.post("/api/v1/events", json=event_body(), headers=keys.writer).json()
    related = [{"type": "event", "slug": event["slug"]}, {"type": "event", "slug": event["id"]}]
    problem = _problem(
        client.post(
            "/api/v1/articles", json={"title": "Twice", "related": related}, headers=keys.writer
        ),
        422,
    )
    assert problem["errors"] == [
        {"loc": ["body", "related", "1"], "msg": f"event '{event['id']}' is listed twice"}
    ]


def test_an_article_related_to_itself_is_a_422_naming_it(client: TestClient, keys: Keys) -> None:
    """An organization cannot be its own parent, but an article could list itself among
    its related items (by its slug or its id) and showed itself under "Related" on its own
    page, in REST and GraphQL."""
    article = client.post("/api/v1/articles", json={"title": "Self"}, headers=keys.writer).json()
    for ref in (article["slug"], article["id"]):
        related = [{"type": "article", "slug": ref}]
        patched = client.patch(
            f"/api/v1/articles/{article['id']}", json={"related": related}, headers=keys.writer
        )
        assert _problem(patched, 422)["errors"] == [
            {"loc": ["body", "related", "0"], "msg": "an article cannot be related to itself"}
        ]
    kept = client.get(f"/api/v1/articles/{article['id']}?preview=true", headers=keys.previewer)
    assert kept.json()["related"] == []


def test_an_affiliation_listed_twice_is_a_422_naming_it(client: TestClient, keys: Keys) -> None:
    """Every other list a write names (topics, authors, participants, related…) refuses
    an entry given twice; an affiliation given twice (by slug, then by id) was stored
    twice, and the person's page showed it twice. Two roles at one organization, or one
    role there in two spells, are two affiliations."""
    fellow = {"organization": "hoover-institution", "role": "Research Fellow"}
    twice = [fellow, {**fellow, "organization": "org_2", "is_primary": True}]
    person = {"name": "Twice Listed", "affiliations": twice}
    problem = _problem(client.post("/api/v1/people", json=person, headers=keys.writer), 422)
    assert problem["errors"] == [
        {"loc": ["body", "affiliations", "1"], "msg": "this affiliation is listed twice"}
    ]
    patched = client.patch("/api/v1/people/abbas-milani", json=person, headers=keys.writer)
    assert _problem(patched, 422)["errors"] == problem["errors"]
    kept = client.get("/api/v1/people/abbas-milani?include=affiliations").json()
    assert [a["role"] for a in kept["affiliations"]] == ["Research Fellow"]
    distinct = [
        fellow,
        {**fellow, "role": "Director"},
        {**fellow, "start_year": 1990, "end_year": 1995},
    ]
    created = client.post(
        "/api/v1/people", json={"name": "Three Hats", "affiliations": distinct}, headers=keys.writer
    )
    assert created.status_code == 201, created.text
    assert len(created.json()["affiliations"]) == 3


def test_a_huge_text_of_distinct_words_is_stored_and_its_start_searchable(
    client: TestClient, keys: Keys, database_url: str
) -> None:
    """PostgreSQL refuses a tsvector over 1 MB: 45,000 distinct two-character words in
    three fields made the write fail, reported as the database being down (503)."""

    def words(start: int) -> str:
        return " ".join(
            chr(0x4E00 + i // 400) + chr(0x4E00 + i % 400) for i in range(start, start + 45_000)
        )

    body = event_body(
        subtitle=words(0), summary=words(45_000), body=f"<p>{words(90_000)}</p>", title="Huge"
    )
    created = client.post("/api/v1/events", json=body, headers=keys.writer)
    assert created.status_code == 201, created.text[:500]
    assert client.get(f"/api/v1/events/{created.json()['slug']}").json()["summary"] == words(45_000)
    found = client.get("/api/v1/search", params={"q": words(0).split()[0]}).json()
    assert created.json()["id"] in [hit["id"] for hit in found["data"]], backend_of(database_url)


def test_writers_naming_no_slug_never_collide(
    client: TestClient, keys: Keys, database_url: str
) -> None:
    """Twelve clients create "Same Name" at once: each gets its own slug. On PostgreSQL
    half of them got a 409 for a slug they never chose."""
    statuses: list[int] = []
    slugs: list[str] = []
    lock = threading.Lock()

    def create() -> None:
        response = client.post("/api/v1/topics", json={"name": "Same Name"}, headers=keys.writer)
        with lock:
            statuses.append(response.status_code)
            if response.status_code == 201:
                slugs.append(response.json()["slug"])

    threads = [threading.Thread(target=create) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201] * 12, (backend_of(database_url), statuses)
    assert sorted(slugs) == sorted(["same-name", *(f"same-name-{n}" for n in range(2, 13))])


def test_a_slug_made_while_another_writer_holds_it_uncommitted_is_the_next_one(
    session_factory: sessionmaker[Session], database_url: str
) -> None:
    """PostgreSQL: writer B makes a slug from the base writer A has written but not yet
    committed. B waits for A (the writers' lock, `lock_writers`), then takes `-2`; before,
    B picked the same slug, waited on the unique index, and failed. (SQLite writers take
    the database's lock in turn.)"""
    if backend_of(database_url) != "postgresql":
        pytest.skip("SQLite serializes writers (`lock_for_write`)")
    first = session_factory()
    create_item(first, "topics", {"name": "Held Name"}, "test")
    first.flush()
    outcome: list[object] = []

    def second() -> None:
        with session_factory() as session:
            try:
                outcome.append(create_item(session, "topics", {"name": "Held Name"}, "test").slug)
                session.commit()
            except Exception as exc:  # reported by the assertion below
                outcome.append(exc)

    thread = threading.Thread(target=second)
    thread.start()
    time.sleep(0.3)  # B is waiting for A
    first.commit()
    first.close()
    thread.join(10)
    assert outcome == ["held-name-2"]


# --- GraphQL -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # `$x` has a default, so validation lets it stand where null is not allowed.
        (
            "query($x: Boolean = true) { topics(first: 1) { totalCount @include(if: $x) } }",
            "Boolean!",
        ),
        # The argument has a default (`first: Int! = 20`): the same for a bare `$n: Int`.
        ("query($n: Int) { topics(first: $n) { totalCount } }", "Int!"),
        (
            "query($n: Int) { ...F } fragment F on Query { topics(first: $n) { totalCount } }",
            "Int!",
        ),
    ],
)
def test_a_null_variable_where_null_is_not_allowed_is_bad_user_input(
    app_factory: Any, query: str, expected: str
) -> None:
    """An explicit `null` for such a variable failed during execution with an error that had
    no `extensions.code` (and a message naming Python's `None`); the fast path's planner
    had once raised it as a 500. Both paths now refuse it before execution."""
    answers = []
    for fast in (True, False):
        with TestClient(app_factory(graphql_fast_path=fast)) as api:
            response = api.post(
                "/graphql",
                json={"query": query, "variables": {"x": None, "n": None}},
                headers={"Accept": "application/graphql-response+json"},
            )
            answers.append((response.status_code, response.json()))
    assert answers[0] == answers[1]
    status, body = answers[0]
    assert status == 400
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert expected in error["message"]
    assert "None" not in error["message"]


def test_a_null_variable_where_null_is_allowed_is_still_null(client: TestClient) -> None:
    query = 'query($q: String = "x") { topics(first: 1, filter: {q: $q}) { totalCount } }'
    response = client.post("/graphql", json={"query": query, "variables": {"q": None}})
    assert response.status_code == 200
    assert "errors" not in response.json(), response.json()


def test_a_lone_surrogate_in_get_variables_is_a_request_error(client: TestClient) -> None:
    query = "query($s: String!) { events(filter: {q: $s}) { totalCount } }"
    response = client.get(
        "/graphql",
        params={"query": query, "variables": '{"s": "\\ud800"}'},
        headers={"Accept": "application/graphql-response+json"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


# --- feeds and calendars -------------------------------------------------------------------


def test_the_second_occurrence_of_a_repeated_local_time_goes_out_in_utc(
    client: TestClient, keys: Keys
) -> None:
    """RFC 5545 §3.3.5 reads a local time that happens twice as the first: 01:30 EST on
    the night clocks go back must not be written `TZID=America/New_York:…T013000`."""
    zone = {"timezone": "America/New_York", "topics": ["kidnapping"]}
    first = event_body(title="First", starts_at="2026-11-01T01:30:00-04:00", ends_at=None, **zone)
    second = event_body(title="Second", starts_at="2026-11-01T01:30:00-05:00", ends_at=None, **zone)
    for body in (first, second):
        assert client.post("/api/v1/events", json=body, headers=keys.writer).status_code == 201
    raw = client.get("/calendar/topics/kidnapping.ics").content
    starts = {
        str(event["SUMMARY"]): event.decoded("DTSTART")
        for event in Calendar.from_ical(raw).walk("VEVENT")
    }
    assert starts["First"].isoformat() == "2026-11-01T01:30:00-04:00"
    assert starts["Second"].utcoffset().total_seconds() == 0
    assert starts["Second"].isoformat() == "2026-11-01T06:30:00+00:00"
    assert b"DTSTART;TZID=America/New_York:20261101T013000\r\n" in raw  # the first only
    assert b"DTSTART:20261101T063000Z\r\n" in raw


def test_events_at_the_ends_of_the_calendar_do_not_break_it(
    client: TestClient, keys: Keys, session_factory: sessionmaker[Session]
) -> None:
    """Writes keep events in the years 1000-2999; rows put elsewhere by SQL still leave
    the calendar answering (its time zone span stops at the calendar's ends)."""
    for slug, moment in (("early", "0002-01-01 12:00:00+00"), ("late", "9998-12-30 12:00:00+00")):
        body = event_body(slug=slug, topics=["kidnapping"], timezone="Europe/Berlin", ends_at=None)
        assert client.post("/api/v1/events", json=body, headers=keys.writer).status_code == 201
        with session_factory() as session, session.begin():
            session.execute(
                text("UPDATE event SET starts_at = :m WHERE slug = :s"), {"m": moment, "s": slug}
            )
    response = client.get("/calendar/topics/kidnapping.ics")
    assert response.status_code == 200
    assert len(Calendar.from_ical(response.content).walk("VEVENT")) == 2


def test_feeds_escape_plain_text_summaries_name_their_publisher_and_encode_dois(
    client: TestClient, keys: Keys
) -> None:
    subtitle = "Compare a<b and c>d; use <iframe src=x> & <b>bold"
    article = {
        "title": "Escaped",
        "subtitle": subtitle,
        "status": "published",
        "topics": ["kidnapping"],
    }
    assert client.post("/api/v1/articles", json=article, headers=keys.writer).status_code == 201
    rss = feedparser.parse(client.get("/feeds/topics/kidnapping.rss").content)
    atom = feedparser.parse(client.get("/feeds/topics/kidnapping.atom").content)
    for parsed in (rss, atom):
        assert parsed.bozo == 0
        (entry,) = [e for e in parsed.entries if e.title == "Escaped"]
        # Read as HTML (as readers read RSS <description>), it is the text: no markup goes
        # live and nothing is lost (unescaped, `a<b and c>d` had become `a<b>d`).
        assert entry.summary_detail.type == "text/html"
        assert html.unescape(entry.summary) == subtitle
        assert "<" not in entry.summary
    # RFC 4287 §4.1.1: the feed has an author, as not every entry does (events never).
    tree = etree.fromstring(client.get("/feeds/events.atom").content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert tree.xpath("/a:feed/a:author/a:name/text()", namespaces=ns) == ["www.example.org"]
    assert client.get("/feeds/events.json").json()["authors"] == [
        {"name": "www.example.org", "url": "https://www.example.org/"}
    ]
    doi = "10.1002/(SICI)1097-4571(199806)49:8<693::AID-ASI4>3.0.CO;2-O#x"
    publication = {"title": "Sici", "doi": doi, "status": "published", "topics": ["kidnapping"]}
    assert (
        client.post("/api/v1/publications", json=publication, headers=keys.writer).status_code
        == 201
    )
    (item,) = [
        i for i in client.get("/feeds/publications.json").json()["items"] if i["title"] == "Sici"
    ]
    assert item["external_url"] == (
        "https://doi.org/10.1002/(SICI)1097-4571(199806)49:8%3C693::AID-ASI4%3E3.0.CO;2-O%23x"
    )
    assert re.fullmatch(r"[!-~]+", item["external_url"])  # a URI: no raw <, >, space


def test_links_in_a_body_resolve_against_the_items_page(client: TestClient, keys: Keys) -> None:
    """A browser shows the body on the item's page (`/news/<slug>`), so `img.png` there is
    `/news/img.png`; a root-relative `/about` stays at the root."""
    body = '<p><a href="notes.html">notes</a> <img src="img.png" alt=""> <a href="/about">about</a></p>'
    article = {"title": "Linked", "slug": "linked", "body": body, "status": "published"}
    assert client.post("/api/v1/articles", json=article, headers=keys.writer).status_code == 201
    (item,) = [
        i for i in client.get("/feeds/articles.json").json()["items"] if i["title"] == "Linked"
    ]
    assert item["url"] == "https://www.example.org/news/linked"
    assert 'href="https://www.example.org/news/notes.html"' in item["content_html"]
    assert 'src="https://www.example.org/news/img.png"' in item["content_html"]
    assert 'href="https://www.example.org/about"' in item["content_html"]


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("the", 0),
        ("The of and", 0),
        ("hostage's", 1),
        ("OR hostage", 1),
        ("don't release", 1),
        ("hostages", 1),
    ],
)
def test_both_databases_search_for_the_same_words(
    client: TestClient, keys: Keys, q: str, found: int
) -> None:
    """PostgreSQL leaves English stop words out of a query; SQLite's FTS5 searched for them
    (`q=the` matched nearly everything there, and `hostage's` asked for the word `s`)."""
    article = {"title": "The hostage's release", "status": "published"}
    assert client.post("/api/v1/articles", json=article, headers=keys.writer).status_code == 201
    assert client.get("/api/v1/search", params={"q": q}).json()["meta"]["total"] == found
    assert client.get("/api/v1/articles", params={"q": q}).json()["meta"]["total"] == found


@pytest.mark.parametrize("year", ["1_000", "٢٠٢٠", "+2020", "20 20"])
def test_an_integer_filter_takes_ascii_digits_only(client: TestClient, year: str) -> None:
    """Python's int() reads "1_000" and Arabic-Indic digits: they were taken as 1000 and
    2020, where `limit` refuses such spellings."""
    response = client.get("/api/v1/publications", params={"year": year})
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["loc"] == ["query", "year"]
    for fine in ("2020", " 2020", "-5"):
        assert client.get("/api/v1/publications", params={"year": fine}).status_code == 200


def test_graphql_topics_are_capped_as_rest_topics_are(client: TestClient) -> None:
    query = "query($t: [String!]) { events(filter: {topics: $t}) { totalCount } }"
    too_many = [f"topic-{i}" for i in range(51)]
    body = client.post("/graphql", json={"query": query, "variables": {"t": too_many}}).json()
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "topics"}
    assert "at most 50" in error["message"]
    assert client.get("/api/v1/events", params={"topic": too_many}).status_code == 400
    fifty = client.post("/graphql", json={"query": query, "variables": {"t": too_many[:50]}})
    assert "errors" not in fifty.json(), fifty.json()
