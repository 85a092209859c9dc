"""The REST API under /api/v1: public reads here, admin writes in `app.rest.admin`."""

import copy

from fastapi import APIRouter
from fastapi.routing import APIRoute

from app.rest.changes import router as changes_router
from app.rest.collections import collections_router
from app.rest.search import router as search_router
from app.rest.stream import router as stream_router


def _answer_head(router: APIRouter) -> None:
    """Every read also answers HEAD (RFC 9110 §9.3.2): same headers, ETag included, no body.
    The twins stay out of the OpenAPI document, which would otherwise list each read twice.
    A twin is a copy of its GET route, handler included: building it again (dependants,
    parameter models) cost a quarter of the routes' build at startup."""
    for route in list(router.routes):
        if isinstance(route, APIRoute) and route.methods == {"GET"}:
            twin = copy.copy(route)
            twin.methods = {"HEAD"}
            twin.include_in_schema = False
            router.routes.append(twin)


# Fixed paths first, so `/api/v1/search` is never taken for an item of a collection.
routers: list[APIRouter] = [search_router, changes_router, stream_router, collections_router()]
for _reads in routers:
    _answer_head(_reads)

try:
    from app.rest.admin import router as admin_router
except ModuleNotFoundError as exc:  # only a missing admin module is tolerated, not a broken one
    if exc.name != "app.rest.admin":
        raise
else:
    routers.append(admin_router)

__all__ = ["routers"]
