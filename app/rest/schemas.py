"""Response models of the public read API, for the OpenAPI document.

Handlers build their JSON with the query layer's renderer (`app.content.render`) and send
it as bytes, so these models document the shapes rather than produce them; a test checks
that real responses validate against them. Relations are compact references unless named
in `include`, when they are the full object: hence the `XRef | X` unions. Any field but
`id` may be absent when the request narrowed the response with `fields`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, create_model

from app.models import (
    ARTICLE_TYPES,
    ATTENDANCE_MODES,
    CONTACT_KINDS,
    EVENT_STATUSES,
    EVENT_TYPES,
    PARTICIPANT_ROLES,
    PUBLICATION_TYPES,
    RESOURCE_TYPES,
    STATUSES,
)
from app.schemas import Schema


def _only_id_required(schema: dict[str, Any]) -> None:
    if "id" in schema.get("properties", {}):
        schema["required"] = ["id"]


def _enum(values: tuple[str, ...], description: str = "") -> Any:
    return Field(description=description or None, json_schema_extra={"enum": list(values)})


class Ref(Schema):
    """A compact reference to another item."""

    id: str = Field(description="Stable, opaque id, e.g. `per_12`.")
    slug: str


class NamedRef(Ref):
    name: str


class TitledRef(Ref):
    title: str


class TopicRef(NamedRef):
    """A compact topic reference."""


class OrganizationRef(NamedRef):
    """A compact organization reference."""


class PersonRef(NamedRef):
    """A compact person reference."""


class ResourceRef(NamedRef):
    """A compact resource reference."""


class ArticleRef(TitledRef):
    """A compact article reference."""


class QuoteRef(Ref):
    """A compact quote reference."""

    text: str


class Item(Schema):
    """Fields every item has."""

    model_config = ConfigDict(json_schema_extra=_only_id_required)

    id: str = Field(description="Stable, opaque id (`evt_3`); treat it as a string.")
    slug: str = Field(description="URL-safe, unique per type; usable wherever an id is.")
    created_at: datetime
    updated_at: datetime


class PublishableItem(Item):
    status: str = _enum(STATUSES, "Only `published` items are public.")
    published_at: datetime | None


class Feeds(Schema):
    """Absolute URLs of the item's syndication feeds."""

    rss: str
    atom: str
    json_feed: str = Field(alias="json")
    ics: str | None = Field(
        default=None, description="iCalendar of the topic's events (topics only)."
    )


class Photo(Schema):
    url: str
    alt: str | None
    credit: str | None


class HeroImage(Schema):
    url: str
    alt: str | None
    caption: str | None
    credit: str | None


class Venue(Schema):
    name: str | None
    address: str | None


class ResourceContact(Schema):
    """One way to reach a support resource, labelled as its page shows it."""

    label: str = Field(description='e.g. "Phone", "24/7 urgent support hotline", "Helpline".')
    kind: str = _enum(CONTACT_KINDS, "What `value` is: for a `tel:`, `sms:` or `mailto:` link.")
    value: str = Field(description='The number or address, e.g. "866.742.5667 (SHALOM-7)".')


# --- flat objects (no relations): what the topic stream returns ----------------------


class TopicFields(Item):
    name: str
    description: str | None


class OrganizationFields(Item):
    name: str
    short_name: str | None = Field(description="e.g. CDDRL")
    url: str | None


class PersonFields(Item):
    name: str
    sort_name: str = Field(
        description='"Family, Given" or "Family, Given, Suffix", e.g. "King, Martin Luther, '
        'Jr.": as the editor set it, or derived from `name` with the last word as the family '
        'name (right for "Jane Doe", not for a name written family name first such as "Xi '
        "Jinping\", which needs it set: see the write body's `sort_name`). Orders people "
        "lists and names the person in citations."
    )
    title: str | None = Field(description="Headline, e.g. the person's position.")
    degrees: str | None = Field(description='e.g. "MA, PhD"')
    bio: str | None = Field(description="Sanitized HTML.")
    bio_text: str | None = Field(description="Plain-text rendering of `bio`.")
    photo: Photo | None
    email: str | None
    phone: str | None
    office: str | None
    profile_url: str | None
    cv_url: str | None


class ArticleFields(PublishableItem):
    title: str
    subtitle: str | None
    article_type: str = _enum(ARTICLE_TYPES)
    byline: str | None = Field(description="Free text when the authors are not in the directory.")
    body: str | None = Field(description="Sanitized HTML.")
    body_text: str | None
    hero_image: HeroImage | None


class QuoteFields(PublishableItem):
    text: str
    attribution: str | None = Field(description='e.g. "Founder, LeanIn.org"')
    position: int = Field(description="Order among its article's quotes.")
    after_block: int | None = Field(
        description="Where it stands in its article's `body`: after this many of the body's "
        "top-level blocks (the elements a browser's DOM lists as `children` of an element "
        "holding the body; 0: before the first). Null: not placed in the body, or no "
        "`article` shown (one the viewer cannot see: a draft, a scheduled or a deleted article)."
    )


class EventFields(PublishableItem):
    title: str
    subtitle: str | None
    event_type: str = _enum(EVENT_TYPES)
    summary: str | None
    body: str | None = Field(description="Sanitized HTML.")
    body_text: str | None
    starts_at: datetime
    ends_at: datetime | None
    timezone: str = Field(description="IANA time zone of the venue, e.g. America/Los_Angeles.")
    attendance_mode: str = _enum(ATTENDANCE_MODES)
    event_status: str = _enum(EVENT_STATUSES)
    venue: Venue | None
    online_url: str | None
    online_platform: str | None = Field(
        description='What it is attended on online, e.g. "Zoom" (online and hybrid events).'
    )
    registration_url: str | None
    hero_image: HeroImage | None = Field(description="Lead image, shown above the text.")


class PublicationFields(PublishableItem):
    title: str
    publication_type: str = _enum(PUBLICATION_TYPES)
    abstract: str | None
    journal: str | None
    publisher: str | None
    volume: str | None
    issue: str | None
    pages: str | None
    year: int | None
    published_on: date | None
    doi: str | None
    url: str | None


class ResourceFields(PublishableItem):
    name: str
    resource_type: str = _enum(RESOURCE_TYPES)
    description: str | None
    phone: str | None = Field(description="Main phone number, unlabelled (see `contacts`).")
    hotline: str | None = Field(description="Hotline number, unlabelled (see `contacts`).")
    email: str | None = Field(description="Email address, unlabelled (see `contacts`).")
    contacts: list[ResourceContact] = Field(
        description="Every way to reach it, labelled and in order, as its page lists them: "
        "what to show. When its editor gave none, made from `phone`, `hotline` and `email` "
        '(labelled "Phone", "Hotline", "Email").'
    )
    url: str | None
    hours: str | None
    audience: str | None
    is_confidential: bool
    position: int


# --- full objects --------------------------------------------------------------------


class Topic(TopicFields):
    """A topic such as "Kidnapping"."""

    feeds: Feeds


class Organization(OrganizationFields):
    """An institute, center or sponsor."""

    parent: OrganizationRef | Organization | None
    topics: list[TopicRef | Topic]


class Affiliation(Schema):
    """A person's role at an organization."""

    role: str
    start_year: int | None
    end_year: int | None = Field(description="Year it ended; null when current, or unknown.")
    is_current: bool = Field(
        description="Whether it is held now: false with an `end_year`, and for a role that "
        'ended in a year unknown ("former Chief Operating Officer of Meta").'
    )
    is_primary: bool
    position: int
    organization: OrganizationRef | Organization


class Person(PersonFields):
    """A scholar, speaker or author."""

    feeds: Feeds
    affiliations: list[Affiliation]
    topics: list[TopicRef | Topic]


class Participant(Schema):
    """A person taking part in an event, in a role."""

    role: str = _enum(PARTICIPANT_ROLES)
    title: str | None = Field(
        default=None,
        description="The person's title as this event presents it, when it differs from "
        "their profile's (`person.title`).",
    )
    position: int
    person: PersonRef | Person


class Quote(QuoteFields):
    """A pull quote."""

    speaker: PersonRef | Person | None
    article: ArticleRef | Article | None
    topics: list[TopicRef | Topic]


class Resource(ResourceFields):
    """A support resource (counseling, hotline, …)."""

    topics: list[TopicRef | Topic]


class RelatedItem(Schema):
    """A "read more" item of any type: `type` plus its compact reference (`title` or
    `name`), or its full object when `include=related`."""

    model_config = ConfigDict(extra="allow")

    type: Literal["article", "event", "publication", "quote", "resource"]
    id: str
    slug: str


class Article(ArticleFields):
    """A news item, commentary, interview, analysis or announcement."""

    authors: list[PersonRef | Person]
    quotes: list[QuoteRef | Quote]
    resources: list[ResourceRef | Resource]
    related: list[RelatedItem]
    topics: list[TopicRef | Topic]


class Event(EventFields):
    """A seminar, conference, screening…"""

    participants: list[Participant]
    sponsors: list[OrganizationRef | Organization]
    topics: list[TopicRef | Topic]


class Publication(PublicationFields):
    """A journal article, book, report or project."""

    authors: list[PersonRef | Person]
    topics: list[TopicRef | Topic]


ITEM_MODELS: dict[str, type[Item]] = {
    "topics": Topic,
    "organizations": Organization,
    "people": Person,
    "articles": Article,
    "quotes": Quote,
    "events": Event,
    "publications": Publication,
    "resources": Resource,
}


# --- envelopes -----------------------------------------------------------------------


class ListMeta(Schema):
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last."
    )
    total: int = Field(description="Items matching the request, over all pages.")


class ListLinks(Schema):
    self: str = Field(description="This page (absolute URL).")
    next: str | None = Field(
        description='The next page (absolute URL), also sent as `Link: <…>; rel="next"`.'
    )


class ListEnvelope(Schema):
    meta: ListMeta
    links: ListLinks


def list_model(name: str, item: Any) -> type[ListEnvelope]:
    """`{Name}List`: the list envelope around `item`s."""
    return create_model(  # type: ignore[no-any-return]
        f"{name}List",
        __base__=ListEnvelope,
        __doc__=f"A page of {name} items.",
        data=(list[item], ...),
    )


LIST_MODELS: dict[str, type[ListEnvelope]] = {
    collection: list_model(model.__name__, model) for collection, model in ITEM_MODELS.items()
}


_ON_REQUEST = "Only when `include` or `fields` names it."


class ArticleStreamItem(ArticleFields):
    """An article in a topic stream."""

    type: Literal["article"]
    authors: list[PersonRef | Person] | None = Field(default=None, description=_ON_REQUEST)
    quotes: list[QuoteRef | Quote] | None = Field(default=None, description=_ON_REQUEST)
    resources: list[ResourceRef | Resource] | None = Field(default=None, description=_ON_REQUEST)
    related: list[RelatedItem] | None = Field(default=None, description=_ON_REQUEST)
    topics: list[TopicRef | Topic] | None = Field(default=None, description=_ON_REQUEST)


class EventStreamItem(EventFields):
    """An event in a topic stream."""

    type: Literal["event"]
    participants: list[Participant] | None = Field(default=None, description=_ON_REQUEST)
    sponsors: list[OrganizationRef | Organization] | None = Field(
        default=None, description=_ON_REQUEST
    )
    topics: list[TopicRef | Topic] | None = Field(default=None, description=_ON_REQUEST)


class PublicationStreamItem(PublicationFields):
    """A publication in a topic stream."""

    type: Literal["publication"]
    authors: list[PersonRef | Person] | None = Field(default=None, description=_ON_REQUEST)
    topics: list[TopicRef | Topic] | None = Field(default=None, description=_ON_REQUEST)


class QuoteStreamItem(QuoteFields):
    """A quote in a topic stream."""

    type: Literal["quote"]
    speaker: PersonRef | Person | None = Field(default=None, description=_ON_REQUEST)
    article: ArticleRef | Article | None = Field(default=None, description=_ON_REQUEST)
    topics: list[TopicRef | Topic] | None = Field(default=None, description=_ON_REQUEST)


StreamItem = Annotated[
    ArticleStreamItem | EventStreamItem | PublicationStreamItem | QuoteStreamItem,
    Field(discriminator="type"),
]
StreamList = list_model("Stream", StreamItem)


class SearchHit(Schema):
    """One search result; `title` for articles, events, publications and quotes (a quote's
    `title` is its `text`, so every hit has a `title` or a `name`), `name` for topics,
    organizations, people and resources."""

    model_config = ConfigDict(extra="allow")

    type: Literal[
        "topic", "organization", "person", "article", "quote", "event", "publication", "resource"
    ]
    id: str
    slug: str
    title: str | None = Field(
        default=None, description="Articles, events, publications; quotes (their text)."
    )
    name: str | None = Field(default=None, description="Topics, organizations, people, resources.")
    text: str | None = Field(default=None, description="Quotes (the same as `title`).")
    score: float = Field(description="Relevance; results come with non-increasing scores.")
    snippet: str = Field(description="Matching text, HTML-escaped, matches in `<mark>…</mark>`.")


SearchList = list_model("Search", SearchHit)


class Change(Schema):
    """One entry of the change log."""

    action: Literal["created", "updated", "deleted"]
    type: Literal[
        "topic", "organization", "person", "article", "quote", "event", "publication", "resource"
    ]
    id: str
    slug: str
    updated_at: datetime = Field(description="When the change became visible.")


class ChangeMeta(ListMeta):
    next_since: str = Field(description="Pass as `since` to get the changes after this page.")


class ChangeList(Schema):
    """A page of the change log."""

    data: list[Change]
    meta: ChangeMeta
    links: ListLinks
