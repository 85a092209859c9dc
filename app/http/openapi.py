"""The OpenAPI document: tags for every collection, errors documented as problem+json."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from fastapi import FastAPI

from app.http.errors import (
    PROBLEM_MEDIA_TYPE,
    no_item,
    problem_example,
    problem_responses,
    problem_schemas,
)

OPENAPI_TAGS: list[dict[str, str]] = [
    {"name": "topics", "description": 'Topics such as "Kidnapping", and each topic\'s stream.'},
    {"name": "organizations", "description": "Institutes, centers and sponsors."},
    {"name": "people", "description": "Scholars and speakers, with their affiliations."},
    {"name": "articles", "description": "News, commentary, interviews and announcements."},
    {"name": "quotes", "description": "Pull quotes with their speaker and attribution."},
    {"name": "events", "description": "Seminars, conferences, screenings and their participants."},
    {"name": "publications", "description": "Journal articles, books, reports and projects."},
    {"name": "resources", "description": "Support resources: counseling, hotlines, groups."},
    {"name": "search", "description": "Ranked full-text search across content types."},
    {"name": "changes", "description": "The change log partners use to mirror content."},
    {"name": "feeds", "description": "RSS, Atom, JSON Feed and iCalendar syndication."},
    {"name": "graphql", "description": "The GraphQL delivery API (GraphiQL in a browser)."},
    {"name": "operations", "description": "Health, readiness and Prometheus metrics."},
]

_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")

# Request bodies made when the document is first built, by (path, method): the write
# routes' schemas and examples took a tenth of the server's start to make otherwise.
LAZY_REQUEST_BODIES: dict[tuple[str, str], Callable[[], dict[str, Any]]] = {}
# JSON response examples, by (path, method, status), made then too: and set after FastAPI
# has built the document, which drops every null from what it builds (an example of an
# item showed none of its empty fields, `"email": null` among them, which every answer has).
LAZY_RESPONSE_EXAMPLES: dict[tuple[str, str, str], Callable[[], Any]] = {}


def _problem_ref() -> dict[str, Any]:
    return {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _document_validation_errors(operation: dict[str, Any]) -> None:
    """Replace FastAPI's 422 `HTTPValidationError` with what the app really sends.

    Bad parameters are a 400 problem; an invalid JSON body is a 422 problem.
    """
    responses: dict[str, Any] = operation.setdefault("responses", {})
    default_422 = responses.get("422")
    if default_422 is not None and "application/json" in default_422.get("content", {}):
        del responses["422"]
        if "requestBody" in operation:
            responses["422"] = {"description": "Unprocessable Content", "content": _problem_ref()}
    if (operation.get("parameters") or "requestBody" in operation) and "400" not in responses:
        responses["400"] = problem_responses(400)[400]


# Operations that never touch the database, so never answer 503.
_NO_DATABASE = frozenset({"/healthz", "/metrics"})


def _document_outage(operation: dict[str, Any]) -> None:
    """While the database is unreachable (or a query hits the statement timeout) every
    operation that needs it answers 503 with `Retry-After`."""
    operation["responses"].setdefault(
        "503",
        {
            "description": "The database is unreachable, or the query hit the statement "
            "timeout: retry after `Retry-After` seconds.",
            "headers": {
                "Retry-After": {
                    "description": "Seconds to wait before retrying.",
                    "schema": {"type": "integer"},
                }
            },
            "content": _problem_ref(),
        },
    )


# What each status's problem looks like, for the operations whose routes give no example
# of their own (the schema's one example was a 404, shown under every status).
_EXAMPLE_DETAILS = {
    400: "Unknown query parameter(s) 'colour'; this endpoint accepts cursor, limit, q.",
    401: "The API key is unknown or revoked.",
    403: "The API key 'site' lacks the 'content:preview' scope.",
    413: "The request body is larger than 1000000 bytes.",
    415: "Send the body as application/json (got 'text/plain').",
    429: "Too many failed authentications with this key from this client; retry in 42 s.",
    503: "The database is temporarily unavailable; retry shortly.",
}


def _not_found_detail(path: str) -> str:
    """The 404 of an operation on `path`, for its example: the item it names."""
    from app.content.types import BY_COLLECTION, TOPIC

    parts = path.strip("/").split("/")
    ctype = next((BY_COLLECTION[p] for p in parts if p in BY_COLLECTION), TOPIC)
    if parts[0] == "feeds" and "people" in parts:
        ctype = BY_COLLECTION["people"]
    return no_item(ctype.name, ctype.collection, "nope")


def _document_problem_examples(path: str, operation: dict[str, Any]) -> None:
    """An operation that can answer 401 can answer 429 (too many failed authentications,
    `AUTH_FAILURE_LIMIT`), whatever it is; and every problem gets an example of its own
    status."""
    responses: dict[str, Any] = operation["responses"]
    if "401" in responses and "429" not in responses:
        responses["429"] = problem_responses(429)[429]
    if "429" in responses:
        responses["429"].setdefault("headers", {"Retry-After": {"schema": {"type": "integer"}}})
    for status, response in responses.items():
        content = response.get("content", {}).get(PROBLEM_MEDIA_TYPE)
        if content is None or "example" in content or not status.isdigit():
            continue
        code = int(status)
        detail = _not_found_detail(path) if code == 404 else _EXAMPLE_DETAILS.get(code)
        if path == "/graphql" and code == 400:
            detail = "Provide the GraphQL document as `query`."
        if detail is not None:
            content["example"] = problem_example(code, detail)


def _header(description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string"}}


# The headers of every cacheable GET's 200 (`app.http.caching.cached_response`) and 304.
_CACHING_HEADERS = {
    "ETag": _header(
        "The representation's validator: send it back as `If-None-Match` for a 304. An item's "
        "names its version, so that it also serves as a write's `If-Match`."
    ),
    "Cache-Control": _header(
        "`public, max-age=N` (shorter when the answer changes by itself sooner, e.g. an "
        "event starting); `private, no-store` for a preview or an authenticated request."
    ),
    "Vary": _header("`Authorization` (and `Accept-Encoding` where gzip applies)."),
    "Surrogate-Key": _header(
        "Space-separated keys (collections and item ids) a CDN can purge this response by; "
        "public responses only."
    ),
}
_LINK_HEADER = _header('RFC 8288 `<absolute URL>; rel="next"`, when there is a next page.')
_IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "An `ETag` received before: 304 without a body while it still matches.",
    "schema": {"type": "string"},
}
_IF_MODIFIED_SINCE = {
    "name": "If-Modified-Since",
    "in": "header",
    "required": False,
    "description": "A `Last-Modified` received before: 304 without a body while nothing "
    "changed since. Ignored with `If-None-Match`, which decides alone (RFC 9110 §13.2.2).",
    "schema": {"type": "string"},
}


def _document_caching(operation: dict[str, Any]) -> None:
    """A GET that can answer 304 takes `If-None-Match`, and its 200 carries the caching
    headers (a list's, `Link` as well); they were sent but not documented."""
    responses: dict[str, Any] = operation["responses"]
    if "304" not in responses or "200" not in responses:
        return
    parameters = operation.setdefault("parameters", [])
    if not any(p.get("name", "").lower() == "if-none-match" for p in parameters):
        parameters.append(_IF_NONE_MATCH)
    headers = responses["200"].setdefault("headers", {})
    headers.update({k: v for k, v in _CACHING_HEADERS.items() if k not in headers})
    schema = responses["200"].get("content", {}).get("application/json", {}).get("schema", {})
    if str(schema.get("$ref", "")).endswith("List"):  # the list envelope
        headers.setdefault("Link", _LINK_HEADER)
    not_modified = responses["304"].setdefault("headers", {})
    for name in ("ETag", "Cache-Control", "Vary"):
        not_modified.setdefault(name, headers[name])  # (the 200's, as its 304 sends them)
    if "Last-Modified" in headers:  # (a route that dates its responses: feeds, calendars)
        not_modified.setdefault("Last-Modified", headers["Last-Modified"])
        if not any(p.get("name", "").lower() == "if-modified-since" for p in parameters):
            parameters.append(_IF_MODIFIED_SINCE)


def _schema_in_use(document: dict[str, Any], name: str) -> bool:
    return f'"#/components/schemas/{name}"'.encode() in orjson.dumps(document)


def install_openapi(app: FastAPI) -> None:
    """Make `app.openapi()` document problem+json errors on every operation."""

    build = app.openapi  # FastAPI's own generator; we post-process its document once

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = build()
        for (path, method), make in LAZY_REQUEST_BODIES.items():
            operation = document.get("paths", {}).get(path, {}).get(method)
            if operation is not None:
                operation["requestBody"] = make()
        for (path, method, status), example in LAZY_RESPONSE_EXAMPLES.items():
            operation = document.get("paths", {}).get(path, {}).get(method)
            if operation is not None:
                content = operation["responses"][status]["content"]["application/json"]
                content["example"] = example()
        for path, path_item in document.get("paths", {}).items():
            for operation in path_item.values():
                if isinstance(operation, dict) and "responses" in operation:
                    _document_validation_errors(operation)
                    if path not in _NO_DATABASE:
                        _document_outage(operation)
                    _document_problem_examples(path, operation)
                    _document_caching(operation)
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas.update(problem_schemas())
        # FastAPI's validation schemas, unless a route still documents them explicitly.
        for name in _VALIDATION_SCHEMAS:
            if name in schemas and not _schema_in_use(document, name):
                del schemas[name]
        app.openapi_schema = document
        return document

    setattr(app, "openapi", openapi)  # noqa: B010  (FastAPI's documented override)
