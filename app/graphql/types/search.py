"""Search results: a connection whose edges carry the score and highlighted snippet."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.graphql.connections import PageInfo
from app.graphql.enums import ItemType
from app.graphql.types.content import Article, Event, Publication, Quote, Resource
from app.graphql.types.people import Organization, Person
from app.graphql.types.topics import Topic

SearchResult = Annotated[
    Topic | Organization | Person | Article | Event | Publication | Quote | Resource,
    strawberry.union("SearchResult", description="Any item search can find."),
]


@strawberry.type(description="One search hit.")
class SearchEdge:
    node: SearchResult = strawberry.field(description="The item found.")
    cursor: str = strawberry.field(description="Pass as `after` to continue after this hit.")
    type: ItemType = strawberry.field(description="Kind of item.")
    score: float = strawberry.field(description="Relevance; hits come best first.")
    snippet: str = strawberry.field(
        description="Excerpt (HTML-escaped text) with the matches in <mark>…</mark>."
    )


@strawberry.type(description="Ranked search hits across types.")
class SearchConnection:
    edges: list[SearchEdge] = strawberry.field(description="The hits of this page, best first.")
    nodes: list[SearchResult] = strawberry.field(
        description="The items of this page, best first (edges without cursors, scores and "
        "snippets)."
    )
    page_info: PageInfo = strawberry.field(description="Pagination state.")
    total_count: int = strawberry.field(description="How many items match in all.")
