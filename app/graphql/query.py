"""The root `Query` type: one field per item and per list, plus search and Relay's `node`."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from app.content.types import (
    ARTICLE,
    EVENT,
    ORGANIZATION,
    PERSON,
    PUBLICATION,
    QUOTE,
    RESOURCE,
    TOPIC,
)
from app.graphql.arguments import (
    ArticleFilter,
    ArticleSort,
    EventFilter,
    EventSort,
    OrganizationFilter,
    OrganizationSort,
    PersonFilter,
    PersonSort,
    PublicationFilter,
    PublicationSort,
    QuoteFilter,
    QuoteSort,
    ResourceFilter,
    ResourceSort,
    TopicFilter,
    TopicSort,
)
from app.graphql.connections import AFTER_DESCRIPTION, FILTER, FIRST_DESCRIPTION, SORT, Connection
from app.graphql.enums import ItemType
from app.graphql.resolve import list_connection, nodes, search_connection, single
from app.graphql.types.common import Node
from app.graphql.types.content import Article, Event, Publication, Quote, Resource
from app.graphql.types.people import Organization, Person
from app.graphql.types.search import SearchConnection
from app.graphql.types.topics import Topic

Slug = Annotated[str | None, strawberry.argument(description="The item's slug.")]
Id = Annotated[
    strawberry.ID | None,
    strawberry.argument(description="The item's id (Relay global id, or the REST public id)."),
]
First = Annotated[int, strawberry.argument(description=FIRST_DESCRIPTION)]
After = Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)]


@strawberry.type(description="Dossier's read-only delivery API. Lists are Relay connections.")
class Query:
    @strawberry.field(description="One topic by slug or id; null when there is none.")
    def topic(self, info: Info, slug: Slug = None, id: Id = None) -> Topic | None:
        return single(info, TOPIC, slug, id)  # type: ignore[no-any-return]

    @strawberry.field(description="Topics, by name unless sorted otherwise.")
    def topics(
        self,
        info: Info,
        filter: Annotated[TopicFilter | None, FILTER] = None,
        sort: Annotated[TopicSort | None, SORT] = None,
        first: First = 20,
        after: After = None,
    ) -> Connection[Topic]:
        return list_connection(info, TOPIC, filter, sort, first, after)  # type: ignore[return-value]

    @strawberry.field(description="One organization by slug or id; null when there is none.")
    def organization(self, info: Info, slug: Slug = None, id: Id = None) -> Organization | None:
        return single(info, ORGANIZATION, slug, id)  # type: ignore[no-any-return]

    @strawberry.field(description="Organizations, by name unless sorted otherwise.")
    def organizations(
        self,
        info: Info,
        filter: Annotated[OrganizationFilter | None, FILTER] = None,
        sort: Annotated[OrganizationSort | None, SORT] = None,
        first: First = 20,
        after: After = None,
    ) -> Connection[Organization]:
        return list_connection(info, ORGANIZATION, filter, sort, first, after)  # type: ignore[return-value]

    @strawberry.field(description="One person by slug or id; null when there is none.")
    def person(self, info: Info, slug: Slug = None, id: Id = None) -> Person | None:
        return single(info, PERSON, slug, id)  # type: ignore[no-any-return]

    @strawberry.field(description="People, by sortName unless sorted otherwise.")
    def people(
        self,
        info: Info,
        filter: Annotated[PersonFilter | None, FILTER] = None,
        sort: Annotated[PersonSort | None, SORT] = None,
        first: First = 20,
        after: After = None,
    ) -> Connection[Person]:
        return list_connection(info, PERSON, filter, sort, first, after)  # type: ignore[return-value]

    @strawberry.field(description="One article by slug or id; null when there is none.")
    def article(self, info: Info, slug: Slug = None, id: Id = None) -> Article | None:
        return single(info, ARTICLE, slug, id)  # type: ignore[no-any-return]

    @strawberry.field(description="Articles, newest publishedAt first unless sorted otherwise.")
    def articles(
        self,
        info: Info,
        filter: Annotated[ArticleFilter | None, FILTER] = None,
        sort: Annotated[ArticleSort | None, SORT] = None,
        first: First = 20,
        after: After = None,
    ) -> Connection[Article]:
        return list_connection(info, ARTICLE, filter, sort, first, after)  # type: ignore[return-value]

    @strawberry.field(
        description="Events, latest start first unless sorted otherwise (soonest first with "
        "`filter: {upcoming: true}`)."
    )
    def events(
        self,
        info: Info,
        filter: Annotated[EventFilter | None, FILTER] = None,
        sort: Annotated[EventSort | None, SORT] = None,
        first: First = 20,
        after: After = None,
    ) -> Connection[Event]:
        return list_connection(info, EVENT, filter, sort, first, after)  # type: ignore[return-value]

    @strawberry.field(description="One event by slug or id; null when there is none.")
    def event(self, info: Info, slug: Slug = None, id: Id = None) -> Event | None:
        return single(info, EVENT, slug, id)  # type: ignore[no-any-return]

    @strawberry.field(description="One publication by slug or id; null when there is none.")
    def publication(self, info: Info, slug: Slug = None, id: Id = None) -> Publication | None:
        return single(info, PUBLICATION, slug, id)  # type: ignore[no-any-return]

    @strawberry.field(description="Publications, newest year first unless sorted otherwise.")
    def publications(
        self,
        info: Info,
        filter: Annotated[PublicationFilter | None, FILTER] = None,
        sort: Annotated[PublicationSort | None, SORT] = None,
        first: First = 20,
        after: After = None,
    ) -> Connection[Publication]:
        return list_connection(info, PUBLICATION, filter, sort, first, after)  # type: ignore[return-value]

    @strawberry.field(description="One support resource by slug or id; null when there is none.")
    def resource(self, info: Info, slug: Slug = None, id: Id = None) -> Resource | None:
        return single(info, RESOURCE, slug, id)  # type: ignore[no-any-return]

    @strawberry.field(description="Support resources, in display order unless sorted otherwise.")
    def resources(
        self,
        info: Info,
        filter: Annotated[ResourceFilter | None, FILTER] = None,
        sort: Annotated[ResourceSort | None, SORT] = None,
        first: First = 20,
        after: After = None,
    ) -> Connection[Resource]:
        return list_connection(info, RESOURCE, filter, sort, first, after)  # type: ignore[return-value]

    @strawberry.field(description="One quote by slug or id; null when there is none.")
    def quote(self, info: Info, slug: Slug = None, id: Id = None) -> Quote | None:
        return single(info, QUOTE, slug, id)  # type: ignore[no-any-return]

    @strawberry.field(description="Quotes, newest publishedAt first unless sorted otherwise.")
    def quotes(
        self,
        info: Info,
        filter: Annotated[QuoteFilter | None, FILTER] = None,
        sort: Annotated[QuoteSort | None, SORT] = None,
        first: First = 20,
        after: After = None,
    ) -> Connection[Quote]:
        return list_connection(info, QUOTE, filter, sort, first, after)  # type: ignore[return-value]

    @strawberry.field(description="Full-text search across types, best match first.")
    def search(
        self,
        info: Info,
        query: Annotated[
            str, strawberry.argument(description="Words to look for (all must match).")
        ],
        types: Annotated[
            list[ItemType] | None,
            strawberry.argument(description="Only these kinds of item (default: all)."),
        ] = None,
        first: First = 20,
        after: After = None,
    ) -> SearchConnection:
        return search_connection(info, query, types, first, after)  # type: ignore[arg-type, return-value]

    @strawberry.field(description="Any item by its global id (Relay); null when there is none.")
    def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="A global id.")],
    ) -> Node | None:
        return nodes(info, [id])[0]  # type: ignore[no-any-return]

    @strawberry.field(
        description="Items by global id (at most 100), in order; null where there is none."
    )
    def nodes(
        self,
        info: Info,
        ids: Annotated[list[strawberry.ID], strawberry.argument(description="Global ids.")],
    ) -> list[Node | None]:
        return nodes(info, list(ids))
