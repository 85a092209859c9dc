"""Who is reading: the public, or an editor previewing drafts and scheduled items.

Preview needs both a `content:preview` key and an explicit request for it — `?preview=true`
on REST and feeds, `X-Preview: true` on GraphQL. Neither alone reveals anything.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from app.content.visibility import Viewer
from app.http.auth import require_scope
from app.http.errors import BadRequest


def _flag(value: str | None, name: str) -> bool:
    if value is None or value.lower() in ("false", "0", ""):
        return False
    if value.lower() in ("true", "1"):
        return True
    raise BadRequest(f"{name} must be true or false.")


def viewer_for(request: Request, preview_requested: bool) -> Viewer:
    if not preview_requested:
        return Viewer()
    require_scope(request, "content:preview")
    return Viewer(preview=True)


async def rest_viewer(request: Request) -> Viewer:
    """On the event loop (no I/O) for the public; a preview's key is checked against the
    database in a worker thread."""
    if not _flag(request.query_params.get("preview"), "preview"):
        return Viewer()
    return await run_in_threadpool(viewer_for, request, True)


def graphql_viewer(request: Request) -> Viewer:
    return viewer_for(request, _flag(request.headers.get("x-preview"), "X-Preview"))


ViewerDep = Annotated[Viewer, Depends(rest_viewer)]
