"""RFC 9457 problem details: the one shape every error response has.

Routers raise `AppError` subclasses; `install_error_handlers` renders those, FastAPI's
and Starlette's own errors (unknown route, wrong method, validation), database outages
and anything unexpected as `application/problem+json`, so no client ever sees an HTML
or plain-text error page.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ConfigDict, Field
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from app.content.cursors import InvalidToken
from app.content.errors import QueryError, WriteError
from app.db import database_message
from app.http.request_id import current_request_id
from app.schemas import Schema

logger = logging.getLogger("app.http.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://dossier.dev/problems/"
DB_RETRY_AFTER_SECONDS = 2

# Request parameters whose validation errors are the client's malformed request (400);
# errors in a JSON body are semantic (422).
_PARAMETER_LOCATIONS = frozenset({"query", "path", "header", "cookie"})

Loc = list[str | int]


class ProblemError(Schema):
    """One invalid input: where it is and what is wrong with it."""

    loc: Loc = Field(description='Path to the input, e.g. ["query", "limit"].')
    msg: str


class Problem(Schema):
    """An RFC 9457 problem details object."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "type": "https://dossier.dev/problems/not-found",
                "title": "Not Found",
                "status": 404,
                "detail": "No event with id or slug 'nope' in events.",
            }
        }
    )

    type: str = Field(description="URI identifying the problem type.")
    title: str = Field(description="Short, human-readable summary of the problem type.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="Explanation specific to this occurrence.")
    errors: list[ProblemError] | None = Field(
        default=None, description="Invalid inputs (validation problems only)."
    )


class AppError(Exception):
    """An error with an HTTP meaning. Subclasses fix `status`, `title` and the type slug."""

    status: int = 500
    title: str = "Internal Server Error"
    slug: ClassVar[str] = "internal"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Sequence[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        status: int | None = None,
        title: str | None = None,
        type: str | None = None,
    ) -> None:
        cls = self.__class__  # the parameter `type` (RFC 9457's name) shadows the builtin
        self.status = status if status is not None else cls.status
        self.title = title or cls.title
        self.detail = detail or self.title
        self.type = type or PROBLEM_TYPE_BASE + cls.slug
        self.errors: list[dict[str, Any]] | None = (
            [{"loc": _as_loc(e.get("loc", ())), "msg": str(e.get("msg", ""))} for e in errors]
            if errors is not None
            else None
        )
        self.headers: dict[str, str] = dict(headers or {})
        super().__init__(self.detail)


class MovedPermanently(AppError):
    """A resource at another URL for good (`Location`): a feed whose subject was renamed."""

    status = 301
    title = "Moved Permanently"
    slug = "moved-permanently"


class BadRequest(AppError):
    status = 400
    title = "Bad Request"
    slug = "bad-request"


class Unauthorized(AppError):
    status = 401
    title = "Unauthorized"
    slug = "unauthorized"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.headers.setdefault("WWW-Authenticate", "Bearer")


class Forbidden(AppError):
    status = 403
    title = "Forbidden"
    slug = "forbidden"


class NotFound(AppError):
    status = 404
    title = "Not Found"
    slug = "not-found"


def no_item(type_name: str, collection: str, id_or_slug: str) -> str:
    """The detail of the 404 for an item no one may see under `id_or_slug`, said the same
    by reads, writes, feeds and citations (the key cut at 200 characters)."""
    return f"No {type_name} with id or slug '{id_or_slug[:200]}' in {collection}."


class MethodNotAllowed(AppError):
    status = 405
    title = "Method Not Allowed"
    slug = "method-not-allowed"


class Conflict(AppError):
    status = 409
    title = "Conflict"
    slug = "conflict"


class PreconditionFailed(AppError):
    status = 412
    title = "Precondition Failed"
    slug = "precondition-failed"


class PayloadTooLarge(AppError):
    status = 413
    title = "Content Too Large"
    slug = "payload-too-large"


class UnsupportedMediaType(AppError):
    status = 415
    title = "Unsupported Media Type"
    slug = "unsupported-media-type"


class Unprocessable(AppError):
    status = 422
    title = "Unprocessable Content"
    slug = "validation"


class TooManyRequests(AppError):
    status = 429
    title = "Too Many Requests"
    slug = "rate-limited"

    def __init__(self, detail: str | None = None, *, retry_after: int = 60, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.headers.setdefault("Retry-After", str(retry_after))


class ServiceUnavailable(AppError):
    status = 503
    title = "Service Unavailable"
    slug = "unavailable"

    def __init__(
        self, detail: str | None = None, *, retry_after: int = DB_RETRY_AFTER_SECONDS, **kwargs: Any
    ) -> None:
        super().__init__(detail, **kwargs)
        self.headers.setdefault("Retry-After", str(retry_after))


class InternalError(AppError):
    """Only ever built by the catch-all handler; routers never raise it."""


_BY_STATUS: dict[int, type[AppError]] = {
    cls.status: cls
    for cls in (
        MovedPermanently,
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        Conflict,
        PreconditionFailed,
        PayloadTooLarge,
        UnsupportedMediaType,
        Unprocessable,
        TooManyRequests,
        ServiceUnavailable,
        InternalError,
    )
}


def _as_loc(loc: Any) -> Loc:
    if isinstance(loc, str):
        return [loc]
    return [part if isinstance(part, int) else str(part) for part in loc]


def problem_response(error: AppError) -> Response:
    """Render an `AppError` as `application/problem+json`, never to be stored: without a
    `Cache-Control`, a 404 is cacheable by default (RFC 9111 §4.2.2), so a CDN kept "not
    found" for a scheduled item past its time, out of reach of every purge (no
    `Surrogate-Key`)."""
    body: dict[str, Any] = {
        "type": error.type,
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
    }
    if error.errors is not None:
        body["errors"] = error.errors
    return Response(
        orjson.dumps(body),
        status_code=error.status,
        headers={"Cache-Control": "no-store", **error.headers},
        media_type=PROBLEM_MEDIA_TYPE,
    )


def from_status(
    status: int, detail: str | None = None, headers: Mapping[str, str] | None = None
) -> AppError:
    """The `AppError` for an arbitrary HTTP status (used for Starlette's own errors)."""
    cls = _BY_STATUS.get(status)
    if cls is not None:
        return cls(detail, headers=headers, status=status)
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    # RFC 9457 §4.2.1: "about:blank" when the status code says all there is to say.
    return AppError(detail, headers=headers, status=status, title=phrase, type="about:blank")


def _psycopg() -> Any:
    """psycopg, if this process loaded it. Its errors can only come from a PostgreSQL
    connection, which loads it: a server on SQLite never pays for importing it."""
    return sys.modules.get("psycopg")


def exceeds_database_limit(exc: BaseException) -> bool:
    """A PostgreSQL "program limit exceeded" (SQLSTATE class 54: a tsvector over 1 MB, a
    statement too complex): the request asked too much; a retry cannot help."""
    sqlstate = getattr(getattr(exc, "orig", exc), "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith("54")


# PostgreSQL's undefined table and undefined column: a database this release has not
# migrated (recreated or restored under running servers, or rolled back), which `/readyz`
# reports; SQLite's "no such table" is an OperationalError already.
_NOT_MIGRATED = frozenset({"42P01", "42703"})


def not_migrated(exc: BaseException) -> bool:
    """PostgreSQL said a table or column this release reads does not exist."""
    return getattr(getattr(exc, "orig", exc), "sqlstate", None) in _NOT_MIGRATED


def is_database_unavailable(exc: BaseException) -> bool:
    """True for errors that mean "the database cannot be used right now": unreachable, or
    not at this release's schema (until `dossier migrate`)."""
    if exceeds_database_limit(exc):  # psycopg files these under OperationalError too
        return False
    if not_migrated(exc):
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError):
        return True
    psycopg = _psycopg()
    if psycopg is not None and isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return True
    return "database is locked" in str(exc)


def validation_problem(exc: RequestValidationError) -> AppError:
    """Parameter errors and undecodable bodies are 400; errors in a JSON body are 422."""
    errors = [
        {
            "loc": _as_loc(err.get("loc", ())),
            "msg": str(err.get("msg", "")),
            "type": err.get("type"),
        }
        for err in exc.errors()
    ]
    malformed = any(
        (err["loc"] and err["loc"][0] in _PARAMETER_LOCATIONS) or err["type"] == "json_invalid"
        for err in errors
    )
    if malformed:
        return BadRequest("The request has invalid parameters.", errors=errors)
    return Unprocessable("The request body is invalid.", errors=errors)


def to_app_error(exc: BaseException) -> AppError:
    """Map any exception to the problem a client should see."""
    if isinstance(exc, AppError):
        return exc
    if isinstance(exc, StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else None
        return from_status(exc.status_code, detail, exc.headers)
    if isinstance(exc, RequestValidationError):
        return validation_problem(exc)
    if isinstance(exc, QueryError):
        return BadRequest(
            exc.message, errors=[{"loc": ["query", exc.parameter], "msg": exc.message}]
        )
    if isinstance(exc, WriteError):
        cls = _BY_STATUS.get(exc.status, AppError)
        errors = exc.errors if exc.errors or exc.status == 422 else None
        return cls(exc.detail, status=exc.status, title=exc.title, errors=errors)
    if isinstance(exc, InvalidToken):
        return BadRequest(str(exc) or "Malformed or foreign token.")
    psycopg = _psycopg()
    if psycopg is not None and isinstance(getattr(exc, "orig", None), psycopg.errors.QueryCanceled):
        logger.warning("statement timeout (request id %s)", current_request_id())
        return ServiceUnavailable(
            "The query took longer than the database's statement timeout; retry shortly, "
            "or ask for less (a smaller `limit`, fewer `include`s, a shallower GraphQL query)."
        )
    if exceeds_database_limit(exc):
        return Unprocessable(
            "The request goes past a limit of the database; ask or send less.",
            errors=[{"loc": ["body"], "msg": database_message(exc)}],
        )
    if not_migrated(exc):
        # Logged as an error: a database behind this release (or a statement reading what
        # no migration made, a bug) is not an outage that passes by itself.
        logger.error(
            "the database lacks a table or column this release reads (request id %s): %s; "
            "is it migrated (`dossier migrate`, /readyz)?",
            current_request_id(),
            database_message(exc),
        )
        return ServiceUnavailable(
            "The database is not at this release's schema; retry shortly (it is being "
            "migrated, or should be)."
        )
    if is_database_unavailable(exc):
        logger.warning("database unavailable: %s", exc.__class__.__name__, exc_info=exc)
        return ServiceUnavailable("The database is temporarily unavailable; retry shortly.")
    logger.error(
        "unhandled error (request id %s)",
        current_request_id(),
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    return InternalError("An unexpected error occurred.")


_METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> str | None:
    """Every method the request's path answers (RFC 9110 §15.5.6), for a routing 405.

    Starlette names the methods of the first route whose path matched only: a PUT to an
    item said `Allow: GET` although the item also takes PATCH and DELETE (another route)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        route_methods = getattr(route, "methods", None)
        if route_methods and route.matches(request.scope)[0] is not Match.NONE:
            methods |= set(route_methods)
    if not methods:
        return None
    order = {method: i for i, method in enumerate(_METHOD_ORDER)}
    return ", ".join(sorted(methods, key=lambda m: (order.get(m, len(order)), m)))


async def handle_error(request: Request, exc: Exception) -> Response:
    """The one exception handler: every error becomes problem+json."""
    error = to_app_error(exc)
    if error.status == 405 and isinstance(exc, StarletteHTTPException):
        allow = allowed_methods(request)
        if allow:
            error.headers["Allow"] = allow
    if error.status in (204, 304):  # no body allowed (e.g. a raised 304 Not Modified)
        return Response(status_code=error.status, headers=error.headers)
    return problem_response(error)


def install_error_handlers(app: FastAPI) -> None:
    for exc_class in (
        AppError,
        StarletteHTTPException,
        RequestValidationError,
        QueryError,
        WriteError,
        InvalidToken,
        sa_exc.DBAPIError,
        sa_exc.TimeoutError,
        # Anything else: Starlette's ServerErrorMiddleware uses this one, so even an
        # error raised outside the routes is problem+json (see also CatchAllMiddleware).
        Exception,
    ):
        app.add_exception_handler(exc_class, handle_error)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route or router: document its error statuses as problem+json."""
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        cls = _BY_STATUS.get(status)
        description = cls.title if cls else HTTPStatus(status).phrase
        responses[status] = {
            "description": description,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    return responses


def problem_example(status: int, detail: str) -> dict[str, Any]:
    """A problem of this status as the app sends it, for the OpenAPI document."""
    cls = _BY_STATUS[status]
    return {
        "type": PROBLEM_TYPE_BASE + cls.slug,
        "title": cls.title,
        "status": status,
        "detail": detail,
    }


def problem_schemas() -> dict[str, Any]:
    """JSON schemas of `Problem` and `ProblemError`, for `components.schemas`."""
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    return {"Problem": schema, **defs}
