"""Swagger UI, ReDoc and GraphiQL assets served by the app itself: no CDN, no internet."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse, RedirectResponse, Response

from app.http.caching import etag_matches_header, field_lines

DOCS_STATIC = "/static/docs"
GRAPHIQL_STATIC = "/static/graphiql"
# The documentation pages load nothing from elsewhere, even what their bundles ask for
# (ReDoc's footer asks cdn.redoc.ly for a logo): a browser behind a firewall makes no
# request out, and a page that would is found by the browser tests, not by its users.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; worker-src 'self' blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'self'"
)
# The pages' headers: the policy, and no `Referer` to other sites (GraphiQL's URL holds the
# query it opened on, `?query=…`; a link followed out of a page took it along).
DOCS_HEADERS = {"Content-Security-Policy": DOCS_CSP, "Referrer-Policy": "same-origin"}


# ReDoc's sidebar footer shows Redocly's logo from their CDN. The policy above blocks it,
# and the browser reports each blocked load on the console as an error: the page every
# new user opens greeted them with one. The bundle is served with that URL replaced by an
# empty inline image instead (the footer's "API docs by Redocly" link stays).
REDOC_BUNDLE = "redoc.standalone.js"
REDOC_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
EMPTY_IMAGE = (
    b"data:image/svg+xml,%3Csvg%20xmlns%3D%27http%3A%2F%2Fwww.w3.org%2F2000%2Fsvg%27%2F%3E"
)


def _package_dir(package: str) -> Path:
    """A package's directory, found without importing it (GraphiQL's is a Django app)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"package {package!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def swagger_assets_dir() -> Path:
    return _package_dir("fastapi_offline") / "static"


def graphiql_assets_dir() -> Path:
    return (
        _package_dir("graphene_django_graphiql_static")
        / "static"
        / "graphene_django_graphiql_static"
    )


def install_docs(app: FastAPI) -> None:
    """Mount the assets and serve `/docs` and `/redoc` from them; `/` leads to `/docs`."""

    # Before the mount, which would serve the bundle as it is (HEAD included).
    @app.api_route(
        f"{DOCS_STATIC}/{REDOC_BUNDLE}", methods=["GET", "HEAD"], include_in_schema=False
    )
    def redoc_js(request: Request) -> Response:
        bundle, etag = _redoc_bundle()
        headers = {"Cache-Control": "public, max-age=86400", "ETag": etag}
        if etag_matches_header(field_lines(request.headers, "if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        return Response(bundle, media_type="text/javascript; charset=utf-8", headers=headers)

    app.mount(DOCS_STATIC, StaticFiles(directory=swagger_assets_dir()), name="docs-static")
    app.mount(GRAPHIQL_STATIC, StaticFiles(directory=graphiql_assets_dir()), name="graphiql-static")

    def prefix(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    @app.get("/", include_in_schema=False)
    def root(request: Request) -> RedirectResponse:
        """The address `dossier serve` prints: a browser opened on it lands on the docs,
        not on a 404 (temporary, so that nothing caches it)."""
        return RedirectResponse(prefix(request) + "/docs", status_code=307)

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = prefix(request)
        return _with_policy(
            get_swagger_ui_html(
                openapi_url=root + (app.openapi_url or "/openapi.json"),
                title=f"{app.title} API",
                swagger_js_url=f"{root}{DOCS_STATIC}/swagger-ui-bundle.js",
                swagger_css_url=f"{root}{DOCS_STATIC}/swagger-ui.css",
                swagger_favicon_url=f"{root}{DOCS_STATIC}/favicon.png",
            )
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = prefix(request)
        return _with_policy(
            get_redoc_html(
                openapi_url=root + (app.openapi_url or "/openapi.json"),
                title=f"{app.title} API",
                redoc_js_url=f"{root}{DOCS_STATIC}/redoc.standalone.js",
                redoc_favicon_url=f"{root}{DOCS_STATIC}/favicon.png",
                with_google_fonts=False,
            )
        )


@functools.cache
def _redoc_bundle() -> tuple[bytes, str]:
    """ReDoc's bundle without the CDN logo, and its ETag: read at the first request for it,
    not at every start."""
    bundle = (swagger_assets_dir() / REDOC_BUNDLE).read_bytes().replace(REDOC_LOGO, EMPTY_IMAGE)
    return bundle, f'"{hashlib.sha256(bundle).hexdigest()[:32]}"'


def _with_policy(page: HTMLResponse) -> HTMLResponse:
    page.headers.update(DOCS_HEADERS)
    return page
