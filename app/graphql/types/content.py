"""Publishable content: articles, quotes, events, publications, resources, and the unions."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from app.content.contacts import CONTACT_COLUMNS, contacts_of
from app.content.rows import columns
from app.feeds.bibliography import CitationFormat as BibliographyFormat
from app.feeds.bibliography import render
from app.feeds.citation import citation_from_rows
from app.graphql.context import context_of
from app.graphql.enums import (
    ArticleType,
    AttendanceMode,
    CitationFormat,
    ContactKind,
    EventStatus,
    EventType,
    ParticipantRole,
    PublicationType,
    ResourceType,
    Status,
)
from app.graphql.types.common import Image, Node, Venue, hero_image_of, venue_of
from app.models import Article as ArticleRow
from app.models import Event as EventRow
from app.models import Publication as PublicationRow
from app.models import Quote as QuoteRow
from app.models import Resource as ResourceRow

if TYPE_CHECKING:
    from app.graphql.types.people import Organization, Person
    from app.graphql.types.topics import Topic

_PEOPLE = "app.graphql.types.people"
PersonRef = Annotated["Person", strawberry.lazy(_PEOPLE)]
OrganizationRef = Annotated["Organization", strawberry.lazy(_PEOPLE)]
TopicRef = Annotated["Topic", strawberry.lazy("app.graphql.types.topics")]

_STATUS = "Publishing state (only PUBLISHED is ever shown outside preview)."
_PUBLISHED_AT = "When it was (or will be) published."
_CREATED_AT = "When it was created."
_UPDATED_AT = "When it last changed."
_AFTER_BLOCK = (
    "Where it stands in its article's `body`: after this many of the body's top-level blocks "
    "(the elements a browser's DOM lists as `children` of an element holding the body; 0: "
    "before the first). Null: not placed in the body, or no `article` shown (one the viewer "
    "cannot see: a draft, a scheduled or a deleted article)."
)


@strawberry.type(description="A news story, commentary, interview, analysis or announcement.")
class Article(Node):
    slug: str = strawberry.field(description="URL-safe title, unique among articles.")
    title: str = strawberry.field(description="Headline.")
    subtitle: str | None = strawberry.field(description="Subheading or dek.")
    article_type: ArticleType = strawberry.field(description="Kind of article.")
    byline: str | None = strawberry.field(
        description="Free-text byline, for authors not in the directory."
    )
    body: str | None = strawberry.field(description="Body as sanitized HTML.")
    body_text: str | None = strawberry.field(description="Body as plain text.")
    status: Status = strawberry.field(description=_STATUS)
    published_at: datetime | None = strawberry.field(description=_PUBLISHED_AT)
    created_at: datetime = strawberry.field(description=_CREATED_AT)
    updated_at: datetime = strawberry.field(description=_UPDATED_AT)

    @strawberry.field(description="Lead image.")
    def hero_image(self, root: ArticleRow) -> Image | None:
        return hero_image_of(root)

    @strawberry.field(description="Authors, in byline order.")
    def authors(self, root: ArticleRow, info: Info) -> list[PersonRef]:
        return context_of(info).targets(root, "authors")

    @strawberry.field(description="Pull quotes from this article, in order.")
    def quotes(self, root: ArticleRow, info: Info) -> list[Quote]:
        return context_of(info).targets(root, "quotes")

    @strawberry.field(description="Support resources listed with the article, in order.")
    def resources(self, root: ArticleRow, info: Info) -> list[Resource]:
        return context_of(info).targets(root, "resources")

    @strawberry.field(description='"Read more": related items, in order.')
    def related(self, root: ArticleRow, info: Info) -> list[RelatedContent]:
        return context_of(info).targets(root, "related")

    @strawberry.field(description="Topics it is tagged with.")
    def topics(self, root: ArticleRow, info: Info) -> list[TopicRef]:
        return context_of(info).targets(root, "topics")

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, ArticleRow)


def _after_block(root: QuoteRow, info: Info) -> int | None:
    """A quote's place, counted in its article's body: shown with the article only (its
    `article`), never as a place in an article the viewer cannot see."""
    place: int | None = root.after_block
    if place is None or context_of(info).target(root, "article") is None:
        return None
    return place


@strawberry.type(description="A quotation, usually pulled from an article.")
class Quote(Node):
    slug: str = strawberry.field(description="URL-safe key, unique among quotes.")
    text: str = strawberry.field(description="The words quoted.")
    attribution: str | None = strawberry.field(
        description='How the speaker is credited, e.g. "Founder, LeanIn.org".'
    )
    position: int = strawberry.field(description="Order within its article.")
    after_block: int | None = strawberry.field(resolver=_after_block, description=_AFTER_BLOCK)
    status: Status = strawberry.field(description=_STATUS)
    published_at: datetime | None = strawberry.field(description=_PUBLISHED_AT)
    created_at: datetime = strawberry.field(description=_CREATED_AT)
    updated_at: datetime = strawberry.field(description=_UPDATED_AT)

    @strawberry.field(description="Who said it, when the person is in the directory.")
    def speaker(self, root: QuoteRow, info: Info) -> PersonRef | None:
        return context_of(info).target(root, "speaker")

    @strawberry.field(description="The article it comes from.")
    def article(self, root: QuoteRow, info: Info) -> Article | None:
        return context_of(info).target(root, "article")  # type: ignore[no-any-return]

    @strawberry.field(description="Topics it is tagged with.")
    def topics(self, root: QuoteRow, info: Info) -> list[TopicRef]:
        return context_of(info).targets(root, "topics")

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, QuoteRow)


@strawberry.type(description="A person's part in an event.")
class Participant:
    role: ParticipantRole = strawberry.field(description="Speaker, moderator, host…")
    title: str | None = strawberry.field(
        description="The person's title as this event presents it (the lines under the name "
        "on its card), when it differs from their profile's."
    )
    position: int = strawberry.field(
        description="Its place among the event's participants, as the event lists them (the "
        "list comes in this order; `participants(role:)` keeps each one's place)."
    )
    person: PersonRef = strawberry.field(description="Who.")


class ParticipantData:
    __slots__ = ("person", "position", "role", "title")

    def __init__(self, person: Any, role: str, title: str | None, position: int) -> None:
        self.person = person
        self.role = role
        self.title = title
        self.position = position


@strawberry.type(description="A seminar, conference, panel, lecture, screening or workshop.")
class Event(Node):
    slug: str = strawberry.field(description="URL-safe title, unique among events.")
    title: str = strawberry.field(description="Title.")
    subtitle: str | None = strawberry.field(description="Subtitle.")
    event_type: EventType = strawberry.field(description="Kind of event.")
    summary: str | None = strawberry.field(description="One-paragraph summary (plain text).")
    body: str | None = strawberry.field(description="Description as sanitized HTML.")
    body_text: str | None = strawberry.field(description="Description as plain text.")
    starts_at: datetime = strawberry.field(description="Start time, in UTC: show it in `timezone`.")
    ends_at: datetime | None = strawberry.field(description="End time, in UTC.")
    timezone: str = strawberry.field(
        description="IANA time zone the event is announced in (its venue's, for an event "
        'in person), e.g. "America/Los_Angeles": show its times in it.'
    )
    attendance_mode: AttendanceMode = strawberry.field(description="In person, online or hybrid.")
    event_status: EventStatus = strawberry.field(
        description="Scheduled, cancelled, postponed or rescheduled."
    )
    online_url: str | None = strawberry.field(description="Where to watch online.")
    online_platform: str | None = strawberry.field(
        description='What it is attended on online, e.g. "Zoom" (online and hybrid events).'
    )
    registration_url: str | None = strawberry.field(description="Where to register.")
    status: Status = strawberry.field(description=_STATUS)
    published_at: datetime | None = strawberry.field(description=_PUBLISHED_AT)
    created_at: datetime = strawberry.field(description=_CREATED_AT)
    updated_at: datetime = strawberry.field(description=_UPDATED_AT)

    @strawberry.field(description="Where it takes place.")
    def venue(self, root: EventRow) -> Venue | None:
        return venue_of(root)

    @strawberry.field(description="Lead image, shown above the text.")
    def hero_image(self, root: EventRow) -> Image | None:
        return hero_image_of(root)

    @strawberry.field(
        description="Everyone taking part, in program order, with their roles; with `role`, "
        "those in that role only (`participants(role: HOST)`: the event's hosts)."
    )
    def participants(
        self,
        root: EventRow,
        info: Info,
        role: Annotated[
            ParticipantRole | None, strawberry.argument(description="Only this role.")
        ] = None,
    ) -> list[Participant]:
        links = context_of(info).links(root, "participants")
        return [
            ParticipantData(  # type: ignore[misc]
                link.target, link.extra["role"], link.extra["title"], link.extra["position"]
            )
            for link in links
            if role is None or link.extra["role"] == role.value
        ]

    @strawberry.field(description="The participants whose role is SPEAKER, in program order.")
    def speakers(self, root: EventRow, info: Info) -> list[PersonRef]:
        links = context_of(info).links(root, "participants")
        return [link.target for link in links if link.extra["role"] == "speaker"]

    @strawberry.field(description="The participants whose role is MODERATOR, in program order.")
    def moderators(self, root: EventRow, info: Info) -> list[PersonRef]:
        links = context_of(info).links(root, "participants")
        return [link.target for link in links if link.extra["role"] == "moderator"]

    @strawberry.field(description="Organizations hosting or sponsoring it, in order.")
    def sponsors(self, root: EventRow, info: Info) -> list[OrganizationRef]:
        return context_of(info).targets(root, "sponsors")

    @strawberry.field(description="Topics it is tagged with.")
    def topics(self, root: EventRow, info: Info) -> list[TopicRef]:
        return context_of(info).targets(root, "topics")

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, EventRow)


@strawberry.type(description="A journal article, book, chapter, working paper, report or brief.")
class Publication(Node):
    slug: str = strawberry.field(description="URL-safe title, unique among publications.")
    title: str = strawberry.field(description="Title.")
    publication_type: PublicationType = strawberry.field(description="Kind of publication.")
    abstract: str | None = strawberry.field(description="Abstract (plain text).")
    journal: str | None = strawberry.field(description="Journal or series.")
    publisher: str | None = strawberry.field(description="Publisher.")
    volume: str | None = strawberry.field(description="Volume.")
    issue: str | None = strawberry.field(description="Issue.")
    pages: str | None = strawberry.field(description="Pages, e.g. 12-34.")
    year: int | None = strawberry.field(description="Year of publication.")
    published_on: date | None = strawberry.field(description="Date of publication, when known.")
    doi: str | None = strawberry.field(description="DOI, e.g. 10.1000/xyz123.")
    url: str | None = strawberry.field(description="Where to read it.")
    status: Status = strawberry.field(description=_STATUS)
    published_at: datetime | None = strawberry.field(description=_PUBLISHED_AT)
    created_at: datetime = strawberry.field(description=_CREATED_AT)
    updated_at: datetime = strawberry.field(description=_UPDATED_AT)

    @strawberry.field(description="Authors, in citation order.")
    def authors(self, root: PublicationRow, info: Info) -> list[PersonRef]:
        return context_of(info).targets(root, "authors")

    @strawberry.field(description="Topics it is tagged with.")
    def topics(self, root: PublicationRow, info: Info) -> list[TopicRef]:
        return context_of(info).targets(root, "topics")

    @strawberry.field(
        description="The publication as a reference-manager entry: the text "
        "`GET /api/v1/publications/{slug}/citation?format=` answers (its authors in order, "
        "its topics as keywords; those shown only)."
    )
    def citation(
        self,
        root: PublicationRow,
        info: Info,
        citation_format: Annotated[
            CitationFormat, strawberry.argument(name="format", description="Which format.")
        ] = CitationFormat.BIBTEX,
    ) -> str:
        context = context_of(info)
        data = citation_from_rows(
            context.settings,
            root,
            context.targets(root, "authors"),
            context.targets(root, "topics"),
        )
        return render(data, BibliographyFormat[citation_format.name.lower()]).decode()

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, PublicationRow)


@strawberry.type(description="One way to reach a support resource, labelled as its page shows it.")
class ResourceContact:
    label: str = strawberry.field(
        description='e.g. "Phone", "24/7 urgent support hotline", "Helpline".'
    )
    kind: ContactKind = strawberry.field(
        description="What `value` is: for a `tel:`, `sms:` or `mailto:` link."
    )
    value: str = strawberry.field(
        description='The number or address, e.g. "866.742.5667 (SHALOM-7)".'
    )


class ResourceContactData:
    __slots__ = ("kind", "label", "value")

    def __init__(self, label: str, kind: str, value: str) -> None:
        self.label = label
        self.kind = kind
        self.value = value


@strawberry.type(
    description="A support resource: counseling, a hotline, a support group, legal help…"
)
class Resource(Node):
    slug: str = strawberry.field(description="URL-safe name, unique among resources.")
    name: str = strawberry.field(description="Name.")
    resource_type: ResourceType = strawberry.field(description="Kind of resource.")
    description: str | None = strawberry.field(description="What it offers.")
    phone: str | None = strawberry.field(
        description="Main phone number, unlabelled (see `contacts`)."
    )
    hotline: str | None = strawberry.field(
        description="Hotline number, unlabelled (see `contacts`)."
    )
    email: str | None = strawberry.field(description="Email address, unlabelled (see `contacts`).")
    url: str | None = strawberry.field(description="Website.")
    hours: str | None = strawberry.field(description="Opening hours.")
    audience: str | None = strawberry.field(description="Who it is for.")
    is_confidential: bool = strawberry.field(
        description="Whether its support is confidential (what people tell it is not "
        "reported or passed on), as its page says; not whether its `contacts` are private: "
        "they are shown."
    )
    position: int = strawberry.field(description="Display order.")
    status: Status = strawberry.field(description=_STATUS)
    published_at: datetime | None = strawberry.field(description=_PUBLISHED_AT)
    created_at: datetime = strawberry.field(description=_CREATED_AT)
    updated_at: datetime = strawberry.field(description=_UPDATED_AT)

    @strawberry.field(
        description="Every way to reach it, labelled and in order, as its page lists them: "
        "what to show. When its editor gave none, made from `phone`, `hotline` and `email` "
        '(labelled "Phone", "Hotline", "Email").'
    )
    def contacts(self, root: ResourceRow) -> list[ResourceContact]:
        return [
            ResourceContactData(c["label"], c["kind"], c["value"])  # type: ignore[misc]
            for c in contacts_of(columns(root, CONTACT_COLUMNS))
        ]

    @strawberry.field(description="Topics it is tagged with.")
    def topics(self, root: ResourceRow, info: Info) -> list[TopicRef]:
        return context_of(info).targets(root, "topics")

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, ResourceRow)


ContentItem = Annotated[
    Article | Event | Publication | Quote,
    strawberry.union("ContentItem", description="An item of a topic's stream."),
]
RelatedContent = Annotated[
    Article | Event | Publication | Quote | Resource,
    strawberry.union(
        "RelatedContent", description='An item an article links to under "Read more".'
    ),
]
