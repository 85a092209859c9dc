"""Ordered link tables between content items."""

from __future__ import annotations

from sqlalchemy import Index
from sqlmodel import Field

from app.models.base import Table

PARTICIPANT_ROLES = ("speaker", "moderator", "host", "panelist", "discussant", "organizer")


class ArticleAuthor(Table, table=True):
    __tablename__ = "article_author"
    __table_args__ = (Index("ix_article_author_person", "person_id", "article_id"),)

    article_id: int = Field(foreign_key="article.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    position: int = Field(default=0)


class PublicationAuthor(Table, table=True):
    __tablename__ = "publication_author"
    __table_args__ = (Index("ix_publication_author_person", "person_id", "publication_id"),)

    publication_id: int = Field(foreign_key="publication.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    position: int = Field(default=0)


class EventParticipant(Table, table=True):
    __tablename__ = "event_participant"
    __table_args__ = (Index("ix_event_participant_person", "person_id", "role", "event_id"),)

    event_id: int = Field(foreign_key="event.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    role: str = Field(max_length=24, primary_key=True)
    position: int = Field(default=0)
    # The lines under the name on this event's card ("Hamid and Christina Moghadam Director
    # of Iranian Studies, Stanford University"), when they differ from the profile's title.
    title: str | None = Field(default=None, max_length=500)


class EventSponsor(Table, table=True):
    __tablename__ = "event_sponsor"
    event_id: int = Field(foreign_key="event.id", primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", primary_key=True, index=True)
    position: int = Field(default=0)


class ArticleResource(Table, table=True):
    __tablename__ = "article_resource"
    article_id: int = Field(foreign_key="article.id", primary_key=True)
    resource_id: int = Field(foreign_key="resource.id", primary_key=True, index=True)
    position: int = Field(default=0)


class RelatedItem(Table, table=True):
    __tablename__ = "related_item"
    """An article's ordered "Read more" list; the target may be any content type."""

    # The articles that show an item (`shown_change`'s triggers, when it goes public).
    __table_args__ = (Index("ix_related_item_target", "target_type", "target_id"),)

    article_id: int = Field(foreign_key="article.id", primary_key=True)
    target_type: str = Field(max_length=24, primary_key=True)
    target_id: int = Field(primary_key=True)
    position: int = Field(default=0)
