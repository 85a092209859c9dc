"""`GET /api/v1/topics/{slug}/stream`: the topic page, every content type newest first."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from app.content.queries import get_topic, topic_stream
from app.content.render import flat
from app.content.types import STREAM_TYPES, TOPIC
from app.http.deps import SessionDep, SettingsDep
from app.http.errors import NotFound, problem_responses
from app.http.viewer import ViewerDep
from app.rest import params as p
from app.rest.envelope import list_response
from app.rest.schemas import StreamList

router = APIRouter(tags=["topics"])

STREAM_PARAMS = [p.LIMIT, p.CURSOR, p.PREVIEW]
STREAM_KEYS = [t.collection for t in STREAM_TYPES]


@router.get(
    "/api/v1/topics/{slug}/stream",
    summary="A topic's stream",
    operation_id="get_topic_stream",
    response_model=StreamList,
    responses={304: {"description": "Not Modified."}, **problem_responses(400, 401, 403, 404)},
    dependencies=[Depends(p.StrictQuery(STREAM_PARAMS))],
)
@p.naming_parameters
def get_stream(
    request: Request,
    slug: str,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    limit: Annotated[str | None, p.LIMIT.query, p.LIMIT.json_schema] = None,
    cursor: Annotated[str | None, p.CURSOR.query, p.CURSOR.json_schema] = None,
    preview: Annotated[str | None, p.PREVIEW.query, p.PREVIEW.json_schema] = None,
) -> Response:
    """Everything public tagged with the topic — articles, events, publications and quotes —
    newest `published_at` first, in the list envelope. Each item is the item's flat object
    (no relations) plus `"type"`. `slug` may also be the topic's id. 404 for an unknown topic.
    """
    page_size = p.parse_limit(limit)
    topic = get_topic(session, slug, viewer) if "\x00" not in slug and len(slug) <= 200 else None
    if topic is None:
        raise NotFound(f"No topic with id or slug '{slug[:200]}' in topics.")
    page = topic_stream(session, topic, viewer, page_size, cursor or None, settings.secret_key)
    data = [{"type": ctype.name, **flat(ctype, row)} for ctype, row in page.items]
    return list_response(
        request,
        settings,
        viewer,
        data,
        next_cursor=page.next_cursor,
        total=page.total,
        keys=[TOPIC.public_id(cast(int, topic.id)), *STREAM_KEYS],
    )
