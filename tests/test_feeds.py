"""RSS, Atom and JSON Feed over the demo dataset: parsed by real clients, values checked."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

import feedparser
import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from app.feeds.links import feed_links
from tests.support import count_queries

SITE = "https://www.example.org"
FEEDS = (
    "/feeds/topics/kidnapping",
    "/feeds/articles",
    "/feeds/events",
    "/feeds/publications",
    "/feeds/people/beatriz-magaloni",
)
MEDIA_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}
LIVING_IN_FEAR = "Living in Fear: The Dynamics of Extortion in Mexico's Drug War"
LIVING_IN_FEAR_AUTHORS = [
    "Beatriz Magaloni",
    "Aila M. Matanock",
    "Alberto Díaz-Cayeros",
    "Vidal Romero",
]
SANDBERG_ARTICLE = "Sheryl Sandberg Brings “Screams Before Silence” to Stanford"
JSON_FEED_ITEM_KEYS = {
    "id",
    "url",
    "external_url",
    "title",
    "content_html",
    "content_text",
    "summary",
    "image",
    "banner_image",
    "date_published",
    "date_modified",
    "authors",
    "tags",
    "language",
    "attachments",
}


def api_base(client: TestClient) -> str:
    """Without `API_BASE_URL`, the request's own origin."""
    assert client.app.state.settings.api_base_url == ""  # type: ignore[attr-defined]
    return str(client.base_url).rstrip("/")


def parse(client: TestClient, path: str) -> Any:
    response = client.get(path)
    assert response.status_code == 200, response.text
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


def json_feed(client: TestClient, path: str) -> dict[str, Any]:
    """Fetch a JSON Feed and check it against the JSON Feed 1.1 rules.

    feedparser 6 (the latest release) reads RSS and Atom only, so JSON Feed's rules
    (https://jsonfeed.org/version/1.1) are checked here.
    """
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == MEDIA_TYPES["json"]
    feed: dict[str, Any] = orjson.loads(response.content)
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(feed["title"], str)
    assert feed["title"]
    assert feed["home_page_url"].startswith(SITE + "/")
    assert feed["feed_url"] == api_base(client) + path
    assert isinstance(feed["items"], list)
    ids = [item["id"] for item in feed["items"]]
    assert len(ids) == len(set(ids))
    for item in feed["items"]:
        assert isinstance(item["id"], str)
        assert item["id"]
        assert {k for k in item if not k.startswith("_")} <= JSON_FEED_ITEM_KEYS
        assert isinstance(item.get("content_html") or item.get("content_text"), str)
        assert item["url"].startswith(SITE + "/")
        for key in ("date_published", "date_modified"):
            assert datetime.fromisoformat(item[key]).utcoffset() is not None
        for author in item.get("authors", []):
            assert isinstance(author["name"], str)
            assert author["name"]
        assert all(isinstance(tag, str) for tag in item.get("tags", []))
    return feed


@pytest.mark.parametrize("path", FEEDS)
def test_every_feed_parses_in_every_format(demo_client: TestClient, path: str) -> None:
    rss = parse(demo_client, path + ".rss")
    atom = parse(demo_client, path + ".atom")
    feed = json_feed(demo_client, path + ".json")
    assert rss.version == "rss20"
    assert atom.version == "atom10"
    assert rss.entries
    assert len(rss.entries) == len(atom.entries) == len(feed["items"])
    for parsed, fmt in ((rss, "rss"), (atom, "atom")):
        links = {link["rel"]: link["href"] for link in parsed.feed.links}
        assert links["self"] == f"{api_base(demo_client)}{path}.{fmt}"
        assert links["alternate"].startswith(SITE + "/")
        for entry in parsed.entries:
            assert entry.link.startswith(SITE + "/"), entry.link
            assert entry.id.startswith("tag:www.example.org,")
            assert entry.published_parsed is not None
            assert entry.title
    # The same items in the same order, with the same GUIDs, in all three formats.
    assert (
        [e.id for e in rss.entries]
        == [e.id for e in atom.entries]
        == [i["id"] for i in feed["items"]]
    )


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_content_type_and_caching_headers(demo_client: TestClient, fmt: str) -> None:
    response = demo_client.get(f"/feeds/articles.{fmt}")
    assert response.headers["content-type"] == MEDIA_TYPES[fmt]
    assert response.headers["cache-control"].startswith("public, max-age=")
    keys = response.headers["surrogate-key"].split()
    assert {"feeds", "articles", "art_4"} <= set(keys)
    etag = response.headers["etag"]
    again = demo_client.get(f"/feeds/articles.{fmt}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert demo_client.get(f"/feeds/articles.{fmt}").headers["etag"] == etag  # stable bytes


def test_topic_feed_is_the_topic_stream(demo_client: TestClient) -> None:
    atom = parse(demo_client, "/feeds/topics/kidnapping.atom")
    assert atom.feed.title == "Kidnapping"
    assert atom.feed.subtitle.startswith("Abduction and hostage-taking")
    assert {link["href"] for link in atom.feed.links} >= {f"{SITE}/topics/kidnapping"}
    titles = [e.title for e in atom.entries]
    # What the page lists (3 articles, 2 events, 2 publications) and the 3 pull quotes.
    assert len(titles) == 10
    assert LIVING_IN_FEAR in titles
    assert "The Hamas Attack on Israel: Implications for Israel and the Middle East" in titles
    # Newest first: the Sandberg article, then its three quotes in page order (a second
    # apart, just before it).
    published = [e.published for e in atom.entries]
    assert published == sorted(published, reverse=True)
    assert titles[0] == SANDBERG_ARTICLE
    assert titles[1].startswith("“We know we have to keep fighting")
    assert titles[3].startswith("“We have to believe in peace.")
    assert titles[3].endswith("— Sheryl Sandberg")
    assert titles[-2:] == [
        "Q&A: The Alleged Iranian Plot, Mexican Drug Cartels and Global Terrorism",  # 2011-10-14
        "Violence, Organized Crime, and Governance: Mexico in Comparative Perspective",  # 2011-09-19
    ]
    quote = atom.entries[3]
    assert (
        quote.link
        == f"{SITE}/news/sheryl-sandberg-screams-before-silence-stanford#quote-we-have-to-believe-in-peace"
    )


def test_article_entry_values(demo_client: TestClient) -> None:
    rss = parse(demo_client, "/feeds/articles.rss")
    entry = next(e for e in rss.entries if e.title == SANDBERG_ARTICLE)
    assert entry.link == f"{SITE}/news/sheryl-sandberg-screams-before-silence-stanford"
    assert entry.published == "Thu, 21 Nov 2024 17:00:00 +0000"
    assert entry.author == "Clifton B. Parker"
    assert [t.term for t in entry.tags] == ["Kidnapping", "Israel", "Sexual Violence", "Terrorism"]
    assert entry.summary.startswith("Sheryl Sandberg said that filming a documentary")
    assert entry.guidislink is False
    content = entry.content[0].value
    assert "Nova Music Festival" in content  # the full body, not only the summary
    assert f'src="{SITE}/media/articles/' in content  # in-body images made absolute
    assert "<script" not in content
    # Newest first over the whole collection.
    assert [e.published_parsed for e in rss.entries] == sorted(
        (e.published_parsed for e in rss.entries), reverse=True
    )
    assert len(rss.entries) == 6


def test_publication_authors_in_order(demo_client: TestClient) -> None:
    atom = parse(demo_client, "/feeds/publications.atom")
    entry = next(e for e in atom.entries if e.title == LIVING_IN_FEAR)
    assert [a["name"] for a in entry.authors] == LIVING_IN_FEAR_AUTHORS
    assert entry.authors[2]["href"] == f"{SITE}/people/alberto-diaz-cayeros"
    assert entry.published == "2020-06-01T17:00:00+00:00"
    assert "Comparative Political Studies" in entry.content[0].value
    assert "https://doi.org/10.1177/0010414019879958" in entry.content[0].value
    rss = parse(demo_client, "/feeds/publications.rss")
    entry = next(e for e in rss.entries if e.title == LIVING_IN_FEAR)
    assert [a["name"] for a in entry.authors] == LIVING_IN_FEAR_AUTHORS
    feed = json_feed(demo_client, "/feeds/publications.json")
    item = next(i for i in feed["items"] if i["title"] == LIVING_IN_FEAR)
    assert [a["name"] for a in item["authors"]] == LIVING_IN_FEAR_AUTHORS
    assert item["external_url"] == "https://doi.org/10.1177/0010414019879958"
    assert item["date_published"] == "2020-06-01T17:00:00+00:00"
    assert item["tags"] == ["Kidnapping", "Mexico", "Organized Crime"]


def test_event_entries_state_when_and_where(demo_client: TestClient) -> None:
    feed = json_feed(demo_client, "/feeds/events.json")
    by_title = {item["title"]: item for item in feed["items"]}
    hamas = by_title["The Hamas Attack on Israel: Implications for Israel and the Middle East"]
    assert hamas["date_published"] == "2023-10-10T17:00:00+00:00"
    assert hamas["_dossier"]["starts_at"] == "2023-10-12T19:00:00+00:00"
    assert hamas["_dossier"]["timezone"] == "America/Los_Angeles"
    assert "Thursday, 12 October 2023, 12:00–13:30 PDT" in hamas["content_html"]
    assert (
        "Speakers: Amichai Magen, Abbas Milani, Or Rabinowitz; Moderator: Larry Diamond"
        in hamas["content_html"]
    )
    assert "<strong>Where:</strong> Online (Zoom)" in hamas["content_html"]  # "Zoom Only"
    assert hamas["_dossier"]["online_platform"] == "Zoom"
    # Its photo: the item's image, and above the text in its content (once: not also in the body).
    photo = f"{SITE}/media/articles/fsi-scholars-analyze-implications-of-hamas-terror-attack-on-israel.jpg"
    assert hamas["image"] == photo
    assert hamas["content_html"].count(f'<img src="{photo}" alt="Family and friends') == 1
    conference = by_title[
        "Violence, Organized Crime, and Governance: Mexico in Comparative Perspective"
    ]
    assert (
        "Bechtel Conference Center, Encina Hall, 616 Jane Stanford Way"
        in conference["content_html"]
    )
    assert (
        conference["url"] == f"{SITE}/events/violence-organized-crime-and-governance-in-mexico-2011"
    )
    assert feed["items"][0]["title"].startswith("Screams Before Silence")


def test_person_feed_merges_their_items(demo_client: TestClient) -> None:
    atom = parse(demo_client, "/feeds/people/beatriz-magaloni.atom")
    assert atom.feed.title == "Beatriz Magaloni"
    assert [e.title for e in atom.entries] == [
        LIVING_IN_FEAR,  # author, published 2020
        "Violence, Organized Crime, and Governance: Mexico in Comparative Perspective",  # host, 2011
    ]
    magen = parse(demo_client, "/feeds/people/amichai-magen.rss")
    assert [e.title for e in magen.entries] == [
        "Screams Before Silence: Screening and Conversation with Sheryl Sandberg",
        "The Hamas Attack on Israel: Implications for Israel and the Middle East",
    ]
    parker = parse(demo_client, "/feeds/people/clifton-b-parker.rss")
    assert [e.title for e in parker.entries] == [SANDBERG_ARTICLE]


def test_person_feed_by_id_and_empty_person(demo_client: TestClient) -> None:
    person = demo_client.get("/feeds/people/beatriz-magaloni.json").json()
    assert len(person["items"]) == 2
    # Sheryl Sandberg is a quote speaker and panelist: quotes are not in person feeds.
    sandberg = json_feed(demo_client, "/feeds/people/sheryl-sandberg.json")
    assert [i["title"] for i in sandberg["items"]] == [
        "Screams Before Silence: Screening and Conversation with Sheryl Sandberg"
    ]
    # Julie Cordua is in the directory but in no article, event or publication.
    assert parse(demo_client, "/feeds/people/julie-cordua.rss").entries == []


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/feeds/topics/no-such-topic.rss", 404),
        ("/feeds/topics/no-such-topic.json", 404),
        ("/feeds/people/no-such-person.atom", 404),
        ("/feeds/topics/" + "x" * 201 + ".rss", 400),
    ],
)
def test_feed_errors_are_problems(demo_client: TestClient, path: str, status: int) -> None:
    response = demo_client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/articles.xml",
        "/feeds/events.html",
        "/feeds/publications.xyz",
        "/feeds/topics/kidnapping.xyz",
        "/feeds/topics/kidnapping.ics",
        "/feeds/topics/no-such-topic.xyz",
        "/feeds/people/beatriz-magaloni.RSS",
        "/feeds/people/beatriz-magaloni.rss.bak",
    ],
)
def test_a_feed_format_that_does_not_exist_is_404(demo_client: TestClient, path: str) -> None:
    """The extension is part of the path: one naming no format names no resource, as a
    path without one (`/feeds/articles`) names none."""
    response = demo_client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 404
    assert ".rss (RSS 2.0), .atom (Atom 1.0) and .json" in problem["detail"]


def test_a_feed_path_without_a_format_is_404(demo_client: TestClient) -> None:
    for path in ("/feeds/articles", "/feeds/topics/kidnapping", "/feeds/topics/kidnapping."):
        response = demo_client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


def test_autodiscovery_links_resolve(demo_client: TestClient) -> None:
    base = api_base(demo_client)
    for kind, slug in (("topic", "kidnapping"), ("person", "beatriz-magaloni")):
        for url in feed_links(kind, slug, base).values():
            assert url.startswith(base)
            assert demo_client.get(url.removeprefix(base)).status_code == 200, url


def test_feed_cost_does_not_grow_with_items(demo_client: TestClient) -> None:
    engine = demo_client.app.state.engine  # type: ignore[attr-defined]
    # The first request of a process also asks, once per type, when the next scheduled
    # item goes public (remembered after): counted, this test failed whenever it was the
    # first on its worker to use the demo app.
    demo_client.get("/feeds/articles.rss")
    with count_queries(engine) as topic_queries:
        demo_client.get("/feeds/topics/kidnapping.rss")
    with count_queries(engine) as person_queries:
        demo_client.get("/feeds/people/beatriz-magaloni.rss")
    # One query per relation and type, never one per item (14 items here).
    assert topic_queries.count <= 20, topic_queries.statements
    assert person_queries.count <= 14, person_queries.statements


def test_feeds_documented_in_openapi(demo_client: TestClient) -> None:
    paths = demo_client.get("/openapi.json").json()["paths"]
    for path in (
        "/feeds/topics/{slug}.{fmt}",
        "/feeds/articles.{fmt}",
        "/feeds/events.{fmt}",
        "/feeds/publications.{fmt}",
        "/feeds/people/{slug}.{fmt}",
        "/calendar/topics/{slug}.{fmt}",
        "/calendar/events.{fmt}",
    ):
        operation = paths[path]["get"]
        assert operation["tags"] == ["feeds"]
        assert operation["summary"]
        assert operation["description"]
        responses = operation["responses"]
        assert "application/problem+json" in responses["400"]["content"]
        assert "application/problem+json" in responses["404"]["content"]
    topic = paths["/feeds/topics/{slug}.{fmt}"]["get"]
    assert set(topic["responses"]["200"]["content"]) == {
        "application/rss+xml",
        "application/atom+xml",
        "application/feed+json",
    }
    fmt = next(p for p in topic["parameters"] if p["name"] == "fmt")
    assert fmt["in"] == "path"
    assert fmt["schema"]["enum"] == ["rss", "atom", "json"]
    ics = next(
        p for p in paths["/calendar/events.{fmt}"]["get"]["parameters"] if p["name"] == "fmt"
    )
    assert ics["schema"]["enum"] == ["ics"]


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/topics/%00.rss",
        "/feeds/people/a%00b.json",
        "/calendar/topics/%00.ics",
        "/api/v1/publications/%00/citation",
        "/feeds/topics/" + "x" * 300 + ".rss",
    ],
)
def test_hostile_slugs_are_client_errors(demo_client: TestClient, path: str) -> None:
    response = demo_client.get(path)
    assert response.status_code in (400, 404)
    assert response.headers["content-type"] == "application/problem+json"


def test_links_to_this_api_follow_the_request_without_api_base_url(demo_client: TestClient) -> None:
    """One origin per response: feed links, feeds' self links and a calendar's SOURCE come
    from the request's host, as pagination links do (`make run PORT=8080` gave 8000)."""
    host = {"Host": "api.example.net:8080"}
    origin = "http://api.example.net:8080"
    topic = demo_client.get("/api/v1/topics/kidnapping", headers=host).json()
    assert topic["feeds"]["rss"] == f"{origin}/feeds/topics/kidnapping.rss"
    listed = demo_client.get("/api/v1/topics?limit=1", headers=host).json()
    assert listed["links"]["self"].startswith(origin + "/api/v1/topics")
    feed = demo_client.get("/feeds/topics/kidnapping.json", headers=host).json()
    assert feed["feed_url"] == f"{origin}/feeds/topics/kidnapping.json"
    calendar = demo_client.get("/calendar/events.ics", headers=host).text
    assert f"SOURCE;VALUE=URI:{origin}/calendar/events.ics" in calendar
    query = '{ topic(slug: "kidnapping") { feeds { atom } } }'
    graphql = demo_client.post("/graphql", json={"query": query}, headers=host).json()
    assert graphql["data"]["topic"]["feeds"]["atom"] == f"{origin}/feeds/topics/kidnapping.atom"


def test_links_given_relative_to_the_site_are_absolute_off_it(
    client: TestClient, writer: dict[str, str]
) -> None:
    """An editor may give an event's online and registration links and a publication's URL
    relative to the site (`/live/…`): feeds, calendars and citations are read where there
    is no base URL, so each is made absolute on the public site, as images in bodies are.
    A topic's plain-text description is escaped in RSS's channel <description>, which
    readers take as HTML, as an item's is."""
    topic = {"name": "Ransom", "description": "Ransom & <b>tags</b> in plain text"}
    assert client.post("/api/v1/topics", json=topic, headers=writer).status_code == 201
    event = {
        "title": "Relative links",
        "starts_at": "2026-12-21T10:00:00Z",
        "attendance_mode": "online",
        "online_platform": "Webinar",
        "online_url": "/live/stream?id=1",
        "registration_url": "/register/rel",
        "status": "published",
        "published_at": "2026-01-01T00:00:00Z",
        "topics": ["ransom"],
    }
    assert client.post("/api/v1/events", json=event, headers=writer).status_code == 201
    publication = {
        "title": "Relative paper",
        "url": "/pdfs/rel.pdf",
        "year": 2025,
        "status": "published",
        "published_at": "2026-01-01T00:00:00Z",
    }
    assert client.post("/api/v1/publications", json=publication, headers=writer).status_code == 201
    (item,) = client.get("/feeds/events.json").json()["items"]
    assert item["external_url"] == f"{SITE}/live/stream?id=1"
    assert f'href="{SITE}/register/rel"' in item["content_html"]
    assert f"Webinar: {SITE}/live/stream?id=1" in item["content_html"]
    (paper,) = client.get("/feeds/publications.json").json()["items"]
    assert paper["external_url"] == f"{SITE}/pdfs/rel.pdf"
    calendar = client.get("/calendar/events.ics").text.replace("\r\n ", "")
    assert f"LOCATION:Webinar: {SITE}/live/stream?id=1" in calendar
    assert f"Registration: {SITE}/register/rel" in calendar
    assert f"Join on Webinar: {SITE}/live/stream?id=1" in calendar
    url = "/api/v1/publications/relative-paper/citation"
    assert f"UR  - {SITE}/pdfs/rel.pdf" in client.get(url, params={"format": "ris"}).text
    cited = client.get(url, params={"format": "csl-json"}).json()
    assert cited[0]["URL"] == f"{SITE}/pdfs/rel.pdf"
    rss = feedparser.parse(client.get("/feeds/topics/ransom.rss").content)
    # As HTML, it reads as the text: no <b> element.
    assert "<b>" not in rss.feed.subtitle
    assert html.unescape(rss.feed.subtitle) == topic["description"]


def test_links_stored_before_writes_read_them_as_a_browser_does_resolve_as_one(
    client: TestClient, writer: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    """A body stored before writes read links as a browser does may hold `\\\\host` and
    spaces: feeds resolve them as the site's readers' browsers do, not into an invalid URI
    under the site's root."""
    body = '<p><a href="\\\\evil.example">a</a> <a href="x y">b</a></p>'
    html = _feed_html_of_stored_body(client, writer, session_factory, "Old links", body)
    assert 'href="https://evil.example"' in html, html
    assert f'href="{SITE}/news/x%20y"' in html, html


def _feed_html_of_stored_body(
    client: TestClient,
    writer: dict[str, str],
    session_factory: sessionmaker[Session],
    title: str,
    body: str,
) -> str:
    """The articles feed's `content_html` of a published article whose body was written
    in SQL (as one stored before a rule, or behind the API's back)."""
    article = {"title": title, "status": "published", "published_at": "2026-01-01T00:00:00Z"}
    assert client.post("/api/v1/articles", json=article, headers=writer).status_code == 201
    with session_scope(session_factory) as session:
        session.execute(text("UPDATE article SET body = :body"), {"body": body})
    (item,) = client.get("/feeds/articles.json").json()["items"]
    html: str = item["content_html"]
    return html


def test_a_renamed_topics_feed_redirects_from_its_former_slug(
    client: TestClient, writer: dict[str, str]
) -> None:
    """A partner subscribed to /feeds/topics/organized-crime.atom got 404s for good once an
    editor changed the topic's slug. The former slug now answers 301 to the same feed (or
    calendar) under the slug the topic has now, never cached, until another topic takes it.
    A person's former slug does not: it spells their name, which a rename may retire."""
    for collection, name in (("topics", "Organized crime"), ("people", "Ana Ruiz")):
        answer = client.post(f"/api/v1/{collection}", json={"name": name}, headers=writer)
        assert answer.status_code == 201
    for collection, old, new in (
        ("topics", "organized-crime", "crime"),
        ("people", "ana-ruiz", "ana"),
    ):
        renamed = client.patch(f"/api/v1/{collection}/{old}", json={"slug": new}, headers=writer)
        assert renamed.status_code == 200, renamed.text
    for old_path, new_path in (
        ("/feeds/topics/organized-crime.atom", "/feeds/topics/crime.atom"),
        ("/feeds/topics/organized-crime.json", "/feeds/topics/crime.json"),
        ("/calendar/topics/organized-crime.ics", "/calendar/topics/crime.ics"),
    ):
        moved = client.get(old_path, follow_redirects=False)
        assert moved.status_code == 301, (old_path, moved.text)
        assert moved.headers["location"] == f"http://testserver{new_path}"
        assert moved.headers["cache-control"] == "no-store"
        assert client.get(old_path).status_code == 200  # followed
    # A person's former slug, a slug no item held, an id, and a format the feeds do not
    # have: 404 as before.
    for path in (
        "/feeds/people/ana-ruiz.rss",
        "/feeds/topics/never-was.atom",
        "/feeds/topics/top_999.atom",
        "/feeds/topics/organized-crime.xml",
    ):
        assert client.get(path, follow_redirects=False).status_code == 404, path
    # Another topic takes the former slug: it is that topic's feed now...
    assert (
        client.post("/api/v1/topics", json={"name": "Organized crime"}, headers=writer).status_code
        == 201
    )
    feed = client.get("/feeds/topics/organized-crime.json", follow_redirects=False)
    assert feed.status_code == 200
    assert feed.json()["title"] == "Organized crime"
    # ...and once that one is deleted, the slug (a deleted item's for good) leads nowhere.
    assert client.delete("/api/v1/topics/organized-crime", headers=writer).status_code == 204
    assert (
        client.get("/feeds/topics/organized-crime.json", follow_redirects=False).status_code == 404
    )


def test_a_former_slug_is_looked_up_through_the_audit_logs_index(
    session_factory: sessionmaker[Session],
) -> None:
    """The lookup a 404 of a feed makes reads the audit log through
    `ix_audit_entry_type_slug`, not the whole log: anyone may ask for any slug."""
    with session_factory() as session:
        sql = (
            "SELECT entity_id FROM audit_entry WHERE entity_type = 'topic' AND slug = 'x' "
            "ORDER BY id DESC LIMIT 1"
        )
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(row[0] for row in session.execute(text(f"EXPLAIN {sql}")))
        else:
            plan = " ".join(
                str(row[-1]) for row in session.execute(text(f"EXPLAIN QUERY PLAN {sql}"))
            )
    assert "ix_audit_entry_type_slug" in plan, plan


def test_a_stored_bodys_unsafe_cite_never_reaches_a_feed(
    client: TestClient, writer: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    """Writes refuse a `cite` with a scheme other than http(s), mailto or tel, but the
    feeds' own cleaning (nh3) checks only `href` and `src`: a body written in SQL carried
    `cite="javascript:…"` into every feed."""
    body = '<blockquote cite=" javascript:alert(1)">q</blockquote><q cite="/ok">o</q>'
    html = _feed_html_of_stored_body(client, writer, session_factory, "Cited", body)
    assert "javascript" not in html, html
    assert f'cite="{SITE}/ok"' in html, html
