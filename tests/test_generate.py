"""`dossier generate`: deterministic synthetic content that every read path can use.

Runs at a tiny scale (`0.001` of `large`: a few hundred items) on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from app.content.placement import count_blocks
from app.content.queries import ListParams, list_items
from app.content.relations import RELATIONS
from app.content.search import index_item, search
from app.content.text import html_to_text, sanitize_html
from app.content.types import ALL_TYPES, ARTICLE, EVENT, TOPIC
from app.content.visibility import Viewer, visible
from app.content.writes import create_item, current_document, validate
from app.db import make_engine, make_session_factory, metadata, session_scope
from app.generate.content import Plan
from app.generate.generator import GenerationError, generate, generated_count
from app.generate.publishable import SyntheticContent
from app.generate.text import COMMON_WORD
from app.migrations import upgrade_to_head
from app.models import (
    Article,
    Event,
    EventParticipant,
    Quote,
    SearchDocument,
    Tagging,
    Topic,
)
from tests.support import TestDatabases, backend_of

TINY = 0.001
SEED = 7
SECRET = "test-secret"


def _fresh_engine(test_databases: TestDatabases, backend: str) -> Engine:
    url = test_databases.create(backend)
    upgrade_to_head(url)
    return make_engine(url)


def _export(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order (audit log, keys and the content
    version, random per database, excluded)."""
    out = {}
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            if table.name in ("audit_entry", "api_key", "content_version", "type_version"):
                continue
            order = list(table.primary_key.columns)
            out[table.name] = [tuple(r) for r in connection.execute(select(table).order_by(*order))]
    return out


@pytest.fixture(scope="module")
def generated(database_url: str, test_databases: TestDatabases) -> Iterator[Engine]:
    """A fresh database (on the backend under test) holding a tiny generated dataset."""
    engine = _fresh_engine(test_databases, backend_of(database_url))
    generate(engine, TINY, SEED)
    yield engine
    engine.dispose()


@pytest.fixture
def session(generated: Engine) -> Iterator[Session]:
    """A session on the generated database that never commits."""
    with make_session_factory(generated)() as db_session:
        yield db_session
        db_session.rollback()


def test_same_seed_writes_identical_rows(
    generated: Engine, database_url: str, test_databases: TestDatabases
) -> None:
    other = _fresh_engine(test_databases, backend_of(database_url))
    try:
        report = generate(other, TINY, SEED)
        first, second = _export(generated), _export(other)
    finally:
        other.dispose()
    assert first == second
    plan = Plan.for_factor(TINY)
    assert report.rows["event"] == plan.events
    assert report.rows["article"] == plan.articles
    for table in (
        "tagging",
        "event_participant",
        "event_sponsor",
        "article_author",
        "publication_author",
        "affiliation",
        "search_document",
        "quote",
        "related_item",
    ):
        assert report.rows[table] > 0, table
    assert report.rows["search_document"] == plan.content_rows


def _rows_in_memory(seed: int) -> list[tuple[str, dict[str, Any]]]:
    rows: list[tuple[str, dict[str, Any]]] = []
    bases = {t.name: 0 for t in metadata.sorted_tables}
    SyntheticContent(
        seed, Plan.for_factor(TINY), bases, {}, lambda t, r: rows.append((t, r))
    ).build_all()
    return rows


def test_another_seed_gives_other_content() -> None:
    first, again, other = _rows_in_memory(1), _rows_in_memory(1), _rows_in_memory(2)
    assert first == again
    assert [t for t, _ in first if t == "event"] == [
        t for t, _ in other if t == "event"
    ]  # same plan
    assert [r for t, r in first if t == "event"] != [r for t, r in other if t == "event"]


def test_shapes_are_realistic() -> None:
    rows = _rows_in_memory(SEED)
    participants: dict[int, list[str]] = {}
    for table, row in rows:
        if table == "event_participant":
            participants.setdefault(row["event_id"], []).append(row["role"])
    sizes = {len(roles) for roles in participants.values()}
    assert min(sizes) >= 1
    assert max(sizes) <= 6
    assert len(sizes) >= 4
    roles = [role for event_roles in participants.values() for role in event_roles]
    assert roles.count("speaker") > len(roles) / 2
    assert {"moderator", "host"} <= set(roles)
    bodies = [len(r["body"]) for t, r in rows if t == "article"]
    assert min(bodies) >= 1000
    assert max(bodies) <= 4000
    statuses = [
        (r["status"], r["deleted_at"] is not None) for t, r in rows if t in ("event", "article")
    ]
    assert statuses.count(("published", False)) > 0.85 * len(statuses)
    assert ("draft", False) in statuses
    assert any(deleted for _, deleted in statuses)
    # Zipf-like topics: the most used topic is on far more items than the median one.
    uses: dict[int, int] = {}
    for table, row in rows:
        if table == "tagging":
            uses[row["topic_id"]] = uses.get(row["topic_id"], 0) + 1
    counts = sorted(uses.values(), reverse=True)
    assert counts[0] > 4 * counts[len(counts) // 2]


def _public_tagged_events(session: Session, topic_id: int, viewer: Viewer) -> int:
    tagged = select(col(Tagging.entity_id)).where(
        col(Tagging.entity_type) == "event", col(Tagging.topic_id) == topic_id
    )
    stmt = (
        select(func.count())
        .select_from(Event)
        .where(col(Event.id).in_(tagged), visible(Event, viewer))
    )
    return session.scalar(stmt) or 0


def test_query_layer_lists_generated_events_by_topic(session: Session) -> None:
    viewer = Viewer()
    top = session.execute(
        select(col(Topic.id), col(Topic.slug))
        .join(Tagging, col(Tagging.topic_id) == col(Topic.id))
        .where(col(Tagging.entity_type) == "event")
        .group_by(col(Topic.id), col(Topic.slug))
        .order_by(func.count().desc(), col(Topic.id))
        .limit(1)
    ).one()
    page = list_items(session, EVENT, ListParams(limit=20, topics=[top.slug]), viewer, SECRET)
    assert len(page.items) == 20
    assert page.next_cursor is not None
    assert page.total == _public_tagged_events(session, top.id, viewer)
    hidden = session.scalar(select(func.count()).select_from(Event).where(~visible(Event, viewer)))
    assert hidden
    assert page.total < (session.scalar(select(func.count()).select_from(Event)) or 0)
    # The relation loaders see the participants the generator wrote.
    links = RELATIONS["event"]["participants"].loader(session, page.items, viewer)
    written = session.scalar(
        select(func.count())
        .select_from(EventParticipant)
        .where(col(EventParticipant.event_id).in_([e.id for e in page.items]))
    )
    assert 0 < sum(len(v) for v in links.values()) <= (written or 0)
    second = list_items(
        session,
        EVENT,
        ListParams(limit=20, topics=[top.slug], cursor=page.next_cursor),
        viewer,
        SECRET,
    )
    assert not {e.id for e in second.items} & {e.id for e in page.items}


def test_search_finds_generated_words(session: Session) -> None:
    viewer = Viewer()
    articles = list_items(session, ARTICLE, ListParams(limit=100), viewer, SECRET).items
    documents = session.scalars(
        select(SearchDocument).where(col(SearchDocument.entity_type) == "article")
    ).all()
    texts = [f"{d.title} {d.body}".lower() for d in documents]
    target = articles[0]
    # The title word found in the fewest documents: the target must be among its hits.
    words = [w.strip(",:").lower() for w in target.title.split() if len(w) > 4]
    word = min(words, key=lambda w: sum(w in t for t in texts))
    hits, total = search(session, word, [ARTICLE], viewer, 100)
    assert target.id in {h.entity_id for h in hits}
    assert total >= 1
    assert all("<mark>" in h.snippet for h in hits[:5] if h.snippet)
    _, common_total = search(session, COMMON_WORD, [ARTICLE, EVENT], viewer, 10)
    public = sum(
        session.scalar(select(func.count()).select_from(t.model).where(visible(t.model, viewer)))
        or 0
        for t in (ARTICLE, EVENT)
    )
    assert common_total > public / 2


@pytest.mark.parametrize("ctype", ALL_TYPES, ids=[t.name for t in ALL_TYPES])
def test_search_documents_are_what_the_write_path_indexes(session: Session, ctype: Any) -> None:
    rows = session.scalars(select(ctype.model).order_by(ctype.model.id).limit(5)).all()
    assert rows
    key = (
        col(SearchDocument.entity_type) == ctype.name,
        col(SearchDocument.entity_id).in_([r.id for r in rows]),
    )
    written = {
        d.entity_id: (d.title, d.body, d.public_at, d.deleted)
        for d in session.scalars(select(SearchDocument).where(*key))
    }
    for row in rows:
        index_item(session, ctype, row)
    session.flush()
    session.expire_all()
    rebuilt = {
        d.entity_id: (d.title, d.body, d.public_at, d.deleted)
        for d in session.scalars(select(SearchDocument).where(*key))
    }
    assert written == rebuilt
    assert len(written) == len(rows)


@pytest.mark.parametrize("ctype", ALL_TYPES, ids=[t.name for t in ALL_TYPES])
def test_generated_documents_store_their_items_visibility(session: Session, ctype: Any) -> None:
    """Drafts, scheduled, archived and deleted items included: search reads it from there."""
    from functools import partial

    from app.content.visibility import public_since

    stored = {
        d.entity_id: (d.public_at, d.deleted)
        for d in session.scalars(
            select(SearchDocument).where(SearchDocument.entity_type == ctype.name)
        )
    }
    rows = session.scalars(select(ctype.model)).all()
    assert {
        r.id: (public_since(ctype.model, partial(getattr, r)), r.deleted_at is not None)
        for r in rows
    } == stored
    if ctype.publishable:
        assert {v[0] is None for v in stored.values()} == {True, False}


def test_generated_taggings_store_their_items_visibility(session: Session) -> None:
    """As the write layer stores it (`Tagging.public_at`): topic streams read it there."""
    from tests.support import tagging_mismatches

    assert tagging_mismatches(session) == []
    hidden = session.scalar(select(func.count()).where(col(Tagging.public_at).is_(None)))
    assert hidden


@pytest.mark.parametrize("ctype", ALL_TYPES, ids=[t.name for t in ALL_TYPES])
def test_generated_items_are_valid_documents(session: Session, ctype: Any) -> None:
    """A PATCH re-validates the whole document: generated items must pass, rich text unchanged."""
    for row in session.scalars(select(ctype.model).order_by(ctype.model.id).limit(10)):
        validate(ctype.collection, current_document(session, ctype, row))
        for html_field, text_field in (("body", "body_text"), ("bio", "bio_text")):
            value = getattr(row, html_field, None)
            if value is not None:
                assert sanitize_html(value) == value
                assert html_to_text(value) == getattr(row, text_field)


def test_generated_quotes_stand_within_their_articles_bodies(session: Session) -> None:
    placed = session.execute(
        select(Quote.after_block, Article.body)  # type: ignore[call-overload]
        .join(Article, col(Article.id) == Quote.article_id)
        .order_by(col(Quote.id))
    ).all()
    assert placed
    assert all(0 < after <= count_blocks(body) for after, body in placed)
    unlinked = session.scalars(
        select(Quote.after_block).where(col(Quote.article_id).is_(None))  # type: ignore[call-overload]
    ).all()
    assert unlinked
    assert set(unlinked) == {None}


def test_generate_after_demo_continues_ids(
    database_url: str, test_databases: TestDatabases
) -> None:
    from app.demo.loader import load_demo

    engine = _fresh_engine(test_databases, backend_of(database_url))
    try:
        factory = make_session_factory(engine)
        with session_scope(factory) as db_session:
            load_demo(db_session)
        with engine.connect() as connection:
            demo_max = {
                t.name: connection.scalar(select(func.max(col(t.model.id)))) or 0 for t in ALL_TYPES
            }
        generate(engine, TINY, SEED)
        with engine.connect() as connection:
            assert generated_count(connection) == Plan.for_factor(TINY).events
            for ctype in ALL_TYPES:
                model = ctype.model
                first = connection.scalar(
                    select(func.min(col(model.id))).where(col(model.slug).like("gen-%"))
                )
                assert first == demo_max[ctype.name] + 1, ctype.name
            popular = connection.execute(
                select(col(Topic.slug))
                .join(Tagging, col(Tagging.topic_id) == col(Topic.id))
                .group_by(col(Topic.slug))
                .order_by(func.count().desc())
                .limit(1)
            ).scalar_one()
            assert popular == "kidnapping"  # existing topics head the popularity ranking
        with session_scope(
            factory
        ) as db_session:  # ids after generated ones (PostgreSQL sequences)
            topic = create_item(db_session, TOPIC.collection, {"name": "After Generation"}, "test")
            assert topic.id > demo_max["topic"] + Plan.for_factor(TINY).topics
            event = db_session.scalars(
                select(Event).where(col(Event.slug) == "gen-event-000001")
            ).one()
            assert event.id == demo_max["event"] + 1
        with pytest.raises(GenerationError, match="already holds generated content"):
            generate(engine, TINY, SEED)
    finally:
        engine.dispose()
