"""`/docs` and `/redoc` render in a real browser with no network beyond 127.0.0.1.

The app is served by uvicorn on a free local port; headless Chromium loads the page with
every host name except 127.0.0.1 resolving to nothing, so a CDN asset would fail to load
and the operations would never render. Needs `/usr/bin/chromium` (`apt-get install -y
chromium`); skipped without it, except under CI=true, where a missing browser fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from app.main import create_app
from tests.support import make_settings

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")


def _chromium() -> str:
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    reason = "headless Chromium is not installed (apt-get install -y chromium)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("CI=true requires it: " + reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1 and a free port, in a background thread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(make_settings("sqlite://"))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _dump_dom(url: str, profile: Path) -> str:
    command = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=5000",
        "--dump-dom",
        url,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_swagger_ui_renders_the_operations_offline(server_url: str, tmp_path: Path) -> None:
    dom = _dump_dom(f"{server_url}/docs", tmp_path / "profile")
    assert 'class="swagger-ui' in dom, dom[:2000]
    assert "opblock" in dom, "Swagger UI did not render any operation"
    assert "/api/v1/events" in dom
    assert "/api/v1/search" in dom
    assert "cdn.jsdelivr.net" not in dom
    assert "unpkg.com" not in dom


def test_redoc_renders_the_operations_offline(server_url: str, tmp_path: Path) -> None:
    dom = _dump_dom(f"{server_url}/redoc", tmp_path / "profile")
    assert "/api/v1/events" in dom, dom[:2000]
    assert "List events" in dom, "ReDoc did not render the operations"
