"""Exact totals of lists with words (`q`), counted on PostgreSQL through the GIN index of
each type's search documents.

PostgreSQL prices `tsv @@ query` at one operator's cost and never counts the detoasting of
the row's search vector (~1.5 KB compressed, stored out of line). Counting a word most
documents hold, it chose a sequential scan of `search_document`, a probe of it per item, or
a read of the type's documents through their (type, item) index, all detoasting every
vector: 1.4 to 2 s for `GET /api/v1/articles?q=security` at `bench` scale `large` (605,000
documents). A bitmap of the type's GIN index (`ix_search_document_tsv_<type>`, migration
`search_index_per_type`) finds the matches in the index, and reads their rows, not their
vectors: 0.2 s.

So a total with words is counted from the documents (the visibility each holds is its
item's, kept by triggers, as search reads it): the type's matches by its GIN index, among
the items the list's other conditions leave, if any. When those are few, their documents
may be looked up item by item instead (a small topic's few hundred articles, not the
index's 200,000 matches of a common word).

SQLite answers from its FTS5 index, which holds each document's type: nothing here applies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    and_,
    bindparam,
    func,
    literal,
    select,
    text,
    true,
)
from sqlalchemy.orm import Session, aliased
from sqlmodel import col

from app.content.hints import PlanHints
from app.content.search import match_condition
from app.content.types import ContentType
from app.content.visibility import Viewer, visible_document
from app.db import open_transaction
from app.models import Publishable, SearchDocument, Tagging

# What the planner is told while it plans a count with words: no sequential scans (of
# `search_document`, which detoast every vector; the planner rated one cheaper than the
# type's GIN index for a word in most documents: 1.4 s against 0.2 s at `large`).
COUNTING_WORDS = {"enable_seqscan": "off"}
# Up to this many items left by a list's other conditions, their documents may be probed
# one by one (each vector detoasted, ~10 µs): a common word's matches, read from the GIN
# index, cost ~0.2 s whatever their number (an article's at `large`).
FEW_ITEMS = 20_000


@contextmanager
def planned_with(session: Session, settings: Mapping[str, str] | None) -> Iterator[None]:
    """On PostgreSQL, plan the statements run inside with these planner `settings` (None:
    as they are), and the transaction's later statements as before: `SET LOCAL`, then set
    back to what they were. A statement that fails leaves them set: its transaction is
    over."""
    if not settings or session.get_bind().dialect.name != "postgresql":
        yield
        return
    open_transaction(session)  # a read session runs in autocommit; SET LOCAL needs one
    names = list(settings)
    current = ", ".join(f"current_setting(:name_{i})" for i in range(len(names)))
    values = {f"name_{i}": name for i, name in enumerate(names)}
    before = dict(zip(names, session.execute(text(f"SELECT {current}"), values).one(), strict=True))
    _set_local(session, settings)
    yield
    _set_local(session, before)


def _set_local(session: Session, settings: Mapping[str, str]) -> None:
    calls = ", ".join(f"set_config(:name_{i}, :value_{i}, true)" for i in range(len(settings)))
    values: dict[str, str] = {}
    for i, (name, value) in enumerate(settings.items()):
        values |= {f"name_{i}": name, f"value_{i}": value}
    session.execute(text(f"SELECT {calls}"), values)


def counting_words(session: Session, words: bool) -> AbstractContextManager[None]:
    """`planned_with` the settings of a count with words, when it has words."""
    return planned_with(session, COUNTING_WORDS if words else None)


def in_its_gin_index(ctype: ContentType) -> ColumnElement[bool]:
    """`search_document` rows of `ctype`, said as the predicate of the type's GIN index
    (migration `search_index_per_type`), `(entity_type = '<type>') IS TRUE`, which no other
    index answers. The type is written into the statement, not bound: the index is then
    the planner's whatever plan it keeps."""
    named: BindParameter[str] = bindparam("gin_type", ctype.name, unique=True, literal_execute=True)
    return (col(SearchDocument.entity_type) == named).is_(true())


def in_its_matches(session: Session, ctype: ContentType, q: str) -> list[ColumnElement[bool]]:
    """The conditions on `search_document` rows of `ctype`'s documents matching `q`, which
    only the type's GIN index answers (`in_its_gin_index`), whatever their visibility."""
    return [in_its_gin_index(ctype), match_condition(session, q, [ctype])]


def count_matches(
    session: Session,
    ctype: ContentType,
    q: str,
    viewer: Viewer,
    narrowing: Sequence[ColumnElement[bool]] = (),
) -> int:
    """PostgreSQL: how many `ctype` items that `viewer` sees match `q`, as their search
    documents say (their words, and the visibility each holds). `narrowing`: the list's
    other conditions on the items (a topic's: tagged with it), if any."""
    doc = SearchDocument
    model = ctype.model
    matching = [*in_its_matches(session, ctype, q), visible_document(doc, viewer)]
    items = select(model.id).where(*narrowing)
    if narrowing and not _more_than(session, items, FEW_ITEMS):
        # Few items: each may be asked whether its document matches, through the (type,
        # item) index, or a rare word's matches found by the GIN index: the planner
        # chooses. Counted from the items, whose documents it then probes in parallel
        # (from the documents, it gathered the items' ids first, to find each once).
        documents = select(col(doc.entity_id)).where(col(doc.entity_type) == ctype.name, *matching)
        narrowing = [*narrowing, model.id.in_(documents)]
        statement = select(func.count()).select_from(model).where(*narrowing)
    else:
        # The matches, from the GIN index alone (its predicate is the only type condition:
        # no other index can answer it), among the items if any: a common word's are
        # joined to them, a rare word's few each looked up.
        if narrowing:
            matching.append(col(doc.entity_id).in_(items))
        statement = select(func.count()).select_from(doc).where(*matching)
    with planned_with(session, COUNTING_WORDS):
        return session.scalar(statement) or 0


def count_matches_by_topic(
    session: Session,
    ctype: ContentType,
    q: str,
    viewer: Viewer,
    topic_ids: Sequence[int],
    narrowing: Sequence[ColumnElement[bool]] = (),
) -> dict[int, int]:
    """PostgreSQL: `count_matches` of the items tagged with each of `topic_ids` (the streams
    of many topics), in one statement: the type's matches by its GIN index, among the items
    `narrowing` leaves if any, each counted for the topics tagging it (GROUP BY topic; one
    document per item, one tagging per item and topic: the same counts). The matches are
    read once, not once per topic, nor probed per topic for how many items it has."""
    doc = SearchDocument
    tagging = aliased(Tagging, name="counted_tagging")
    topic = col(tagging.topic_id)
    matching = [*in_its_matches(session, ctype, q), visible_document(doc, viewer)]
    if narrowing:
        matching.append(col(doc.entity_id).in_(select(ctype.model.id).where(*narrowing)))
    tagged = and_(col(tagging.entity_type) == ctype.name, col(tagging.entity_id) == doc.entity_id)
    statement = (
        select(topic, func.count())
        .select_from(doc)
        .join(tagging, tagged)
        .where(*matching, topic.in_(topic_ids))
        .group_by(topic)
    )
    with planned_with(session, COUNTING_WORDS):
        found = dict(session.execute(statement).tuples().all())
    return {topic_id: found.get(topic_id, 0) for topic_id in topic_ids}


def _more_than(session: Session, ids: Any, many: int) -> bool:
    """Whether the query `ids` finds more than `many` ids (a read of at most that many)."""
    probe = select(literal(1)).select_from(ids.subquery()).limit(1).offset(many)
    return session.execute(probe).first() is not None


# A word matching at most this many of a type's documents is rare: a page with it starts
# from its matches (`rare_matches`), not from the sort's index.
RARE_MATCHES = 1_000
# Up to this many matches, a word few of the type's newest items have is rare as well: a
# walk from the newest checks ~PAGE_ROWS / share of them (~30 µs each, its document's
# vector detoasted), where starting from the matches costs ~13 µs a match. A word of an
# archive's past (every match years old) walked the whole type: seconds, past the
# statement timeout.
SPARSE_MATCHES = 20_000
SPARSE_SAMPLE = 500
PAGE_ROWS = 21  # a default page and the row that tells whether another follows
WALK_COST = 2  # a row walked, in matches read
# (database, type, words) -> (matches counted up to SPARSE_MATCHES + 1, items a walk from
# the newest checks for each match it finds) (`app.content.hints`).
_WORD_MATCHES: PlanHints[tuple[int, float]] = PlanHints()


def words_are_rare(
    session: Session,
    ctype: ContentType,
    q: str,
    page: int = PAGE_ROWS,
    narrowed: Callable[[int], tuple[int, int]] | None = None,
) -> bool:
    """PostgreSQL: whether a page of `page` rows with `q` is better started from its
    matches: it matches at most `RARE_MATCHES` of `ctype`'s documents (whatever their
    visibility), counted through the type's GIN index, up to one more; or at most
    `SPARSE_MATCHES`, and so few of the newest `SPARSE_SAMPLE` items that walking from the
    newest would check more items than there are matches to read (`_walk_per_match`).
    `narrowed`: where the page is of the items a topic tags, (items, rows) on asking with
    a cap: how many it tags (counted up to the cap) of the type's rows; a walk then
    checks rows / items times as many; where the topic tags no more items than the words
    match, its taggings are the shorter start (which PostgreSQL finds by itself), unless a
    default page of all the items would start from the matches (an archive's word).

    The planner estimates a word's matches from the words its statistics keep; a word they
    do not hold is given a small fixed share of the rows (~600 of 200,000 articles for
    "hamas", which four held at `large`), and a page of one item then walked the sort's
    index backwards, probing each item's document and detoasting its vector until one
    matched: 3-5 s, past the statement timeout (a 503). A word they hold is given its share
    of all documents, whichever type's it is: "anthology" is in 17% of the documents but
    2.8% of the quotes, and a page of 100 of a topic's quotes on 30% of them walked 10,800
    quotes (52 ms at `large`; from its 2,207 matches, 16-20 ms)."""

    def work_out() -> tuple[int, float]:
        matches = (
            select(literal(1))
            .select_from(SearchDocument)
            .where(*in_its_matches(session, ctype, q))
            .limit(SPARSE_MATCHES + 1)
            .subquery()
        )
        with planned_with(session, COUNTING_WORDS):
            found = session.scalar(select(func.count()).select_from(matches)) or 0
        if found <= RARE_MATCHES or found > SPARSE_MATCHES:
            return found, 0.0
        return found, _walk_per_match(session, ctype, q)

    key = (str(session.get_bind().engine.url), ctype.name, q)
    found, per_match = _WORD_MATCHES.get(key, work_out)
    if found <= RARE_MATCHES:
        return True
    if found > SPARSE_MATCHES:
        return False
    walked = page * per_match
    if narrowed is not None:
        items, rows = narrowed(SPARSE_MATCHES + 1)
        if items <= found:
            # The topic's taggings are the shorter start, which PostgreSQL finds by itself
            # where the words' walk is short too; where it is not (a word of an archive's
            # past), the matches, as a default page of all the items would judge.
            walked = PAGE_ROWS * per_match
        else:
            walked *= rows / items
    return walked * WALK_COST > found


def _walk_per_match(session: Session, ctype: ContentType, q: str) -> float:
    """How many items a walk from the newest checks for each match of `q` it finds, judged
    on the newest `SPARSE_SAMPLE` (by `published_at` where items have one); 0 if none."""
    model = ctype.model
    newest = select(model.id)
    if issubclass(model, Publishable):
        published = col(model.published_at)
        newest = newest.where(published.is_not(None)).order_by(published.desc(), model.id.desc())
    else:
        newest = newest.order_by(model.id.desc())
    doc = SearchDocument
    sampled, matching = session.execute(
        select(func.count(), func.count().filter(match_condition(session, q, [ctype]))).where(
            col(doc.entity_type) == ctype.name,
            col(doc.entity_id)
            == func.any(func.array(newest.limit(SPARSE_SAMPLE).scalar_subquery())),
        )
    ).one()
    return sampled / max(matching, 0.5) if sampled else 0.0


def rare_matches(session: Session, ctype: ContentType, q: str) -> ColumnElement[bool]:
    """PostgreSQL: "this `ctype` item is among the matches of `q`", for rare words: the
    matches found first, once, by the type's GIN index (an InitPlan's array), then the
    items by their primary key, then sorted: a few milliseconds whatever the page size."""
    matching = (
        select(col(SearchDocument.entity_id))
        .where(*in_its_matches(session, ctype, q))
        .scalar_subquery()
    )
    return ctype.model.id == func.any(func.array(matching))
