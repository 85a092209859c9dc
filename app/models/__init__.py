"""All tables. Importing this package registers every table on `app.db.metadata`."""

from app.models.base import STATUSES, Entity, Publishable
from app.models.content import (
    ARTICLE_TYPES,
    ATTENDANCE_MODES,
    CONTACT_KINDS,
    EVENT_STATUSES,
    EVENT_TYPES,
    PUBLICATION_TYPES,
    RESOURCE_TYPES,
    Article,
    Event,
    Publication,
    Quote,
    Resource,
)
from app.models.links import (
    PARTICIPANT_ROLES,
    ArticleAuthor,
    ArticleResource,
    EventParticipant,
    EventSponsor,
    PublicationAuthor,
    RelatedItem,
)
from app.models.people import Affiliation, Organization, Person
from app.models.sort_keys import listen
from app.models.system import (
    ApiKey,
    AuditEntry,
    ContentVersion,
    SearchDocument,
    ShownChange,
    TypeVersion,
)
from app.models.taxonomy import Tagging, Topic

listen(Entity)

__all__ = [
    "ARTICLE_TYPES",
    "ATTENDANCE_MODES",
    "CONTACT_KINDS",
    "EVENT_STATUSES",
    "EVENT_TYPES",
    "PARTICIPANT_ROLES",
    "PUBLICATION_TYPES",
    "RESOURCE_TYPES",
    "STATUSES",
    "Affiliation",
    "ApiKey",
    "Article",
    "ArticleAuthor",
    "ArticleResource",
    "AuditEntry",
    "ContentVersion",
    "Entity",
    "Event",
    "EventParticipant",
    "EventSponsor",
    "Organization",
    "Person",
    "Publication",
    "PublicationAuthor",
    "Publishable",
    "Quote",
    "RelatedItem",
    "Resource",
    "SearchDocument",
    "ShownChange",
    "Tagging",
    "Topic",
    "TypeVersion",
]
