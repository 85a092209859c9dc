"""Editorial writes (`POST`, `PATCH`, `DELETE` on every collection) and the audit log.

Each write is one transaction: the write lock is taken, the item changed through
`app.content.writes` (validation, relations by slug, sanitizing, search index, audit
entry, version), rendered as the editor sees it, and committed — or, on any error,
rolled back whole. Subscribers (caches) hear of it only after the commit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import Enum
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from pydantic import Field
from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col
from starlette.responses import Response

from app.content.cursors import InvalidToken, decode_token, encode_token, row_id
from app.content.errors import QueryError
from app.content.events import notify_write
from app.content.queries import check_limit
from app.content.types import ALL_TYPES, BY_NAME, ContentType
from app.content.visibility import Viewer
from app.content.writes import create_item, delete_item, update_item, written_alongside
from app.db import database_message
from app.http.auth import REQUIRE_ADMIN, REQUIRE_WRITER, AdminDep, WriterDep
from app.http.caching import PRIVATE
from app.http.deps import SessionDep
from app.http.errors import Conflict, Unprocessable, problem_responses
from app.http.openapi import LAZY_REQUEST_BODIES, LAZY_RESPONSE_EXAMPLES
from app.http.responses import ORJSONResponse
from app.models import AuditEntry
from app.rest import admin_docs as docs
from app.rest import params as p
from app.rest.admin_support import (
    WRITE_HEADERS,
    check_if_match,
    find_for_update,
    if_match_tags,
    item_response,
    lock_for_write,
    patch_body,
    post_body,
    render_item,
)
from app.rest.envelope import page_links
from app.rest.schemas import ITEM_MODELS
from app.schemas import Schema

router = APIRouter(prefix="/api/v1")

EDITOR = Viewer(preview=True)
PostBody = Annotated[Any, Depends(post_body)]
PatchBody = Annotated[Any, Depends(patch_body)]
IdOrSlug = Annotated[str, Path(description="The item's id (`evt_12`) or slug.", max_length=200)]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description=(
            "Apply the write only if the item is still at the version one of these ETags "
            "names (else 412, nothing changed): the `ETag` of any `GET` of the item (with or "
            "without `include` or `fields`, preview or public) or of a write's response. An "
            "item's ETag names the item and its version, and every write to the item "
            "changes it. A weak `W/` tag, as gzipped responses carry, counts as its strong "
            "twin; `*` matches any version. A header that is neither `*` nor a list of "
            "quoted ETags is 400."
        ),
    ),
]


# A write takes no query parameters, and says so: `?dry_run=true` or `?preview=true` on a
# POST was ignored and the write made, where a read refuses a parameter it does not know.
# The key is checked first: a client with no key asking `?x=1` was told of the parameter
# (400), not that it may not write (401). (The same dependency as the routes' `WriterDep`,
# which FastAPI then runs once.)
NO_QUERY = [REQUIRE_WRITER, Depends(p.StrictQuery([], always=frozenset()))]


def _commit(session: Session, ctype: ContentType) -> None:
    try:
        session.commit()
    except sa_exc.IntegrityError:
        session.rollback()
        raise Conflict(f"The {ctype.name} conflicts with another write; retry.") from None


def _guarded(ctype: ContentType, write: Callable[[], Any]) -> Any:
    """Run a write, turning database-level refusals into the problems they mean."""
    try:
        return write()
    except sa_exc.IntegrityError:
        raise Conflict(f"The slug is taken by another {ctype.name}.") from None
    except sa_exc.DataError as exc:
        raise Unprocessable(
            "A value does not fit its field.",
            errors=[{"loc": ["body"], "msg": database_message(exc)}],
        ) from None


def _rendered(request: Request, session: Session, ctype: ContentType, row: Any) -> dict[str, Any]:
    """The written item as a GET will show it: values as stored (times in UTC), not as sent."""
    session.flush()
    session.refresh(row)
    return render_item(request, session, ctype, row, EDITOR)


def _create_route(ctype: ContentType) -> Callable[..., Response]:
    def create(
        request: Request, principal: WriterDep, body: PostBody, session: SessionDep
    ) -> Response:
        lock_for_write(session)
        row = _guarded(ctype, lambda: create_item(session, ctype.collection, body, principal.name))
        item = _rendered(request, session, ctype, row)
        _commit(session, ctype)
        notify_write(ctype, row)
        location = str(request.base_url).rstrip("/") + f"/api/v1/{ctype.collection}/{item['id']}"
        return item_response(item, row.version, 201, {"Location": location})

    create.__name__ = f"create_{ctype.name}"
    create.__doc__ = (
        f"Create {ctype.indefinite_name} (needs a `content:write` key).\n\n"
        "Relations are given by slug or id; an unknown one is 422 naming it. Rich text is "
        "sanitized and its plain text derived. Answers 201 with `Location`, the item as "
        "an editor sees it, and its `ETag`."
    )
    return create


def _update_route(ctype: ContentType) -> Callable[..., Response]:
    def update(
        request: Request,
        id_or_slug: IdOrSlug,
        principal: WriterDep,
        body: PatchBody,
        session: SessionDep,
        if_match: IfMatch = None,  # (documents the header; read whole by if_match_tags)
    ) -> Response:
        tags = if_match_tags(request)
        lock_for_write(session)
        row = find_for_update(session, ctype, id_or_slug)
        check_if_match(request, tags, session, ctype, row)
        version = row.version
        _guarded(ctype, lambda: update_item(session, ctype.collection, row, body, principal.name))
        item = _rendered(request, session, ctype, row)
        alongside = list(written_alongside(session))
        _commit(session, ctype)
        if row.version != version:
            notify_write(ctype, row)
        for other_type, other in alongside:  # an article's quotes that followed its body
            notify_write(other_type, other)
        return item_response(item, row.version, 200)

    update.__name__ = f"update_{ctype.name}"
    update.__doc__ = (
        f"Change {ctype.indefinite_name} with a JSON merge patch (needs a `content:write` key).\n\n"
        "Send only the fields to change (`null` clears one, except one that always has a "
        "value, such as `status`: 422; lists are replaced whole) as "
        "`application/merge-patch+json` or `application/json`. The result is validated "
        "like a new item. With `If-Match`, the write happens only if the item is still at "
        "the version that ETag names (else 412, nothing changed)."
    )
    return update


def _delete_route(ctype: ContentType) -> Callable[..., Response]:
    def delete(
        request: Request,
        id_or_slug: IdOrSlug,
        principal: WriterDep,
        session: SessionDep,
        if_match: IfMatch = None,  # (documents the header; read whole by if_match_tags)
    ) -> Response:
        tags = if_match_tags(request)
        lock_for_write(session)
        row = find_for_update(session, ctype, id_or_slug)
        check_if_match(request, tags, session, ctype, row)
        delete_item(session, ctype.collection, row, principal.name)
        _commit(session, ctype)
        notify_write(ctype, row)
        return Response(status_code=204, headers=WRITE_HEADERS)

    delete.__name__ = f"delete_{ctype.name}"
    delete.__doc__ = (
        f"Delete {ctype.indefinite_name} (needs a `content:write` key).\n\n"
        "The item leaves every public surface at once and appears as `deleted` in "
        "`/api/v1/changes`. Honours `If-Match` like PATCH."
    )
    return delete


def _add_routes(ctype: ContentType) -> None:
    collection = ctype.collection
    tags: list[str | Enum] = [collection]
    # Examples are set when the document is first built (`LAZY_RESPONSE_EXAMPLES`).
    item: dict[str, Any] = {"application/json": {}}
    etag = {"ETag": {"schema": {"type": "string"}, "description": "The item's new ETag."}}
    router.add_api_route(
        f"/{collection}",
        _create_route(ctype),
        methods=["POST"],
        dependencies=NO_QUERY,
        tags=tags,
        summary=f"Create {ctype.indefinite_name}",
        status_code=201,
        response_class=Response,
        responses={
            201: {
                "description": "Created.",
                "model": ITEM_MODELS[collection],
                "content": item,
                "headers": {
                    **etag,
                    "Location": {"schema": {"type": "string"}, "description": "The item's URL."},
                },
            },
            **docs.error_responses(ctype, docs.CREATE_ERRORS),
        },
    )
    LAZY_REQUEST_BODIES[(f"/api/v1/{collection}", "post")] = partial(
        docs.request_body, collection, patch=False
    )
    LAZY_RESPONSE_EXAMPLES[(f"/api/v1/{collection}", "post", "201")] = partial(
        docs.response_example, collection, created=True
    )
    router.add_api_route(
        f"/{collection}/{{id_or_slug}}",
        _update_route(ctype),
        methods=["PATCH"],
        dependencies=NO_QUERY,
        tags=tags,
        summary=f"Update {ctype.indefinite_name}",
        response_class=Response,
        responses={
            200: {
                "description": "The changed item.",
                "model": ITEM_MODELS[collection],
                "content": item,
                "headers": etag,
            },
            **docs.error_responses(ctype, docs.UPDATE_ERRORS),
        },
    )
    LAZY_REQUEST_BODIES[(f"/api/v1/{collection}/{{id_or_slug}}", "patch")] = partial(
        docs.request_body, collection, patch=True
    )
    LAZY_RESPONSE_EXAMPLES[(f"/api/v1/{collection}/{{id_or_slug}}", "patch", "200")] = partial(
        docs.response_example, collection, created=False
    )
    router.add_api_route(
        f"/{collection}/{{id_or_slug}}",
        _delete_route(ctype),
        methods=["DELETE"],
        dependencies=NO_QUERY,
        tags=tags,
        summary=f"Delete {ctype.indefinite_name}",
        status_code=204,
        response_class=Response,
        responses={
            204: {"description": "Deleted."},
            **docs.error_responses(ctype, docs.DELETE_ERRORS),
        },
    )


for _ctype in ALL_TYPES:
    _add_routes(_ctype)


# ---------------------------------------------------------------------------------------
# The audit log.


class AuditEntryOut(Schema):
    """One write: who (the API key's name), what and when."""

    id: str
    at: datetime
    actor: str = Field(description="Name of the API key (or `import`, `demo-loader`).")
    action: str = Field(description="`create`, `update` or `delete`.")
    type: str = Field(description="Singular content type, e.g. `event`.")
    entity_id: str = Field(description="Public id of the item written (`evt_3`).")
    slug: str
    changes: dict[str, Any] | None = Field(
        description="`document` (the new item) for a create, `fields` (changed names) for an update."
    )


class AuditMeta(Schema):
    next_cursor: str | None
    total: int


class AuditLinks(Schema):
    self: str
    next: str | None


class AuditPage(Schema):
    data: list[AuditEntryOut]
    meta: AuditMeta
    links: AuditLinks


def _audit_item(entry: AuditEntry) -> dict[str, Any]:
    ctype = BY_NAME.get(entry.entity_type)
    return {
        "id": str(entry.id),
        "at": entry.at,
        "actor": entry.actor,
        "action": entry.action,
        "type": entry.entity_type,
        "entity_id": ctype.public_id(entry.entity_id) if ctype else str(entry.entity_id),
        "slug": entry.slug,
        "changes": entry.changes,
    }


_AUDIT_EXAMPLE = {
    "data": [
        {
            "id": "42",
            "at": "2025-01-15T09:30:00+00:00",
            "actor": "newsroom",
            "action": "update",
            "type": "event",
            "entity_id": "evt_3",
            "slug": "sheryl-sandberg-screams-before-silence",
            "changes": {"fields": ["event_status", "updated_at"]},
        }
    ],
    "meta": {"next_cursor": "eyJzIjoiYXVkaXQ6...", "total": 118},
    "links": {
        "self": "http://127.0.0.1:8000/api/v1/audit?limit=1",
        "next": "http://127.0.0.1:8000/api/v1/audit?limit=1&cursor=eyJzIjoiYXVkaXQ6...",
    },
}


# The audit log's parameters, declared to FastAPI below; named here for `StrictQuery`, so a
# misspelt filter (`acter=`) is a 400 as on every other read, not the whole log unfiltered.
AUDIT_PARAMS = (
    p.LIMIT,
    p.CURSOR,
    p.QueryParam("type", "", {"type": "string"}),
    p.QueryParam("actor", "", {"type": "string"}),
)


@router.get(
    "/audit",
    tags=["audit"],
    summary="Audit log",
    response_class=Response,
    responses={
        200: {
            "description": "Audit entries, newest first.",
            "model": AuditPage,
            "content": docs.item_content(_AUDIT_EXAMPLE),
        },
        **problem_responses(400, 401, 403, 429),
    },
    # The key first, as writes check it (`NO_QUERY`).
    dependencies=[REQUIRE_ADMIN, Depends(p.StrictQuery(AUDIT_PARAMS))],
)
@p.naming_parameters
def audit_log(
    request: Request,
    principal: AdminDep,
    session: SessionDep,
    limit: Annotated[int, Query(description="Entries per page (1-100).")] = 20,
    cursor: Annotated[
        str | None, Query(description="`meta.next_cursor` of the previous page.")
    ] = None,
    type: Annotated[
        str | None, Query(description="Only entries about this type (`event`).")
    ] = None,
    actor: Annotated[
        str | None, Query(description="Only entries by this key name.", max_length=100)
    ] = None,
) -> Response:
    """Every write — who (the key's name), what and when — newest first (needs an `admin` key).

    Keyset-paginated like every list: follow `links.next` (or the `Link` header).
    """
    check_limit(limit)
    # An empty filter is no filter, as on the public lists (`?topic=`).
    type, actor = type or None, actor or None
    if type is not None and type not in BY_NAME:
        raise QueryError("type", f"unknown type '{type}'; use one of {', '.join(BY_NAME)}")
    conditions: list[Any] = []
    if type is not None:
        conditions.append(col(AuditEntry.entity_type) == type)
    if actor is not None:
        conditions.append(col(AuditEntry.actor) == actor)
    secret = request.app.state.settings.secret_key
    scope = f"audit:{type or ''}:{actor or ''}"
    stmt = select(AuditEntry).where(*conditions)
    if cursor:
        try:
            (last_id,) = decode_token(secret, scope, cursor, (row_id,))
        except (InvalidToken, ValueError) as exc:
            raise QueryError("cursor", str(exc)) from None
        stmt = stmt.where(col(AuditEntry.id) < last_id)
    entries = list(session.scalars(stmt.order_by(col(AuditEntry.id).desc()).limit(limit + 1)))
    next_cursor = None
    if len(entries) > limit:
        entries = entries[:limit]
        next_cursor = encode_token(secret, scope, [entries[-1].id])
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(*conditions)) or 0
    headers = {"Cache-Control": PRIVATE}
    self_url, next_url = page_links(request, next_cursor)
    if next_url:
        headers["Link"] = f'<{next_url}>; rel="next"'
    payload = {
        "data": [_audit_item(e) for e in entries],
        "meta": {"next_cursor": next_cursor, "total": total},
        "links": {"self": self_url, "next": next_url},
    }
    return ORJSONResponse(payload, headers=headers)


__all__ = ["router"]
