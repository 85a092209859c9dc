"""Fixtures: every database test runs on SQLite and on PostgreSQL.

Read-only tests use `demo_client` (the demo dataset, loaded once per backend). Tests that
write use `client` / `session_factory` (a migrated database emptied before each test).
Tests that need no database simply request none of these fixtures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.main import create_app
from app.migrations import upgrade_to_head
from tests.admin_helpers import bearer, make_key
from tests.support import (
    BACKENDS,
    TestDatabases,
    backend_of,
    count_queries,
    empty_tables,
    load_demo_into,
    make_settings,
)

AppFactory = Callable[..., FastAPI]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "pg: runs on PostgreSQL (added automatically)")
    config.addinivalue_line("markers", "sqlite: runs on SQLite (added automatically)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # `pytest -m "not pg"` runs everything but the PostgreSQL half.
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("database_url") if callspec else None
        if backend == "postgresql":
            item.add_marker(pytest.mark.pg)
        elif backend == "sqlite":
            item.add_marker(pytest.mark.sqlite)


@pytest.fixture(scope="session")
def test_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestDatabases]:
    """Every throwaway database this session (or xdist worker) creates; dropped at the end."""
    databases = TestDatabases(tmp_path_factory.mktemp("databases"))
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session", params=BACKENDS, ids=["sqlite", "pg"])
def database_url(request: pytest.FixtureRequest, test_databases: TestDatabases) -> str:
    """URL of a throwaway database migrated to head, one per backend (`sqlite`, `pg`)."""
    return test_databases.shared(request.param, "migrated", upgrade_to_head)


@pytest.fixture
def empty_database_url(database_url: str, test_databases: TestDatabases) -> Iterator[str]:
    """A brand-new database on the same backend, never migrated; dropped after the test."""
    url = test_databases.acquire(backend_of(database_url))
    yield url
    test_databases.release(url)


@pytest.fixture
def app_factory(database_url: str) -> Iterator[AppFactory]:
    """`app_factory(**settings_overrides)`: an app over the (emptied) test database.

    The database is emptied when the first app is built; tests that only need the
    default settings use `client` instead.
    """
    apps: list[FastAPI] = []

    def build(**overrides: Any) -> FastAPI:
        app = create_app(make_settings(overrides.pop("database_url", database_url), **overrides))
        if not apps:
            empty_tables(app.state.engine)
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.state.engine.dispose()


@pytest.fixture
def app(app_factory: AppFactory) -> FastAPI:
    """The app over the migrated test database, emptied before this test."""
    return app_factory()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A TestClient for `app` (lifespan run): for tests that write."""
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def api(app_factory: AppFactory) -> Iterator[TestClient]:
    """A client without the response cache, for tests that write rows behind the API's
    back (which the cache cannot know about)."""
    with TestClient(app_factory(response_cache=False)) as client:
        yield client


@pytest.fixture
def factory(api: TestClient) -> sessionmaker[Session]:
    """`api`'s session factory."""
    session_factory: sessionmaker[Session] = api.app.state.session_factory  # type: ignore[attr-defined]
    return session_factory


@pytest.fixture
def session_factory(app: FastAPI) -> sessionmaker[Session]:
    """Sessions on the same engine as `client`, e.g. to arrange rows before a request."""
    factory: sessionmaker[Session] = app.state.session_factory
    return factory


@pytest.fixture
def writer(session_factory: sessionmaker[Session]) -> dict[str, str]:
    """Authorization headers of a fresh `content:write` key, for writes through the API."""
    return bearer(make_key(session_factory, "editor", "content:write"))


@pytest.fixture
def engine(app: FastAPI) -> Engine:
    """The engine behind `client` (for `count_queries`)."""
    test_engine: Engine = app.state.engine
    return test_engine


@pytest.fixture(scope="session")
def demo_app(database_url: str, test_databases: TestDatabases) -> Iterator[FastAPI]:
    """An app over a database holding the demo dataset, shared by a session: read only!"""
    url = test_databases.shared(backend_of(database_url), "demo", load_demo_into)
    app = create_app(make_settings(url))
    yield app
    app.state.engine.dispose()


@pytest.fixture(scope="session")
def demo_client(demo_app: FastAPI) -> Iterator[TestClient]:
    """A TestClient over `demo_app`, for read-only tests."""
    with TestClient(demo_app) as test_client:
        yield test_client


@pytest.fixture
def bare_client() -> Iterator[TestClient]:
    """An app over an empty in-memory SQLite database, for HTTP plumbing tests that never
    read content (errors, headers, docs). Not parametrized: runs once."""
    app = create_app(make_settings("sqlite://"))
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(name="count_queries")
def count_queries_fixture() -> Callable[[Engine], Any]:
    """`with count_queries(engine) as queries: ...; queries.count` (also importable from
    tests.support)."""
    return count_queries
