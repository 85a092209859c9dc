"""Organizations, people and their affiliations."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from app.content.types import ARTICLE, EVENT, PUBLICATION, QUOTE
from app.graphql.arguments import (
    ArticleFilter,
    ArticleSort,
    EventFilter,
    EventSort,
    PublicationFilter,
    PublicationSort,
    QuoteFilter,
    QuoteSort,
)
from app.graphql.connections import AFTER_DESCRIPTION, FILTER, FIRST_DESCRIPTION, SORT, Connection
from app.graphql.context import context_of
from app.graphql.resolve import nested_connection
from app.graphql.types.common import FeedLinks, Image, Node, feed_links_of, photo_of
from app.models import Organization as OrganizationRow
from app.models import Person as PersonRow

if TYPE_CHECKING:
    from app.graphql.types.content import Article, Event, Publication, Quote
    from app.graphql.types.topics import Topic

_CONTENT = "app.graphql.types.content"
_TOPICS = "app.graphql.types.topics"
TopicRef = Annotated["Topic", strawberry.lazy(_TOPICS)]


@strawberry.type(
    description="An institute, center, university or company: hosts, sponsors, employers."
)
class Organization(Node):
    slug: str = strawberry.field(description="URL-safe name, unique among organizations.")
    name: str = strawberry.field(description="Full name.")
    short_name: str | None = strawberry.field(description="Acronym or short form, e.g. CDDRL.")
    url: str | None = strawberry.field(description="Website.")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")

    @strawberry.field(description="The organization this one belongs to, if any.")
    def parent(self, root: OrganizationRow, info: Info) -> Organization | None:
        return context_of(info).target(root, "parent")  # type: ignore[no-any-return]

    @strawberry.field(description="Topics it is tagged with.")
    def topics(self, root: OrganizationRow, info: Info) -> list[TopicRef]:
        return context_of(info).targets(root, "topics")

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, OrganizationRow)


@strawberry.type(description="A person's position at an organization.")
class Affiliation:
    role: str = strawberry.field(description='Position, e.g. "W. Glenn Campbell National Fellow".')
    organization: Organization = strawberry.field(description="Where.")
    start_year: int | None = strawberry.field(description="Year it began, when known.")
    end_year: int | None = strawberry.field(
        description="Year it ended; null when current, or when it ended in a year unknown."
    )
    is_current: bool = strawberry.field(
        description="Whether it is held now: false with an end year, and for a role that "
        'ended in a year unknown ("former Chief Operating Officer of Meta").'
    )
    is_primary: bool = strawberry.field(
        description="The person's main affiliation (their headline)."
    )
    position: int = strawberry.field(
        description="Its place among the person's affiliations, as their profile lists them "
        "(the list comes in this order)."
    )


class AffiliationData:
    __slots__ = (
        "end_year",
        "is_current",
        "is_primary",
        "organization",
        "position",
        "role",
        "start_year",
    )

    def __init__(self, organization: Any, extra: dict[str, Any]) -> None:
        self.organization = organization
        self.role = extra["role"]
        self.start_year = extra["start_year"]
        self.end_year = extra["end_year"]
        self.is_current = extra["is_current"]
        self.is_primary = extra["is_primary"]
        self.position = extra["position"]


@strawberry.type(description="A scholar, speaker, author or staff member.")
class Person(Node):
    slug: str = strawberry.field(description="URL-safe name, unique among people.")
    name: str = strawberry.field(description="Display name.")
    sort_name: str = strawberry.field(
        description='Name for alphabetical order and citations, "Family, Given" or "Family, '
        'Given, Suffix", e.g. "Milani, Abbas", "King, Martin Luther, Jr.": as the editor set '
        "it, or derived from `name` with the last word as the family name (right for "
        '"Jane Doe"; a name written family name first, "Xi Jinping", needs it set by the '
        "editor)."
    )
    title: str | None = strawberry.field(
        description='Headline, e.g. "Research Fellow, Hoover Institution".'
    )
    degrees: str | None = strawberry.field(description='Degrees, e.g. "MA, PhD".')
    bio: str | None = strawberry.field(description="Biography as sanitized HTML.")
    bio_text: str | None = strawberry.field(description="Biography as plain text.")
    email: str | None = strawberry.field(description="Email address.")
    phone: str | None = strawberry.field(description="Phone number.")
    office: str | None = strawberry.field(description="Office address.")
    profile_url: str | None = strawberry.field(description="Profile page elsewhere.")
    cv_url: str | None = strawberry.field(description="Curriculum vitae.")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")

    @strawberry.field(description="Portrait.")
    def photo(self, root: PersonRow) -> Image | None:
        return photo_of(root)

    @strawberry.field(
        description="Positions held, in display order (as the editor ordered them; `isPrimary` marks the primary one)."
    )
    def affiliations(self, root: PersonRow, info: Info) -> list[Affiliation]:
        links = context_of(info).links(root, "affiliations")
        return [AffiliationData(link.target, link.extra) for link in links]  # type: ignore[misc]

    @strawberry.field(description="Topics this person works on.")
    def topics(self, root: PersonRow, info: Info) -> list[TopicRef]:
        return context_of(info).targets(root, "topics")

    @strawberry.field(description="Feeds of this person's articles, events and publications.")
    def feeds(self, root: PersonRow, info: Info) -> FeedLinks:
        return feed_links_of("person", root.slug, context_of(info).api_base)

    @strawberry.field(description="Articles this person wrote.")
    def articles(
        self,
        root: PersonRow,
        info: Info,
        filter: Annotated[ArticleFilter | None, FILTER] = None,
        sort: Annotated[ArticleSort | None, SORT] = None,
        first: Annotated[int, strawberry.argument(description=FIRST_DESCRIPTION)] = 20,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
    ) -> Connection[Annotated[Article, strawberry.lazy(_CONTENT)]]:
        return nested_connection(info, ARTICLE, filter, sort, first, after, root, "author")  # type: ignore[return-value]

    @strawberry.field(
        description="Events this person takes part in (`filter: {role: SPEAKER}`: in that role)."
    )
    def events(
        self,
        root: PersonRow,
        info: Info,
        filter: Annotated[EventFilter | None, FILTER] = None,
        sort: Annotated[EventSort | None, SORT] = None,
        first: Annotated[int, strawberry.argument(description=FIRST_DESCRIPTION)] = 20,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
    ) -> Connection[Annotated[Event, strawberry.lazy(_CONTENT)]]:
        return nested_connection(info, EVENT, filter, sort, first, after, root, "person")  # type: ignore[return-value]

    @strawberry.field(description="Publications this person wrote.")
    def publications(
        self,
        root: PersonRow,
        info: Info,
        filter: Annotated[PublicationFilter | None, FILTER] = None,
        sort: Annotated[PublicationSort | None, SORT] = None,
        first: Annotated[int, strawberry.argument(description=FIRST_DESCRIPTION)] = 20,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
    ) -> Connection[Annotated[Publication, strawberry.lazy(_CONTENT)]]:
        return nested_connection(info, PUBLICATION, filter, sort, first, after, root, "author")  # type: ignore[return-value]

    @strawberry.field(description="Quotes of this person.")
    def quotes(
        self,
        root: PersonRow,
        info: Info,
        filter: Annotated[QuoteFilter | None, FILTER] = None,
        sort: Annotated[QuoteSort | None, SORT] = None,
        first: Annotated[int, strawberry.argument(description=FIRST_DESCRIPTION)] = 20,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
    ) -> Connection[Annotated[Quote, strawberry.lazy(_CONTENT)]]:
        return nested_connection(info, QUOTE, filter, sort, first, after, root, "speaker")  # type: ignore[return-value]

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, PersonRow)
