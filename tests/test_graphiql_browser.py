"""GraphiQL renders and runs a query in headless Chromium, with networking limited to
127.0.0.1 (so every asset must come from the app itself).

Needs `/usr/bin/chromium` (Debian: `apt-get install -y chromium`); skipped without it,
unless CI=true, where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
import uvicorn

from app.config import Settings
from app.db import make_engine, make_session_factory, session_scope
from app.demo.loader import load_demo
from app.main import create_app
from app.migrations import upgrade_to_head
from tests.support import TestDatabases

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")


def _chromium() -> str:
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("CI=true requires Chromium (apt-get install -y chromium)", pytrace=False)
    pytest.skip("Chromium is not installed (apt-get install -y chromium)")


def _load_demo(url: str) -> None:
    upgrade_to_head(url)
    engine = make_engine(url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            load_demo(session)
    finally:
        engine.dispose()


@pytest.fixture
def live_server(test_databases: TestDatabases) -> Iterator[str]:
    """The app served by uvicorn on a free 127.0.0.1 port, over the demo dataset (SQLite)."""
    url = test_databases.shared("sqlite", "demo", _load_demo)
    app = create_app(Settings(database_url=url))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app, log_level="warning", lifespan="on", timeout_keep_alive=1, timeout_graceful_shutdown=2
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            threading.Event().wait(0.05)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_graphiql_runs_a_query_from_the_url(live_server: str, tmp_path: Path) -> None:
    chromium = _chromium()
    query = '{ events(filter: {topic: "kidnapping"}) { edges { node { title } } } }'
    page = f"{live_server}/graphql?{urlencode({'query': query})}"
    result = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=8000",
            "--dump-dom",
            page,
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    dom = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'class="graphiql-container' in dom, "GraphiQL did not render"
    response_pane = dom.find('class="graphiql-response"')
    assert response_pane >= 0, "no response pane"
    # The film's title is not in the query: it can only come from the executed result.
    assert "Screams Before Silence" in dom[response_pane:], dom[
        response_pane : response_pane + 2000
    ]
