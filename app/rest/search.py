"""`GET /api/v1/search`: ranked full-text search across content types."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from app.content.cursors import encode_token
from app.content.errors import QueryError
from app.content.queries import get_items
from app.content.render import compact
from app.content.search import Hit, search, search_position
from app.content.types import ALL_TYPES, BY_NAME, ContentType
from app.content.visibility import Viewer
from app.http.deps import SessionDep, SettingsDep
from app.http.errors import problem_responses
from app.http.viewer import ViewerDep
from app.rest import params as p
from app.rest.envelope import list_response
from app.rest.schemas import SearchList

router = APIRouter(tags=["search"])

TYPE_NAMES = [t.name for t in ALL_TYPES]
SEARCH_Q = p.QueryParam(
    "q",
    "What to search for (all words must match, stemmed). Required.",
    {"type": "string", "minLength": 1},
    required=True,
)
SEARCH_TYPE = p.QueryParam(
    "type",
    "Comma-separated types to search (repeatable), default all: " + ", ".join(TYPE_NAMES) + ".",
    {"type": "string"},
    repeatable=True,
)
SEARCH_PARAMS = [SEARCH_Q, SEARCH_TYPE, p.LIMIT, p.CURSOR, p.PREVIEW]


def parse_types(values: list[str] | None) -> list[ContentType]:
    names = [n.strip() for v in values or [] for n in v.split(",") if n.strip()]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        shown = ", ".join(repr(n[:50]) for n in unknown[:10])
        raise QueryError("type", f"unknown type(s) {shown}; types are {', '.join(TYPE_NAMES)}")
    return [t for t in ALL_TYPES if t.name in names] if names else list(ALL_TYPES)


def _scope(q: str, types: list[ContentType], viewer: Viewer) -> str:
    blob = orjson.dumps([q, [t.name for t in types], viewer.preview])
    return "search:" + hashlib.sha256(blob).hexdigest()[:16]


def _after(cursor: str | None, scope: str, secret: str) -> tuple[float, str, int] | None:
    if not cursor:
        return None
    return search_position(secret, scope, cursor, "cursor")


def _results(session: Session, hits: list[Hit], viewer: Viewer) -> list[dict[str, Any]]:
    """Each hit's compact reference, its rows loaded in one query per type."""
    rows: dict[tuple[str, int], Any] = {}
    for ctype in {h.ctype.name: h.ctype for h in hits}.values():
        keys = [ctype.public_id(h.entity_id) for h in hits if h.ctype is ctype]
        for row in get_items(session, ctype, keys, viewer).values():
            if row is not None:
                rows[(ctype.name, row.id)] = row
    results = []
    for hit in hits:
        row = rows.get((hit.ctype.name, hit.entity_id))
        if row is not None:
            reference = compact(hit.ctype, row)
            if "title" not in reference and "name" not in reference:
                reference["title"] = reference.get("text")  # a quote: API.md's `title|name`
            results.append(
                {
                    "type": hit.ctype.name,
                    **reference,
                    "score": hit.score,
                    "snippet": hit.snippet,
                }
            )
    return results


@router.get(
    "/api/v1/search",
    summary="Search",
    operation_id="search",
    response_model=SearchList,
    responses={304: {"description": "Not Modified."}, **problem_responses(400, 401, 403)},
    dependencies=[Depends(p.StrictQuery(SEARCH_PARAMS))],
)
@p.naming_parameters
def search_content(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    q: Annotated[str, SEARCH_Q.query, SEARCH_Q.json_schema],
    type: Annotated[list[str] | None, SEARCH_TYPE.query, SEARCH_TYPE.json_schema] = None,
    limit: Annotated[str | None, p.LIMIT.query, p.LIMIT.json_schema] = None,
    cursor: Annotated[str | None, p.CURSOR.query, p.CURSOR.json_schema] = None,
    preview: Annotated[str | None, p.PREVIEW.query, p.PREVIEW.json_schema] = None,
) -> Response:
    """Ranked results across types, best first (scores never increase down the list), each
    `{type, id, slug, title|name|text, score, snippet}` with the matched words in
    `<mark>…</mark>` inside the HTML-escaped `snippet`. At most 2,000 matching
    documents are ranked and counted (`meta.total` is at most 2,000), so a word found in
    most documents stays fast. Missing or empty `q`, or an unknown `type`: 400."""
    if not q.strip():
        raise QueryError("q", "is required")
    types = parse_types(type)
    page_size = p.parse_limit(limit)
    scope = _scope(q, types, viewer)
    after = _after(cursor, scope, settings.secret_key)
    hits, total = search(session, q, types, viewer, page_size + 1, after)
    next_cursor = None
    if len(hits) > page_size:
        hits = hits[:page_size]
        last = hits[-1]
        next_cursor = encode_token(
            settings.secret_key, scope, [last.score, last.ctype.name, last.entity_id]
        )
    data = _results(session, hits, viewer)
    return list_response(
        request,
        settings,
        viewer,
        data,
        next_cursor=next_cursor,
        total=total,
        # Every collection, whatever `type` asks for: ranks depend on every document (SQLite's
        # bm25 reads the whole index's statistics), so any write may change these results
        # (as GraphQL's search says too).
        keys=[t.collection for t in ALL_TYPES],
    )
