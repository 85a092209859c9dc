"""`/graphql` over HTTP: GET (cacheable) and POST, GraphiQL for browsers.

Status codes follow the GraphQL-over-HTTP specification: a request that is not a
well-formed GraphQL request is 400; a request error (parse, validation, variables,
limits) is 400 when the client accepts `application/graphql-response+json` and 200 with
legacy `application/json`; an executed operation is 200.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from graphql import GraphQLError
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response

from app.config import Settings
from app.db import session_scope
from app.feeds.urls import api_base
from app.graphql.context import Context
from app.graphql.execution import GraphQLParams, Outcome, execute_request, request_error
from app.graphql.limits import Limits
from app.http.caching import (
    PRIVATE,
    cacheable_response,
    is_private,
    max_age_until,
    surrogate_keys,
    weight,
)
from app.http.docs import DOCS_HEADERS, DOCS_STATIC, GRAPHIQL_STATIC
from app.http.viewer import graphql_viewer

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
VARY = "Accept, Authorization, X-Preview"

router = APIRouter(tags=["graphql"])


def _accepts(request: Request, media_type: str) -> bool:
    for part in request.headers.get("accept", "").split(","):
        name, _, params = part.partition(";")
        if name.strip().lower() == media_type:
            return weight(params) > 0  # `;q=0` (or 0.0, 0.000) refuses it
    return False


def _wants_html(request: Request) -> bool:
    return _accepts(request, "text/html")


def _media_type(request: Request) -> str:
    return GRAPHQL_RESPONSE if _accepts(request, GRAPHQL_RESPONSE) else JSON


def _malformed(request: Request, message: str, status: int = 400) -> Response:
    """Not a well-formed GraphQL-over-HTTP request at all."""
    error = GraphQLError(message, extensions={"code": "BAD_REQUEST"})
    return _respond(request, request_error([error], status=status), method="POST", context=None)


def _respond(
    request: Request,
    outcome: Outcome,
    *,
    method: str,
    context: Context | None,
    changes_at: datetime | None = None,
) -> Response:
    media_type = _media_type(request)
    body = orjson.dumps(outcome.body)
    if outcome.status is not None:
        status = outcome.status
    elif outcome.request_error:
        status = 400 if media_type == GRAPHQL_RESPONSE else 200
    else:
        status = 200
    headers = {"Vary": VARY}
    if status == 405:
        headers["Allow"] = "POST"
    cacheable = method == "GET" and status == 200 and not outcome.errors and context is not None
    if not cacheable:
        private = context is not None and context.viewer.preview
        headers["Cache-Control"] = PRIVATE if private else "no-store"
        return Response(body, status_code=status, media_type=media_type, headers=headers)
    assert context is not None
    settings: Settings = request.app.state.settings
    keys = surrogate_keys(context.surrogate_ids(), extra=sorted(context.surrogate_collections()))
    return cacheable_response(
        request,
        body,
        media_type=media_type,
        max_age=max_age_until(changes_at, context.viewer.now, settings.cache_max_age),
        private=is_private(request, context.viewer.preview),
        keys=keys,
        headers=headers,
        # The same body as `application/graphql-response+json` is another representation:
        # a validator of one must not answer 304 for the other (RFC 9110 §8.8.3).
        variant="" if media_type == JSON else "-gr",
    )


def _run(request: Request, params: GraphQLParams, method: str) -> Response:
    """Execute in this (worker) thread with a request-scoped session and DataLoaders."""
    settings: Settings = request.app.state.settings
    if not isinstance(params.query, str) or not params.query.strip():
        return _malformed(request, "Provide the GraphQL document as `query`.")
    viewer = graphql_viewer(request)
    limits = Limits(max_depth=settings.graphql_max_depth, max_cost=settings.graphql_max_cost)
    # GraphQL here only reads (the schema has no mutations): POST goes where GET goes, to
    # the read replica when there is one, in a read session.
    with session_scope(request.app.state.read_session_factory) as session:
        context = Context(
            session=session, viewer=viewer, settings=settings, api_base=api_base(settings, request)
        )
        outcome = execute_request(
            params,
            context,
            method=method,
            limits=limits,
            max_bytes=settings.graphql_max_query_bytes,
            fast_path=settings.graphql_fast_path,
        )
        # While the session is open: a cacheable answer's max-age (`upcoming` lists).
        changes_at = context.changes_at() if method == "GET" else None
    return _respond(request, outcome, method=method, context=context, changes_at=changes_at)


def _variables(raw: Any) -> tuple[dict[str, Any] | None, str | None]:
    """(variables, error message) from a body's or query string's `variables`."""
    if raw is None or raw == "":
        return None, None
    if isinstance(raw, str):
        try:
            # orjson, as for POST bodies: it refuses a lone surrogate (`"\\ud800"`), which
            # no database can store and `json` lets through.
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None, "`variables` must be a JSON object."
    if raw is not None and not isinstance(raw, dict):
        return None, "`variables` must be a JSON object."
    return raw, None


# What GraphiQL's editor holds on a first visit (no `?query=`, nothing saved in the browser):
# a query that runs as it is, instead of GraphiQL's generic welcome text. Lines of at most
# 50 characters: the editor's width on a laptop screen, beside the result pane.
EXAMPLE_QUERY = """# Dossier's GraphQL API. Ctrl-Enter (or the play
# button) runs the query; the top left icon opens
# the docs: every type and field.
#
# Events tagged "Kidnapping" (latest first), with
# their speakers' profiles:
{
  events(
    filter: {topic: "kidnapping"}
    first: 5
  ) {
    totalCount
    edges {
      node {
        title
        startsAt
        speakers {
          name
          title
          affiliations {
            role
            organization { name }
          }
        }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""


@lru_cache(maxsize=4)
def _graphiql_page(root_path: str) -> str:
    template = (Path(__file__).parent / "graphiql.html").read_text(encoding="utf-8")
    endpoint = json.dumps(f"{root_path}/graphql").replace("</", "<\\/")
    return (
        template.replace("__DOCS_STATIC__", f"{root_path}{DOCS_STATIC}")
        .replace("__STATIC__", f"{root_path}{GRAPHIQL_STATIC}")
        .replace("__ENDPOINT__", endpoint)
        .replace("__EXAMPLE_QUERY__", json.dumps(EXAMPLE_QUERY).replace("</", "<\\/"))
    )


_GRAPHQL_RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A GraphQL response: `data` and/or `errors` (each with `extensions.code`).",
    "properties": {
        "data": {"type": ["object", "null"]},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "message": {"type": "string"},
                    "path": {"type": "array", "items": {}},
                    "extensions": {"type": "object"},
                },
                "required": ["message"],
            },
        },
    },
}
_GRAPHQL_CONTENT = {
    JSON: {"schema": _GRAPHQL_RESPONSE_SCHEMA},
    GRAPHQL_RESPONSE: {"schema": _GRAPHQL_RESPONSE_SCHEMA},
}
_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The GraphQL response (request errors too, with application/json).",
        "content": _GRAPHQL_CONTENT,
    },
    400: {
        "description": "Not a well-formed GraphQL request, or a request error (parse, validation, "
        "variables, limits) with application/graphql-response+json; an `X-Preview` header "
        "that is neither `true` nor `false` is a problem (application/problem+json).",
        "content": {**_GRAPHQL_CONTENT, **_PROBLEM},
    },
    401: {"description": "`X-Preview` without a valid API key.", "content": _PROBLEM},
    403: {"description": "`X-Preview` with a key lacking `content:preview`.", "content": _PROBLEM},
}


@router.get(
    "/graphql",
    summary="GraphQL query over GET (cacheable); GraphiQL in a browser",
    response_model=None,
    responses={
        **_RESPONSES,
        200: {
            **_RESPONSES[200],
            "content": {**_GRAPHQL_CONTENT, "text/html": {"schema": {"type": "string"}}},
        },
        304: {"description": "Not modified (`If-None-Match`)."},
        405: {"description": "A mutation sent with GET.", "content": _GRAPHQL_CONTENT},
    },
)
def graphql_get(
    request: Request,
    query: Annotated[str | None, Query(description="The GraphQL document (a query).")] = None,
    variables: Annotated[str | None, Query(description="Variables as a JSON object.")] = None,
    operation_name: Annotated[
        str | None,
        Query(alias="operationName", description="Which operation of the document to run."),
    ] = None,
) -> Response:
    """Run a query given in the query string. Responses carry `ETag` and `Cache-Control`,
    so CDNs and browsers can cache them (`X-Preview` responses are private). A browser
    (Accept: text/html) gets GraphiQL instead; `?query=` there runs the query on load."""
    if _wants_html(request):
        root_path = str(request.scope.get("root_path", "")).rstrip("/")
        return HTMLResponse(
            _graphiql_page(root_path),
            # GET /graphql answers JSON or this page by `Accept`.
            headers={
                "Cache-Control": "no-cache",
                **DOCS_HEADERS,
                "Vary": VARY,
            },
        )
    for name in ("query", "variables", "operationName"):
        if len(request.query_params.getlist(name)) > 1:
            # Which one would run is a guess (the last, as the framework reads it): refused,
            # as REST reads refuse a parameter given twice.
            return _malformed(request, f"`{name}` is given more than once.")
    parsed_variables, problem = _variables(variables)
    if problem:
        return _malformed(request, problem)
    params = GraphQLParams(
        query=query, variables=parsed_variables, operation_name=operation_name or None
    )
    return _run(request, params, "GET")


@router.post(
    "/graphql",
    summary="GraphQL request over POST",
    response_model=None,
    responses={
        **_RESPONSES,
        413: {"description": "The body is too large.", "content": _PROBLEM},
        415: {"description": "The body is not application/json.", "content": _GRAPHQL_CONTENT},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                JSON: {
                    "schema": {
                        "type": "object",
                        "required": ["query"],
                        "properties": {
                            "query": {"type": "string", "description": "The GraphQL document."},
                            "variables": {"type": ["object", "null"]},
                            "operationName": {"type": ["string", "null"]},
                            "extensions": {"type": ["object", "null"]},
                        },
                    }
                }
            },
        }
    },
)
async def graphql_post(request: Request) -> Response:
    """Run a GraphQL request `{"query", "variables", "operationName"}` sent as JSON.
    POST responses are never cached (`Cache-Control: no-store`)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    if content_type == "application/graphql":
        params = GraphQLParams(query=body.decode("utf-8", "replace"))
    elif content_type in ("application/json", ""):
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return _malformed(request, "The request body is not valid JSON.")
        if not isinstance(payload, dict):
            return _malformed(request, "The request body must be a JSON object.")
        variables, problem = _variables(payload.get("variables"))
        operation_name = payload.get("operationName")
        if not problem and not isinstance(operation_name, str | None):
            problem = "`operationName` must be a string."
        if not problem and not isinstance(payload.get("extensions"), dict | None):
            # GraphQL over HTTP: `extensions`, if given, is a map (none is read here).
            problem = "`extensions` must be a JSON object."
        if problem:
            return _malformed(request, problem)
        params = GraphQLParams(payload.get("query"), variables, operation_name or None)
    else:
        return _malformed(request, "Send the request as application/json.", status=415)
    return await run_in_threadpool(_run, request, params, "POST")
