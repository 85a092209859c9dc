"""List filters agree with what the listed items show: a filter matches an item only for
what the public can see of it (found by the review of the public read surface)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.graphql_support import gql
from tests.rest_factories import make_event, make_person, walk, writing

MODERATED = "/api/v1/events?role=moderator&fields=title"


def _moderated(client: TestClient) -> tuple[list[str], int]:
    """The ids `role=moderator` lists (a page at a time) and its first page's total."""
    listed = walk(client, "/api/v1/events", {"role": "moderator", "limit": 1})
    total = client.get(MODERATED).json()["meta"]["total"]
    return [item["id"] for item in listed], total


def test_role_matches_only_participants_the_event_shows(
    client: TestClient, session_factory: sessionmaker[Session], writer: dict[str, str]
) -> None:
    """`role=moderator` lists the events that show a moderator. An event whose only
    moderator has been deleted shows none (`participants`, `moderators`), and was listed
    all the same: a page of "events with a moderator" with none to show, on REST and
    GraphQL alike, and a deleted person's part in it given away. The list reads people,
    so a person's deletion changes it: its total is counted again, its cached pages are
    purged (`Surrogate-Key: people`), whatever fields it shows."""
    with writing(session_factory) as session:
        make_person(session, "Shown Moderator")
        gone = make_person(session, "Gone Moderator")
        make_person(session, "Kept Speaker")
        shown = make_event(session, title="Shown", participants=[("shown-moderator", "moderator")])
        hidden = make_event(
            session,
            title="Moderator gone",
            participants=[("kept-speaker", "speaker"), ("gone-moderator", "moderator")],
        )
    both = sorted([f"evt_{shown.id}", f"evt_{hidden.id}"])
    listed, total = _moderated(client)
    assert (sorted(listed), total) == (both, 2)
    assert "people" in client.get(MODERATED).headers["surrogate-key"].split()

    assert client.delete(f"/api/v1/people/per_{gone.id}", headers=writer).status_code == 204
    detail = client.get(f"/api/v1/events/evt_{hidden.id}").json()
    assert [p["role"] for p in detail["participants"]] == ["speaker"]
    assert _moderated(client) == ([f"evt_{shown.id}"], 1)
    speakers = walk(client, "/api/v1/events", {"role": "speaker"})
    assert [item["id"] for item in speakers] == [f"evt_{hidden.id}"]

    data = gql(
        client,
        "{ events(filter: {role: MODERATOR}) { totalCount nodes { slug moderators { slug } } } }",
    )
    assert data["events"] == {
        "totalCount": 1,
        "nodes": [{"slug": "shown", "moderators": [{"slug": "shown-moderator"}]}],
    }


def test_filters_naming_an_item_take_its_id_as_its_slug(demo_client: TestClient) -> None:
    """Paths and writes take an item's id or slug; filters took only slugs, and answered an
    id with an empty list (`events?person=per_6`)."""

    def slugs(url: str) -> list[str]:
        answer = demo_client.get(url)
        assert answer.status_code == 200, answer.text
        return [item["slug"] for item in answer.json()["data"]]

    def person_with(url_of: str) -> dict[str, str]:
        for person in demo_client.get("/api/v1/people?limit=100").json()["data"]:
            if slugs(url_of.format(person["slug"])):
                return person
        raise AssertionError(url_of)

    checked = 0
    for url in (
        "/api/v1/events?person={}",
        "/api/v1/events?person={}&role=speaker",
        "/api/v1/articles?author={}",
        "/api/v1/publications?author={}",
        "/api/v1/quotes?speaker={}",
    ):
        person = person_with(url)
        assert slugs(url.format(person["id"])) == slugs(url.format(person["slug"]))
        checked += 1
    quote = demo_client.get("/api/v1/quotes?include=article").json()["data"][0]
    article = quote["article"]
    by_slug = slugs(f"/api/v1/quotes?article={article['slug']}")
    assert by_slug
    assert slugs(f"/api/v1/quotes?article={article['id']}") == by_slug
    person = demo_client.get("/api/v1/people?limit=1&include=affiliations").json()["data"][0]
    org = next(a["organization"] for a in person["affiliations"] if a["is_current"])
    by_slug = slugs(f"/api/v1/people?organization={org['slug']}")
    assert by_slug
    assert slugs(f"/api/v1/people?organization={org['id']}") == by_slug
    # GraphQL's filters are the same.
    speaker = person_with("/api/v1/events?person={}")
    query = '{ events(filter: {person: "%s"}) { edges { node { slug } } } }'
    assert gql(demo_client, query % speaker["id"]) == gql(demo_client, query % speaker["slug"])
    # An id of no such item, or of another type, names nothing.
    assert slugs("/api/v1/events?person=per_999999") == []
    assert slugs(f"/api/v1/events?person={org['id']}") == []
    assert checked == 5
