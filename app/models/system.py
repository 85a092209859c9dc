"""Operational tables: API keys, the audit log, and the search documents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, false
from sqlmodel import Field

from app.db import UTCDateTime, utcnow
from app.models.base import Table


class ApiKey(Table, table=True):
    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    prefix: str = Field(max_length=16, index=True)
    secret_hash: str = Field(max_length=128)
    scopes: str = Field(max_length=200, description="space-separated scopes")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuditEntry(Table, table=True):
    __tablename__ = "audit_entry"
    # Which item last held a slug: a renamed topic's or person's feed redirects from it.
    __table_args__ = (Index("ix_audit_entry_type_slug", "entity_type", "slug", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True)
    actor: str = Field(max_length=100)
    action: str = Field(max_length=16)
    entity_type: str = Field(max_length=24)
    entity_id: int
    slug: str = Field(max_length=200)
    changes: dict[str, object] | None = Field(default=None, sa_type=JSON)


class SearchDocument(Table, table=True):
    """One row per searchable item, written by the write layer; its visibility follows the
    item's row, and it is deleted with the row, by triggers (whoever writes the row).

    SQLite indexes it with an FTS5 external-content table and triggers; PostgreSQL with
    a GIN index on its tsvector. Both are created by the migration.
    """

    __tablename__ = "search_document"
    __table_args__ = (Index("ix_search_document_entity", "entity_type", "entity_id", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    entity_type: str = Field(max_length=24)
    entity_id: int
    title: str = Field(default="")
    body: str = Field(default="")
    # The item's visibility (`app.content.visibility.public_since`): when the public may
    # see it (NULL: never), and whether it is deleted (previews see the rest).
    public_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deleted: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class ShownChange(Table, table=True):
    """(item_type, item_id) was shown differently from `at` on, because of another item:
    an item it shows a reference to went public then (published, its scheduled time came,
    restored), or a quote came to or left an article. The change log lists the item at its
    latest such moment that has passed, when later than its own change time, and lists with
    `updated_since` count it as changed then (`app.content.shown`).

    Written by triggers on the items' and the link tables (migration `shown_change`),
    whoever writes them; read for the types that show references (articles, quotes).
    Rows are never updated: a row that no longer matters (its cause withdrawn, or the item
    changed itself since) lists the item once more at most."""

    __tablename__ = "shown_change"
    # The primary key is the latest-per-item probe's index; this one reads a window of time
    # (with the ids: from the index alone).
    __table_args__ = (Index("ix_shown_change_type_at", "item_type", "at", "item_id"),)

    item_type: str = Field(max_length=24, primary_key=True)
    item_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime = Field(sa_type=UTCDateTime, primary_key=True)


class ContentVersion(Table, table=True):
    """One row: the database's random `epoch` (a recreated database never repeats a
    version) and a `version` that PostgreSQL's triggers bump first in every writing
    transaction, which orders writers' locks (migration `type_versions`; SQLite's no longer
    bump it). Totals are kept per `TypeVersion`."""

    __tablename__ = "content_version"

    id: int = Field(primary_key=True)
    version: int = Field(sa_type=BigInteger)
    epoch: str = Field(max_length=32)


class TypeVersion(Table, table=True):
    """One row per content type (`name`: "event"), bumped by the same triggers, in the same
    transaction, whenever a table that says something about items of that type changes
    (see the migration `type_versions`): totals of events need not be counted again
    after a person's bio is edited."""

    __tablename__ = "type_version"

    name: str = Field(primary_key=True, max_length=24)
    version: int = Field(sa_type=BigInteger)
