"""List filters agree with what the listed items show: a filter matches an item only for
what the public can see of it (found by the review of the public read surface)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.content.writes import delete_item
from tests.graphql_support import gql
from tests.rest_factories import ACTOR, make_event, make_person, walk, writing


def test_role_matches_only_participants_the_event_shows(
    api: TestClient, factory: sessionmaker[Session]
) -> None:
    """`role=moderator` lists the events that show a moderator. An event whose only
    moderator has been deleted shows none (`participants`, `moderators`), and was listed
    all the same: a page of "events with a moderator" with none to show, on REST and
    GraphQL alike, and a deleted person's part in it given away."""
    with writing(factory) as session:
        make_person(session, "Shown Moderator")
        gone = make_person(session, "Gone Moderator")
        make_person(session, "Kept Speaker")
        shown = make_event(session, title="Shown", participants=[("shown-moderator", "moderator")])
        hidden = make_event(
            session,
            title="Moderator gone",
            participants=[("kept-speaker", "speaker"), ("gone-moderator", "moderator")],
        )
        delete_item(session, "people", gone, ACTOR)
    detail = api.get(f"/api/v1/events/evt_{hidden.id}").json()
    assert [p["role"] for p in detail["participants"]] == ["speaker"]

    listed = walk(api, "/api/v1/events", {"role": "moderator", "limit": 1})
    assert [item["id"] for item in listed] == [f"evt_{shown.id}"]
    total = api.get("/api/v1/events", params={"role": "moderator"}).json()["meta"]["total"]
    assert total == 1
    speakers = walk(api, "/api/v1/events", {"role": "speaker"})
    assert [item["id"] for item in speakers] == [f"evt_{hidden.id}"]

    data = gql(
        api,
        "{ events(filter: {role: MODERATOR}) { totalCount nodes { slug moderators { slug } } } }",
    )
    assert data["events"] == {
        "totalCount": 1,
        "nodes": [{"slug": "shown", "moderators": [{"slug": "shown-moderator"}]}],
    }
