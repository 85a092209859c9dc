"""initial schema: every table, plus the full-text index of the dialect

SQLite gets an FTS5 external-content table over `search_document`, kept in step by
triggers; PostgreSQL a GIN index on the tsvector expression `app.content.search` matches
with. Neither is in the models; `app.migrations.include_name` hides them from autogenerate.

Revision ID: f6d3957cad4c
Revises:
Create Date: 2026-11-25 19:01:42.411961+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate renders sqlmodel.sql.sqltypes.AutoString)
from alembic import op

import app.db  # noqa: F401  (autogenerate renders app.db.UTCDateTime)


# The expression app.content.search.PG_TSVECTOR queries; they must stay identical.
PG_TSVECTOR = "to_tsvector('english', coalesce(title, '') || ' ' || coalesce(body, ''))"

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, content='search_document', "
    "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER search_document_ai AFTER INSERT ON search_document BEGIN "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER search_document_ad AFTER DELETE ON search_document BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER search_document_au AFTER UPDATE ON search_document BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
]
SQLITE_FTS_DROP = [
    "DROP TRIGGER IF EXISTS search_document_au",
    "DROP TRIGGER IF EXISTS search_document_ad",
    "DROP TRIGGER IF EXISTS search_document_ai",
    "DROP TABLE IF EXISTS search_fts",
]

# revision identifiers, used by Alembic.
revision: str = "f6d3957cad4c"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("prefix", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("secret_hash", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("scopes", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("name", name=op.f("uq_api_key_name")),
    )
    op.create_index(op.f("ix_api_key_prefix"), "api_key", ["prefix"], unique=False)
    op.create_table(
        "article",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("published_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("subtitle", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("article_type", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("byline", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("body", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("body_text", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("hero_image_url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("hero_image_alt", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column(
            "hero_image_caption", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True
        ),
        sa.Column("hero_image_credit", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article")),
        sa.UniqueConstraint("slug", name=op.f("uq_article_slug")),
    )
    op.create_index(op.f("ix_article_published_at"), "article", ["published_at"], unique=False)
    op.create_index(
        "ix_article_type_published", "article", ["article_type", "published_at"], unique=False
    )
    op.create_index(op.f("ix_article_updated_at"), "article", ["updated_at"], unique=False)
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("entity_type", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
    )
    op.create_index(op.f("ix_audit_entry_at"), "audit_entry", ["at"], unique=False)
    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("published_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("subtitle", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("event_type", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("summary", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("body", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("body_text", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("starts_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("timezone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("attendance_mode", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("event_status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("venue_name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("venue_address", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("online_url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("registration_url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event")),
        sa.UniqueConstraint("slug", name=op.f("uq_event_slug")),
    )
    op.create_index("ix_event_mode_starts", "event", ["attendance_mode", "starts_at"], unique=False)
    op.create_index(op.f("ix_event_published_at"), "event", ["published_at"], unique=False)
    op.create_index(op.f("ix_event_starts_at"), "event", ["starts_at"], unique=False)
    op.create_index("ix_event_type_starts", "event", ["event_type", "starts_at"], unique=False)
    op.create_index(op.f("ix_event_updated_at"), "event", ["updated_at"], unique=False)
    op.create_table(
        "organization",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("short_name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["organization.id"], name=op.f("fk_organization_parent_id_organization")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organization")),
        sa.UniqueConstraint("slug", name=op.f("uq_organization_slug")),
    )
    op.create_index(op.f("ix_organization_parent_id"), "organization", ["parent_id"], unique=False)
    op.create_index(
        op.f("ix_organization_updated_at"), "organization", ["updated_at"], unique=False
    )
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("sort_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("degrees", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("bio", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("bio_text", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("photo_url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("photo_alt", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("photo_credit", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("office", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("profile_url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("cv_url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
        sa.UniqueConstraint("slug", name=op.f("uq_person_slug")),
    )
    op.create_index(op.f("ix_person_sort_name"), "person", ["sort_name"], unique=False)
    op.create_index(op.f("ix_person_updated_at"), "person", ["updated_at"], unique=False)
    op.create_table(
        "publication",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("published_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("publication_type", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("abstract", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("journal", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("publisher", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("volume", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("issue", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("pages", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("doi", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publication")),
        sa.UniqueConstraint("slug", name=op.f("uq_publication_slug")),
    )
    op.create_index(
        op.f("ix_publication_published_at"), "publication", ["published_at"], unique=False
    )
    op.create_index(
        "ix_publication_type_year", "publication", ["publication_type", "year"], unique=False
    )
    op.create_index(op.f("ix_publication_updated_at"), "publication", ["updated_at"], unique=False)
    op.create_index(op.f("ix_publication_year"), "publication", ["year"], unique=False)
    op.create_table(
        "resource",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("published_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("resource_type", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("hotline", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("hours", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("audience", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("is_confidential", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resource")),
        sa.UniqueConstraint("slug", name=op.f("uq_resource_slug")),
    )
    op.create_index(op.f("ix_resource_position"), "resource", ["position"], unique=False)
    op.create_index(op.f("ix_resource_published_at"), "resource", ["published_at"], unique=False)
    op.create_index(op.f("ix_resource_resource_type"), "resource", ["resource_type"], unique=False)
    op.create_index(op.f("ix_resource_updated_at"), "resource", ["updated_at"], unique=False)
    op.create_table(
        "search_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_type", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("body", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_document")),
    )
    op.create_index(
        "ix_search_document_entity", "search_document", ["entity_type", "entity_id"], unique=True
    )
    dialect = op.get_context().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)
    elif dialect == "postgresql":
        op.create_index(
            "ix_search_document_tsv",
            "search_document",
            [sa.text(PG_TSVECTOR)],
            postgresql_using="gin",
        )
    op.create_table(
        "topic",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topic")),
        sa.UniqueConstraint("slug", name=op.f("uq_topic_slug")),
    )
    op.create_index(op.f("ix_topic_updated_at"), "topic", ["updated_at"], unique=False)
    op.create_table(
        "affiliation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("start_year", sa.Integer(), nullable=True),
        sa.Column("end_year", sa.Integer(), nullable=True),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_affiliation_organization_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_affiliation_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_affiliation")),
    )
    op.create_index(
        op.f("ix_affiliation_organization_id"), "affiliation", ["organization_id"], unique=False
    )
    op.create_index(
        "ix_affiliation_person_position", "affiliation", ["person_id", "position"], unique=False
    )
    op.create_table(
        "article_author",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["article.id"], name=op.f("fk_article_author_article_id_article")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_article_author_person_id_person")
        ),
        sa.PrimaryKeyConstraint("article_id", "person_id", name=op.f("pk_article_author")),
    )
    op.create_index(
        "ix_article_author_person", "article_author", ["person_id", "article_id"], unique=False
    )
    op.create_table(
        "article_resource",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["article.id"], name=op.f("fk_article_resource_article_id_article")
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"], ["resource.id"], name=op.f("fk_article_resource_resource_id_resource")
        ),
        sa.PrimaryKeyConstraint("article_id", "resource_id", name=op.f("pk_article_resource")),
    )
    op.create_index(
        op.f("ix_article_resource_resource_id"), "article_resource", ["resource_id"], unique=False
    )
    op.create_table(
        "event_participant",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_event_participant_event_id_event")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_event_participant_person_id_person")
        ),
        sa.PrimaryKeyConstraint("event_id", "person_id", "role", name=op.f("pk_event_participant")),
    )
    op.create_index(
        "ix_event_participant_person",
        "event_participant",
        ["person_id", "role", "event_id"],
        unique=False,
    )
    op.create_table(
        "event_sponsor",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_event_sponsor_event_id_event")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_event_sponsor_organization_id_organization"),
        ),
        sa.PrimaryKeyConstraint("event_id", "organization_id", name=op.f("pk_event_sponsor")),
    )
    op.create_index(
        op.f("ix_event_sponsor_organization_id"), "event_sponsor", ["organization_id"], unique=False
    )
    op.create_table(
        "publication_author",
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_publication_author_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["publication_id"],
            ["publication.id"],
            name=op.f("fk_publication_author_publication_id_publication"),
        ),
        sa.PrimaryKeyConstraint("publication_id", "person_id", name=op.f("pk_publication_author")),
    )
    op.create_index(
        "ix_publication_author_person",
        "publication_author",
        ["person_id", "publication_id"],
        unique=False,
    )
    op.create_table(
        "quote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("published_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("speaker_id", sa.Integer(), nullable=True),
        sa.Column("attribution", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["article.id"], name=op.f("fk_quote_article_id_article")
        ),
        sa.ForeignKeyConstraint(
            ["speaker_id"], ["person.id"], name=op.f("fk_quote_speaker_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quote")),
        sa.UniqueConstraint("slug", name=op.f("uq_quote_slug")),
    )
    op.create_index("ix_quote_article_position", "quote", ["article_id", "position"], unique=False)
    op.create_index(op.f("ix_quote_published_at"), "quote", ["published_at"], unique=False)
    op.create_index(op.f("ix_quote_speaker_id"), "quote", ["speaker_id"], unique=False)
    op.create_index(op.f("ix_quote_updated_at"), "quote", ["updated_at"], unique=False)
    op.create_table(
        "related_item",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("target_type", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["article.id"], name=op.f("fk_related_item_article_id_article")
        ),
        sa.PrimaryKeyConstraint(
            "article_id", "target_type", "target_id", name=op.f("pk_related_item")
        ),
    )
    op.create_table(
        "tagging",
        sa.Column("entity_type", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["topic_id"], ["topic.id"], name=op.f("fk_tagging_topic_id_topic")),
        sa.PrimaryKeyConstraint("entity_type", "entity_id", "topic_id", name=op.f("pk_tagging")),
    )
    op.create_index(
        "ix_tagging_topic_type_entity",
        "tagging",
        ["topic_id", "entity_type", "entity_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_tagging_topic_type_entity", table_name="tagging")
    op.drop_table("tagging")
    op.drop_table("related_item")
    op.drop_index(op.f("ix_quote_updated_at"), table_name="quote")
    op.drop_index(op.f("ix_quote_speaker_id"), table_name="quote")
    op.drop_index(op.f("ix_quote_published_at"), table_name="quote")
    op.drop_index("ix_quote_article_position", table_name="quote")
    op.drop_table("quote")
    op.drop_index("ix_publication_author_person", table_name="publication_author")
    op.drop_table("publication_author")
    op.drop_index(op.f("ix_event_sponsor_organization_id"), table_name="event_sponsor")
    op.drop_table("event_sponsor")
    op.drop_index("ix_event_participant_person", table_name="event_participant")
    op.drop_table("event_participant")
    op.drop_index(op.f("ix_article_resource_resource_id"), table_name="article_resource")
    op.drop_table("article_resource")
    op.drop_index("ix_article_author_person", table_name="article_author")
    op.drop_table("article_author")
    op.drop_index("ix_affiliation_person_position", table_name="affiliation")
    op.drop_index(op.f("ix_affiliation_organization_id"), table_name="affiliation")
    op.drop_table("affiliation")
    op.drop_index(op.f("ix_topic_updated_at"), table_name="topic")
    op.drop_table("topic")
    dialect = op.get_context().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_FTS_DROP:
            op.execute(statement)
    elif dialect == "postgresql":
        op.drop_index("ix_search_document_tsv", table_name="search_document")
    op.drop_index("ix_search_document_entity", table_name="search_document")
    op.drop_table("search_document")
    op.drop_index(op.f("ix_resource_updated_at"), table_name="resource")
    op.drop_index(op.f("ix_resource_resource_type"), table_name="resource")
    op.drop_index(op.f("ix_resource_published_at"), table_name="resource")
    op.drop_index(op.f("ix_resource_position"), table_name="resource")
    op.drop_table("resource")
    op.drop_index(op.f("ix_publication_year"), table_name="publication")
    op.drop_index(op.f("ix_publication_updated_at"), table_name="publication")
    op.drop_index("ix_publication_type_year", table_name="publication")
    op.drop_index(op.f("ix_publication_published_at"), table_name="publication")
    op.drop_table("publication")
    op.drop_index(op.f("ix_person_updated_at"), table_name="person")
    op.drop_index(op.f("ix_person_sort_name"), table_name="person")
    op.drop_table("person")
    op.drop_index(op.f("ix_organization_updated_at"), table_name="organization")
    op.drop_index(op.f("ix_organization_parent_id"), table_name="organization")
    op.drop_table("organization")
    op.drop_index(op.f("ix_event_updated_at"), table_name="event")
    op.drop_index("ix_event_type_starts", table_name="event")
    op.drop_index(op.f("ix_event_starts_at"), table_name="event")
    op.drop_index(op.f("ix_event_published_at"), table_name="event")
    op.drop_index("ix_event_mode_starts", table_name="event")
    op.drop_table("event")
    op.drop_index(op.f("ix_audit_entry_at"), table_name="audit_entry")
    op.drop_table("audit_entry")
    op.drop_index(op.f("ix_article_updated_at"), table_name="article")
    op.drop_index("ix_article_type_published", table_name="article")
    op.drop_index(op.f("ix_article_published_at"), table_name="article")
    op.drop_table("article")
    op.drop_index(op.f("ix_api_key_prefix"), table_name="api_key")
    op.drop_table("api_key")
