"""Topics and the one tagging table that links any content item to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field

from app.db import UTCDateTime
from app.models.base import Entity, Table
from app.models.sort_keys import key_field


class Topic(Entity, table=True):
    __table_args__ = (Index("ix_topic_name_key", "name_key", "id"),)

    name: str = Field(max_length=200)
    name_key: str = key_field()
    description: str | None = None


class Tagging(Table, table=True):
    """`entity_type` is the singular type name ("event"); no FK, one table for all types.

    `public_at` is the tagged item's: the instant from which the public sees it (NULL:
    never), as `app.content.visibility.public_since` computes it: the write layer sets it on
    insert, and triggers on the items' tables keep it as their rows change (migration
    `tagging_public_at`, whoever writes them). For a published item it is its `published_at`, the
    stream's sort key: a topic's public stream of a type is a range of
    `ix_tagging_topic_type_public`, newest first, without reading the items' tables."""

    __table_args__ = (
        Index("ix_tagging_topic_type_entity", "topic_id", "entity_type", "entity_id"),
        Index("ix_tagging_topic_type_public", "topic_id", "entity_type", "public_at", "entity_id"),
    )

    entity_type: str = Field(max_length=24, primary_key=True)
    entity_id: int = Field(primary_key=True)
    topic_id: int = Field(foreign_key="topic.id", primary_key=True)
    position: int = Field(default=0)
    public_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
