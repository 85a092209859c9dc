"""`If-Match` on PATCH and DELETE takes the ETag of any current representation of the item.

An item's ETag names the item and its version beside the digest of the body, so a write
can check the version whatever representation the editor read it in (`include`,
`fields`, preview or public, gzipped); `If-None-Match` still compares whole tags, so a
cached representation is revalidated whenever its bytes change. A stale ETag is 412, a
malformed `If-Match` is 400, and neither changes anything.
"""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.models import AuditEntry
from tests.admin_helpers import Keys, problem

URL = "/api/v1/articles/ransom"


@pytest.fixture
def keys(session_factory: sessionmaker[Session]) -> Keys:
    return Keys(session_factory, seed=True)


@pytest.fixture
def article(client: TestClient, keys: Keys) -> None:
    body = {
        "slug": "ransom",
        "title": "Ransom",
        "authors": ["abbas-milani"],
        "topics": ["kidnapping"],
        "status": "published",
        "published_at": "2024-01-02T03:04:05Z",
    }
    assert client.post("/api/v1/articles", json=body, headers=keys.writer).status_code == 201


def _audits(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


def _patch(
    client: TestClient, keys: Keys, if_match: str, subtitle: str = "Changed"
) -> httpx.Response:
    return client.patch(
        URL, json={"subtitle": subtitle}, headers={**keys.writer, "If-Match": if_match}
    )


REPRESENTATIONS = [
    ("", False),
    ("?include=authors.affiliations,topics", False),
    ("?fields=title,authors", False),
    ("?include=authors&fields=authors", False),
    ("?preview=true&include=topics", True),
]


@pytest.mark.usefixtures("article")
@pytest.mark.parametrize(("query", "preview"), REPRESENTATIONS)
def test_the_etag_of_any_representation_guards_a_write(
    client: TestClient, keys: Keys, query: str, preview: bool
) -> None:
    read = client.get(URL + query, headers=keys.previewer if preview else {})
    assert read.status_code == 200, read.text
    written = _patch(client, keys, read.headers["ETag"])
    assert written.status_code == 200, written.text
    again = client.get(URL + query, headers=keys.previewer if preview else {})
    assert again.headers["ETag"] != read.headers["ETag"]
    stale = _patch(client, keys, read.headers["ETag"], "Lost update")
    problem(stale, 412)
    assert client.get(URL).json()["subtitle"] == "Changed"
    delete = client.delete(URL, headers={**keys.writer, "If-Match": again.headers["ETag"]})
    assert delete.status_code == 204


@pytest.mark.usefixtures("article")
def test_representations_have_etags_of_their_own(client: TestClient, keys: Keys) -> None:
    """One version, several bodies: each its ETag (If-None-Match compares whole tags),
    and a related item's change, which changes the body but not the article, changes it."""
    queries = ["", "?include=authors", "?fields=title"]
    etags = [client.get(URL + q).headers["ETag"] for q in queries]
    assert len(set(etags)) == 3
    for query, etag in zip(queries, etags, strict=True):
        assert client.get(URL + query, headers={"If-None-Match": etag}).status_code == 304
    renamed = client.patch(
        "/api/v1/people/abbas-milani", json={"name": "Abbas M. Milani"}, headers=keys.writer
    )
    assert renamed.status_code == 200
    included = client.get(URL + "?include=authors")
    assert included.headers["ETag"] != etags[1]
    assert (
        client.get(URL + "?include=authors", headers={"If-None-Match": etags[1]}).status_code == 200
    )
    # The article itself did not change: the editor's copy of it is not stale.
    assert _patch(client, keys, etags[1]).status_code == 200


@pytest.mark.usefixtures("article")
def test_the_etag_of_another_item_is_refused(client: TestClient, keys: Keys) -> None:
    """Same version, another item: not this item's ETag."""
    other = client.post("/api/v1/articles", json={"title": "Other"}, headers=keys.writer)
    assert other.status_code == 201
    mine = client.get(URL).headers["ETag"]
    assert mine.split(".")[1] == other.headers["ETag"].split(".")[1]  # both version 1
    problem(_patch(client, keys, other.headers["ETag"]), 412)


@pytest.mark.usefixtures("article")
def test_a_weak_etag_counts_as_its_strong_twin_only_while_current(
    client: TestClient, keys: Keys
) -> None:
    """`W/` is how a gzipped response marks the same tag (`gzip_variant_etag`)."""
    etag = client.get(URL + "?include=authors").headers["ETag"].removeprefix("W/")
    assert _patch(client, keys, "W/" + etag).status_code == 200
    body = problem(_patch(client, keys, "W/" + etag, "Again"), 412)
    assert "GET it again" in body["detail"]


@pytest.mark.usefixtures("article")
@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        "art_1.v1.0123",
        '"unterminated',
        '"a" "b"',
        '"a",, garbage',
        '*, "a"',
        "W/garbage",
        "  ",
        '"quote"inside"',
    ],
)
def test_a_malformed_if_match_is_400_and_changes_nothing(
    client: TestClient, keys: Keys, session_factory: sessionmaker[Session], header: str
) -> None:
    before = client.get(URL).json()
    audits = _audits(session_factory)
    for response in (
        _patch(client, keys, header),
        client.delete(URL, headers={**keys.writer, "If-Match": header}),
    ):
        body = problem(response, 400)
        assert "If-Match" in body["detail"]
    assert client.get(URL).json() == before
    assert _audits(session_factory) == audits


@pytest.mark.usefixtures("article")
def test_well_formed_tags_this_api_never_gave_are_412(client: TestClient, keys: Keys) -> None:
    for header in ('"nonsense"', 'W/"nonsense"', '"art_1.v999.0123"', '""'):
        problem(_patch(client, keys, header), 412)
    listed = f'"other", W/"x", {client.get(URL + "?fields=title").headers["ETag"]}'
    assert _patch(client, keys, listed).status_code == 200
    assert _patch(client, keys, "*").status_code == 200


@pytest.mark.usefixtures("article")
def test_if_match_over_several_field_lines_is_one_list(
    client: TestClient, keys: Keys, session_factory: sessionmaker[Session]
) -> None:
    """RFC 9110 §5.3: two `If-Match` lines are one list. The first alone refused a write
    whose current ETag came second (412), and let a malformed second line through."""
    current = client.get(URL).headers["ETag"]
    stale = '"art_1.v0.0123456789abcdef0123456789abcdef"'

    def patch(*lines: str, subtitle: str) -> httpx.Response:
        headers = [*keys.writer.items(), *(("If-Match", line) for line in lines)]
        return client.patch(URL, json={"subtitle": subtitle}, headers=headers)

    audits = _audits(session_factory)
    body = problem(patch(current, "garbage", subtitle="Malformed"), 400)
    assert "If-Match" in body["detail"]
    problem(patch(stale, '"other"', subtitle="Stale"), 412)
    assert _audits(session_factory) == audits
    written = patch(stale, current, subtitle="Second line")
    assert written.status_code == 200, written.text
    assert client.get(URL).json()["subtitle"] == "Second line"
    gone = client.delete(
        URL,
        headers=[*keys.writer.items(), ("If-Match", stale), ("If-Match", written.headers["ETag"])],
    )
    assert gone.status_code == 204, gone.text
