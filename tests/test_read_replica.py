"""With DATABASE_READ_URL, public reads (GraphQL POSTs too) come from the replica and writes
go to the primary."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from app.content.writes import upsert_item
from app.db import make_engine, make_session_factory, session_scope
from app.demo.loader import load_demo
from app.http.auth import new_key
from app.main import create_app
from app.migrations import upgrade_to_head
from app.models import ApiKey, Topic
from tests.support import make_settings


def test_reads_use_the_replica_and_writes_the_primary(tmp_path: Path) -> None:
    primary, replica = f"sqlite:///{tmp_path}/primary.db", f"sqlite:///{tmp_path}/replica.db"
    for url in (primary, replica):
        upgrade_to_head(url)
    with session_scope(make_session_factory(make_engine(replica))) as session:
        load_demo(session)
    secret, prefix, digest = new_key()
    with session_scope(make_session_factory(make_engine(primary))) as session:
        session.add(
            ApiKey(name="editor", prefix=prefix, secret_hash=digest, scopes="content:write")
        )

    app = create_app(make_settings(primary, database_read_url=replica, response_cache=False))
    client = TestClient(app)
    assert client.get("/api/v1/topics/kidnapping").status_code == 200  # only the replica has it
    query = '{ topic(slug: "kidnapping") { name } }'
    for answer in (
        client.get("/graphql", params={"query": query}),
        client.post("/graphql", json={"query": query}),
    ):
        assert answer.json() == {"data": {"topic": {"name": "Kidnapping"}}}  # GraphQL only reads
    created = client.post(
        "/api/v1/topics",
        json={"name": "Hostage diplomacy"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert created.status_code == 201, created.text
    with session_scope(make_session_factory(make_engine(primary))) as session:
        assert session.scalar(select(func.count()).select_from(Topic)) == 1
    with session_scope(make_session_factory(make_engine(replica))) as session:
        assert session.scalar(select(Topic).where(Topic.slug == "hostage-diplomacy")) is None


def _rename_topic(url: str, name: str) -> None:
    with session_scope(make_session_factory(make_engine(url))) as session:
        session.execute(
            text("UPDATE topic SET name = :name WHERE slug = 'lagging'"), {"name": name}
        )


def test_a_lagging_replica_cannot_keep_an_old_version_in_the_response_cache(
    tmp_path: Path,
) -> None:
    """A write purges at once, but a read during the replica's lag caches the old version
    again. The version poll reads the replica: when replication brings the write, the
    triggers move the replica's versions and the stale entry goes (reading the primary's,
    it stayed until CACHE_MAX_AGE)."""
    primary, replica = f"sqlite:///{tmp_path}/primary.db", f"sqlite:///{tmp_path}/replica.db"
    for url in (primary, replica):
        upgrade_to_head(url)
        with session_scope(make_session_factory(make_engine(url))) as session:
            upsert_item(session, "topics", {"slug": "lagging", "name": "Before"}, "test")
    secret, prefix, digest = new_key()
    with session_scope(make_session_factory(make_engine(primary))) as session:
        session.add(
            ApiKey(name="editor", prefix=prefix, secret_hash=digest, scopes="content:write")
        )

    settings = make_settings(
        primary, database_read_url=replica, response_cache=True, cache_version_poll=0.05
    )
    with TestClient(create_app(settings)) as client:

        def name() -> str:
            return str(client.get("/api/v1/topics/lagging").json()["name"])

        assert name() == "Before"
        written = client.patch(
            "/api/v1/topics/lagging",
            json={"name": "After"},
            headers={"Authorization": f"Bearer {secret}"},
        )
        assert written.status_code == 200, written.text
        assert name() == "Before"  # the replica lags: the old version is cached again
        time.sleep(0.5)  # many polls: the primary's move is long seen
        assert name() == "Before"
        _rename_topic(replica, "After")  # replication catches up
        deadline = time.monotonic() + 5
        while name() != "After":
            assert time.monotonic() < deadline, "the stale entry outlived the replica's catch-up"
            time.sleep(0.05)


def test_readyz_asks_the_replica_too(tmp_path: Path) -> None:
    """Every read uses the replica: an instance whose replica is unreachable, or behind the
    newest migration, answers every read with 503, and is not ready (a load balancer kept
    sending it traffic while /readyz asked the primary only)."""
    primary = f"sqlite:///{tmp_path}/primary.db"
    upgrade_to_head(primary)
    migrated, empty = f"sqlite:///{tmp_path}/replica.db", f"sqlite:///{tmp_path}/empty.db"
    upgrade_to_head(migrated)
    make_engine(empty).connect().close()
    unreachable = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"

    def ready(replica: str) -> tuple[int, str]:
        settings = make_settings(primary, database_read_url=replica, response_cache=False)
        with TestClient(create_app(settings)) as client:
            answer = client.get("/readyz")
        return answer.status_code, answer.text

    assert ready(migrated)[0] == 200
    assert ready(unreachable)[0] == 503
    assert "read replica is unreachable" in ready(unreachable)[1]
    assert ready(empty)[0] == 503
    assert "read replica schema is at revision none" in ready(empty)[1]
