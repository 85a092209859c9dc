"""`GET /api/v1/topics/{slug}/stream`: the topic page, every content type newest first.

It takes the query parameters of a list (API.md: "all lists and the topic stream"):
`limit`, `cursor`, `sort` (`published_at`), `topic`, `q`, `updated_since`, `include` and
`fields`. A relation path or a field is accepted when one of the stream's types has it,
and applies to the items of the types that have it.
"""

from __future__ import annotations

import inspect
from typing import Any, cast

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from app.config import Settings
from app.content.errors import QueryError
from app.content.queries import STREAM_SORTS, ListParams, get_topic, topic_stream
from app.content.relations import RELATIONS
from app.content.render import IncludeTree, field_names, parse_include
from app.content.types import STREAM_TYPES, TOPIC, ContentType
from app.content.visibility import Viewer
from app.http.caching import max_age_until
from app.http.errors import NotFound, no_item, problem_responses
from app.rest import params as p
from app.rest.collections import FIXED
from app.rest.envelope import list_response, renderer
from app.rest.schemas import StreamList

router = APIRouter(tags=["topics"])

STREAM_KEYS = [t.collection for t in STREAM_TYPES]
# Every type's relations and fields, each once, in the types' order.
_RELATIONS = tuple(dict.fromkeys(r for t in STREAM_TYPES for r in RELATIONS[t.name]))
_FIELDS = tuple(dict.fromkeys(["type", *(f for t in STREAM_TYPES for f in field_names(t))]))

STREAM_PARAMS = [
    p.LIMIT,
    p.CURSOR,
    p.QueryParam(
        "sort",
        "`published_at` (oldest first) or `-published_at` (newest first, the default). "
        "Ties are broken by type and id, so pagination is stable.",
        {"type": "string", "enum": [v for n in STREAM_SORTS for v in ("-" + n, n)]},
    ),
    p.QueryParam(
        "topic",
        "Only items also tagged with this topic (slug); repeat the parameter to match "
        "any of several.",
        p.TOPIC.schema,
        repeatable=True,
    ),
    p.QueryParam(
        "q",
        "Full-text search over the items' text fields (all words must match).",
        {"type": "string"},
    ),
    p.UPDATED_SINCE,
    p.QueryParam(
        "include",
        "Comma-separated relation paths to embed as full objects, dotted for depth (at "
        "most `INCLUDE_MAX_DEPTH` relations deep, 3 by default). Stream items carry no "
        "relations unless asked: a path applies to the items whose type has its first "
        f"relation. Relations: {', '.join(_RELATIONS)}. Unknown paths: 400.",
        {"type": "string"},
    ),
    p.QueryParam(
        "fields",
        "Comma-separated top-level fields to return (`id` and `type` are always "
        "returned); a relation named here comes as compact references. A field applies to "
        f"the items whose type has it. Fields: {', '.join(_FIELDS)}. Unknown fields: 400.",
        {"type": "string"},
    ),
    p.PREVIEW,
]


def _include_by_type(raw: str | None, max_depth: int) -> dict[str, IncludeTree]:
    """Each stream type's include tree: the paths whose first relation it has."""
    paths = [path.strip() for path in (raw or "").split(",") if path.strip()]
    trees: dict[str, IncludeTree] = {t.name: {} for t in STREAM_TYPES}
    for path in paths:
        first = path.split(".", 1)[0]
        owners = [t for t in STREAM_TYPES if first in RELATIONS[t.name]]
        if not owners:
            raise QueryError(
                "include", f"unknown path '{path}': stream relations are {', '.join(_RELATIONS)}"
            )
        for ctype in owners:
            for name, subtree in parse_include(ctype, path, max_depth).items():
                _merge(trees[ctype.name].setdefault(name, {}), subtree)
    return trees


def _merge(into: IncludeTree, tree: IncludeTree) -> None:
    for name, subtree in tree.items():
        _merge(into.setdefault(name, {}), subtree)


def _fields_of(
    ctype: ContentType, wanted: set[str] | None, include: IncludeTree
) -> set[str] | None:
    """The top-level fields to render of one type's items: its flat fields (or those of
    them asked for), and the relations named in `fields` or `include`. None: all."""
    relations = set(RELATIONS[ctype.name])
    own = set(field_names(ctype)) - relations
    if wanted is None and not include:
        return None  # the flat object, rendered without relations below
    chosen = own if wanted is None else own & wanted
    return {"id", *chosen, *(relations & (wanted or set())), *include}


@p.naming_parameters
def stream_page(
    request: Request,
    session: Session,
    settings: Settings,
    viewer: Viewer,
    slug: str,
    **query: Any,
) -> Response:
    page_size = p.parse_limit(query.get("limit"))
    params = ListParams(
        sort=query.get("sort") or None,
        topics=p.parse_topics(query.get("topic")),
        q=(query.get("q") or "").strip() or None,
        updated_since=p.parse_since("updated_since", query.get("updated_since")),
    )
    include = _include_by_type(query.get("include"), settings.include_max_depth)
    wanted = p.parse_fields(query.get("fields"), _FIELDS, ())
    topic = get_topic(session, slug, viewer) if "\x00" not in slug and len(slug) <= 200 else None
    if topic is None:
        raise NotFound(no_item(TOPIC.name, TOPIC.collection, slug))
    page = topic_stream(
        session,
        topic,
        viewer,
        page_size,
        query.get("cursor") or None,
        settings.secret_key,
        params=params,
    )
    render = renderer(session, viewer, request)
    # Render each type's items together (their relations load once per type), then put
    # them back in the stream's order.
    by_type: dict[str, list[int]] = {}
    for index, (ctype, _row) in enumerate(page.items):
        by_type.setdefault(ctype.name, []).append(index)
    data: list[dict[str, Any]] = [{} for _ in page.items]
    for indexes in by_type.values():
        ctype = page.items[indexes[0]][0]
        rows = [page.items[i][1] for i in indexes]
        fields = _fields_of(ctype, wanted, include[ctype.name])
        if fields is None:
            rendered = render.flat(ctype, rows)
        else:
            rendered = render.render(ctype, rows, include[ctype.name], fields)
        for i, item in zip(indexes, rendered, strict=True):
            data[i] = {"type": ctype.name, **item}
    return list_response(
        request,
        settings,
        viewer,
        data,
        next_cursor=page.next_cursor,
        total=page.total,
        keys=[
            TOPIC.public_id(cast(int, topic.id)),
            *STREAM_KEYS,
            *page.collections,
            *sorted(render.watched),
        ],
        ids=render.rendered,
        max_age=max_age_until(page.changes_at(), viewer.now, settings.cache_max_age),
    )


def get_stream(**kwargs: Any) -> Response:
    """Everything public tagged with the topic — articles, events, publications and
    quotes — newest `published_at` first, in the list envelope. Each item is the item's
    flat object (no relations unless `include` or `fields` names them) plus `"type"`.
    `slug` may also be the topic's id. 404 for an unknown topic."""
    return stream_page(**kwargs, **p.read(kwargs["request"], STREAM_PARAMS))


get_stream.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [*FIXED, p.keyword_only("slug", str)]
)
router.add_api_route(
    "/api/v1/topics/{slug}/stream",
    get_stream,
    methods=["GET"],
    summary="A topic's stream",
    operation_id="get_topic_stream",
    response_model=StreamList,
    responses={304: {"description": "Not Modified."}, **problem_responses(400, 401, 403, 404)},
    dependencies=[Depends(p.StrictQuery(STREAM_PARAMS))],
    openapi_extra=p.documented(STREAM_PARAMS),
)
