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
from tests.browser import load_page, serve
from tests.support import make_settings


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1 and a free port, in a background thread."""
    with serve(create_app(make_settings("sqlite://"))) as url:
        yield url


def test_swagger_ui_renders_the_operations_offline(server_url: str, tmp_path: Path) -> None:
    dom, console = load_page(f"{server_url}/docs", tmp_path / "profile", 5000)
    assert console == []
    assert 'class="swagger-ui' in dom, dom[:2000]
    assert "opblock" in dom, "Swagger UI did not render any operation"
    assert "/api/v1/events" in dom
    assert "/api/v1/search" in dom
    assert "cdn.jsdelivr.net" not in dom
    assert "unpkg.com" not in dom


def test_redoc_renders_the_operations_offline(server_url: str, tmp_path: Path) -> None:
    dom, console = load_page(f"{server_url}/redoc", tmp_path / "profile", 5000)
    assert "/api/v1/events" in dom, dom[:2000]
    assert "List events" in dom, "ReDoc did not render the operations"
    # Its footer's logo came from cdn.redoc.ly: blocked by the policy, reported as an error.
    assert console == []
    assert "API docs by Redocly" in dom
    assert "cdn.redoc.ly" not in dom


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
        # GraphiQL's `?query=…` is not sent along to the sites its links lead to.
        assert response.headers["referrer-policy"] == "same-origin", path


def test_the_redoc_bundle_is_served_without_its_cdn_logo(server_url: str) -> None:
    """The bundle that /redoc loads is rewritten: HEAD must describe what GET sends (the
    static mount would answer it with the file as it is), and a revalidation gets a 304."""
    import httpx

    url = f"{server_url}/static/docs/redoc.standalone.js"
    plain = {"Accept-Encoding": "identity"}
    bundle = httpx.get(url, headers=plain)
    assert bundle.status_code == 200
    assert b"cdn.redoc.ly" not in bundle.content
    assert b"API docs by Redocly" in bundle.content
    head = httpx.head(url, headers=plain)
    assert head.headers["content-length"] == str(len(bundle.content))
    assert head.headers["etag"] == bundle.headers["etag"]
    again = httpx.get(url, headers={"If-None-Match": bundle.headers["etag"]})
    assert again.status_code == 304


def test_the_address_serve_prints_leads_to_the_docs(server_url: str) -> None:
    """`make run` ends with 'Uvicorn running on http://127.0.0.1:8000': opened in a browser,
    that address was a 404 problem. It leads to Swagger UI."""
    import httpx

    for method in ("GET", "HEAD"):
        response = httpx.request(method, server_url + "/")
        assert response.status_code == 307, method
        assert response.headers["location"] == "/docs"
    page = httpx.get(server_url + "/", follow_redirects=True)
    assert page.url.path == "/docs"
    assert "swagger-ui" in page.text
