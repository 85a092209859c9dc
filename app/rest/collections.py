"""`GET /api/v1/{collection}` and `GET /api/v1/{collection}/{id_or_slug}` for every collection.

One factory builds both routes per collection with that collection's own parameters
(sorts, filters with their enums, relations) declared explicitly, so the OpenAPI document
lists exactly what each endpoint accepts. The handlers only parse and call the query layer.
"""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from app.config import Settings
from app.content.filters import FILTERS
from app.content.queries import ListParams, get_item, list_items
from app.content.relations import RELATIONS
from app.content.render import IncludeTree, field_names, parse_include
from app.content.types import ALL_TYPES, EVENT, ContentType
from app.content.visibility import Viewer
from app.http.caching import max_age_until
from app.http.deps import SessionDep, SettingsDep
from app.http.errors import NotFound, no_item, problem_responses
from app.http.viewer import ViewerDep
from app.rest import params as p
from app.rest.envelope import drop_unrequested_feeds, item_response, list_response, renderer
from app.rest.schemas import ITEM_MODELS, LIST_MODELS

PREFIX = "/api/v1"
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not Modified: the `If-None-Match` ETag is current."}
}
FIXED = [
    p.keyword_only("request", Request),
    p.keyword_only("session", SessionDep),
    p.keyword_only("settings", SettingsDep),
    p.keyword_only("viewer", ViewerDep),
]


def _default_sort(ctype: ContentType) -> str:
    if ctype is EVENT:
        return f"`starts_at` with `upcoming=true`, else `{ctype.default_sort}`"
    return f"`{ctype.default_sort}`"


def _allowed_fields(ctype: ContentType) -> tuple[str, ...]:
    names = field_names(ctype)
    return (*names, "feeds") if ctype.name in ("topic", "person") else names


class CollectionRoutes:
    """The list and detail endpoints of one collection."""

    def __init__(self, ctype: ContentType) -> None:
        self.ctype = ctype
        self.filters = FILTERS[ctype.collection]
        self.fields = _allowed_fields(ctype)
        relations = list(RELATIONS[ctype.name])
        include = p.include_param(ctype, relations)
        fields = p.fields_param(ctype, self.fields)
        self.list_params = [
            p.LIMIT,
            p.CURSOR,
            p.sort_param(ctype, _default_sort(ctype)),
            p.TOPIC,
            p.Q,
            p.UPDATED_SINCE,
            include,
            fields,
            *(p.filter_param(spec) for spec in self.filters.values()),
            p.PREVIEW,
        ]
        self.item_params = [include, fields, p.PREVIEW]

    # -- parsing ----------------------------------------------------------------------

    def _shape(
        self, query: dict[str, Any], settings: Settings
    ) -> tuple[IncludeTree, set[str] | None]:
        include = parse_include(self.ctype, query.get("include"), settings.include_max_depth)
        return include, p.parse_fields(query.get("fields"), self.fields, include)

    def _list_params(self, query: dict[str, Any]) -> ListParams:
        filters: dict[str, Any] = {}
        for name, spec in self.filters.items():
            raw = query.get(p.identifier(name))
            if raw is not None and raw != "":
                filters[name] = spec.parse(raw)
        return ListParams(
            limit=p.parse_limit(query.get("limit")),
            cursor=query.get("cursor") or None,
            sort=query.get("sort") or None,
            topics=p.parse_topics(query.get("topic")),
            q=(query.get("q") or "").strip() or None,
            updated_since=p.parse_since("updated_since", query.get("updated_since")),
            filters=filters,
        )

    # -- handlers ---------------------------------------------------------------------

    @p.naming_parameters
    def list_page(
        self, request: Request, session: Session, settings: Settings, viewer: Viewer, **query: Any
    ) -> Response:
        params = self._list_params(query)
        include, fields = self._shape(query, settings)
        page = list_items(session, self.ctype, params, viewer, settings.secret_key)
        render = renderer(session, viewer, request)
        data = render.render(self.ctype, page.items, include, fields)
        drop_unrequested_feeds(data, fields)
        return list_response(
            request,
            settings,
            viewer,
            data,
            next_cursor=page.next_cursor,
            total=page.total,
            keys=[*page.collections, *sorted(render.watched)],
            ids=render.rendered,
            max_age=max_age_until(page.changes_at(), viewer.now, settings.cache_max_age),
        )

    @p.naming_parameters
    def one_item(
        self,
        request: Request,
        session: Session,
        settings: Settings,
        viewer: Viewer,
        id_or_slug: str,
        **query: Any,
    ) -> Response:
        include, fields = self._shape(query, settings)
        row = None
        if "\x00" not in id_or_slug and len(id_or_slug) <= 200:
            row = get_item(session, self.ctype, id_or_slug, viewer)
        if row is None:
            raise NotFound(no_item(self.ctype.name, self.ctype.collection, id_or_slug))
        render = renderer(session, viewer, request)
        item = render.render(self.ctype, [row], include, fields)[0]
        drop_unrequested_feeds([item], fields)
        return item_response(
            request,
            settings,
            viewer,
            item,
            row.version,
            render.rendered,
            keys=sorted(render.watched),
        )

    # -- routes -----------------------------------------------------------------------

    def add_to(self, router: APIRouter) -> None:
        ctype = self.ctype
        model = ITEM_MODELS[ctype.collection]

        # The query parameters are read from the request (p.read) and documented by hand
        # (p.documented), not declared: see p.read.
        def list_endpoint(**kwargs: Any) -> Response:
            return self.list_page(**kwargs, **p.read(kwargs["request"], self.list_params))

        def detail_endpoint(**kwargs: Any) -> Response:
            return self.one_item(**kwargs, **p.read(kwargs["request"], self.item_params))

        list_endpoint.__signature__ = inspect.Signature(FIXED)  # type: ignore[attr-defined]
        detail_endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [*FIXED, p.keyword_only("id_or_slug", str)]
        )
        filters = ", ".join(f"`{name}`" for name in self.filters) or "none"
        router.add_api_route(
            f"{PREFIX}/{ctype.collection}",
            list_endpoint,
            methods=["GET"],
            tags=[ctype.collection],
            summary=f"List {ctype.collection}",
            description=(
                f"A page of public {ctype.collection}, in the list envelope. Follow "
                "`links.next` (or the `Link` header) for the next page: pagination is by "
                "keyset, so pages stay consistent while items are added. Unknown query "
                f"parameters are refused with 400. Filters of {ctype.collection}: {filters}."
            ),
            operation_id=f"list_{ctype.collection}",
            response_model=LIST_MODELS[ctype.collection],
            responses={**NOT_MODIFIED, **problem_responses(400, 401, 403)},
            dependencies=[Depends(p.StrictQuery(self.list_params))],
            openapi_extra=p.documented(self.list_params),
        )
        router.add_api_route(
            f"{PREFIX}/{ctype.collection}/{{id_or_slug}}",
            detail_endpoint,
            methods=["GET"],
            tags=[ctype.collection],
            summary=f"Get one {ctype.name}",
            description=(
                f"One public {ctype.name} by id (`{ctype.id_prefix}_12`) or slug, as the bare "
                "object. 404 when it does not exist or is not public."
            ),
            operation_id=f"get_{ctype.name}",
            response_model=model,
            responses={**NOT_MODIFIED, **problem_responses(400, 401, 403, 404)},
            dependencies=[Depends(p.StrictQuery(self.item_params))],
            openapi_extra=p.documented(self.item_params),
        )


def collections_router() -> APIRouter:
    router = APIRouter()
    for ctype in ALL_TYPES:
        CollectionRoutes(ctype).add_to(router)
    return router
