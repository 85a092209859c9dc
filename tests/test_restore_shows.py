"""A restored topic, organization or person is shown again by every item that links to it.

Deleted, such an item leaves the items that show it: their references to it are not served
(`/api/v1/changes` lists the item itself as `deleted`). A partner that fetched one of them
meanwhile (it was edited) holds it without the reference. `dossier import` (or `dossier
demo`) restores the item when a line names its slug, and the reference is served again:
the items showing it are changed as the public sees them, so the log lists them again,
`updated_since` finds them, their ETags change, and cached responses that show them go
within the version poll (`app.content.restored`)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from app.cli import cli
from app.config import get_settings
from app.content.types import BY_COLLECTION, BY_NAME
from app.content.writes import create_item, delete_item, update_item, upsert_item
from app.db import session_scope, utcnow
from app.transfer import import_records
from tests.admin_helpers import bearer, event_body, make_key
from tests.conftest import AppFactory
from tests.rest_factories import attach, make_event, make_person, writing

runner = CliRunner()
PAST = "2024-01-01T00:00:00Z"
PUBLISHED = {"status": "published", "published_at": PAST}
# The items to delete and restore, and the items that show them, through every relation
# to a topic, an organization or a person.
DOOMED = {
    "topics": {"slug": "gone-topic", "name": "Gone topic"},
    "organizations": {"slug": "gone-org", "name": "Gone org"},
    "people": {"slug": "gone-person", "name": "Gone person"},
}
SHOWING: dict[str, dict[str, Any]] = {
    "organizations": {"slug": "child", "name": "Child", "parent": "gone-org"},
    "people": {
        "slug": "member",
        "name": "Member",
        "affiliations": [{"organization": "gone-org", "role": "Fellow"}],
        "topics": ["gone-topic"],
    },
    "articles": {
        "slug": "story",
        "title": "Story",
        "authors": ["gone-person"],
        "topics": ["gone-topic"],
        **PUBLISHED,
    },
    "quotes": {"slug": "said", "text": "Said", "speaker": "gone-person", **PUBLISHED},
    "events": event_body(
        slug="talk",
        participants=[{"person": "gone-person", "role": "speaker"}],
        sponsors=["gone-org"],
        topics=["gone-topic"],
    ),
    "publications": {
        "slug": "paper",
        "title": "Paper",
        "authors": ["gone-person"],
        "topics": ["gone-topic"],
        **PUBLISHED,
    },
    "resources": {"slug": "help", "name": "Help", "topics": ["gone-topic"], **PUBLISHED},
}


@pytest.fixture
def cli_on(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The `dossier` command on the test database."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _write_all(client: TestClient, writer: dict[str, str]) -> None:
    for collection, data in (*DOOMED.items(), *SHOWING.items()):
        created = client.post(f"/api/v1/{collection}", json=data, headers=writer)
        assert created.status_code == 201, created.text


def _export(tmp_path: Path) -> Path:
    """`dossier export` of the doomed items, for an import to restore them later."""
    exported = tmp_path / "all.ndjson"
    result = runner.invoke(cli, ["export", "-o", str(exported)])
    assert result.exit_code == 0, result.output
    slugs = {data["slug"] for data in DOOMED.values()}
    lines = [
        line
        for line in exported.read_bytes().splitlines()
        if orjson.loads(line)["data"]["slug"] in slugs
    ]
    assert len(lines) == len(DOOMED)
    restore = tmp_path / "restore.ndjson"
    restore.write_bytes(b"\n".join(lines) + b"\n")
    return restore


def _delete_all(client: TestClient, writer: dict[str, str]) -> None:
    for collection, data in DOOMED.items():
        deleted = client.delete(f"/api/v1/{collection}/{data['slug']}", headers=writer)
        assert deleted.status_code == 204, deleted.text


def _import(path: Path) -> None:
    result = runner.invoke(cli, ["import", str(path)])
    assert result.exit_code == 0, result.output


class Mirror:
    """A partner's copy: `/api/v1/changes` from the start, each listed item fetched."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.since: str | None = None

    def sync(self) -> list[tuple[str, str]]:
        """Read the log from the last token on; the (type, slug) of the items fetched."""
        fetched = []
        while True:
            params = {"limit": "100", **({"since": self.since} if self.since else {})}
            page = self.client.get("/api/v1/changes", params=params)
            assert page.status_code == 200, page.text
            body = page.json()
            for change in body["data"]:
                key = (change["type"], change["id"])
                if change["action"] == "deleted":
                    self.items.pop(key, None)
                    continue
                collection = BY_NAME[change["type"]].collection
                item = self.client.get(f"/api/v1/{collection}/{change['id']}")
                assert item.status_code == 200, item.text
                self.items[key] = item.json()
                fetched.append((change["type"], change["slug"]))
            self.since = body["meta"]["next_since"]
            if body["meta"]["next_cursor"] is None:
                return fetched

    def stale(self) -> list[str]:
        """The mirrored items that differ from what the API serves now."""
        found = []
        for (kind, public_id), copy in sorted(self.items.items()):
            served = self.client.get(f"/api/v1/{BY_NAME[kind].collection}/{public_id}").json()
            if served != copy:
                found.append(f"{kind} {copy['slug']}: mirrored {copy}, served {served}")
        return found


def _shows(item: dict[str, Any], slug: str) -> bool:
    return f'"slug":"{slug}"' in orjson.dumps(item).decode()


def test_a_mirror_sees_a_restored_item_again_in_every_item_that_shows_it(
    app_factory: AppFactory, cli_on: None, tmp_path: Path
) -> None:
    """An event's speaker deleted, the event edited (the mirror fetches it without its
    speaker), the speaker restored by `dossier import`: the log listed only the speaker,
    and the mirror's event lacked it for good. The same for every relation to a topic, an
    organization or a person."""
    with TestClient(app_factory(response_cache=False)) as client:
        factory: sessionmaker[Session] = client.app.state.session_factory  # type: ignore[attr-defined]
        writer = bearer(make_key(factory, "editor", "content:write"))
        _write_all(client, writer)
        mirror = Mirror(client)
        mirror.sync()
        restore = _export(tmp_path)
        _delete_all(client, writer)
        for collection, data in SHOWING.items():  # edited while the others are deleted
            title = BY_COLLECTION[collection].title_field
            patched = client.patch(
                f"/api/v1/{collection}/{data['slug']}",
                json={title: f"{data[title]} (edited)"},
                headers=writer,
            )
            assert patched.status_code == 200, patched.text
        mirror.sync()
        assert mirror.stale() == []
        assert not any(_shows(item, "gone-person") for item in mirror.items.values())
        etag = client.get("/api/v1/events/talk").headers["etag"]
        before = utcnow().isoformat()

        _import(restore)
        fetched = mirror.sync()
        assert mirror.stale() == []
        assert set(fetched) == _keys(SHOWING) | _keys(DOOMED)
        talk = next(item for item in mirror.items.values() if item["slug"] == "talk")
        assert [p["person"]["slug"] for p in talk["participants"]] == ["gone-person"]
        assert [s["slug"] for s in talk["sponsors"]] == ["gone-org"]
        # Changed as served: a new ETag, and found by `updated_since`.
        assert client.get("/api/v1/events/talk").headers["etag"] != etag
        for collection, data in SHOWING.items():
            since = client.get(f"/api/v1/{collection}", params={"updated_since": before})
            assert data["slug"] in [item["slug"] for item in since.json()["data"]], collection


def _keys(items: dict[str, dict[str, Any]]) -> set[tuple[str, str]]:
    """(type, slug) of {collection: data}."""
    return {(BY_COLLECTION[collection].name, data["slug"]) for collection, data in items.items()}


# Responses showing the restored items only through the items that show them: none names
# `people`, `organizations` or `topics` while those are deleted.
CACHED = {
    "/api/v1/events/talk": "gone-person",
    "/api/v1/events?include=participants.person": "gone-person",
    "/api/v1/articles/story": "gone-person",
    "/api/v1/publications?fields=authors": "gone-person",
    "/api/v1/quotes/said": "gone-person",
    "/api/v1/people/member": "gone-org",
    "/api/v1/organizations/child": "gone-org",
    "/api/v1/resources/help": "gone-topic",
    '/graphql?query={event(slug:"talk"){speakers{slug} sponsors{slug} topics{slug}}}': (
        "gone-person"
    ),
}


def _cached(client: TestClient, url: str) -> str:
    """The body of `url`, once served from the cache. (A response is not kept when a purge
    comes while it is made: the poll's, of the writes just made, may.)"""
    deadline = time.monotonic() + 5
    while "age" not in (response := client.get(url)).headers:
        assert response.status_code == 200, response.text
        assert time.monotonic() < deadline, f"{url} never cached"
        time.sleep(0.01)
    return response.text


def _warm(client: TestClient) -> None:
    """Every URL of CACHED cached, without the item it will show once restored."""
    for url, slug in CACHED.items():
        assert f'"slug":"{slug}"' not in _cached(client, url), url


def _wait_for_restored(client: TestClient) -> None:
    """Each URL of CACHED shows its restored item within a few version polls (not after
    CACHE_MAX_AGE)."""
    deadline = time.monotonic() + 5
    for url, slug in CACHED.items():
        while f'"slug":"{slug}"' not in client.get(url).text:
            assert time.monotonic() < deadline, f"{url} served stale"
            time.sleep(0.05)


def test_cached_responses_show_an_item_restored_by_an_import_within_the_version_poll(
    app_factory: AppFactory, cli_on: None, tmp_path: Path
) -> None:
    """The event's Surrogate-Key named no `people` while its only speaker was deleted, and
    the import bumped only the people's version: the cached event stayed without its
    speaker for CACHE_MAX_AGE. Restoring it now changes the event (and every item showing
    a restored one), whose type's version the poll sees."""
    app = app_factory(response_cache=True, cache_version_poll=0.05)
    with TestClient(app) as client:
        writer = bearer(make_key(app.state.session_factory, "editor", "content:write"))
        _write_all(client, writer)
        restore = _export(tmp_path)
        _delete_all(client, writer)
        _warm(client)
        _import(restore)
        _wait_for_restored(client)


def test_a_restore_outside_an_import_changes_the_items_showing_it_at_once(
    factory: sessionmaker[Session],
) -> None:
    """`upsert_item` restores for `dossier demo` too, which does not date its changes at its
    end: the items showing the restored one are marked as it is restored, and an item the
    session holds takes its new version (written again later in that session, it keeps
    both: a stale version in the session had counted from the old one)."""
    with writing(factory) as session:
        person = make_person(session, "Back Again")
        event = make_event(session, title="Panel", participants=[(person.slug, "speaker")])
    with writing(factory) as session:
        delete_item(session, "people", attach(session, person), "t")
    with session_scope(factory) as session:
        panel = attach(session, event)
        version = panel.version
        upsert_item(session, "people", {"slug": person.slug, "name": "Back Again"}, "t")
        assert panel.version == version + 1
        update_item(session, "events", panel, {"title": "Panel, again"}, "t")
    with factory() as session:
        assert attach(session, event).version == version + 2


def test_a_restored_topic_marks_its_items_in_one_statement_per_tagged_type(
    api: TestClient, count_queries: Any
) -> None:
    """Tagged on many items of every type, a restored topic costs one UPDATE per type
    that can be tagged, whatever the number of items (each marked once)."""
    factory: sessionmaker[Session] = api.app.state.session_factory  # type: ignore[attr-defined]
    minimal = {
        "organizations": {"name": "Org"},
        "people": {"name": "Someone"},
        "articles": {"title": "Story"},
        "quotes": {"text": "Said"},
        "events": {"title": "Talk", "starts_at": "2030-01-01T10:00:00Z"},
        "publications": {"title": "Paper"},
        "resources": {"name": "Help"},
    }
    with writing(factory) as session:
        topic = create_item(session, "topics", {"slug": "back", "name": "Back"}, "t")
        tagged = [
            (ctype, create_item(session, ctype.collection, {**body, "topics": ["back"]}, "t"))
            for ctype, body in ((BY_COLLECTION[c], b) for c, b in minimal.items())
            for _ in range(4)
        ]
    with writing(factory) as session:
        delete_item(session, "topics", attach(session, topic), "t")
    versions = {(ctype.name, row.id): row.version for ctype, row in tagged}
    line = orjson.dumps({"type": "topic", "data": {"slug": "back", "name": "Back"}})
    with count_queries(api.app.state.engine) as queries, session_scope(factory) as session:  # type: ignore[attr-defined]
        import_records(session, [line])
    marks = [s for s in queries.statements if s.startswith("UPDATE") and "tagging" in s]
    assert len(marks) == len(minimal), marks
    with factory() as session:
        for ctype, row in tagged:
            assert attach(session, row).version == versions[(ctype.name, row.id)] + 1
