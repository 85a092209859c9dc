"""Topics and the one tagging table that links any content item to them."""

from __future__ import annotations

from sqlalchemy import Index
from sqlmodel import Field

from app.models.base import Entity, Table


class Topic(Entity, table=True):
    name: str = Field(max_length=200, index=True)
    description: str | None = None


class Tagging(Table, table=True):
    """`entity_type` is the singular type name ("event"); no FK, one table for all types."""

    __table_args__ = (
        Index("ix_tagging_topic_type_entity", "topic_id", "entity_type", "entity_id"),
    )

    entity_type: str = Field(max_length=24, primary_key=True)
    entity_id: int = Field(primary_key=True)
    topic_id: int = Field(foreign_key="topic.id", primary_key=True)
    position: int = Field(default=0)
