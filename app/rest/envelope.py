"""The REST response shapes: the list envelope, `Link` headers, and cacheable JSON.

Every read endpoint answers through `list_response` or `item_response`, so ETag/304,
`Cache-Control`, `Surrogate-Key` and pagination links are the same everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import itemgetter
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from app.config import Settings
from app.content.render import Renderer
from app.content.types import ContentType
from app.content.visibility import Viewer
from app.feeds.links import feed_links
from app.feeds.urls import api_base
from app.http.caching import cacheable_response, collect_ids, is_private, json_body, surrogate_keys

JSON = "application/json"
FEED_KINDS = frozenset({"topic", "person"})


def renderer(session: Session, viewer: Viewer, request: Request) -> Renderer:
    """A Renderer whose topic and person objects carry their `feeds` links, wherever they
    appear: in lists, as the item itself, or embedded through `include`."""
    base = api_base(request.app.state.settings, request)

    def decorate(ctype: ContentType, row: Any, item: dict[str, Any]) -> None:
        if ctype.name in FEED_KINDS:
            item["feeds"] = feed_links(ctype.name, item.get("slug") or row.slug, base)

    return Renderer(session, viewer, decorate)


def drop_unrequested_feeds(items: list[dict[str, Any]], fields: set[str] | None) -> None:
    """`fields` without `feeds` leaves the feed links out of the top-level objects."""
    if fields is not None and "feeds" not in fields:
        for item in items:
            item.pop("feeds", None)


def _send(
    request: Request,
    settings: Settings,
    viewer: Viewer,
    payload: Any,
    ids_from: Any,
    extra_keys: Iterable[str],
    headers: dict[str, str] | None = None,
    ids: Iterable[str] | None = None,
    max_age: int | None = None,
    item: tuple[str, int] | None = None,
) -> Response:
    return cacheable_response(
        request,
        json_body(payload),
        media_type=JSON,
        max_age=settings.cache_max_age if max_age is None else max_age,
        private=is_private(request, viewer.preview),
        keys=surrogate_keys(collect_ids(ids_from) if ids is None else ids, extra_keys),
        headers=headers,
        item=item,
    )


def page_links(
    request: Request, next_cursor: str | None, cursor_params: tuple[str, ...] = ("cursor",)
) -> tuple[str, str | None]:
    """`links.self` and `links.next`: absolute, every query parameter kept (repeated ones
    too, in order), by name with the cursor last, however the client ordered them: a
    cached page (its key orders them too) links alike for every client. Both are encoded
    the same way (a space is `+` in each, however the request spelled it).

    `cursor_params`: the names the endpoint takes its token by, the one its next link
    writes first; the next link carries none of the others."""
    cursor_param = cursor_params[0]
    items = request.query_params.multi_items()
    others = sorted(((k, v) for k, v in items if k != cursor_param), key=itemgetter(0))
    cursors = [(k, v) for k, v in items if k == cursor_param]
    self_url = request.url.replace(query=urlencode(others + cursors))
    if not next_cursor:
        return str(self_url), None
    following = [(k, v) for k, v in others if k not in cursor_params]
    next_url = request.url.replace(query=urlencode([*following, (cursor_param, next_cursor)]))
    return str(self_url), str(next_url)


def list_response(
    request: Request,
    settings: Settings,
    viewer: Viewer,
    data: list[dict[str, Any]],
    *,
    next_cursor: str | None,
    total: int,
    keys: Iterable[str],
    cursor_params: tuple[str, ...] = ("cursor",),
    meta: dict[str, Any] | None = None,
    ids: Iterable[str] | None = None,
    max_age: int | None = None,
) -> Response:
    """`{"data", "meta": {"next_cursor", "total"}, "links": {"self", "next"}}` plus an
    RFC 8288 `Link: <…>; rel="next"` header. Links are absolute and keep every other
    query parameter of the request. `ids`: the public ids in `data` when the caller knows
    them (a `Renderer`'s `rendered`), saving a walk over the payload. `max_age`: less than
    CACHE_MAX_AGE for a page that time changes (`max_age_until`)."""
    self_url, next_url = page_links(request, next_cursor, cursor_params)
    payload = {
        "data": data,
        "meta": {"next_cursor": next_cursor, "total": total, **(meta or {})},
        "links": {"self": self_url, "next": next_url},
    }
    headers = {"Link": f'<{next_url}>; rel="next"'} if next_url else None
    return _send(request, settings, viewer, payload, data, keys, headers, ids, max_age)


def item_response(
    request: Request,
    settings: Settings,
    viewer: Viewer,
    item: dict[str, Any],
    version: int,
    ids: Iterable[str] | None = None,
    keys: Iterable[str] = (),
) -> Response:
    """One item (`GET /api/v1/{collection}/{id}`); its ETag names the item's `version`
    (`item_etag`), whatever `include` and `fields` shaped the body."""
    tag = (str(item["id"]), version)
    return _send(request, settings, viewer, item, item, keys, ids=ids, item=tag)
