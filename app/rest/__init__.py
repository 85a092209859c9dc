"""The REST API under /api/v1: public reads here, admin writes in `app.rest.admin`."""

from fastapi import APIRouter

from app.rest.changes import router as changes_router
from app.rest.collections import collections_router
from app.rest.search import router as search_router
from app.rest.stream import router as stream_router

# Fixed paths first, so `/api/v1/search` is never taken for an item of a collection.
routers: list[APIRouter] = [search_router, changes_router, stream_router, collections_router()]
try:
    from app.rest.admin import router as admin_router
except ModuleNotFoundError as exc:  # only a missing admin module is tolerated, not a broken one
    if exc.name != "app.rest.admin":
        raise
else:
    routers.append(admin_router)

__all__ = ["routers"]
