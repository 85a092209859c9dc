"""Topics and their stream (the topic page)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.graphql.arguments import StreamFilter, StreamSort
from app.graphql.connections import AFTER_DESCRIPTION, FIRST_DESCRIPTION, Connection
from app.graphql.context import context_of
from app.graphql.enums import StreamItemType
from app.graphql.resolve import stream_connection
from app.graphql.types.common import FeedLinks, Node, feed_links_of
from app.graphql.types.content import ContentItem
from app.models import Topic as TopicRow


@strawberry.type(
    description='A subject content is tagged with, e.g. "Kidnapping"; its stream is the topic page.'
)
class Topic(Node):
    slug: str = strawberry.field(description="URL-safe name, unique among topics.")
    name: str = strawberry.field(description="Display name.")
    description: str | None = strawberry.field(description="What the topic covers.")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")

    @strawberry.field(
        description="Feeds (RSS, Atom, JSON Feed) and calendar of this topic's stream."
    )
    def feeds(self, root: TopicRow, info: Info) -> FeedLinks:
        return feed_links_of("topic", root.slug, context_of(info).api_base)

    @strawberry.field(
        description="The topic page: every public article, event, publication and quote "
        "tagged with the topic, newest publishedAt first. `filter` and `sort` narrow and "
        "order it as the REST stream's parameters do."
    )
    def stream(
        self,
        root: TopicRow,
        info: Info,
        first: Annotated[int, strawberry.argument(description=FIRST_DESCRIPTION)] = 20,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
        types: Annotated[
            list[StreamItemType] | None,
            strawberry.argument(description="Only these kinds of item (default: all)."),
        ] = None,
        filter: Annotated[
            StreamFilter | None,
            strawberry.argument(
                description="Only items matching every filter given (as the REST stream's)."
            ),
        ] = None,
        sort: Annotated[
            StreamSort | None,
            strawberry.argument(description="Order of the items (default: newest first)."),
        ] = None,
    ) -> Connection[ContentItem]:
        return stream_connection(info, root, first, after, types, filter, sort)  # type: ignore[arg-type, return-value]

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, TopicRow)
