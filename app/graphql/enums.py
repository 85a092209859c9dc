"""GraphQL enums: UPPER_SNAKE names whose values are the stored (REST) strings.

An enum's value is what the database holds (`in_person`), so object fields resolve
straight from the row and GraphQL prints the name (`IN_PERSON`).
"""

from __future__ import annotations

from enum import Enum

import strawberry

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


@strawberry.enum(
    description="Publishing state; only PUBLISHED items whose publishedAt has passed are public."
)
class Status(Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


@strawberry.enum(description="Kind of article.")
class ArticleType(Enum):
    NEWS = "news"
    COMMENTARY = "commentary"
    INTERVIEW = "interview"
    ANALYSIS = "analysis"
    ANNOUNCEMENT = "announcement"


@strawberry.enum(description="Kind of event.")
class EventType(Enum):
    SEMINAR = "seminar"
    CONFERENCE = "conference"
    PANEL = "panel"
    LECTURE = "lecture"
    SCREENING = "screening"
    WORKSHOP = "workshop"
    OTHER = "other"


@strawberry.enum(description="How people attend an event.")
class AttendanceMode(Enum):
    IN_PERSON = "in_person"
    ONLINE = "online"
    HYBRID = "hybrid"


@strawberry.enum(description="Whether an event takes place as announced.")
class EventStatus(Enum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    POSTPONED = "postponed"
    RESCHEDULED = "rescheduled"


@strawberry.enum(description="A person's role in an event.")
class ParticipantRole(Enum):
    SPEAKER = "speaker"
    MODERATOR = "moderator"
    HOST = "host"
    PANELIST = "panelist"
    DISCUSSANT = "discussant"
    ORGANIZER = "organizer"


@strawberry.enum(description="Kind of publication.")
class PublicationType(Enum):
    JOURNAL_ARTICLE = "journal_article"
    BOOK = "book"
    BOOK_CHAPTER = "book_chapter"
    WORKING_PAPER = "working_paper"
    REPORT = "report"
    POLICY_BRIEF = "policy_brief"
    RESEARCH_PROJECT = "research_project"
    OTHER = "other"


@strawberry.enum(description="Kind of support resource.")
class ResourceType(Enum):
    COUNSELING = "counseling"
    HOTLINE = "hotline"
    SUPPORT_GROUP = "support_group"
    LEGAL = "legal"
    INFORMATION = "information"
    OTHER = "other"


@strawberry.enum(description="What a resource's contact value is.")
class ContactKind(Enum):
    PHONE = strawberry.enum_value("phone", description="A number to call (`tel:`).")
    SMS = strawberry.enum_value("sms", description="A number to text (`sms:`).")
    EMAIL = strawberry.enum_value("email", description="An email address (`mailto:`).")
    URL = strawberry.enum_value("url", description="A web address (`https://…`).")
    OTHER = strawberry.enum_value("other", description="Anything else, written out as it is.")


@strawberry.enum(description="Every kind of content item (as in `search(types:)`).")
class ItemType(Enum):
    TOPIC = "topic"
    ORGANIZATION = "organization"
    PERSON = "person"
    ARTICLE = "article"
    EVENT = "event"
    PUBLICATION = "publication"
    QUOTE = "quote"
    RESOURCE = "resource"


@strawberry.enum(description="The kinds of item a topic's stream holds.")
class StreamItemType(Enum):
    ARTICLE = "article"
    EVENT = "event"
    PUBLICATION = "publication"
    QUOTE = "quote"


@strawberry.enum(description="A reference manager's format: what `Publication.citation` writes.")
class CitationFormat(Enum):
    BIBTEX = strawberry.enum_value("bibtex", description="BibTeX (`.bib`), UTF-8.")
    RIS = strawberry.enum_value("ris", description="RIS (`.ris`), lines ending CRLF.")
    CSL_JSON = strawberry.enum_value(
        "csl-json", description="CSL-JSON: a JSON array of one item, as text."
    )


# The stored vocabularies are declared on the models; these enums must mirror them.
ENUM_OF_CHOICES: dict[tuple[str, ...], type[Enum]] = {
    STATUSES: Status,
    ARTICLE_TYPES: ArticleType,
    EVENT_TYPES: EventType,
    ATTENDANCE_MODES: AttendanceMode,
    EVENT_STATUSES: EventStatus,
    PARTICIPANT_ROLES: ParticipantRole,
    PUBLICATION_TYPES: PublicationType,
    RESOURCE_TYPES: ResourceType,
    CONTACT_KINDS: ContactKind,
}
for _choices, _enum in ENUM_OF_CHOICES.items():
    assert tuple(m.value for m in _enum) == _choices, _enum
