"""`GET /api/v1/changes`: the change log partners use to mirror content, deletions included."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from app.content.errors import QueryError
from app.content.queries import changes
from app.content.types import ALL_TYPES
from app.http.caching import max_age_until
from app.http.deps import SessionDep, SettingsDep
from app.http.errors import problem_responses
from app.http.viewer import ViewerDep
from app.rest import params as p
from app.rest.envelope import list_response
from app.rest.schemas import ChangeList

router = APIRouter(tags=["changes"])

SINCE = p.QueryParam(
    "since",
    "`meta.next_since` of an earlier response: only changes after it. Omit it to start "
    "from the beginning. A malformed token is 400.",
    {"type": "string"},
)
# `cursor`: what `meta.next_cursor` says to send, as on every list; the same token as
# `since` (at most one of the two).
CURSOR = p.QueryParam(
    "cursor",
    "`meta.next_cursor` of the previous page: the same token as `since`, for clients that "
    "page every list alike. Give `since` or `cursor`, not both (400).",
    {"type": "string"},
)
CHANGE_PARAMS = [SINCE, CURSOR, p.LIMIT, p.PREVIEW]
ALL_COLLECTIONS = [t.collection for t in ALL_TYPES]


@router.get(
    "/api/v1/changes",
    summary="Change log",
    operation_id="list_changes",
    response_model=ChangeList,
    responses={304: {"description": "Not Modified."}, **problem_responses(400, 401, 403)},
    dependencies=[Depends(p.StrictQuery(CHANGE_PARAMS))],
)
@p.naming_parameters
def list_changes(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    since: Annotated[str | None, SINCE.query, SINCE.json_schema] = None,
    cursor: Annotated[str | None, CURSOR.query, CURSOR.json_schema] = None,
    limit: Annotated[str | None, p.LIMIT.query, p.LIMIT.json_schema] = None,
    preview: Annotated[str | None, p.PREVIEW.query, p.PREVIEW.json_schema] = None,
) -> Response:
    """Created, updated and deleted items in the order they changed, each
    `{action, type, id, slug, updated_at}`. Store `meta.next_since` and ask again with it
    to get only what changed since; asking with the last token returns nothing new. An item
    that stops being public (deleted, unpublished) appears as `deleted`; drafts never
    appear, except to a `content:preview` key with `preview=true`. `meta.next_cursor` (and `links.next`) are set while more changes wait.

    A change is listed once it is a few seconds old (`CHANGES_SETTLE`, 5 s by default): a
    write stamps its time just before it commits, and a token must never move past a
    change that is not visible yet. `meta.total` counts those waiting changes too."""
    page_size = p.parse_limit(limit)
    if since and cursor:
        raise QueryError("cursor", "give `since` or `cursor` (the same token), not both")
    given = "cursor" if cursor and not since else "since"  # the parameter a 400 names
    since = since or cursor
    settle = timedelta(seconds=settings.changes_settle)
    try:
        page = changes(session, since or None, page_size, viewer, settings.secret_key, settle)
    except QueryError as exc:
        if exc.parameter == "since" and given == "cursor":
            raise QueryError("cursor", exc.message) from None
        raise
    data = [
        {
            "action": change.action,
            "type": change.ctype.name,
            "id": change.ctype.public_id(change.entity_id),
            "slug": change.slug,
            "updated_at": change.at,
        }
        for change in page.items
    ]
    return list_response(
        request,
        settings,
        viewer,
        data,
        next_cursor=page.next_since if page.has_more else None,
        total=page.total,
        keys=ALL_COLLECTIONS,
        cursor_params=("since", "cursor"),  # `cursor`: the same token (see CURSOR)
        meta={"next_since": page.next_since},
        max_age=max_age_until(page.settles_at, viewer.now, settings.cache_max_age),
    )
