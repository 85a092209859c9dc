"""`/docs` and `/redoc` render in a real browser with no network beyond 127.0.0.1.

The app is served by uvicorn on a free local port; headless Chromium loads the page with
every host name except 127.0.0.1 resolving to nothing, so a CDN asset would fail to load
and the operations would never render. Needs `/usr/bin/chromium` (`apt-get install -y
chromium`); skipped without it, except under CI=true, where a missing browser fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.main import create_app
from tests.browser import dump_dom, serve
from tests.support import make_settings


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1 and a free port, in a background thread."""
    with serve(create_app(make_settings("sqlite://"))) as url:
        yield url


def test_swagger_ui_renders_the_operations_offline(server_url: str, tmp_path: Path) -> None:
    dom = dump_dom(f"{server_url}/docs", tmp_path / "profile", 5000)
    assert 'class="swagger-ui' in dom, dom[:2000]
    assert "opblock" in dom, "Swagger UI did not render any operation"
    assert "/api/v1/events" in dom
    assert "/api/v1/search" in dom
    assert "cdn.jsdelivr.net" not in dom
    assert "unpkg.com" not in dom


def test_redoc_renders_the_operations_offline(server_url: str, tmp_path: Path) -> None:
    dom = dump_dom(f"{server_url}/redoc", tmp_path / "profile", 5000)
    assert "/api/v1/events" in dom, dom[:2000]
    assert "List events" in dom, "ReDoc did not render the operations"


def test_the_documentation_pages_may_load_nothing_from_elsewhere(server_url: str) -> None:
    """ReDoc's bundle asks cdn.redoc.ly for its footer logo: a request out of a firewalled
    network. The pages' policy keeps the browser from making any."""
    import httpx

    for path in ("/docs", "/redoc", "/graphql"):
        response = httpx.get(server_url + path, headers={"Accept": "text/html"})
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy, path
        assert "https:" not in policy, path
        assert "*" not in policy, path
