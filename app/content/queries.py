"""Lists, single items, the topic stream and the change log — for every surface.

Pagination is keyset ("seek") pagination in SQL: a page is `WHERE (sort, id) < (last
sort value, last id) ORDER BY sort, id LIMIT n`, so page 1,000 costs what page 1 costs
and a row inserted between two requests neither repeats nor hides another row.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Collection, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import orjson
from sqlalchemy import (
    Integer,
    Interval,
    String,
    and_,
    bindparam,
    case,
    exists,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    union,
    union_all,
)
from sqlalchemy.orm import Session, aliased
from sqlmodel import col

from app.content.counts import cached_at_version, cached_count, cached_totals_by_type
from app.content.cursors import (
    InvalidToken,
    Kind,
    decode_token,
    encode_token,
    instant,
    of_type,
    place,
    row_id,
)
from app.content.errors import QueryError
from app.content.filters import FILTERS, filter_conditions, referenced_collections
from app.content.hints import PlanHints
from app.content.kept import kept, run
from app.content.rows import IDS, Projection, fetch_ids, read, shape
from app.content.search import (
    count_matches_upto,
    matches_each,
    matches_in_set,
    matching_ids,
    words_are_common,
)
from app.content.shown import (
    SHOWN,
    later_shown,
    next_shown,
    shown_collections,
    shown_since,
    shown_since_each,
    shows_references,
    sooner,
)
from app.content.types import ALL_TYPES, BY_COLLECTION, EVENT, STREAM_TYPES, TOPIC, ContentType
from app.content.visibility import (
    NOW,
    Viewer,
    next_public_at,
    unindexed,
    unindexed_column,
    visible,
    with_now,
)
from app.content.word_counts import (
    count_matches,
    count_matches_by_topic,
    rare_matches,
    words_are_rare,
)
from app.db import UTCDateTime, as_utc
from app.models import Event, Publishable, Tagging, Topic

MAX_LIMIT = 100
# Topics one list may be narrowed by (REST `topic` repeated, GraphQL `filter.topics`).
MAX_TOPICS = 50


@dataclass
class ListParams:
    limit: int = 20
    cursor: str | None = None
    sort: str | None = None
    topics: list[str] = field(default_factory=list)
    q: str | None = None
    updated_since: datetime | None = None
    filters: dict[str, Any] = field(default_factory=dict)


class Page:
    """One page of a list. `total` is counted on first use only (GraphQL may never ask)."""

    def __init__(
        self,
        items: list[Any],
        next_cursor: str | None,
        count: Callable[[], int],
        cursor_at: Callable[[int], str],
        collections: Sequence[str] = (),
        changes_at: Callable[[], datetime | None] | None = None,
    ) -> None:
        self.items = items
        self.next_cursor = next_cursor
        self._count = count
        self._total: int | None = None
        # The cursor that continues after `items[i]` (GraphQL edges need one per item);
        # computed on demand, since signing every item's cursor is wasted work for REST.
        self.cursor_at = cursor_at
        # The collections a write to which may change the list (`Surrogate-Key`): its own,
        # and those of the items its filters name (`?topic=`: a renamed topic changes it).
        self.collections = collections
        self._changes_at = changes_at

    def changes_at(self) -> datetime | None:
        """For a page that time alone changes (`upcoming`: an event ends), the next moment
        it may: caches must not keep it past then. None: only writes change it."""
        return None if self._changes_at is None else self._changes_at()

    @property
    def total(self) -> int:
        if self._total is None:
            self._total = self._count()
        return self._total


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError("limit", f"must be between 1 and {MAX_LIMIT}")
    return limit


def sort_of(ctype: ContentType, params: ListParams) -> tuple[str, bool]:
    raw = params.sort
    if raw is None:
        raw = ctype.default_sort
        if ctype.name == "event" and params.filters.get("upcoming") is True:
            raw = "starts_at"
    return _split_sort(raw, ctype.sorts, ctype.collection)


def _split_sort(raw: str, sorts: Collection[str], of: str) -> tuple[str, bool]:
    """`-name` or `name` as (name, descending), `name` one of `sorts` (400 otherwise)."""
    descending = raw.startswith("-")
    name = raw[1:] if descending else raw
    if name not in sorts:
        allowed = ", ".join(sorted(sorts))
        raise QueryError(
            "sort", f"'{raw}' is not a sort of {of}; use one of {allowed} (prefix - for descending)"
        )
    return name, descending


def _published(ctype: ContentType, viewer: Viewer) -> Any:
    """`published_at` as a sort key: drafts (seen in preview) have none, and keyset
    comparisons need a value, so theirs is their creation time."""
    model = ctype.model
    if viewer.preview:
        return func.coalesce(model.published_at, model.created_at)
    return model.published_at


def _sort_kind(sort_expr: Any) -> Kind:
    """What a cursor's sort value must be: the sort's column type, or null."""
    sql_type = sort_expr.type
    sql_type = getattr(sql_type, "impl_instance", None) or sql_type  # a TypeDecorator's own
    try:
        python_type = sql_type.python_type
    except NotImplementedError:
        python_type = object
    if python_type is object:
        return lambda _: True
    return of_type(python_type, type(None))


def sort_expression(ctype: ContentType, name: str, viewer: Viewer) -> Any:
    if name == "published_at":
        return _published(ctype, viewer)
    return ctype.sorts[name].expression


def _fingerprint(*parts: Any) -> str:
    blob = orjson.dumps(parts, default=str, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(blob).hexdigest()[:16]


# SQLite's planner cannot tell a popular topic from a rare one (PostgreSQL's statistics
# can). Reading the tagging index and sorting costs about the number of tagged items;
# walking the sort index and probing each row's tags costs about page * rows / tagged.
# The walk wins when tagged² > _WALK_FACTOR * rows (a page is 20 to 100 items), and always
# past _SMALL_TOPIC tagged items.
_SMALL_TOPIC = 2000
_WALK_FACTOR = 50


# Bound parameters of the statements kept in `_STATEMENTS` (values given at execution).
SLUGS: Any = bindparam("slugs", expanding=True)
TOPICS: Any = bindparam("topics", expanding=True)
KEY: Any = bindparam("key")  # an id or a slug
PAGE_SIZE: Any = bindparam("page_size", type_=Integer())
AFTER_ID: Any = bindparam("after_id", type_=Integer())
# Statements built once per shape of request (type, sort, direction, cursor or not, preview,
# topic plan) and run with bound values: building and cache-keying a SELECT costs more
# Python than SQLite takes to run it.
_STATEMENTS: dict[tuple[Any, ...], Any] = {}


def visible_topic_ids(session: Session, slugs: list[str], viewer: Viewer) -> list[int]:
    """The visible topics named by slug (resolved once per list, for page and count)."""
    stmt = kept(
        _STATEMENTS,
        ("topic ids", viewer.preview),
        lambda: select(col(Topic.id)).where(
            col(Topic.slug).in_(SLUGS), visible(Topic, viewer, now=NOW)
        ),
    )
    found = run(session, stmt, with_now(viewer, slugs=slugs))
    return [row[0] for row in found if row[0] is not None]


# slug -> topic id, as last resolved in this process (database, slug). A hint, never trusted:
# a page that uses it also checks, in the same statement, that the topic still has that slug
# and is visible (`_guard`), and resolves the slug again if the page comes back empty. A
# list by topic then costs one statement fewer (GraphQL's flagship query: four -> three).
_TOPIC_IDS: dict[tuple[str, str], int] = {}
GUARD_ID: Any = bindparam("guard_id", type_=Integer())
GUARD_SLUG: Any = bindparam("guard_slug", type_=String())


def _topic_key(session: Session, slugs: list[str]) -> tuple[str, str] | None:
    """A list by one topic only (several would need every one of them checked)."""
    return (str(session.get_bind().engine.url), slugs[0]) if len(slugs) == 1 else None


def _remembered_topic(session: Session, slugs: list[str]) -> int | None:
    key = _topic_key(session, slugs)
    return None if key is None else _TOPIC_IDS.get(key)


def _remember_topic(session: Session, slugs: list[str], topic_ids: list[int]) -> None:
    key = _topic_key(session, slugs)
    if key is None:
        return
    if len(topic_ids) != 1:
        _TOPIC_IDS.pop(key, None)
    else:
        if len(_TOPIC_IDS) > 10_000:
            _TOPIC_IDS.clear()
        _TOPIC_IDS[key] = topic_ids[0]


def _guard(viewer: Viewer) -> Any:
    """True when the topic `GUARD_ID` is still the visible topic named `GUARD_SLUG` (a
    constant the database evaluates once per statement)."""
    return exists().where(
        col(Topic.id) == GUARD_ID, col(Topic.slug) == GUARD_SLUG, visible(Topic, viewer, now=NOW)
    )


def _tagged(ctype: ContentType, topic_ids: Any) -> Any:
    """Subquery: ids of the `ctype` items tagged with any of `topic_ids`."""
    return select(col(Tagging.entity_id)).where(
        col(Tagging.entity_type) == ctype.name, col(Tagging.topic_id).in_(topic_ids)
    )


def _type_rows(session: Session, ctype: ContentType) -> int:
    """How many rows `ctype` has, about: its highest id (the plan rules' `rows`)."""
    return session.scalar(select(func.max(ctype.model.id))) or 0


def _count_tagged(session: Session, ctype: ContentType, topic_ids: Any, cap: int) -> int:
    """How many items of `ctype` are tagged with any of `topic_ids`, counted up to `cap`."""
    limited = _tagged(ctype, topic_ids).limit(cap).subquery()
    return session.scalar(select(func.count()).select_from(limited)) or 0


def _topic_plan(session: Session, ctype: ContentType, topic_ids: list[int], for_count: bool) -> str:
    """How to say "tagged with one of `topic_ids`": `none` (no such topic), `in` (the id is
    among the tagged ids), `probe` (a tagging exists for the row), `walk` (a probe, and
    SQLite should walk the sort index: a popular topic's page)."""
    if not topic_ids:
        return "none"
    if session.get_bind().dialect.name != "sqlite":
        return "in" if for_count else "probe"
    if not for_count and _is_popular(session, ctype, tuple(sorted(topic_ids))):
        return "walk"
    return "in"


# SQLite, a rare topic's items (`_topic_plan` "in": at most _SMALL_TOPIC of the type) and
# words few items hold (not `words_are_common`): the words' matches are read first, each for
# its item (~2.5 µs a match at `large`), unless they outnumber the topic's items by more
# than this factor; then each item is looked up among them (`matches_in_set`: ~4 µs an
# item, ~0.3 µs a match). Measured at `large`, a topic on 844 articles: `q=israel` (7,500
# articles) 19 -> 6 ms, a word in 2,207 quotes for its 240 quotes 6.4 -> 2.5 ms, a word in
# none 1.8 -> 3.3 ms.
_WORDS_SET_FACTOR = 2
# (database, type, words, topic ids) -> look each item up among the matches?
_WORDS_SET: PlanHints[bool] = PlanHints()


def _words_from_set(session: Session, ctype: ContentType, q: str, topic_ids: Sequence[int]) -> bool:
    """SQLite: whether the items of `ctype` tagged with `topic_ids` (a rare topic's) are
    each looked up among the matches of `q` (`matches_in_set`), rather than the matches
    read first, each for its item (see _WORDS_SET_FACTOR)."""
    topics = tuple(sorted(set(topic_ids)))

    def work_out() -> bool:
        tagged = _count_tagged(session, ctype, topics, _SMALL_TOPIC + 1)
        if tagged > _SMALL_TOPIC:
            return False  # too many items to look each up
        cap = _WORDS_SET_FACTOR * tagged + 1
        return count_matches_upto(session, ctype, q, cap) >= cap

    key = (str(session.get_bind().engine.url), ctype.name, q, topics)
    return _WORDS_SET.get(key, work_out)


# SQLite, words few items hold (not `words_are_common`) but enough of them that a topic's
# public taggings, walked in order (`StreamPlan.walks_taggings`), each item looked up among
# the matches (`matches_in_set`), fill a page of up to _DENSE_PAGE soon: a walk of about
# _DENSE_PAGE * rows / matches items (~4 µs each) and the matches' list (~0.3 µs a match),
# against each match read for its item and its tag (~6.5 µs). Dense enough when matches² >=
# _DENSE_PAGE * rows. At `large`,
# kidnapping's stream with `q=israel` (7,500 articles, 8,000 events) on a slow machine:
# 178-242 -> 36 ms a page of 20, 192 -> 74 ms of 100; "Arms Control"'s 88 -> 33 ms.
_DENSE_PAGE = 101
# (database, type, words) -> dense enough?
_DENSE_WORDS: PlanHints[bool] = PlanHints()


def _words_dense(session: Session, ctype: ContentType, q: str) -> bool:
    """SQLite: whether enough of `ctype`'s items match `q` for a topic's public taggings,
    walked in order, to be looked up among the matches (see _DENSE_PAGE)."""

    def work_out() -> bool:
        rows = _type_rows(session, ctype)
        cap = math.isqrt(_DENSE_PAGE * rows) + 1
        return count_matches_upto(session, ctype, q, cap) >= cap

    key = (str(session.get_bind().engine.url), ctype.name, q)
    return _DENSE_WORDS.get(key, work_out)


# (database, type, topic ids) -> (items of the type they tag, counted up to a cap; the
# type's rows), for `_rare_for_page`.
_TOPIC_REACH: PlanHints[tuple[int, int]] = PlanHints()


def _rare_for_page(
    session: Session,
    ctype: ContentType,
    params: ListParams,
    page: int | None,
    topic_ids: list[int] | None,
) -> bool:
    """PostgreSQL: `words_are_rare` for a list's page of `page` rows (None: a default
    page's, of all the items) of `params.q`, among the items tagged with `topic_ids` if
    any: a popular topic's page walked in its sort order checks as many more items as the
    topic is rarer than the type."""
    assert params.q
    if page is None:
        return words_are_rare(session, ctype, params.q)
    if not topic_ids:
        return words_are_rare(session, ctype, params.q, page)
    topics = tuple(sorted(set(topic_ids)))

    def reach(cap: int) -> tuple[int, int]:
        def work_out() -> tuple[int, int]:
            return _count_tagged(session, ctype, topics, cap), _type_rows(session, ctype)

        key = (str(session.get_bind().engine.url), ctype.name, topics, cap)
        return _TOPIC_REACH.get(key, work_out)

    return words_are_rare(session, ctype, params.q, page, reach)


def _topic_sql(plan: str, ctype: ContentType, topic_ids: Any) -> Any:
    """The condition of a `_topic_plan`; `topic_ids` may be the `TOPICS` parameter."""
    if plan == "none":
        return false()
    if plan == "in":
        return ctype.model.id.in_(_tagged(ctype, topic_ids))
    return exists().where(
        col(Tagging.entity_type) == ctype.name,
        col(Tagging.entity_id) == ctype.model.id,
        col(Tagging.topic_id).in_(topic_ids),
    )


def _topic_condition(
    session: Session, ctype: ContentType, topic_ids: list[int], for_count: bool
) -> tuple[Any, bool]:
    """The condition "tagged with one of `topic_ids`", and whether SQLite should walk the
    sort index with it."""
    plan = _topic_plan(session, ctype, topic_ids, for_count)
    return _topic_sql(plan, ctype, topic_ids), plan == "walk"


# (database, type, topic ids) -> popular? (`app.content.hints`).
_POPULARITY: PlanHints[bool] = PlanHints()


def _popular(many: int, rows: int) -> bool:
    """Whether a topic's page of a type, of which `many` items are tagged with it (counted
    up to _SMALL_TOPIC + 1) among `rows` rows, is found sooner by walking the sort index
    than by reading the taggings."""
    return many > _SMALL_TOPIC or many * many > _WALK_FACTOR * rows


def _popularity_key(session: Session, ctype: ContentType, topic_ids: tuple[int, ...]) -> Any:
    return str(session.get_bind().engine.url), ctype.name, topic_ids


def _is_popular(session: Session, ctype: ContentType, topic_ids: tuple[int, ...]) -> bool:
    def work_out() -> bool:
        many = _count_tagged(session, ctype, topic_ids, _SMALL_TOPIC + 1)
        rows = _type_rows(session, ctype)
        return _popular(many, rows)

    return _POPULARITY.get(_popularity_key(session, ctype, topic_ids), work_out)


def _tagged_by_topic(ctype: ContentType, cap: int) -> Any:
    """A column of a statement over `Topic`: how many items of `ctype` the row's topic tags,
    counted up to `cap`."""
    limited = (
        select(literal(1))
        .where(col(Tagging.entity_type) == ctype.name, col(Tagging.topic_id) == Topic.id)
        .limit(cap)
        .correlate(Topic)
        .subquery()
    )
    return select(func.count()).select_from(limited).scalar_subquery()


def popular_topics(
    session: Session, types: Sequence[ContentType], topic_ids: Sequence[int]
) -> dict[str, set[int]]:
    """By type name, those of `topic_ids` popular for that type: `_is_popular` of each
    topic alone, remembered with its answers. Those not remembered are counted in one
    statement: per type, each topic's taggings up to _SMALL_TOPIC + 1, and the type's
    rows."""
    keys = {
        (ctype.name, topic_id): _popularity_key(session, ctype, (topic_id,))
        for ctype in types
        for topic_id in topic_ids
    }

    def work_out(missing: list[tuple[str, int]]) -> dict[tuple[str, int], bool]:
        columns = []
        for ctype in types:
            columns.append(_tagged_by_topic(ctype, _SMALL_TOPIC + 1))
            columns.append(select(func.max(ctype.model.id)).scalar_subquery())
        asked = {topic_id for _, topic_id in missing}
        counted = session.execute(select(col(Topic.id), *columns).where(col(Topic.id).in_(asked)))
        found: dict[tuple[str, int], bool] = {}
        for topic_id, *values in counted:
            for i, ctype in enumerate(types):
                many, rows = values[2 * i], values[2 * i + 1]
                found[ctype.name, topic_id] = _popular(many or 0, rows or 0)
        # A topic gone since its row was read: no taggings to walk for.
        return {pair: found.get(pair, False) for pair in missing}

    answers = _POPULARITY.get_many(keys, work_out)
    return {
        ctype.name: {topic_id for topic_id in topic_ids if answers[ctype.name, topic_id]}
        for ctype in types
    }


def base_conditions(
    session: Session,
    ctype: ContentType,
    params: ListParams,
    viewer: Viewer,
    topic_ids: list[int] | None,
    for_count: bool = False,
    plan: str | None = None,
    bound: bool = False,
    walk: bool = False,
    changed_widely: bool = False,
    few_changed: bool | None = None,
    by_filter: bool = False,
    visibility: bool = True,
    words_each: bool = False,
    words_set: bool = False,
    shown_each: bool = False,
    page: int | None = None,
) -> list[Any]:
    """Visibility plus every filter in `params`, as SQL conditions on `ctype.model`
    (`topic_ids`: the topics of `params.topics`, resolved by `visible_topic_ids`; `plan`: their
    `_topic_plan`, worked out here if not given). `bound`: the topics and the time are the
    parameters `TOPICS` and `NOW`, for a statement kept and run again. `walk`: keep
    SQLite on the sort index (see `list_items`); `changed_widely`: `_changed_widely`'s answer,
    when walking with `updated_since`; `few_changed`: PostgreSQL, with `updated_since`, whether
    `_changed_widely` says no (the changed rows' ids are then read first; None: asked
    here); `by_filter`: keep SQLite off the visibility index (the
    rows are read by a filter's own, then sorted); `visibility`: False, the filters alone
    (for a count that reads the visibility the items' search documents hold); `words_each`:
    SQLite, few rows (a rare topic's, a narrow filter's) and common words: each row asked
    whether it matches, not every match gathered first; `words_set`: SQLite, words that
    are not common but match many more items than the rows read (a rare topic's,
    `_words_from_set`; a topic's taggings walked, `_words_dense`): each row looked up among
    the matches; `shown_each`: PostgreSQL, few rows
    (a nested connection's parents' items), with `updated_since` and many changed since:
    each row asked whether it was shown differently since, by its own shown changes, not
    every shown change gathered in a hashed subplan (whose cost the planner charges again
    for each row an index finds, so that it read the whole table instead); `page`:
    PostgreSQL, the rows a list's page reads, to choose how its words' matches are found
    (`_rare_for_page`; None: a default page's, of all the type's items)."""
    if topic_ids is not None and plan is None:
        plan = _topic_plan(session, ctype, topic_ids, for_count)
    # Walking the sort index: keep SQLite off the (covering) visibility index, which it
    # would otherwise read whole and sort.
    conditions: list[Any] = []
    dialect = session.get_bind().dialect.name
    if visibility:
        unindexed = walk or by_filter or plan == "walk"
        conditions.append(visible(ctype.model, viewer, unindexed, now=NOW if bound else None))
    if plan is not None:
        conditions.append(_topic_sql(plan, ctype, TOPICS if bound else topic_ids))
    if params.q and words_set:
        conditions.append(matches_in_set(ctype, params.q))
    elif params.q and (walk or words_each):
        # SQLite, common words: each row asked. Gathered first, a word in 500,000
        # documents took ~0.2 s a type for a rare topic's few hundred items at `large`.
        conditions.append(matches_each(ctype, params.q))
    elif (
        params.q
        and dialect == "postgresql"
        and _rare_for_page(session, ctype, params, page, topic_ids)
    ):
        conditions.append(rare_matches(session, ctype, params.q))
    elif params.q:
        conditions.append(ctype.model.id.in_(matching_ids(session, ctype, params.q)))
    since = params.updated_since
    # Changed since, to this reader: edited since, or (scheduled) public since — as the
    # change log counts an item's change time. (A preview saw it when it was written.)
    went_live = issubclass(ctype.model, Publishable) and not viewer.preview
    now = NOW if bound else viewer.now

    # Or shown differently since (an item it shows went public: `app.content.shown`).
    shown = since is not None and shows_references(ctype, viewer)
    postgresql = session.get_bind().dialect.name == "postgresql"
    # SQLite's triggers note a shown change at the database's clock, to the millisecond and
    # truncated (`strftime('%f')`): a change made 0.2 ms after `since` could be noted 0.8
    # ms before it, and a sync from `since` missed it for good. Its moments are read from
    # a millisecond earlier (an item may then be listed by two syncs, never by none).
    shown_from = since if postgresql or since is None else since - timedelta(milliseconds=1)
    if few_changed is None:
        few_changed = few_changed_since(session, ctype, params, viewer)

    def changed_since(column: Callable[[Any], Any]) -> Any:
        changed = [column(ctype.model.updated_at) >= since]
        if went_live:
            published = column(ctype.model.published_at)
            changed.append(and_(published >= since, published <= now))
        if shown:
            # A hashed subplan on PostgreSQL, each row looked up in it. (An InitPlan's
            # array searched each row's id through 47,000 ids, for every row not changed
            # otherwise: `articles?updated_since=2020-01-01` counted past the statement
            # timeout at `large`, a 503. Few rows changed, their ids come first: below.)
            if shown_each and postgresql:
                changed.append(shown_since_each(ctype, ctype.model.id, shown_from, now))
            else:
                changed.append(ctype.model.id.in_(shown_since(ctype, shown_from, now)))
        return or_(*changed)

    if since is not None and walk and changed_widely:
        # SQLite, most rows changed since: walk the sort index and check each row (a page
        # is found in its first rows), not the ids of every change (0.36 s at `large`).
        conditions.append(changed_since(unindexed_column))
    elif since is not None and (walk or few_changed):
        # SQLite (a partner's sync): the ids from the updated_at index, then the rows by id.
        # Without range statistics (no STAT4 in the usual builds) it cannot tell a narrow
        # range from a wide one and took the visibility index: 0.9 s at `large` for a sync
        # that found nothing new, now 0.4 ms. PostgreSQL, when few rows changed: the same
        # ids, found once (an InitPlan's array); from the ORs of each row's times, a
        # popular topic's stream checked each of its 198,000 items' (0.6-2 s at `large`
        # for the ten changed in the last month, now ms).
        changed = ctype.model.__table__.alias("changed")
        parts = [select(changed.c.id).where(changed.c.updated_at >= since)]
        if went_live:
            live = changed.c.published_at
            parts.append(select(changed.c.id).where(live >= since, live <= now))
        if shown:
            parts.append(shown_since(ctype, shown_from, now))
        ids: Any = union(*parts) if len(parts) > 1 else parts[0]
        if few_changed:
            found = select(ids.subquery().c[0]).scalar_subquery()
            conditions.append(ctype.model.id == func.any(func.array(found)))
        else:
            conditions.append(ctype.model.id.in_(ids))
    elif since is not None:
        conditions.append(changed_since(lambda column: column))
    conditions.extend(filter_conditions(ctype.collection, params.filters, viewer))
    conditions.extend(_clock_bounds(session, ctype, params.filters, viewer))
    return conditions


# The sorts by a time, which go together with the ranges of time lists filter by.
_TIMES = frozenset({"created_at", "updated_at", "published_at", "starts_at"})
# PostgreSQL: added to a time, the same time, which no index orders.
_NOTHING = literal_column("interval '0'", type_=Interval())


def _changed_widely(session: Session, ctype: ContentType, params: ListParams) -> bool:
    """Whether more rows changed since `params.updated_since` than walking the sort index
    would read to fill a page, asked of the `updated_at` index (`_many`)."""
    return _many(session, ctype, ctype.model.updated_at >= params.updated_since)


def few_changed_since(
    session: Session, ctype: ContentType, params: ListParams, viewer: Viewer
) -> bool:
    """PostgreSQL, with `updated_since`: whether few rows changed since, to `viewer`, so
    that `base_conditions` reads their ids first (its `few_changed`): few edited (as
    `_changed_widely` asks), few went public and few were shown differently, each asked of
    its own index, in one statement. Those ids are an array each row read is looked up in:
    50,000 articles shown differently since (a resource they all relate to published) but
    few edited made a page 116 ms at `large`; from each row's times, 14 ms."""
    since = params.updated_since
    if since is None or session.get_bind().dialect.name != "postgresql":
        return False
    model = ctype.model
    changed = [select(literal(1)).select_from(model).where(model.updated_at >= since)]
    if issubclass(model, Publishable) and not viewer.preview:
        live = model.published_at
        changed.append(
            select(literal(1)).select_from(model).where(live >= since, live <= viewer.now)
        )
    if shows_references(ctype, viewer):
        changed.append(shown_since(ctype, since, viewer.now))
    enough = _enough(session, ctype)
    return not session.scalar(select(or_(*(exists(r.limit(1).offset(enough)) for r in changed))))


def _many_upcoming(session: Session, viewer: Viewer) -> bool:
    """Whether more events may be upcoming (not yet ended) than walking another sort's
    index would read to fill a page: those that started at most the longest event's length
    ago (`_clock_bounds`), drafts too, from the `starts_at` index alone (`_many`). Each
    event's end as well cost a read of its row: 7 ms at `large`, against 0.3."""
    return _many(session, EVENT, *_clock_bounds(session, EVENT, {"upcoming": True}, viewer))


def _many(session: Session, ctype: ContentType, *conditions: Any) -> bool:
    """Whether more rows meet `conditions` than walking a sort index reads to fill a page
    (`_enough`): a read of at most that many of the rows the conditions' index has."""
    model = ctype.model
    probe = select(literal(1)).select_from(model).where(*conditions)
    return session.execute(probe.limit(1).offset(_enough(session, ctype))).first() is not None


def _enough(session: Session, ctype: ContentType) -> int:
    """How many rows of `ctype` meeting a condition are many: more than walking a sort
    index reads to fill a page (many² > _WALK_FACTOR * rows, as for topics)."""
    rows = _type_rows(session, ctype)
    return int((_WALK_FACTOR * rows) ** 0.5)


def _clock_bounds(
    session: Session, ctype: ContentType, filters: dict[str, Any], viewer: Viewer
) -> list[Any]:
    """What `upcoming` implies for `starts_at`, which its index can use: not yet ended means
    it started at most the longest event's length ago; ended means it started before now,
    less the shortest length. Redundant, so exact whatever the lengths; without it
    PostgreSQL walked `starts_at` through every past event to find the first upcoming one
    (430 ms at `large`, and 94 ms more to count them)."""
    upcoming = filters.get("upcoming") if ctype.name == "event" else None
    if upcoming is None:
        return []
    spans = _event_spans_now(session)
    if spans is None:
        return []
    shortest, longest = spans
    try:
        if upcoming:
            return [col(Event.starts_at) >= viewer.now - longest]
        return [col(Event.starts_at) < viewer.now - shortest]
    except OverflowError:  # lengths beyond the calendar: no bound
        return []


def _event_spans_now(session: Session) -> tuple[timedelta, timedelta] | None:
    """`_event_spans`, worked out once per version of events."""
    spans: tuple[timedelta, timedelta] | None = cached_at_version(
        session, "event spans", [EVENT], lambda: _event_spans(session)
    )
    return spans


def _event_spans(session: Session) -> tuple[timedelta, timedelta] | None:
    """(shortest, longest) `coalesce(ends_at, starts_at) - starts_at` of every event row,
    widened by a second (SQLite's day fractions are not exact to the microsecond)."""
    end = func.coalesce(Event.ends_at, Event.starts_at)
    if session.get_bind().dialect.name == "sqlite":
        days = func.julianday(end) - func.julianday(Event.starts_at)
        found = session.execute(select(func.min(days), func.max(days))).one()
        if found[0] is None:
            return None
        shortest, longest = timedelta(days=found[0]), timedelta(days=found[1])
    else:
        length = end - col(Event.starts_at)  # an interval: timedelta
        lengths: Any = session.execute(select(func.min(length), func.max(length))).one()
        if lengths[0] is None:
            return None
        shortest, longest = lengths[0], lengths[1]
    return shortest - timedelta(seconds=1), longest + timedelta(seconds=1)


def next_event_end(session: Session, viewer: Viewer) -> datetime | None:
    """A moment no later than the next time an event ends after `viewer.now`: until then,
    which events have ended does not change (what `upcoming` totals depend on). The earliest
    end of the events under way (started no longer ago than the longest event lasts), or
    the next start (no future event ends before it starts), whichever comes first."""
    spans = _event_spans_now(session)
    if spans is None:
        return None
    end = func.coalesce(Event.ends_at, Event.starts_at)
    under_way = select(func.min(end)).where(col(Event.starts_at) < viewer.now, end >= viewer.now)
    with suppress(OverflowError):  # lengths beyond the calendar: no lower bound
        under_way = under_way.where(col(Event.starts_at) >= viewer.now - spans[1])
    next_start = select(func.min(Event.starts_at)).where(col(Event.starts_at) >= viewer.now)
    moments = [session.scalar(under_way), session.scalar(next_start)]
    found = [moment for moment in moments if moment is not None]
    return min(found) if found else None


def last_event_end(session: Session, viewer: Viewer) -> datetime | None:
    """The latest end before `viewer.now` of an event the viewer sees: the last time which
    events have ended (what `upcoming` lists hold, and in which order a calendar lists
    them) changed by time alone. None: none has ended.

    Two walks of the `starts_at` index: the latest start of an ended event, then the ends of
    the events started up to the longest event's length before it (one started earlier
    ended before that event began)."""
    spans = _event_spans_now(session)
    if spans is None:
        return None
    end = func.coalesce(Event.ends_at, Event.starts_at)
    # SQLite: the visibility columns unindexed, or it reads every public event from the
    # visibility index and sorts them (9 ms at `small`, against 0.1).
    sqlite = session.get_bind().dialect.name == "sqlite"
    ended = (end < viewer.now, visible(Event, viewer, unindexed=sqlite))
    latest_start = session.scalar(
        select(col(Event.starts_at))
        .where(col(Event.starts_at) < viewer.now, *ended)
        .order_by(col(Event.starts_at).desc())
        .limit(1)
    )
    if latest_start is None:
        return None
    window = [col(Event.starts_at) <= latest_start]
    with suppress(OverflowError):  # lengths beyond the calendar: no lower bound
        window.append(col(Event.starts_at) >= as_utc(latest_start) - spans[1])
    found = session.scalar(select(func.max(end)).where(*window, *ended))
    return None if found is None else as_utc(found)


def list_scope(ctype: ContentType, params: ListParams, viewer: Viewer) -> str:
    """The scope of a list's cursors: its type, sort, filters and kind of viewer. A text
    sort's names its key column too: a cursor from before text sorts had keys (which holds
    the text itself) is refused, not read as a key."""
    sort_name, descending = sort_of(ctype, params)
    parts = [
        ctype.collection,
        sort_name,
        descending,
        sorted(params.topics),
        params.q,
        params.updated_since,
        params.filters,
        viewer.preview,
    ]
    keyed = ctype.sorts[sort_name].key
    return "list:" + _fingerprint(*parts, *([keyed] if keyed else []))


def list_items(
    session: Session,
    ctype: ContentType,
    params: ListParams,
    viewer: Viewer,
    secret: str,
    projection: Projection | None = None,
) -> Page:
    """A page of a collection. `projection`: read only those columns of the rows."""
    check_limit(params.limit)
    sort_name, descending = sort_of(ctype, params)
    model = ctype.model
    topic_ids: list[int] | None = None
    remembered = _remembered_topic(session, params.topics) if params.topics else None
    guarded = remembered is not None  # the page statement checks the remembered topic
    if params.topics:
        topic_ids = (
            [remembered]
            if remembered is not None
            else visible_topic_ids(session, params.topics, viewer)
        )
        if not guarded:
            _remember_topic(session, params.topics, topic_ids)
    plan = None if topic_ids is None else _topic_plan(session, ctype, topic_ids, for_count=False)
    sort_expr = sort_expression(ctype, sort_name, viewer)
    scope = list_scope(ctype, params, viewer)
    values = with_now(viewer, page_size=params.limit + 1, topics=topic_ids)
    if remembered is not None:
        values["guard_id"], values["guard_slug"] = remembered, params.topics[0]
    if params.cursor:
        try:
            values["after_value"], values["after_id"] = decode_token(
                secret, scope, params.cursor, (_sort_kind(sort_expr), row_id)
            )
        except (InvalidToken, ValueError) as exc:
            raise QueryError("cursor", str(exc)) from None

    rows_shape = shape(model, projection)
    filtered = bool(params.q or params.updated_since is not None or params.filters)
    # SQLite, a whole collection: walk the sort's index. Left to itself the planner reads
    # the covering visibility index whole and sorts (1.5 s for 200,000 events by title).
    # The same with `updated_since` (see `base_conditions`), and with filters that match
    # many rows each: an enum (a third of the events are online: the visibility index and
    # a sort took 0.76 s at `large`; a (filter, sort) index or the sort's own answers in
    # ms), and `upcoming` sorted by `starts_at`, whose bound (`_clock_bounds`) is a range of
    # that index (ended events: 0.7 s -> ms).
    kinds = FILTERS[ctype.collection]
    sqlite = session.get_bind().dialect.name == "sqlite"
    # `upcoming`, sorted otherwise: broad when many events are (ended ones always are), or
    # their range of `starts_at` is read and sorted (few); the visibility index and a sort
    # of every public event took 0.1 s at `large` either way.
    # Sorted by another time oldest first, a walk reads every event before the upcoming
    # ones (times go together; see the ranges below): read and sorted, however many
    # (`upcoming=true&sort=created_at`: 0.40 s at `large` -> 0.1 s).
    upcoming = params.filters.get("upcoming")
    upcoming_oldest_first = (
        bool(upcoming) and sort_name in _TIMES - {"starts_at"} and not descending
    )
    many_upcoming = (
        upcoming is not None
        and sort_name != "starts_at"
        and sqlite
        and (not upcoming or (not upcoming_oldest_first and _many_upcoming(session, viewer)))
    )
    # A range of time, sorted by its own column: walked within the range. Sorted otherwise:
    # walked when many rows fall in it, else the range is read and sorted. (SQLite read a
    # range and sorted it, as many as they were: events from 2025 by title, 0.12 s at
    # `large`; before July 2025 by title, 0.26 s.)
    ranges = {
        name: value
        for name, value in params.filters.items()
        if kinds[name].kind == "datetime" and kinds[name].sort != sort_name
    }
    # But times go together (an item is created, published and held about when it is
    # dated): a walk of another time from its oldest reads every row before a range from
    # some time on, and so does one from its newest for a range that ends as well; such a
    # range is read and sorted. (A range up to some time, walked from the newest, skips
    # what came after it, which is usually less than it holds: walked.)
    bounded_below = any(name in ("from", "published_after") for name in ranges)
    range_against_time = (
        sort_name in _TIMES and bounded_below and (not descending or len(ranges) > 1)
    )
    many_in_range = (
        sqlite
        and bool(ranges)
        and not range_against_time
        and _many(session, ctype, *filter_conditions(ctype.collection, ranges, viewer))
    )
    # PostgreSQL, whose statistics do not say that times go together, took the same walks
    # (events from 2025 by `created_at`: 0.22 s; upcoming ones, 0.25 s). Ordered by the
    # time plus nothing, which no index has, it reads the range and sorts: 60-85 ms.
    against_time = range_against_time or upcoming_oldest_first

    def walkable(name: str) -> bool:
        """Whether SQLite finds a page of rows that pass the filter `name` soon by walking
        the sort's index (it is broad, or bounds that index)."""
        kind = kinds[name].kind
        return (
            kind == "enum"
            or (name == "upcoming" and (sort_name == "starts_at" or many_upcoming))
            or (kind == "datetime" and (name not in ranges or many_in_range))
        )

    broad = all(walkable(name) for name in params.filters)
    walk = (
        topic_ids is None
        and broad
        and sqlite
        and (not params.q or words_are_common(session, ctype, params.q))
    )

    # SQLite, narrowed to few rows (an equality of a slug or a number, few upcoming events,
    # a short range of time, a rare topic, a rare word): the rows from their own index, then
    # sorted. Left to itself the planner walked the sort's index, not knowing it would not
    # find a page soon: the publications of 2021 by `-published_at` read every one
    # published since (72 ms at `large` -> 9 ms). Asked of the topic plan of the moment (a
    # remembered topic found renamed is resolved again, and its plan with it).
    def from_filter() -> bool:
        return (
            sqlite and not walk and (plan == "in" or (bool(params.q) and plan is None) or not broad)
        )

    # SQLite, common words and rows found otherwise (a topic's, rare or walked; a narrow
    # filter's): each row asked whether it matches, not every match gathered first
    # (`articles?topic=<rare>&q=security`: 230 -> 15 ms at `large`; `topic=kidnapping`,
    # walked, 470 -> 7 ms).
    words_each = bool(
        sqlite
        and params.q
        and (plan in ("in", "walk") or not broad)
        and words_are_common(session, ctype, params.q)
    )

    def words_set() -> bool:
        """SQLite, a rare topic's items and words few items hold but many more than it
        tags: each item looked up among the matches (`_words_from_set`)."""
        return bool(
            sqlite
            and params.q
            and plan == "in"
            and topic_ids
            and not words_each
            and _words_from_set(session, ctype, params.q, topic_ids)
        )

    # Asked once: the page and its count build their conditions from it.
    changed_widely = (
        walk and params.updated_since is not None and _changed_widely(session, ctype, params)
    )
    few_changed = few_changed_since(session, ctype, params, viewer)

    def page_statement() -> Any:
        # The page's ids are chosen on narrow rows (sorting wide rows with their bodies
        # costs far more), then joined to the rows themselves: one statement.
        conditions = base_conditions(
            session,
            ctype,
            params,
            viewer,
            topic_ids,
            plan=plan,
            bound=True,
            walk=walk,
            changed_widely=changed_widely,
            few_changed=few_changed,
            by_filter=from_filter(),
            words_each=words_each,
            words_set=words_set(),
            page=params.limit + 1,
        )
        if guarded:
            conditions.append(_guard(viewer))
        ids = select(model.id.label("id"), sort_expr.label("sort_value")).where(*conditions)
        if sqlite:
            by = unindexed(sort_expr) if from_filter() else sort_expr
        else:
            by = sort_expr + _NOTHING if against_time else sort_expr
        if params.cursor:
            key = tuple_(by, model.id)
            after = tuple_(bindparam("after_value", type_=sort_expr.type), AFTER_ID)
            ids = ids.where(key < after if descending else key > after)
        if descending:
            ids = ids.order_by(by.desc(), model.id.desc())
        else:
            ids = ids.order_by(by.asc(), model.id.asc())
        ids = ids.limit(PAGE_SIZE)
        if rows_shape.narrow:
            # Only short columns (GraphQL asking for titles and dates): one level. The join
            # below would only add planning (PostgreSQL plans this statement afresh for each
            # request, and its plan cost as much as its run).
            return ids.with_only_columns(*rows_shape.columns, sort_expr.label("sort_value"))
        page = ids.subquery("page")
        order = (page.c.sort_value, page.c.id)
        return (
            select(*rows_shape.columns, page.c.sort_value)
            .join_from(model, page, model.id == page.c.id)
            .order_by(*(c.desc() if descending else c.asc() for c in order))
        )

    def statement() -> Any:
        if filtered:
            return page_statement()  # conditions with values of their own: built each time
        shape_key = (
            "page",
            ctype.name,
            sort_name,
            descending,
            bool(params.cursor),
            viewer.preview,
            plan,
            walk,
            guarded,
            rows_shape.keys,
            # How the page is ordered, which differs by database (statements are kept
            # per process, whatever database they run on).
            from_filter(),
            against_time,
        )
        return kept(_STATEMENTS, shape_key, page_statement)

    # Core rows on the session's connection: no ORM result processing.
    results = run(session, statement(), values)
    if guarded and not results:
        # No rows: none tagged, or the remembered topic is no longer that slug's. Ask.
        guarded = False
        del values["guard_id"], values["guard_slug"]
        topic_ids = visible_topic_ids(session, params.topics, viewer)
        _remember_topic(session, params.topics, topic_ids)
        plan = _topic_plan(session, ctype, topic_ids, for_count=False)
        values["topics"] = topic_ids
        results = run(session, statement(), values)
    build = rows_shape.builder()
    at = rows_shape.width  # the sort value follows the row's columns
    found = [(build(result), result[at]) for result in results[: params.limit]]
    next_cursor = None
    if len(results) > params.limit:
        last_row, last_sort = found[-1]
        next_cursor = encode_token(secret, scope, [last_sort, last_row.id])
    rows = [row for row, _ in found]

    def count_now() -> int:
        if params.q and not sqlite:
            # The words' matches, from the documents, among the items the other
            # conditions leave (`app.content.word_counts`).
            others = count_conditions(replace(params, q=None), visibility=False)
            return count_matches(session, ctype, params.q, viewer, others)
        # Counted the way the page was walked (SQLite, filters but no words: the filter's
        # own index, not the visibility index's every public row: events by type 3 s ->
        # 0.23 s at `large`). Words are not asked row by row to count them all.
        where = count_conditions(params)
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    def count_conditions(counted: ListParams, visibility: bool = True) -> list[Any]:
        return base_conditions(
            session,
            ctype,
            counted,
            viewer,
            topic_ids,
            for_count=True,
            walk=walk and bool(counted.filters or counted.updated_since) and not counted.q,
            changed_widely=changed_widely,
            few_changed=few_changed,
            visibility=visibility,
            words_each=words_each,
            words_set=bool(counted.q) and words_set(),
        )

    collections = list_collections(ctype, params, viewer)

    def count() -> int:
        if not params.cursor and next_cursor is None:
            return len(rows)  # the whole list fits on this first page
        # `upcoming` totals also change when an event ends.
        named = [BY_COLLECTION[c] for c in collections[1:]]
        return cached_count(session, scope, [ctype], viewer, count_now, ends, reads=named)

    def cursor_at(index: int) -> str:
        row, sort_value = found[index]
        return encode_token(secret, scope, [sort_value, row.id])

    ends = list_changes_at(session, ctype, params, viewer)
    return Page(rows, next_cursor, count, cursor_at, collections, ends)


def list_collections(ctype: ContentType, params: ListParams, viewer: Viewer) -> tuple[str, ...]:
    """The collections a write to which may change a list (`Page.collections`): its own,
    those of the items its filters name, and with `updated_since`, those whose writes can
    show its items differently (`app.content.shown`)."""
    named = referenced_collections(ctype.collection, params.filters, topics=bool(params.topics))
    shown = shown_collections([ctype], params.updated_since, viewer)
    return tuple(dict.fromkeys((ctype.collection, *named, *shown)))


def list_changes_at(
    session: Session, ctype: ContentType, params: ListParams, viewer: Viewer
) -> Callable[[], datetime | None] | None:
    """For a list that time alone changes, the next moment it may (`Page.changes_at`):
    `upcoming`, when an event ends; `updated_since`, when an item it may hold is shown
    differently (a scheduled item it shows goes public)."""
    ends = partial(next_event_end, session, viewer) if "upcoming" in params.filters else None
    if shown_collections([ctype], params.updated_since, viewer):
        return sooner(ends, partial(next_shown, session, [ctype], viewer.now))
    return ends


def get_item(session: Session, ctype: ContentType, id_or_slug: str, viewer: Viewer) -> Any | None:
    """One visible item by public id (`evt_12`) or slug; None when absent or hidden.

    A read-only row (`app.content.rows`): writes load theirs with
    `app.rest.admin_support.find_for_update`."""
    model = ctype.model
    pk = ctype.parse_public_id(id_or_slug)
    rows_shape = shape(model)
    stmt = kept(
        _STATEMENTS,
        ("item", ctype.name, pk is not None, viewer.preview),
        lambda: select(*rows_shape.columns).where(
            model.id == KEY if pk is not None else model.slug == KEY,
            visible(model, viewer, now=NOW),
        ),
    )
    found = read(
        session, rows_shape, stmt, with_now(viewer, key=pk if pk is not None else id_or_slug)
    )
    return found[0] if found else None


def get_items(
    session: Session, ctype: ContentType, keys: Sequence[str], viewer: Viewer
) -> dict[str, Any]:
    """Batch form of `get_item`, keyed by what was asked for (for DataLoaders)."""
    model = ctype.model
    ids = {k: ctype.parse_public_id(k) for k in keys}
    slugs = [k for k, pk in ids.items() if pk is None]
    pks = [pk for pk in ids.values() if pk is not None]
    if not slugs and not pks:
        return {}
    rows_shape = shape(model)

    def statement() -> Any:
        by_key = []
        if slugs:
            by_key.append(model.slug.in_(SLUGS))
        if pks:
            by_key.append(model.id.in_(IDS))
        return select(*rows_shape.columns).where(or_(*by_key), visible(model, viewer, now=NOW))

    stmt = kept(
        _STATEMENTS, ("items", ctype.name, bool(slugs), bool(pks), viewer.preview), statement
    )
    values: dict[str, Any] = {}
    if slugs:
        values["slugs"] = slugs
    if pks:
        values["ids"] = pks
    rows = read(session, rows_shape, stmt, with_now(viewer, **values))
    by_slug = {r.slug: r for r in rows}
    by_id = {r.id: r for r in rows}
    return {k: by_id.get(pk) if pk is not None else by_slug.get(k) for k, pk in ids.items()}


# ---------------------------------------------------------------------------------------
# The topic stream: articles, events, publications and quotes of a topic, newest first.

# Items published at the same instant follow the order of STREAM_TYPES, newest first: an
# article before the quotes taken from it (which carry its time), not after them.
BY_STREAM_RANK = tuple(reversed(STREAM_TYPES))
STREAM_RANK = {t.name: i for i, t in enumerate(BY_STREAM_RANK)}


class StreamPage(Page):
    """A page of a topic stream: `items` are (type, row) pairs."""


# The stream's sort: `published_at`, newest first unless asked otherwise.
STREAM_SORTS = ("published_at",)


def stream_scope(
    topic_id: int | None,
    types: Sequence[ContentType],
    viewer: Viewer,
    narrowing: dict[str, Any] | None = None,
) -> str:
    """The scope of a topic stream's cursors (and totals): the topic, the types, the kind
    of viewer and what narrows it. Without narrowing, the scope (and so every cursor
    already handed out) is as before narrowing existed."""
    parts: list[Any] = [topic_id, [t.name for t in types], viewer.preview]
    return "stream:" + _fingerprint(*parts, *([narrowing] if narrowing else []))


def stream_token(secret: str, scope: str, published: Any, rank: int, item_id: int) -> str:
    """The cursor after a stream item: its sort key (published time, type rank, id)."""
    if isinstance(published, datetime) and published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    return encode_token(secret, scope, [published, rank, item_id])


def stream_rows(
    session: Session, keys: Collection[tuple[int, int]], projection: Projection | None = None
) -> dict[tuple[int, int], Any]:
    """The rows of stream items by (type rank, id): one statement per type present."""
    wanted: dict[int, list[int]] = {}
    for rank, item_id in dict.fromkeys(keys):  # an item may be on several topics' pages
        wanted.setdefault(rank, []).append(item_id)
    loaded: dict[tuple[int, int], Any] = {}
    for rank, ids in wanted.items():
        for row in fetch_ids(session, BY_STREAM_RANK[rank].model, ids, projection):
            loaded[rank, row.id] = row
    return loaded


def public_tagged(ctype: ContentType, viewer: Viewer, tagging: Any = Tagging) -> tuple[Any, Any]:
    """Conditions: `tagging` (the model or an alias) tags a `ctype` item which the public
    sees at `viewer.now`. The tagging holds its item's visibility (`Tagging.public_at`),
    so a topic's public items of a type, newest first, and their count, are a range of
    `ix_tagging_topic_type_public`: no item is read."""
    return col(tagging.entity_type) == ctype.name, col(tagging.public_at) <= viewer.now


def public_counts_by_topic(
    session: Session, ctype: ContentType, viewer: Viewer, topic_ids: Sequence[int]
) -> dict[int, int]:
    """How many items of `ctype` the public sees tagged with each of `topic_ids`: one GROUP
    BY topic over the taggings alone (`public_tagged`; no item is read)."""
    topic = col(Tagging.topic_id)
    counted = select(topic, func.count()).where(topic.in_(topic_ids), *public_tagged(ctype, viewer))
    found = dict(session.execute(counted.group_by(topic)).tuples().all())
    return {topic_id: found.get(topic_id, 0) for topic_id in topic_ids}


def public_order(tagging: Any = Tagging, descending: bool = True) -> tuple[Any, ...]:
    """A public stream's order within a type, on the taggings: `published_at` (which
    `public_at` is, for a public item), then the id."""
    keys = (col(tagging.public_at), col(tagging.entity_id))
    return tuple(k.desc() for k in keys) if descending else tuple(k.asc() for k in keys)


def _after_in_type(
    rank: int, after: tuple[Any, int, int], descending: bool, published: Any, item_id: Any
) -> Any:
    """The stream's keyset condition (published, rank, id) past `after`, for the items of
    the type of `rank`: with the rank a constant, a range of (published, id) an index
    answers, not a comparison of three values of which one is a constant."""
    when, after_rank, after_id = after
    bound = literal(when, published.type)
    if rank == after_rank:
        key, pair = tuple_(published, item_id), tuple_(bound, literal(after_id, Integer()))
        return key < pair if descending else key > pair
    # Same time, another type: after it when its rank sorts after `after_rank`.
    past_on_tie = (rank < after_rank) == descending
    if descending:
        return published <= bound if past_on_tie else published < bound
    return published >= bound if past_on_tie else published > bound


# PostgreSQL, a stream narrowed to other topics. Read from their taggings, each item then
# looked up among the topic's (`_from_narrowing_taggings`), then sorted: about as dear an
# item they tag as a row of the other way, the topic's taggings walked, each item asked for
# one of theirs (~9 µs each at `large`). A page of n items walks about n * rows / tagged of
# the topic's rows (their items spread evenly among the type's `rows`), and never more than
# the topic tags. Read from theirs while tagged² <= _NARROWING_FACTOR * n * rows (the walk's
# length is a guess, theirs is not: the factor leans to them) and they tag fewer than the
# topic does, or each topic of a batch; counted up to _NARROWING_CAP + 1. At `large`
# (200,000 articles) theirs are read up to ~6,300 tagged items for a page of 100, ~2,900 for
# 20, ~900 for 1.
_NARROWING_FACTOR = 2
_NARROWING_CAP = 20_000
# (database, type, other topics, page rows, topic) -> read from theirs for that topic?
# (`app.content.hints`; a batch reads from theirs if so for each of its topics).
_NARROWING: PlanHints[bool] = PlanHints()


def _reads_narrowing_first(
    session: Session,
    ctype: ContentType,
    narrowing_ids: tuple[int, ...],
    rows_wanted: int,
    topic_ids: tuple[int, ...],
) -> bool:
    """Whether a page of `rows_wanted` items of `ctype` of the streams of `topic_ids`
    narrowed to `narrowing_ids` is found sooner from their taggings than by walking each
    stream topic's (the rule above). Kidnapping (70,000 articles) narrowed to "Arms Control"
    (2,144, past the 2,000 that made a topic popular for a list) walked 11,500 of
    kidnapping's articles for a page of 100: 200 ms at `large`; read from Arms Control's, 48
    ms. Arms Control narrowed to itself, or a topic of 935 articles narrowed to it, still
    walk their own (13-20 ms; read from Arms Control's, 32-45)."""

    def work_out(missing: list[int]) -> dict[int, bool]:
        narrowing = (
            select(literal(1))
            .where(col(Tagging.entity_type) == ctype.name, col(Tagging.topic_id).in_(narrowing_ids))
            .limit(_NARROWING_CAP + 1)
            .subquery()
        )
        many, rows = session.execute(
            select(
                select(func.count()).select_from(narrowing).scalar_subquery(),
                select(func.max(ctype.model.id)).scalar_subquery(),
            )
        ).one()
        if many * many > _NARROWING_FACTOR * rows_wanted * (rows or 0):
            return {topic_id: False for topic_id in missing}
        # Each topic's taggings of the type, counted up to one more than theirs.
        counted = _tagged_by_topic(ctype, many + 1)
        found: dict[int, int] = dict(
            session.execute(select(col(Topic.id), counted).where(col(Topic.id).in_(missing)))
            .tuples()
            .all()
        )
        return {topic_id: found.get(topic_id, 0) > many for topic_id in missing}

    url = str(session.get_bind().engine.url)
    keys = {t: (url, ctype.name, narrowing_ids, rows_wanted, t) for t in topic_ids}
    answers = _NARROWING.get_many(keys, work_out)
    return bool(answers) and all(answers.values())


def _each_asked(
    ctype: ContentType, item_id: Any, conditions: Sequence[Any], fenced: bool = True
) -> Any:
    """ "The `ctype` item `item_id` passes `conditions`", asked of each row as it comes.
    `fenced` (PostgreSQL): an OFFSET keeps PostgreSQL from making the EXISTS a join, which
    it may hash over every item that passes."""
    asked = select(literal(1)).where(ctype.model.id == item_id, *conditions)
    return exists(asked.offset(0) if fenced else asked)


def _from_narrowing_taggings(
    ctype: ContentType, topic_id: Any, narrowing_ids: list[int], viewer: Viewer
) -> tuple[Any, Any, Any]:
    """PostgreSQL: (FROM, published, item id) of a stream branch whose items are read from
    the taggings of the topics it is narrowed to (`narrowing_ids`, tagging few enough of
    the type for the page: `_reads_narrowing_first`), each looked up among the topic's
    public taggings (LATERAL, by the tagging's key), not the topic's taggings walked asking
    each item for one of them.

    The planner found that plan for the values it was given, but psycopg prepares a
    statement run 5 times, and PostgreSQL then keeps a generic plan, made for topics of
    average size: a popular topic's 19,000 articles walked, each asked for the rare tag
    (`topic(slug: "kidnapping") { stream(filter: {topic: <rare>}) }` 0.46-1.4 s at `large`
    once `topics { stream(filter: {topic: <rare>}) }` had been asked a few times). The
    lookup's LIMIT keeps it a lookup per item (one tagging per item and topic). `topic_id`:
    the topic's id, or a column naming it (`StreamPlan.branch`)."""
    narrowing = aliased(Tagging, name="narrowing")
    items = (
        select(col(narrowing.entity_id).label("id"))
        .where(col(narrowing.entity_type) == ctype.name, col(narrowing.topic_id).in_(narrowing_ids))
        .distinct()
        .subquery(f"narrowing_{ctype.name}")
    )
    tagged = (
        select(col(Tagging.public_at).label("published"))
        .where(
            *public_tagged(ctype, viewer),
            col(Tagging.entity_id) == items.c.id,
            col(Tagging.topic_id) == topic_id,
        )
        .limit(1)
        # `topic_id` a column: the topic of a LATERAL subquery's row two levels out.
        .correlate_except(Tagging)
        .lateral(f"tagged_{ctype.name}")
    )
    return items.join(tagged, true()), tagged.c.published, items.c.id


class StreamPlan:
    """What narrows a topic stream, worked out once for any number of topics: `params`
    narrows it as a list's parameters narrow a list (`topics`: tagged with any of these as
    well, `q`, `updated_since`, and `sort`, `published_at` or `-published_at`); its
    `limit` and `cursor` are not read. Each type's branch (`branch`) and count (`count_of`)
    are a topic's; everything else here is the same for every topic."""

    def __init__(
        self,
        session: Session,
        viewer: Viewer,
        types: Sequence[ContentType] = STREAM_TYPES,
        params: ListParams | None = None,
    ) -> None:
        params = params or ListParams()
        self.session, self.viewer, self.types, self.params = session, viewer, types, params
        sort = params.sort or "-published_at"
        self.descending = _split_sort(sort, STREAM_SORTS, "the topic stream")[1]
        self.extra_ids = (
            visible_topic_ids(session, params.topics, viewer) if params.topics else None
        )
        self.narrowing = {
            name: value
            for name, value in (
                ("ascending", None if self.descending else True),
                ("topics", sorted(set(params.topics)) or None),
                ("q", params.q),
                ("updated_since", params.updated_since),
            )
            if value is not None
        }
        # SQLite: a popular topic's branch walks the index of the type's published_at sort
        # (see `_topic_condition`); PostgreSQL plans each branch by itself.
        self.sqlite = session.get_bind().dialect.name == "sqlite"
        self.narrowed = ListParams(
            topics=params.topics, q=params.q, updated_since=params.updated_since
        )
        self._widely: dict[str, bool] = {}
        self._few: dict[str, bool] = {}
        # The public's stream, narrowed by nothing: each type's page from the taggings alone.
        self.from_taggings = not viewer.preview and set(self.narrowing) <= {"ascending"}
        # PostgreSQL, the public's stream narrowed (words, other topics, a time): each
        # type's page from the topic's public taggings of the type in order, as unnarrowed,
        # each item asked whether it passes. From the items, the planner walked the type's
        # sort index asking each whether it was tagged, guessing the topic's share of the
        # type from all its taggings: for a topic on 1.6% of the publications, most of them
        # old, a page read 61,000 publications (at `large`: `q=security` 290 ms -> 10 ms;
        # `topic=israel` 144 ms -> 9 ms). Where the topic is popular, the items' walk was as
        # quick (the two walks probe about as many rows: kidnapping's `q=colombia` 40 ms
        # then, 20 ms now).
        self.narrowed_taggings = not self.from_taggings and not viewer.preview and not self.sqlite
        # With `updated_since`, a type's part also changes with writes to the types that
        # show its items differently, and when a scheduled item they show goes public.
        shown = shown_collections(types, self.narrowed.updated_since, viewer)
        self.collections = [*(["topics"] if params.topics else []), *shown]
        self.changes_at = partial(next_shown, session, types, viewer.now) if shown else None

    def for_topic(self, topic_id: int) -> StreamPlan:
        """The plan of one topic's stream: without the other topics where the topic is one
        of them, "tagged with any of these as well" saying nothing of its items (each item
        was asked for one of their tags: at `large`, kidnapping's stream narrowed to
        kidnapping and a rare topic, `limit=100`, 36 -> 28 ms on PostgreSQL, 10-11 -> 8 ms
        at 20 on SQLite, on a slow machine). Its scope and collections stay the narrowed
        stream's: a cursor of either passes for the other. PostgreSQL's first pages of a
        batch of topics (`app.content.nested`) hold such a topic's plain branches beside the
        others' narrowed ones, in one statement."""
        if not self.narrows_itself(topic_id):
            return self
        plain = StreamPlan(self.session, self.viewer, self.types, replace(self.params, topics=[]))
        plain.narrowing, plain.collections = self.narrowing, self.collections
        # How widely the items changed since: worked out once, for both.
        plain._widely, plain._few = self._widely, self._few
        return plain

    def narrows_itself(self, topic_id: int) -> bool:
        """Whether the topic is among those the stream is narrowed to (`for_topic`)."""
        return topic_id in (self.extra_ids or ())

    @property
    def from_topic_taggings(self) -> bool:
        """Whether each type's page of a topic is read from the topic's public taggings
        (the public's stream on PostgreSQL, or unnarrowed): a branch whose only mention of
        the topic is its taggings' `topic_id` (`branch` takes a column for it)."""
        return self.from_taggings or self.narrowed_taggings

    def scope(self, topic_id: int | None) -> str:
        return stream_scope(topic_id, self.types, self.viewer, self.narrowing)

    def count_key(self, topic_id: int | None) -> str:
        """The key the topic's total is kept under. The other topics are keyed by the ids
        they name now: a topic deleted since names none."""
        scope = self.scope(topic_id)
        return scope if self.extra_ids is None else f"{scope}:{sorted(self.extra_ids)}"

    def changed_widely(self, ctype: ContentType) -> bool:
        # Asked once per type: the pages and their counts build their conditions from it.
        if ctype.name not in self._widely:
            self._widely[ctype.name] = _changed_widely(self.session, ctype, self.narrowed)
        return self._widely[ctype.name]

    def few_changed(self, ctype: ContentType) -> bool:
        if ctype.name not in self._few:
            self._few[ctype.name] = few_changed_since(
                self.session, ctype, self.narrowed, self.viewer
            )
        return self._few[ctype.name]

    def narrows_first(self, ctype: ContentType, topic_ids: Sequence[int], limit: int) -> bool:
        """PostgreSQL, the public's stream narrowed to other topics: whether a page of
        `limit` items of `ctype` of each of the topics `topic_ids` (the topic, or a batch's)
        is found from their taggings (`_from_narrowing_taggings`) rather than the topic's
        taggings walked, each item asked for one of them (`_reads_narrowing_first`)."""
        if not self.narrowed_taggings or not self.extra_ids:
            return False
        extra = tuple(sorted(self.extra_ids))
        topics = tuple(sorted(set(topic_ids)))
        return _reads_narrowing_first(self.session, ctype, extra, limit + 1, topics)

    def walks_taggings(self, ctype: ContentType) -> bool:
        """SQLite, the public's stream narrowed only by what each item can be asked one at a
        time (common words, a time most items changed since, other topics all popular for
        the type): the type's page is the topic's public taggings in order, each item
        probed by its key and asked whether it passes. Walking the type's items in order,
        each asked for the tag, read a hundred times more rows for a topic on 1% of them:
        "Arms Control" (2,144 of 200,000 articles) with `q=anthology` took 78 ms a request
        at `large` (823 ms at `limit=100`), its taggings walked 14 ms (46 ms). What narrows
        to a few items (a rare word, few changes, a rare other topic) still finds them
        first. PostgreSQL reads the narrowed public stream from the taggings anyway
        (`narrowed_taggings`; `asks_each` says how it asks)."""
        if not self.sqlite or self.viewer.preview or self.from_taggings:
            return False
        return self.asks_each(ctype)

    def asks_each(self, ctype: ContentType) -> bool:
        """Whether the stream is narrowed only by what each item of `ctype` is best asked
        one at a time, as the topic's taggings come. SQLite: words most items hold
        (`words_are_common`), a time most items changed since (`changed_widely`), other
        topics all popular for the type; otherwise what narrows it leaves few items, better
        found first.

        PostgreSQL: a time most items changed since, and no rare words. Asked as a
        semi-join (`IN`), it chose by its estimates, which see the changed rows' condition
        (an OR with a hashed subplan) as dear to ask per row and do not count reading a
        search document's vector (`app.content.word_counts`): at `limit=100` it hashed
        every item changed since, and with `q=security` every matching document (a
        sequential scan of 600,000), then probed the hash from the taggings. At `large`:
        kidnapping's and a rare topic's `updated_since=2000-01-01` 137 and 99 ms, with
        `q=security&updated_since=2020-01-01` 1.24 and 1.19 s; asked of each item, 17-30 ms.
        Words alone it asked of each item already (and a subplan per item costs ~30% more
        than its semi-join there)."""
        session, params = self.session, self.params
        if not self.sqlite:
            return (
                params.updated_since is not None
                and not self.few_changed(ctype)
                and not (params.q and words_are_rare(session, ctype, params.q))
            )
        if params.q and not (
            words_are_common(session, ctype, params.q) or _words_dense(session, ctype, params.q)
        ):
            return False
        if params.updated_since is not None and not self.changed_widely(ctype):
            return False
        extra_ids = self.extra_ids
        return extra_ids is None or (
            bool(extra_ids) and _is_popular(session, ctype, tuple(sorted(extra_ids)))
        )

    def conditions_of(
        self,
        topic_id: int,
        ctype: ContentType,
        for_count: bool,
        words: bool = True,
        with_topic: bool = True,
    ) -> list[Any]:
        """The conditions of the type's branch; without `words`: without `q`, nor the
        items' visibility (a count of words reads their documents'); without `with_topic`:
        without the topic (the branch reads its taggings)."""
        session, params, narrowed = self.session, self.params, self.narrowed
        model = ctype.model
        each = in_set = False
        if self.sqlite:
            tagged, walk = _topic_condition(session, ctype, [topic_id], for_count=for_count)
            if walk and params.q and self.walks_taggings(ctype):
                # The public's stream walks the topic's taggings: words few items hold (but
                # enough, `_words_dense`) are looked up among the matches. (A preview walks
                # the type's sort index, each item asked for the tag too: its walk is longer
                # by the topic's share of the type, and reads the matches first, below.
                # Lists, walked so with such words, took 55 -> 290 ms for "Arms Control"'s
                # 2,791 articles at `large`.)
                in_set = not words_are_common(session, ctype, params.q)
            elif walk and params.q and not words_are_common(session, ctype, params.q):
                # A rare word: its matches by the search index, then their tags (as a list
                # does), not every tagged item checked against the index (0.74 s -> ms).
                tagged, walk = _topic_sql("probe", ctype, [topic_id]), False
            elif (
                not walk
                and params.q
                and words_are_common(session, ctype, params.q)
                and (not for_count or not _is_popular(session, ctype, (topic_id,)))
            ):
                # A rare topic and common words: each of its items asked whether it
                # matches, not every match gathered first (0.88 s a page at `large`). (A
                # count never walks: asked of the page's plan, a popular topic's is not.)
                each = True
            elif (
                not walk
                and params.q
                and not _is_popular(session, ctype, (topic_id,))
                and _words_from_set(session, ctype, params.q, [topic_id])
            ):
                # A rare topic and rare words that match many more items than it tags: each
                # of its items looked up among the matches (`matches_in_set`). (A count does
                # not walk a popular topic either: its items are too many to look up.)
                in_set = True
        else:
            tagged, walk = model.id.in_(_tagged(ctype, [topic_id])), False
        # Visibility, the other topics, `q` and `updated_since`, exactly as a list has them:
        # walking a popular topic with an `updated_since` most rows pass, each row is checked
        # as it comes (the ids of every change, gathered first, took ~1 s a page at `large`).
        widely = walk and narrowed.updated_since is not None and self.changed_widely(ctype)
        found = base_conditions(
            session,
            ctype,
            narrowed if words else replace(narrowed, q=None),
            self.viewer,
            self.extra_ids,
            for_count=for_count,
            walk=walk,
            changed_widely=widely,
            few_changed=self.few_changed(ctype),
            visibility=words,
            words_each=each,
            words_set=in_set,
        )
        return [*found, tagged] if with_topic else found

    def branch(
        self,
        ctype: ContentType,
        topic_id: Any,
        limit: int,
        after: tuple[Any, int, int] | None,
        batch: Sequence[int] = (),
    ) -> Any:
        """(rank, id, published) of the topic's first `limit + 1` items of `ctype` (past
        `after`), in the stream's order. `topic_id`: the topic's id, or (where
        `from_topic_taggings`) a column naming it, as a LATERAL subquery per topic has, over
        the topics of `batch`."""
        viewer, descending = self.viewer, self.descending
        rank = STREAM_RANK[ctype.name]
        extra_ids = self.extra_ids
        topics = (topic_id,) if isinstance(topic_id, int) else tuple(batch)
        if extra_ids and self.narrows_first(ctype, topics, limit):
            return self._narrowing_branch(ctype, topic_id, extra_ids, limit, after)
        if self.from_topic_taggings or self.walks_taggings(ctype):
            published, item_id = col(Tagging.public_at), col(Tagging.entity_id)
            conditions = [col(Tagging.topic_id) == topic_id, *public_tagged(ctype, viewer)]
            if not self.from_taggings:
                narrowed = self.conditions_of(topic_id, ctype, for_count=False, with_topic=False)
                # SQLite: each item probed as its tagging comes (`walks_taggings`).
                if self.sqlite or self.asks_each(ctype):
                    conditions.append(_each_asked(ctype, item_id, narrowed, not self.sqlite))
                else:
                    conditions.append(item_id.in_(select(ctype.model.id).where(*narrowed)))
        else:
            published, item_id = _published(ctype, viewer), ctype.model.id
            conditions = self.conditions_of(topic_id, ctype, for_count=False)
        if after is not None:
            conditions.append(_after_in_type(rank, after, descending, published, item_id))
        order = (published.desc(), item_id.desc()) if descending else (published, item_id)
        return (
            select(
                literal(rank, Integer()).label("rank"),
                item_id.label("id"),
                published.label("published"),
            )
            .where(*conditions)
            .order_by(*order)
            .limit(limit + 1)
        )

    def _narrowing_branch(
        self,
        ctype: ContentType,
        topic_id: Any,
        extra_ids: list[int],
        limit: int,
        after: tuple[Any, int, int] | None,
    ) -> Any:
        """`branch` read from the other topics' taggings (`narrows_first`): their items
        among the topic's, in the stream's order (their taggings' times, no item read),
        then each asked whether it passes as it comes, until the page is full. Asked before
        the sort, every one of them was: kidnapping narrowed to Arms Control (2,144
        articles) with `q=security`, each article's search vector read, 100 ms at `large`;
        with `updated_since=2020-01-01` and a rare topic, a semi-join hashed every article
        changed since, 126 ms for a page of one."""
        rank = STREAM_RANK[ctype.name]
        source, published, item_id = _from_narrowing_taggings(
            ctype, topic_id, extra_ids, self.viewer
        )
        found = select(item_id.label("id"), published.label("published")).select_from(source)
        if after is not None:
            found = found.where(_after_in_type(rank, after, self.descending, published, item_id))
        keys = (published, item_id)
        in_order = found.order_by(*(k.desc() if self.descending else k for k in keys))
        # The OFFSET keeps the sort below the check: PostgreSQL pushes no condition into it.
        ordered = in_order.offset(0).subquery(f"narrowed_{ctype.name}")
        narrowed = self.conditions_of(topic_id, ctype, for_count=False, with_topic=False)
        order = (ordered.c.published, ordered.c.id)
        return (
            select(literal(rank, Integer()).label("rank"), ordered.c.id, ordered.c.published)
            .where(_each_asked(ctype, ordered.c.id, narrowed))
            .order_by(*(c.desc() if self.descending else c for c in order))
            .limit(limit + 1)
        )

    def count_of(self, topic_id: int, ctype: ContentType) -> int:
        """How many items of `ctype` the topic's stream has."""
        session, viewer, params = self.session, self.viewer, self.params
        model = ctype.model
        if self.from_taggings:
            return public_counts_by_topic(session, ctype, viewer, [topic_id])[topic_id]
        if params.q and not self.sqlite:
            # The words' matches, from the documents, among the topic's items, or those
            # the other conditions leave (`app.content.word_counts`).
            others = self.conditions_of(topic_id, ctype, True, words=False)
            return count_matches(session, ctype, params.q, viewer, others)
        conditions = self.conditions_of(topic_id, ctype, True)
        return session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0

    def counts_by_topic(self, ctype: ContentType, topic_ids: list[int]) -> dict[int, int]:
        """PostgreSQL: `count_of` for many topics in one statement, GROUP BY topic over the
        items' taggings (one per item and topic: the same counts), with words over their
        documents' (`count_matches_by_topic`). With an `updated_since`, each topic's count
        read every changed item of the type (~0.1 s each at `large`), here once for all."""
        if self.params.q:  # from the documents (`app.content.word_counts`)
            others = self.conditions_of(0, ctype, True, words=False, with_topic=False)
            return count_matches_by_topic(
                self.session, ctype, self.params.q, self.viewer, topic_ids, others
            )
        if self.from_taggings:
            return public_counts_by_topic(self.session, ctype, self.viewer, topic_ids)
        tagging = aliased(Tagging, name="counted_tagging")  # not the conditions' own
        topic = col(tagging.topic_id)
        model = ctype.model
        conditions = self.conditions_of(0, ctype, True, with_topic=False)
        tagged = and_(col(tagging.entity_type) == ctype.name, col(tagging.entity_id) == model.id)
        counted = (
            select(topic, func.count())
            .select_from(model)
            .join(tagging, tagged)
            .where(topic.in_(topic_ids), *conditions)
        )
        found = dict(self.session.execute(counted.group_by(topic)).tuples().all())
        return {topic_id: found.get(topic_id, 0) for topic_id in topic_ids}

    def totals(self, topic_ids: Sequence[int]) -> dict[int, int]:
        """The topics' totals: each type's part kept at that type's version (an article's
        edit recounts the articles of the topic, not its events), under `count_key`."""
        since = self.narrowed.updated_since
        viewer = self.viewer

        def shown_reads(ctype: ContentType) -> list[ContentType]:
            return [BY_COLLECTION[c] for c in shown_collections([ctype], since, viewer)]

        def shown_changes_at(ctype: ContentType) -> Callable[[], datetime | None] | None:
            if not shown_collections([ctype], since, viewer):
                return None
            return partial(next_shown, self.session, [ctype], viewer.now)

        def counts(ctype: ContentType, wanted: list[int]) -> dict[int, int]:
            if len(wanted) > 1 and not self.sqlite:
                return self.counts_by_topic(ctype, wanted)
            return {topic_id: self.count_of(topic_id, ctype) for topic_id in wanted}

        return cached_totals_by_type(
            self.session,
            {topic_id: self.count_key(topic_id) for topic_id in topic_ids},
            self.types,
            viewer,
            counts,
            shown_reads,
            shown_changes_at,
        )


def topic_stream(
    session: Session,
    topic: Topic,
    viewer: Viewer,
    limit: int,
    cursor: str | None,
    secret: str,
    types: Sequence[ContentType] = STREAM_TYPES,
    params: ListParams | None = None,
) -> StreamPage:
    """A page of the topic's stream, narrowed by `params` (`StreamPlan`)."""
    check_limit(limit)
    topic_id = topic.id or 0
    plan = StreamPlan(session, viewer, types, params).for_topic(topic_id)
    scope = plan.scope(topic.id)
    after = None
    if cursor:
        try:
            at = of_type(datetime, type(None))
            when, rank, last_id = decode_token(secret, scope, cursor, (at, row_id, row_id))
        except (InvalidToken, ValueError) as exc:
            raise QueryError("cursor", str(exc)) from None
        after = (when, rank, last_id)
    branches = [select(plan.branch(ctype, topic_id, limit, after).subquery()) for ctype in types]
    merged = union_all(*branches).subquery()
    columns_in_order = (merged.c.published, merged.c.rank, merged.c.id)
    descending = plan.descending
    rows = session.execute(
        select(merged)
        .order_by(*(c.desc() if descending else c.asc() for c in columns_in_order))
        .limit(limit + 1)
    ).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    loaded = stream_rows(session, [(r.rank, r.id) for r in rows])
    items = [(BY_STREAM_RANK[r.rank], loaded[r.rank, r.id]) for r in rows]

    def cursor_at(index: int) -> str:
        row = rows[index]
        return stream_token(secret, scope, row.published, row.rank, row.id)

    next_cursor = cursor_at(len(rows) - 1) if has_more and rows else None

    def count() -> int:
        if not cursor and next_cursor is None:
            return len(rows)
        return plan.totals([topic_id])[topic_id]

    return StreamPage(items, next_cursor, count, cursor_at, plan.collections, plan.changes_at)


# ---------------------------------------------------------------------------------------
# The change log, computed from the items themselves so that it obeys the visibility
# rule exactly: a scheduled item appears as `created` when its time comes, an item that
# leaves the public surface (deleted, unpublished, archived) appears as `deleted`, and
# drafts never appear at all.

_TYPE_RANK = {t.name: i for i, t in enumerate(ALL_TYPES)}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Change:
    action: str
    ctype: ContentType
    entity_id: int
    slug: str
    at: datetime


@dataclass
class ChangePage:
    items: list[Change]
    next_since: str
    has_more: bool
    total: int
    # When the first change counted but not yet listed settles: no cache may keep the page
    # past then.
    settles_at: datetime | None = None


def _in_log(model: Any, viewer: Viewer) -> Any:
    """Whether a row appears in the change log at all (at the time `NOW`)."""
    if not issubclass(model, Publishable):
        return literal(True)
    # A public reader learns of a removal only if the item had been public; drafts, however
    # dated, never appear. Editors (preview) see every removal.
    removed = model.deleted_at.is_not(None) if viewer.preview else model.was_public
    return or_(visible(model, viewer, now=NOW), removed)


def _change_branch(
    ctype: ContentType, viewer: Viewer, since: Any, until: Any = None, shown: bool = True
) -> Any:
    """One type's rows in the change log at the time `NOW`; `since`: only rows whose change
    time (`at`) may be at or after it; `until`: only rows whose `at` may be at or before it
    (None, or their parameters, `_SINCE` and `_UNTIL`). `shown=False`: with the items
    listed at a later moment `shown_change` noted, at their own change time (`_log_count`)."""
    model = ctype.model
    is_visible = visible(model, viewer, now=NOW)
    include = _in_log(model, viewer)
    if issubclass(model, Publishable) and not viewer.preview:
        # The public sees an item change when it is written or, if later, when it goes live.
        published = model.published_at
        live_at = case((published > model.updated_at, published), else_=model.updated_at)
    else:
        # An editor's preview sees a scheduled item (and its edits) as it is written.
        live_at = model.updated_at
    if issubclass(model, Publishable):
        # What the public last saw: the time and slug at which the item left.
        gone_at = func.coalesce(model.left_public_at, model.deleted_at, model.updated_at)
        slug = case((is_visible, model.slug), else_=func.coalesce(model.public_slug, model.slug))
    else:
        gone_at = func.coalesce(model.deleted_at, model.updated_at)
        slug = model.slug
    at = case((is_visible, live_at), else_=gone_at)
    action = case(
        (~is_visible, literal("deleted")),
        (model.version == 1, literal("created")),
        else_=literal("updated"),
    )
    branch = select(
        literal(_TYPE_RANK[ctype.name], Integer()).label("rank"),
        model.id.label("id"),
        slug.label("slug"),
        at.label("at"),
        action.label("action"),
    ).where(include)
    if shown and shows_references(ctype, viewer):
        # Shown differently later than its own change (an item it shows went public): it is
        # listed then, by `_shown_branch`, not here (a probe of `shown_change`'s key).
        branch = branch.where(or_(~is_visible, ~later_shown(ctype, model.id, live_at, NOW)))
    if since is not None:
        # `at` is always one of these columns, so at >= since means one of them is: a
        # redundant condition, which their indexes answer (a poll reads what changed).
        # (IS NOT NULL: the partial indexes of these mostly-empty columns.) With `until`
        # too, the column that is `at` is between the two: each index is read over that
        # window only (a poll from a year ago read the year's 115,000 rows at `large`,
        # bounded by `until` after reading them).
        def window(column: Any) -> Any:
            return column >= since if until is None else column.between(since, until)

        recent = [
            window(model.updated_at),
            and_(model.deleted_at.is_not(None), window(model.deleted_at)),
        ]
        if issubclass(model, Publishable):
            recent.append(and_(model.left_public_at.is_not(None), window(model.left_public_at)))
            # `published_at` is `at` only for a visible item: for the public, not a
            # scheduled one (thousands at `large`, which the poll would read for nothing).
            published = window(model.published_at)
            if not viewer.preview:
                published = and_(published, model.published_at <= NOW)
            recent.append(published)
        branch = branch.where(or_(*recent))
    elif until is not None:
        # `at` <= until means one of these is: a visible item's `at` is its `updated_at` or
        # a later `published_at`, a gone item's one of the three. The indexes answer it.
        early = [
            model.updated_at <= until,
            and_(model.deleted_at.is_not(None), model.deleted_at <= until),
        ]
        if issubclass(model, Publishable):
            early.append(and_(model.left_public_at.is_not(None), model.left_public_at <= until))
        branch = branch.where(or_(*early))
    return branch


def _shown_branch(
    ctype: ContentType, viewer: Viewer, since: Any, until: Any = None, own_at: bool = False
) -> Any:
    """The visible items of `ctype` whose change time is a moment `shown_change` noted (an
    item they show went public, a quote came or went): its latest that has passed, when
    later than the item's own change time. Read from the table by (type, moment), over the
    window of `_change_branch` (`since`, `until`); each item is in one branch or the other.
    `own_at`: with the item's own change time as a column of that name."""
    model = ctype.model
    at = SHOWN.c.at
    conditions = [SHOWN.c.item_type == ctype.name]
    # The window first: of two upper bounds, SQLite reads the index up to the first it
    # finds (`NOW` first: every row up to now, for a horizon years ago).
    if since is not None:
        conditions.append(at >= since if until is None else at.between(since, until))
    elif until is not None:
        conditions.append(at <= until)
    conditions += [at <= NOW, ~later_shown(ctype, SHOWN.c.item_id, at, NOW)]
    # The table's rows first, then their items by key. (OFFSET 0: a subquery neither
    # database merges into the join. SQLite, merged, read every public article from the
    # visibility index and probed the table for each: 6 s for a first page at `large`.)
    moments = select(SHOWN.c.item_id, SHOWN.c.at).where(*conditions).offset(0).subquery("shown")
    published = model.published_at
    own = case((published > model.updated_at, published), else_=model.updated_at)
    action = case((model.version == 1, literal("created")), else_=literal("updated"))
    return (
        select(
            literal(_TYPE_RANK[ctype.name], Integer()).label("rank"),
            model.id.label("id"),
            model.slug.label("slug"),
            moments.c.at.label("at"),
            action.label("action"),
            *([own.label("own_at")] if own_at else []),
        )
        .select_from(moments)
        .join(model, model.id == moments.c.item_id)
        .where(moments.c.at > own, visible(model, viewer, now=NOW))
    )


# A page of the log is the rows with the earliest change times after its token (from the
# beginning without one), which no index orders (`at` is computed, and moves with the
# clock): a poll with a token a year old sorted 115,000 rows at `large` (1 s). It is read up
# to a horizon instead: the time of the k-th earliest `updated_at` among logged rows, from
# the token's time on (their indexes answer it); every row with `at` at or before the
# horizon is found through the indexes (`_change_branch(until=)`), and if there are more
# than a page of them, they hold the page.
# Otherwise the horizon moves out (k x 8), and past a few tries the whole log is sorted.
# (k starts at a few pages' worth: a visible item's change time is its `updated_at` or a
# later publication, so the earliest `updated_at`s hold fewer than k of the earliest rows.)
_HORIZON_TRIES = 3
_HORIZON_START = 100


# The change log's statements, built once per shape (viewer kind, token or not, horizon
# or not) and run with these values: building and cache-keying the union of every type's
# branches cost a poll ~30 ms of Python at each request, running it ~2 ms of SQLite.
_LOG_STATEMENTS: dict[tuple[Any, ...], Any] = {}
_SINCE: Any = bindparam("since", type_=UTCDateTime())
_UNTIL: Any = bindparam("until", type_=UTCDateTime())
_SETTLED: Any = bindparam("settled", type_=UTCDateTime())
_AFTER_AT: Any = bindparam("after_at", type_=UTCDateTime())
_AFTER_RANK: Any = bindparam("after_rank", type_=Integer())
_K: Any = bindparam("k", type_=Integer())
_K_OFFSET: Any = bindparam("k_offset", type_=Integer())


def _log(viewer: Viewer, since: bool, until: bool) -> Any:
    """The change log as a subquery: every type's branch (`since`, `until`: bounded by
    `_SINCE`, `_UNTIL`)."""
    bounds = (_SINCE if since else None, _UNTIL if until else None)
    branches = [_change_branch(t, viewer, *bounds) for t in ALL_TYPES]
    shown = [t for t in ALL_TYPES if shows_references(t, viewer)]
    branches += [_shown_branch(t, viewer, *bounds) for t in shown]
    return union_all(*branches).subquery()


def _newer(log: Any) -> Any:
    """The rows of `log` after the token's (time, type rank, id)."""
    return tuple_(log.c.at, log.c.rank, log.c.id) > tuple_(_AFTER_AT, _AFTER_RANK, AFTER_ID)


def _log_page(viewer: Viewer, since: bool, until: bool) -> Any:
    log = _log(viewer, since, until)
    conditions = [_newer(log), log.c.at <= _SETTLED]
    if until:
        conditions.append(log.c.at <= _UNTIL)
    order = (log.c.at, log.c.rank, log.c.id)
    return select(log).where(*conditions).order_by(*order).limit(PAGE_SIZE)


def _log_count(viewer: Viewer, since: bool) -> Any:
    """How many rows of the log are after the token. Counted as every item at its own change
    time (no probe of `shown_change` for each), plus those listed at a later noted moment
    whose own time is not after the token: an item whose own time is after it has its noted
    moment after it too, and is counted once either way (a poll 30 days behind at `large`
    counts ~45,000 rows)."""
    bound = _SINCE if since else None
    own = union_all(*[_change_branch(t, viewer, bound, shown=False) for t in ALL_TYPES])
    own_log = own.subquery()
    counted = select(func.count()).select_from(own_log).where(_newer(own_log))
    types = [t for t in ALL_TYPES if shows_references(t, viewer)]
    if not types:
        return counted
    later = union_all(*[_shown_branch(t, viewer, bound, own_at=True) for t in types]).subquery()
    own_time = tuple_(later.c.own_at, later.c.rank, later.c.id)
    not_counted = own_time <= tuple_(_AFTER_AT, _AFTER_RANK, AFTER_ID)
    moved = select(func.count()).select_from(later).where(_newer(later), not_counted)
    return select(counted.scalar_subquery() + moved.scalar_subquery())


def _log_first_unsettled(viewer: Viewer, since: bool) -> Any:
    log = _log(viewer, since, False)
    return select(func.min(log.c.at)).where(_newer(log), log.c.at > _SETTLED)


def _horizon(
    session: Session, viewer: Viewer, k: int, since: datetime | None = None
) -> datetime | None:
    """The k-th earliest `updated_at` of the rows in the log, from `since` on (None: fewer
    rows than k)."""

    def statement() -> Any:
        parts = [
            select(t.model.updated_at.label("t"))
            .where(
                _in_log(t.model, viewer),
                *([] if since is None else [t.model.updated_at >= _SINCE]),
            )
            .order_by(t.model.updated_at)
            .limit(_K)
            .subquery()
            for t in ALL_TYPES
        ]
        times = union_all(*[select(part.c.t) for part in parts]).subquery()
        return select(times.c.t).order_by(times.c.t).offset(_K_OFFSET).limit(1)

    key = ("horizon", viewer.preview, since is not None)
    stmt = kept(_LOG_STATEMENTS, key, statement)
    values = {"now": viewer.now, "since": since, "k": k, "k_offset": k - 1}
    found = run(session, stmt, values)
    if not found or found[0][0] is None:
        return None
    return as_utc(found[0][0])


def changes(
    session: Session,
    since: str | None,
    limit: int,
    viewer: Viewer,
    secret: str,
    settle: timedelta = timedelta(0),
) -> ChangePage:
    """A page of the change log after the token `since`. Only changes at least `settle`
    old are listed (`CHANGES_SETTLE`): a write stamps its time before it commits, so a
    change stamped just before this request's clock may not be visible yet; listing the
    newer ones would move the partner's token past it for good. The same bound keeps out
    what became public between this request's clock and its statement. `total` counts
    the newer ones too."""
    check_limit(limit)
    settled = viewer.now - settle
    after: tuple[datetime, int, int] = (_EPOCH, -1, -1)
    if since:
        try:
            when, rank, last_id = decode_token(secret, "changes", since, (instant, place, place))
            after = (when, int(rank), int(last_id))
        except (InvalidToken, ValueError, TypeError) as exc:
            raise QueryError("since", str(exc)) from None
    since_at = after[0] if since else None
    bounded = since_at is not None
    values: dict[str, Any] = {
        "now": viewer.now,
        "since": since_at,
        "settled": settled,
        "after_at": after[0],
        "after_rank": after[1],
        "after_id": after[2],
        "page_size": limit + 1,
    }

    def page(until: datetime | None) -> list[Any]:
        key = ("page", viewer.preview, bounded, until is not None)
        stmt = kept(_LOG_STATEMENTS, key, lambda: _log_page(viewer, bounded, until is not None))
        return run(session, stmt, {**values, "until": until})

    rows: list[Any] | None = None
    k = max(_HORIZON_START, 4 * (limit + 1))
    for _ in range(_HORIZON_TRIES):
        until = _horizon(session, viewer, k, since_at)
        if until is None:
            break
        found = page(until)
        if len(found) > limit:
            rows = found
            break
        k *= 8
    if rows is None:
        rows = page(None)
    has_more = len(rows) > limit
    rows = rows[:limit]

    def count_now() -> int:
        key = ("count", viewer.preview, bounded)
        stmt = kept(_LOG_STATEMENTS, key, lambda: _log_count(viewer, bounded))
        return int(run(session, stmt, values)[0][0] or 0)

    # The whole log's total is kept per version of every type (polls' totals depend on the
    # token).
    total = count_now() if since else cached_count(session, "changes", ALL_TYPES, viewer, count_now)
    items = []
    for rank, entity_id, slug, at, action in rows:
        items.append(Change(action, ALL_TYPES[rank], entity_id, slug, as_utc(at)))
    if items:
        last = items[-1]
        next_since = encode_token(
            secret, "changes", [last.at, _TYPE_RANK[last.ctype.name], last.entity_id]
        )
    else:
        next_since = since or encode_token(secret, "changes", [after[0], after[1], after[2]])
    settles_at = None
    if not has_more and total > len(items):
        # Changes wait to settle: the first of them settles `settle` after its time.
        key = ("first unsettled", viewer.preview, bounded)
        stmt = kept(_LOG_STATEMENTS, key, lambda: _log_first_unsettled(viewer, bounded))
        first = run(session, stmt, values)[0][0]
        if first is not None:
            settles_at = as_utc(first) + settle
    return ChangePage(items, next_since, has_more, total, settles_at)


def get_topic(session: Session, slug: str, viewer: Viewer) -> Topic | None:
    row = get_item(session, TOPIC, slug, viewer)
    return row if isinstance(row, Topic) else None


__all__ = [
    "Change",
    "ChangePage",
    "ListParams",
    "Page",
    "StreamPage",
    "changes",
    "check_limit",
    "get_item",
    "get_items",
    "get_topic",
    "list_items",
    "next_scheduled",
    "topic_stream",
]


def next_scheduled(session: Session, now: datetime | None = None) -> dict[str, datetime]:
    """When each type's next scheduled item becomes public, by collection (types with none
    left out): a response that shows a type must not be kept past that moment, and one that
    does not show it must not tell when it comes."""
    moment = now or datetime.now(UTC)
    soonest = {}
    for ctype in ALL_TYPES:
        upcoming = next_public_at(session, [ctype.model], moment)
        if upcoming is not None:
            soonest[ctype.collection] = upcoming
    return soonest
