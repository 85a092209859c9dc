"""GraphiQL renders and runs a query in headless Chromium, with networking limited to
127.0.0.1 (so every asset must come from the app itself).

Needs `/usr/bin/chromium` (Debian: `apt-get install -y chromium`); skipped without it,
unless CI=true, where a missing browser is a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from app.config import Settings
from app.main import create_app
from tests.browser import load_page, serve
from tests.support import TestDatabases, load_demo_into


@pytest.fixture
def live_server(test_databases: TestDatabases) -> Iterator[str]:
    """The app served by uvicorn on a free 127.0.0.1 port, over the demo dataset (SQLite)."""
    url = test_databases.shared("sqlite", "demo", load_demo_into)
    with serve(create_app(Settings(database_url=url))) as base:
        yield base


def test_graphiql_runs_a_query_from_the_url(live_server: str, tmp_path: Path) -> None:
    query = '{ events(filter: {topic: "kidnapping"}) { edges { node { title } } } }'
    page = f"{live_server}/graphql?{urlencode({'query': query})}"
    dom, console = load_page(page, tmp_path / "profile", 8000)
    assert console == []
    assert 'class="graphiql-container' in dom, "GraphiQL did not render"
    response_pane = dom.find('class="graphiql-response"')
    assert response_pane >= 0, "no response pane"
    # The seminar's title is not in the query: it can only come from the executed result.
    assert "The Hamas Attack on Israel" in dom[response_pane:], dom[
        response_pane : response_pane + 2000
    ]


def test_graphiql_first_visit_shows_the_example_query(live_server: str, tmp_path: Path) -> None:
    # A new browser profile: nothing saved, no query in the URL.
    dom, console = load_page(f"{live_server}/graphql", tmp_path / "profile", 8000)
    assert console == []
    assert 'class="graphiql-container' in dom, "GraphiQL did not render"
    assert "Welcome to GraphiQL" not in dom
    assert "Events tagged" in dom, dom[:3000]
    assert "speakers" in dom, dom[:3000]
