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
