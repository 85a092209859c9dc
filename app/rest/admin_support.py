"""What the write routes share: strict JSON bodies, write locks, ETags and item rendering.

Order matters in a write request and the routes keep it: authenticate (its own short
transaction), read and parse the body (no lock held while a slow client uploads), then
take the write lock, change, render, commit.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.content.types import ContentType
from app.content.visibility import Viewer, is_visible
from app.content.writes import lock_writers, nests_too_deep, too_deep
from app.http.caching import (
    ANY_TAG,
    PRIVATE,
    etag_for,
    field_lines,
    item_version_of,
    json_body,
    parse_if_match,
)
from app.http.caching import item_etag as caching_item_etag
from app.http.errors import (
    BadRequest,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    UnsupportedMediaType,
    no_item,
)
from app.http.responses import ORJSONResponse
from app.rest.envelope import renderer

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
WRITE_HEADERS = {"Cache-Control": PRIVATE}
EDITOR = Viewer(preview=True)


def _media_type(request: Request) -> tuple[str, dict[str, str]]:
    raw = request.headers.get("content-type", "")
    media, *params = raw.split(";")
    parsed = {}
    for param in params:
        key, _, value = param.partition("=")
        parsed[key.strip().lower()] = value.strip().strip('"').lower()
    return media.strip().lower(), parsed


async def read_json(request: Request, accepted: tuple[str, ...]) -> Any:
    """The request body as JSON: 415 for another media type, 413 past the size limit
    (declared or actually sent), 400 when it is not JSON."""
    media, params = _media_type(request)
    if media not in accepted:
        sent = f"'{media}'" if media else "no Content-Type"
        raise UnsupportedMediaType(f"Send the body as {' or '.join(accepted)} (got {sent}).")
    if params.get("charset", "utf-8") not in ("utf-8", "utf8"):
        raise UnsupportedMediaType("JSON bodies must be UTF-8.")
    coding = request.headers.get("content-encoding", "identity").strip().lower()
    if coding not in ("", "identity"):
        # A gzipped body was read as JSON ("not valid JSON"), and a plain one labelled
        # gzip taken: neither is what the client said (RFC 9110 §15.5.16).
        raise UnsupportedMediaType(
            f"Send the body uncompressed (got Content-Encoding '{coding[:40]}').",
            headers={"Accept-Encoding": "identity"},
        )
    limit: int = request.app.state.settings.max_body_bytes
    too_large = PayloadTooLarge(f"The request body is larger than {limit} bytes.")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:  # counted as it arrives: a chunked body declares no length
            raise too_large
        chunks.append(chunk)
    body = b"".join(chunks)
    if not body.strip():
        raise BadRequest("The request body is empty; send a JSON object.")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}.") from None
    if nests_too_deep(data):  # before a merge patch walks it
        raise too_deep()
    return data


async def post_body(request: Request) -> Any:
    return await read_json(request, (JSON,))


async def patch_body(request: Request) -> Any:
    return await read_json(request, (MERGE_PATCH, JSON))


def lock_for_write(session: Session) -> None:
    """Serialize writers: take the writers' lock (`lock_writers`) before reading, and
    before the write reads the clock for its `updated_at`.

    SQLite: a deferred transaction that reads and then writes fails ("database is
    locked") when another writer committed in between; `BEGIN IMMEDIATE` makes a second
    writer wait for the first and then read what it wrote. PostgreSQL: every content
    write's triggers update the one `content_version` row, so writers queued on its lock
    from their first statement on anyway; taking it first means a writer reads the clock
    only once the writer before it has committed. Commit order is then the order of
    `updated_at`, which the change log's readers rely on (`CHANGES_SETTLE`): a write can
    no longer commit after another with an earlier time because it waited for the lock.
    """
    lock_writers(session)


def find_for_update(session: Session, ctype: ContentType, id_or_slug: str) -> Any:
    """The (not deleted) item, locked until the transaction ends; 404 when absent."""
    model = ctype.model
    pk = ctype.parse_public_id(id_or_slug)
    key = model.id == pk if pk is not None else model.slug == id_or_slug
    row = session.scalars(
        select(model).where(key, model.deleted_at.is_(None)).with_for_update()  # type: ignore[union-attr, arg-type]
    ).first()
    if row is None:
        raise NotFound(no_item(ctype.name, ctype.collection, id_or_slug))
    return row


def render_item(
    request: Request, session: Session, ctype: ContentType, row: Any, viewer: Viewer
) -> dict[str, Any]:
    """The item exactly as `GET /api/v1/{collection}/{id}` returns it to this viewer
    (same renderer, so the same ETag)."""
    return renderer(session, viewer, request).render(ctype, [row])[0]


def item_etag(item: dict[str, Any], version: int) -> str:
    """The ETag a GET of the item with this body gives (`app.http.caching.item_etag`)."""
    return caching_item_etag(str(item["id"]), version, json_body(item))


def if_match_tags(request: Request) -> list[str] | None:
    """The tags of the request's `If-Match` (None without one); a malformed one is 400. Read
    before the write takes its lock: refusing it needs no database. Every field line is
    read, as the one list they are (RFC 9110 §5.3): the route's `If-Match` parameter,
    which documents the header, holds the first line alone: a write whose current ETag
    came on a second line was refused (412), and a malformed second line let through."""
    header = field_lines(request.headers, "if-match")
    if header is None:
        return None
    try:
        return parse_if_match(header)
    except ValueError as exc:
        raise BadRequest(
            f"The If-Match header is not valid ({exc}): send `*` or the ETags of the item "
            'as GET or a write gave them, in their double quotes (`If-Match: "evt_3.v2.…"`).'
        ) from None


def check_if_match(
    request: Request, tags: list[str] | None, session: Session, ctype: ContentType, row: Any
) -> None:
    """412 unless `If-Match` (`if_match_tags`) names the item's current version.

    An item's ETag names the item and its version (`app.http.caching.item_etag`), so the
    ETag of any representation of the current version matches: GET with or without
    `include` or `fields`, preview or public, or a write's response. `W/` is ignored: a
    gzipped response's ETag is the plain one marked weak (`gzip_variant_etag`), and both
    name the same version. A plain digest, as item ETags were before they named their
    version, still matches the bare item's current body.

    The check runs with the row locked, so the item cannot change between the check and
    the write.
    """
    if tags is None or ANY_TAG in tags:
        return
    current = (ctype.public_id(row.id), row.version)
    if any(item_version_of(tag) == current for tag in tags):
        return
    digests = {tag.removeprefix("W/") for tag in tags if item_version_of(tag) is None}
    if digests and _bare_digest_in(request, session, ctype, row, digests):
        return
    raise PreconditionFailed(
        f"The {ctype.name} has changed since the ETag you sent (or the ETag is not one of "
        "its own); GET it again and retry with the new ETag.",
    )


def _bare_digest_in(
    request: Request, session: Session, ctype: ContentType, row: Any, digests: set[str]
) -> bool:
    """Whether the digest of the bare item, as the editor or the public sees it now, is
    one of `digests` (ETags from before they named the item's version)."""
    if etag_for(json_body(render_item(request, session, ctype, row, EDITOR))) in digests:
        return True
    public = Viewer()
    return is_visible(row, public) and (
        etag_for(json_body(render_item(request, session, ctype, row, public))) in digests
    )


def item_response(
    item: dict[str, Any], version: int, status_code: int, headers: dict[str, str] | None = None
) -> ORJSONResponse:
    body_headers = {**WRITE_HEADERS, "ETag": item_etag(item, version), **(headers or {})}
    return ORJSONResponse(item, status_code=status_code, headers=body_headers)
