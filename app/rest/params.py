"""Query parameters of the read endpoints: declared once, documented exactly, parsed strictly.

Every parameter is a plain string (or a list of strings for repeatable ones) whose OpenAPI
schema is written here by hand, so Swagger shows the real types and enums while the parsing
— and every 400 message — stays in one place: these functions and the query layer's own
(`Filter.parse`, `parse_include`, `check_limit`, cursors). The collections' routes read
their parameters with `read` and document them with `documented`; the few other read routes
declare theirs to FastAPI (`QueryParam.query` and `QueryParam.json_schema`).
"""

from __future__ import annotations

import functools
import inspect
import keyword
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Query, Request
from pydantic import WithJsonSchema

from app.content.errors import QueryError
from app.content.filters import Filter, parse_datetime
from app.content.queries import MAX_LIMIT, MAX_TOPICS
from app.content.types import ContentType, text_sorts_note
from app.http.errors import BadRequest

Handler = Callable[..., Any]
DEFAULT_LIMIT = 20
MAX_VALUE_LENGTH = 2000
# Accepted by every read endpoint: it is read by the viewer dependency, not the handler.
ALWAYS_ALLOWED = frozenset({"preview"})


def identifier(name: str) -> str:
    """The Python keyword argument FastAPI passes a parameter as (`from` → `from_`)."""
    return name + "_" if keyword.iskeyword(name) else name


@dataclass(frozen=True)
class QueryParam:
    """One documented query parameter: its name in the URL and its OpenAPI schema."""

    name: str
    description: str
    schema: dict[str, Any]
    repeatable: bool = False
    required: bool = False

    @property
    def identifier(self) -> str:
        return identifier(self.name)

    @property
    def query(self) -> Any:
        """FastAPI's `Query(...)` for this parameter (name and description)."""
        alias = self.name if self.identifier != self.name else None
        return Query(alias=alias, description=self.description)

    @property
    def json_schema(self) -> WithJsonSchema:
        """The schema OpenAPI shows: the real type, although FastAPI passes a string."""
        return WithJsonSchema(self.schema)


def read(request: Request, params: Iterable[QueryParam]) -> dict[str, Any]:
    """The parameters' values by identifier, as FastAPI passes declared ones: the string
    given (the last, if repeated), a list for a repeatable parameter, None when absent.

    For routes that declare their parameters with `documented` instead of in their
    signature: FastAPI validates every declared parameter on every request (a pydantic
    validation each, ~16 on a list route, only to confirm a string is a string) and builds
    a validator for each when the route is made (~150 for the collections' routes). A
    required parameter stays declared, where FastAPI refuses a request without it.
    """
    query = request.query_params
    return {
        param.identifier: (query.getlist(param.name) or None)
        if param.repeatable
        else query.get(param.name)
        for param in params
    }


def documented(params: Iterable[QueryParam]) -> dict[str, Any]:
    """`openapi_extra` documenting `params` exactly as FastAPI documents declared ones."""
    params = list(params)
    required = [param.name for param in params if param.required]
    if required:  # `read` would pass None for a missing one
        raise ValueError(f"declare required parameters to FastAPI: {required}")
    return {
        "parameters": [
            {
                "name": param.name,
                "in": "query",
                "required": False,  # a required one stays declared (see above)
                # As FastAPI shows a declared one: pydantic's title, no default (the
                # description says it).
                "schema": {
                    **{k: v for k, v in param.schema.items() if k != "default"},
                    "title": param.name.replace("_", " ").title(),
                },
                "description": param.description,
            }
            for param in params
        ]
    }


def keyword_only(name: str, annotation: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation)


# ---------------------------------------------------------------------------------------
# The shared parameters.

LIMIT = QueryParam(
    "limit",
    f"Items per page, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT}); outside that range: 400.",
    {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
)
CURSOR = QueryParam(
    "cursor",
    "Opaque cursor from `meta.next_cursor` (or the `next` link) of the previous page. "
    "It only works with the same path and filters; a malformed or foreign one is 400.",
    {"type": "string"},
)
TOPIC = QueryParam(
    "topic",
    "Topic slug; repeat the parameter to match items tagged with any of several.",
    {"type": "array", "items": {"type": "string"}, "maxItems": MAX_TOPICS},
    repeatable=True,
)
Q = QueryParam(
    "q",
    "Full-text search over the collection's text fields (all words must match).",
    {"type": "string"},
)
UPDATED_SINCE = QueryParam(
    "updated_since",
    "Only items updated at or after this ISO 8601 time (partner sync). No offset means UTC.",
    {"type": "string", "format": "date-time"},
)
PREVIEW = QueryParam(
    "preview",
    "`true` shows drafts and scheduled items too; needs an API key with the "
    "`content:preview` scope (`Authorization: Bearer <key>`). Responses are then "
    "`Cache-Control: private, no-store`.",
    {"type": "boolean", "default": False},
)


def include_param(ctype: ContentType, relations: Sequence[str]) -> QueryParam:
    names = ", ".join(f"`{r}`" for r in relations) or "none"
    return QueryParam(
        "include",
        f"Comma-separated relation paths to embed as full objects instead of compact "
        f"references, dotted for depth (at most `INCLUDE_MAX_DEPTH` relations deep, 3 by default), e.g. "
        f"`include=participants.person.affiliations`. {ctype.collection} relations: {names}. "
        "Unknown paths: 400.",
        {"type": "string"},
    )


def fields_param(ctype: ContentType, names: Sequence[str]) -> QueryParam:
    return QueryParam(
        "fields",
        "Comma-separated top-level fields to return (`id` is always returned); relations "
        "named in `include` are returned too. Unknown fields: 400. Fields of "
        f"{ctype.collection}: {', '.join(names)}.",
        {"type": "string"},
    )


def sort_param(ctype: ContentType, default: str) -> QueryParam:
    names = sorted(ctype.sorts)
    return QueryParam(
        "sort",
        f"Sort field; prefix `-` for descending. Default: {default}. "
        f"Ties are broken by id, so pagination is stable.{text_sorts_note(ctype)}",
        {"type": "string", "enum": [v for n in names for v in (n, "-" + n)]},
    )


_FILTER_SCHEMAS: dict[str, dict[str, Any]] = {
    "datetime": {"type": "string", "format": "date-time"},
    "bool": {"type": "boolean"},
    "int": {"type": "integer"},
    "slug": {"type": "string"},
}


def filter_param(spec: Filter) -> QueryParam:
    if spec.kind == "enum":
        schema: dict[str, Any] = {"type": "string", "enum": list(spec.choices)}
        description = spec.description or f"Only items whose {spec.name} is this value."
    else:
        schema = dict(_FILTER_SCHEMAS[spec.kind])
        description = spec.description or f"Filter on {spec.name}."
    return QueryParam(spec.name, description, schema)


# ---------------------------------------------------------------------------------------
# Parsing: each function raises QueryError (400, naming the parameter) on bad input.


def parse_limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    text = raw.strip()
    if not (text.isascii() and text.lstrip("-").isdigit()) or len(text) > 12:
        raise QueryError("limit", f"must be an integer between 1 and {MAX_LIMIT}")
    value = int(text)
    if not 1 <= value <= MAX_LIMIT:
        raise QueryError("limit", f"must be between 1 and {MAX_LIMIT}")
    return value


def parse_topics(values: list[str] | None) -> list[str]:
    topics = [v for v in (values or []) if v]
    if len(topics) > MAX_TOPICS:
        raise QueryError("topic", f"at most {MAX_TOPICS} topics")
    return topics


def parse_since(name: str, raw: str | None) -> datetime | None:
    return parse_datetime(name, raw) if raw else None


def parse_fields(
    raw: str | None, allowed: Sequence[str], include: Iterable[str]
) -> set[str] | None:
    """The set of top-level fields to render, or None for all of them."""
    if raw is None:
        return None
    names = [n.strip() for n in raw.split(",") if n.strip()]
    if not names:
        return None
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise QueryError(
            "fields",
            f"unknown field(s) {', '.join(repr(n) for n in unknown[:10])}; "
            f"fields are {', '.join(allowed)}",
        )
    return {"id", *names, *include}


def naming_parameters(handler: Handler) -> Handler:
    """Decorate a handler so a bad parameter's 400 names it in `detail` too
    ("Invalid 'limit': must be between 1 and 100"), not only in `errors[].loc`."""

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except QueryError as exc:
            raise BadRequest(
                f"Invalid '{exc.parameter}': {exc.message}",
                errors=[{"loc": ["query", exc.parameter], "msg": exc.message}],
            ) from None

    return wrapper


# ---------------------------------------------------------------------------------------
# Strictness: a typo must be a 400, not a silently unfiltered list.


class StrictQuery:
    """Route dependency: refuse unknown or repeated parameters and NUL characters.

    It runs before anything else on the route, so the client learns about a misspelt
    `evnet_type=` instead of receiving every event.
    """

    def __init__(
        self, params: Iterable[QueryParam], always: frozenset[str] = ALWAYS_ALLOWED
    ) -> None:
        params = list(params)
        self.allowed = frozenset(p.name for p in params) | always
        self.repeatable = frozenset(p.name for p in params if p.repeatable)

    async def __call__(self, request: Request) -> None:
        # `async`: it does no I/O, so it runs on the event loop, not in a worker thread.
        seen: set[str] = set()
        unknown: list[str] = []
        for name, value in request.query_params.multi_items():
            if "\x00" in name or "\x00" in value:
                raise BadRequest("Query parameters must not contain NUL characters.")
            if len(value) > MAX_VALUE_LENGTH:
                raise BadRequest(
                    f"Invalid '{name[:50]}': longer than {MAX_VALUE_LENGTH} characters.",
                    errors=[{"loc": ["query", name[:50]], "msg": "too long"}],
                )
            if name not in self.allowed:
                if name not in unknown:
                    unknown.append(name)
            elif name in seen and name not in self.repeatable:
                raise BadRequest(
                    f"Invalid '{name}': given more than once.",
                    errors=[{"loc": ["query", name], "msg": "given more than once"}],
                )
            seen.add(name)
        if unknown:
            shown = ", ".join(repr(n[:50]) for n in unknown[:10])
            allowed = ", ".join(sorted(self.allowed))
            accepts = f"accepts {allowed}" if allowed else "takes no query parameters"
            raise BadRequest(
                f"Unknown query parameter(s) {shown}; this endpoint {accepts}.",
                errors=[
                    {"loc": ["query", n[:50]], "msg": "unknown parameter"} for n in unknown[:10]
                ],
            )
