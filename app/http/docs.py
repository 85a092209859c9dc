"""Swagger UI, ReDoc and GraphiQL assets served by the app itself: no CDN, no internet."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

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
    """Mount the assets and serve `/docs` and `/redoc` from them."""
    app.mount(DOCS_STATIC, StaticFiles(directory=swagger_assets_dir()), name="docs-static")
    app.mount(GRAPHIQL_STATIC, StaticFiles(directory=graphiql_assets_dir()), name="graphiql-static")

    def prefix(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

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


def _with_policy(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = DOCS_CSP
    return page
