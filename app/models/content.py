"""Publishable content: articles, quotes, events, publications, resources."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field

from app.db import UTCDateTime
from app.models.base import Publishable
from app.models.sort_keys import key_field

ARTICLE_TYPES = ("news", "commentary", "interview", "analysis", "announcement")
EVENT_TYPES = ("seminar", "conference", "panel", "lecture", "screening", "workshop", "other")
ATTENDANCE_MODES = ("in_person", "online", "hybrid")
EVENT_STATUSES = ("scheduled", "cancelled", "postponed", "rescheduled")
PUBLICATION_TYPES = (
    "journal_article",
    "book",
    "book_chapter",
    "working_paper",
    "report",
    "policy_brief",
    "research_project",
    "other",
)
RESOURCE_TYPES = ("counseling", "hotline", "support_group", "legal", "information", "other")
CONTACT_KINDS = ("phone", "sms", "email", "url", "other")


class Article(Publishable, table=True):
    __table_args__ = (
        Index("ix_article_type_published", "article_type", "published_at"),
        Index("ix_article_visibility", "status", "published_at", "deleted_at"),
        Index("ix_article_title_key", "title_key", "id"),
    )

    title: str = Field(max_length=500)
    title_key: str = key_field()
    subtitle: str | None = None
    article_type: str = Field(default="news", max_length=24)
    byline: str | None = Field(default=None, max_length=500)
    body: str | None = None
    body_text: str | None = None
    hero_image_url: str | None = Field(default=None, max_length=500)
    hero_image_alt: str | None = Field(default=None, max_length=1000)
    hero_image_caption: str | None = Field(default=None, max_length=2000)
    hero_image_credit: str | None = Field(default=None, max_length=300)


class Quote(Publishable, table=True):
    __table_args__ = (
        Index("ix_quote_article_position", "article_id", "position"),
        Index("ix_quote_visibility", "status", "published_at", "deleted_at", "position"),
        # The `position` sort, with the keyset's tie-break: most quotes share position 0.
        Index("ix_quote_position_sort", "position", "id"),
    )

    text: str
    speaker_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    attribution: str | None = Field(default=None, max_length=500)
    article_id: int | None = Field(default=None, foreign_key="article.id")
    position: int = Field(default=0)
    # Where it stands in its article's body: after that many top-level blocks
    # (`app.content.placement`); None: not placed in the body.
    after_block: int | None = None


class Event(Publishable, table=True):
    __table_args__ = (
        Index("ix_event_type_starts", "event_type", "starts_at"),
        Index("ix_event_mode_starts", "attendance_mode", "starts_at"),
        Index("ix_event_visibility", "status", "published_at", "deleted_at", "starts_at"),
        Index("ix_event_title_key", "title_key", "id"),
    )

    title: str = Field(max_length=500)
    title_key: str = key_field()
    subtitle: str | None = None
    event_type: str = Field(default="other", max_length=24)
    summary: str | None = None
    body: str | None = None
    body_text: str | None = None
    starts_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    ends_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    timezone: str = Field(default="UTC", max_length=64)
    attendance_mode: str = Field(default="in_person", max_length=16)
    event_status: str = Field(default="scheduled", max_length=16)
    venue_name: str | None = Field(default=None, max_length=300)
    venue_address: str | None = Field(default=None, max_length=500)
    online_url: str | None = Field(default=None, max_length=500)
    online_platform: str | None = Field(default=None, max_length=100)
    registration_url: str | None = Field(default=None, max_length=500)
    hero_image_url: str | None = Field(default=None, max_length=500)
    hero_image_alt: str | None = Field(default=None, max_length=1000)
    hero_image_caption: str | None = Field(default=None, max_length=2000)
    hero_image_credit: str | None = Field(default=None, max_length=300)


class Publication(Publishable, table=True):
    # Its type and visibility indexes end with the year as its sort has it, coalesce(year,
    # 0): indexes on an expression, made by migration 9d84df82911f
    # (`app.migrations.UNMODELLED_INDEXES`).
    __table_args__ = (Index("ix_publication_title_key", "title_key", "id"),)

    title: str = Field(max_length=500)
    title_key: str = key_field()
    publication_type: str = Field(default="other", max_length=24)
    abstract: str | None = None
    journal: str | None = Field(default=None, max_length=300)
    publisher: str | None = Field(default=None, max_length=300)
    volume: str | None = Field(default=None, max_length=40)
    issue: str | None = Field(default=None, max_length=40)
    pages: str | None = Field(default=None, max_length=40)
    year: int | None = None
    published_on: date | None = None
    doi: str | None = Field(default=None, max_length=200)
    url: str | None = Field(default=None, max_length=500)


class Resource(Publishable, table=True):
    __table_args__ = (
        Index("ix_resource_visibility", "status", "published_at", "deleted_at", "position"),
        Index("ix_resource_name_key", "name_key", "id"),
    )

    name: str = Field(max_length=300)
    name_key: str = key_field()
    resource_type: str = Field(default="other", max_length=24, index=True)
    description: str | None = None
    phone: str | None = Field(default=None, max_length=100)
    hotline: str | None = Field(default=None, max_length=100)
    email: str | None = Field(default=None, max_length=300)
    # [{label, kind, value}] as given; None: made from phone, hotline and email when read
    # (`app.content.contacts`).
    contacts: list[dict[str, Any]] | None = Field(default=None, sa_type=JSON)
    url: str | None = Field(default=None, max_length=500)
    hours: str | None = Field(default=None, max_length=300)
    audience: str | None = Field(default=None, max_length=300)
    is_confidential: bool = Field(default=False)
    position: int = Field(default=0, index=True)
