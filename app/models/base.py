"""Columns shared by every content table.

There are deliberately no ORM `relationship()`s in Dossier: every relation is loaded
by the query layer (`app.content.relations`) in one batched query per relation and
level, so lazy loading — and with it the N+1 — is impossible by construction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import false
from sqlmodel import Field, SQLModel
from sqlmodel.main import SQLModelConfig

from app.db import UTCDateTime, utcnow

STATUSES = ("draft", "published", "archived")


class Table(SQLModel):
    """Base of every table model.

    Rows are built by SQLAlchemy or from already validated write models, never validated by
    pydantic, so the validators are built only if something asks for one (defer_build): the
    server starts without building ~20 of them.
    """

    model_config = SQLModelConfig(defer_build=True)


class Entity(Table):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=200, unique=True, index=False)
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True
    )
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = Field(default=1, nullable=False)


class Publishable(Entity):
    status: str = Field(default="draft", max_length=16, nullable=False)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    # Set once the item has been public: only such items leave a tombstone in the
    # change log when they stop being public (deleted, unpublished, archived).
    was_public: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # When, and under which slug, the item last left the public surface: its change-log
    # tombstone keeps saying that while editors go on changing the hidden item.
    left_public_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    public_slug: str | None = Field(default=None, max_length=200)
