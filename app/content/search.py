"""Full-text search behind one interface: SQLite FTS5 or PostgreSQL tsvector + GIN.

`search_document` holds one row per item (title + plain text, and the item's visibility:
`public_at`, `deleted`). The write layer writes it whole with `index_item`; after that,
triggers on each content table keep its visibility in step with the item's row and delete
it with the row, whoever writes it (migration `search_follows_its_item`). Matching uses
the dialect's index; visibility is the same rule as everywhere else
(`app.content.visibility.public_since`), read from the document itself, so hidden items are
left out while the matches are found, never after a cap.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    and_,
    bindparam,
    column,
    delete,
    exists,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session, aliased
from sqlmodel import col

from app.content.counts import cached_count
from app.content.cursors import InvalidToken, decode_token, of_type, row_id, score
from app.content.errors import QueryError
from app.content.hints import PlanHints
from app.content.types import ALL_TYPES, BY_NAME, ContentType
from app.content.visibility import Viewer, public_since, visible_document
from app.db import SYNCHRONIZE, open_transaction
from app.models import SearchDocument

# SQLite's FTS5 table, which no model describes (an ORM select cannot start from text()).
_FTS_TABLE = table("search_fts", column("rowid"))
_WORD = re.compile(r"\w+", re.UNICODE)
_START, _STOP = "\x02", "\x03"
# PostgreSQL's stored, GIN-indexed search vector (a generated column; see the migrations).
PG_TSVECTOR = "search_document.tsv"
# PostgreSQL's text search configuration (migration `search_folds_accents`): `english`,
# its words unaccented first, as SQLite's tokenizer removes diacritics.
PG_CONFIG = "dossier_search"
# Characters PostgreSQL's parser reads inside a word (a host name, a file name, an e-mail
# address) or as a sign ("Covid-19": `covid`, `-19`), where SQLite's tokenizer ends one;
# and what ends it there (`split_joined`): a control character no stored text holds
# (writes refuse it), which the parser reads as no letter in every locale (U+200B, the
# first choice, is a letter to a database whose LC_CTYPE is `C`).
JOINED = "([./@:]|-(?=[0-9]))"
WORD_END = "\x1f"


# PostgreSQL's English stop words (`tsearch_data/english.stop`, Snowball's list), which its
# `english` configuration leaves out of a query. SQLite's FTS5 has none: `q=the` matched
# nearly every document there and none on PostgreSQL, and `hostage's` asked FTS5 for the
# word `s`. Both databases now search for the same words.
_STOP_TEXT = (
    "i me my myself we our ours ourselves you your yours yourself yourselves he him his "
    "himself she her hers herself it its itself they them their theirs themselves what "
    "which who whom this that these those am is are was were be been being have has had "
    "having do does did doing a an the and but if or because as until while of at by for "
    "with about against between into through during before after above below to from up "
    "down in out on off over under again further then once here there when where why how "
    "all any both each few more most other some such no nor not only own same so than too "
    "very s t can will just don should now"
)
STOP_WORDS = frozenset(_STOP_TEXT.split())


def _words(q: str) -> list[str]:
    """The words `q` searches for: at most 32, stop words left out (all stop words: none,
    and nothing matches, on both databases).

    `q` is NFKC-normalized first. Decomposed text (NFD, as macOS and many PDFs give it)
    writes an accent as a mark of its own after its letter, which is no word character:
    "Sa\u0303o" was the words "sa" and "o", and found nothing on either database, while the
    same word composed found "São". Compatibility forms (fullwidth letters) become the
    letters they stand for, which PostgreSQL's `unaccent` did and SQLite's tokenizer did not.
    """
    words = _WORD.findall(unicodedata.normalize("NFKC", q))[:32]
    if not words:
        raise QueryError("q", "must contain at least one word")
    return [w for w in words if w.lower() not in STOP_WORDS]


def _fts5_query(q: str, types: Sequence[ContentType] | None = None) -> str:
    """FTS5's query for `q`'s words in the title and body, of items of `types` (None or
    every type: any).

    Every word is quoted: FTS5 operators and punctuation in user input are never syntax.
    No words left: `""`, an empty phrase, which matches nothing. The index holds each
    document's type too, as a word no text says (column `type_word`, migration
    `search_type_words`), so a search of one rare type intersects the word's matches with
    that type's in the index: walking the newest matches of every type until 2,000 people
    turned up took 0.46 s at `large`. The words are kept to the title and body: `q=person`
    must not match every person."""
    words = " ".join('"' + w.replace('"', "") + '"' for w in _words(q))
    if not words:
        return '""'
    query = "{title body} : (" + words + ")"
    if types is not None and {t.name for t in types} != _EVERY_TYPE:
        kinds = " OR ".join(f'"{TYPE_WORD}{t.name}"' for t in types)
        query = f"type_word : ({kinds}) AND {query}"
    return query


# SQLite: the word the full-text index holds for a document of type `t`, `TYPE_WORD` +
# `t.name` (migration `search_type_words`). The type's name itself was stemmed with the
# text ("publication" -> "public"): the type's documents were read with every text's
# that said the word.
TYPE_WORD = "dossiertype"


_EVERY_TYPE = frozenset(t.name for t in ALL_TYPES)


def _tsquery(q: str) -> Any:
    """PostgreSQL's query for `q`'s words (all of them, stemmed)."""
    return func.plainto_tsquery(literal_column(f"'{PG_CONFIG}'::regconfig"), " ".join(_words(q)))


def plan_for_the_words(session: Session) -> None:
    """On PostgreSQL, plan this transaction's statements for their values.

    psycopg prepares a statement it has run 5 times, and after 5 more runs PostgreSQL may
    switch to a generic plan, made without the parameters' values. The best plan for
    matching words depends on the words: for a common one, the first few thousand matches
    from the table; for a rare one, the GIN index. The generic plan read every match of a
    common word from the index (search at `large`: 35 ms became 150 ms from the tenth
    request on). Only statements with words pay for planning each time: a list statement's
    generic plan is as good as its custom one, and planning would cost ~0.3 ms a statement.

    Once a transaction: a stream with words asked it for each type's branch, a round trip
    each (the session's transaction, whose end ends the connection's, is remembered).
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    planned = session.info.get(_WORDS_PLANNED)
    if planned is not None and planned is session.get_transaction():
        return
    open_transaction(session)  # a read session runs in autocommit; SET LOCAL needs one
    session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    session.info[_WORDS_PLANNED] = session.get_transaction()


# `Session.info`'s key for the transaction `plan_for_the_words` planned for its words.
_WORDS_PLANNED = "dossier.words_planned"


def match_condition(
    session: Session, q: str, types: Sequence[ContentType] | None = None
) -> ColumnElement[bool]:
    """A condition on `search_document` rows matching `q` (all words, stemmed); SQLite's
    index answers for `types` only (the caller still says which types it wants). On
    PostgreSQL the session's transaction is then planned for its values (see
    `plan_for_the_words`): every statement that matches words goes through here or `search`."""
    if session.get_bind().dialect.name == "sqlite":
        return col(SearchDocument.id).in_(_fts_rowids(q, types))
    plan_for_the_words(session)
    return literal_column(PG_TSVECTOR).op("@@")(_tsquery(q))


def _fts_rowids(q: str, types: Sequence[ContentType] | None) -> Any:
    """SQLite: the rowids of the documents (of `types`) matching `q`, a subquery."""
    # A name of its own: a stream's statement holds one of these per type, each with its
    # own query (its type), and a shared name would give them all one.
    fts = text("SELECT rowid FROM search_fts WHERE search_fts MATCH :fts_q").bindparams(
        bindparam("fts_q", _fts5_query(q, types), unique=True)
    )
    return fts.columns(literal_column("rowid"))


def matches_in_set(ctype: ContentType, q: str) -> ColumnElement[bool]:
    """SQLite: "this `ctype` row matches `q`", each row's document looked up among the
    type's matches, gathered once (a list the statement builds before its first row), for
    rows found otherwise when the words match many more items than the rows read: a rare
    topic's items (`app.content.queries._words_from_set`), a topic's taggings walked
    (`_words_dense`). Each match of the words read for its item, then the item for its
    tag, cost ~2.5 µs a match at `large`; a look-up of each row's document in the matches
    ~4 µs a row, their list ~0.3 µs a match."""
    rowids = _fts_rowids(q, [ctype])
    return _document_matches(ctype, lambda document: col(document.id).in_(rowids))


def count_matches_upto(session: Session, ctype: ContentType, q: str, cap: int) -> int:
    """SQLite: how many of `ctype`'s documents, whatever their visibility, match `q`,
    counted up to `cap`."""
    found = _fts_rowids(q, [ctype]).subquery()
    limited = select(found.c.rowid).limit(cap).subquery()
    return session.scalar(select(func.count()).select_from(limited)) or 0


def matches_each(ctype: ContentType, q: str) -> ColumnElement[bool]:
    """SQLite: "this `ctype` row matches `q`", asked of each row (an FTS5 lookup by rowid),
    for a list that walks its sort index through words that most rows match."""
    matches = text("search_fts MATCH :fts_q").bindparams(bindparam("fts_q", _fts5_query(q)))
    return _document_matches(
        ctype, lambda document: exists().where(matches, _FTS_TABLE.c.rowid == document.id)
    )


def _document_matches(
    ctype: ContentType, matching: Callable[[Any], ColumnElement[bool]]
) -> ColumnElement[bool]:
    """SQLite: "this `ctype` row's search document is `matching`" (a condition on the
    document's columns)."""
    document = aliased(SearchDocument, name="document")
    return exists().where(
        col(document.entity_type) == ctype.name,
        col(document.entity_id) == ctype.model.id,
        matching(document),
    )


# (database, type, words) -> common? (`app.content.hints`).
_COMMON_WORDS: PlanHints[bool] = PlanHints()
COMMON_SAMPLE = 400


def words_are_common(session: Session, ctype: ContentType, q: str) -> bool:
    """SQLite: whether `q` matches more than a twentieth of `ctype`'s rows, judged on its
    newest `COMMON_SAMPLE` rows (where a walk in the default order starts). Then a list is
    better walked in its sort order, each row asked whether it matches (`matches_each`):
    listing every match first took 0.9 s for a word in 500,000 documents at `large`;
    walking, 6 ms. For rarer words the list of matches is cheaper (walking for a word
    nothing matches read every row: 11 s). Counting matches up to a twentieth of the rows
    instead took 0.3 s (3 s with a cold cache) at `large`: the word's matches of every type
    were joined to their documents until enough were of this one."""

    def work_out() -> bool:
        model = ctype.model
        newest = select(model.id).order_by(model.id.desc()).limit(COMMON_SAMPLE).subquery()
        sampled = session.scalar(select(func.count()).select_from(newest)) or 0
        found = session.scalar(
            select(func.count())
            .select_from(model)
            .where(model.id.in_(select(newest.c.id)), matches_each(ctype, q))
        )
        return bool(found and found * 20 > sampled)

    return _COMMON_WORDS.get((str(session.get_bind().engine.url), ctype.name, q), work_out)


def matching_ids(session: Session, ctype: ContentType, q: str) -> Any:
    """Subquery of the ids of `ctype` items matching `q`, for a collection's `q` filter."""
    return select(col(SearchDocument.entity_id)).where(
        col(SearchDocument.entity_type) == ctype.name, match_condition(session, q, [ctype])
    )


# Characters of an item's text that search reads. PostgreSQL refuses a tsvector over 1 MB
# (about 75,000 distinct words): a text near the body size limit in distinct short words
# (CJK) reached it, and the whole write failed. 100,000 characters are ~20 times a long
# article; what lies past them is kept and shown, but not searched (on both databases).
SEARCH_TEXT_LIMIT = 100_000


def indexed_as(ctype: ContentType, row: Any) -> tuple[str, str]:
    """The (title, body) of the item's search document."""
    return document_text(ctype, partial(getattr, row))


def document_text(ctype: ContentType, value_of: Callable[[str], Any]) -> tuple[str, str]:
    """The (title, body) of a search document, from the item's field values (a row's
    attributes, or a generated row's keys: `dossier generate` writes the same text).

    The text is NFKC-normalized, as `q` is (`_words`): the index holds the words a query
    can ask for. SQLite's tokenizer keeps fullwidth letters as they are, so an item
    written in them was found by no query once `q` was normalized."""
    title = search_text(str(value_of(ctype.title_field) or ""))
    fields = [f for f in ctype.search_fields if f != ctype.title_field]
    texts = [str(value_of(f) or "") for f in fields if f not in _LABELLED]
    # Lists of labelled values (a resource's `contacts`) by their labels ("24/7 urgent
    # support hotline"), after the other fields: none, and the text is what it was before
    # they were searched (the documents of resources without contacts need no rewrite).
    labels = [
        str(item.get("label") or "")
        for f in fields
        if f in _LABELLED
        for item in value_of(f) or ()
        if isinstance(item, dict)
    ]
    return title, search_text(" ".join([*texts, *labels]))[:SEARCH_TEXT_LIMIT]


_LABELLED = frozenset({"contacts"})


def search_text(value: str) -> str:
    """`value` as search documents hold it: NFKC-normalized (migration `search_text_nfkc`)."""
    return unicodedata.normalize("NFKC", value)


def visibility_of(ctype: ContentType, row: Any) -> tuple[datetime | None, bool]:
    """The (public_at, deleted) of the item's search document. The triggers that keep it
    when the row changes (`search_follows_<type>`) compute the same in SQL."""
    return public_since(ctype.model, partial(getattr, row)), row.deleted_at is not None


def is_indexed(session: Session, ctype: ContentType, row: Any) -> bool:
    """Whether the item's search document is what `index_item` would write now."""
    doc = SearchDocument
    found = session.execute(
        select(col(doc.title), col(doc.body), col(doc.public_at), col(doc.deleted)).where(
            col(doc.entity_type) == ctype.name, col(doc.entity_id) == row.id
        )
    ).first()
    return found is not None and tuple(found) == (
        *indexed_as(ctype, row),
        *visibility_of(ctype, row),
    )


def index_item(session: Session, ctype: ContentType, row: Any) -> None:
    """Insert or refresh the search document of one item."""
    title, body = indexed_as(ctype, row)
    public_at, deleted = visibility_of(ctype, row)
    session.execute(
        delete(SearchDocument)
        .where(
            col(SearchDocument.entity_type) == ctype.name, col(SearchDocument.entity_id) == row.id
        )
        .execution_options(synchronize_session=SYNCHRONIZE)
    )
    session.add(
        SearchDocument(
            entity_type=ctype.name,
            entity_id=row.id,
            title=title,
            body=body,
            public_at=public_at,
            deleted=deleted,
        )
    )


@dataclass(frozen=True)
class Hit:
    ctype: ContentType
    entity_id: int
    score: float
    snippet: str


def _snippet_markup(raw: str | None) -> str:
    escaped = html.escape(raw or "", quote=False)
    return escaped.replace(_START, "<mark>").replace(_STOP, "</mark>")


# Ranking costs a little per matching document; a word found in most of a million
# documents would rank them all. Ranking (and `total`) therefore stop at this many matches.
MATCH_CAP = 2_000
# SQLite ranks every match up to this many; past it, the newest MATCH_CAP.
RANK_ALL = 20_000


# PostgreSQL: the newest MATCH_CAP matches are found by walking the documents newest first,
# checking each (~0.8 µs), when at least one in WALK_SHARE of them has the words; with fewer
# (judged on the newest SEARCH_SAMPLE), from the GIN index, each match read and the newest
# sorted out (~1.5-5 µs a match). A word in 87% of the documents at `large` took 8 ms to
# walk and 2 s to read from the index; one in 3%, 130 ms and ~20-85 ms.
WALK_SHARE = 25
SEARCH_SAMPLE = 1_000
# (database, words, types) -> sparse? (`app.content.hints`).
_SPARSE_WORDS: PlanHints[bool] = PlanHints()


def _words_are_sparse(
    session: Session, q: str, types: Sequence[ContentType], of_types: bool
) -> bool:
    """PostgreSQL: whether fewer than one in WALK_SHARE of the newest SEARCH_SAMPLE
    documents (of `types`, in the order search walks them) match `q`, whatever their
    visibility."""

    def work_out() -> bool:
        doc = SearchDocument
        newest = select(col(doc.id))
        if of_types:
            newest = newest.where(col(doc.entity_type).in_([t.name for t in types]))
            newest = newest.order_by(col(doc.entity_id).desc())
        else:
            newest = newest.order_by(col(doc.id).desc())
        sample = func.array(newest.limit(SEARCH_SAMPLE).scalar_subquery())
        sampled, found = session.execute(
            select(
                func.count(),
                func.count().filter(literal_column(PG_TSVECTOR).op("@@")(_tsquery(q))),
            ).where(col(doc.id) == func.any(sample))
        ).one()
        return bool(found * WALK_SHARE < sampled)

    names = tuple(sorted(t.name for t in types)) if of_types else ()
    key = (str(session.get_bind().engine.url), " ".join(_words(q)), names)
    return _SPARSE_WORDS.get(key, work_out)


def _newest_matches(
    session: Session,
    q: str,
    tsquery: Any,
    types: Sequence[ContentType] | None,
    viewer: Viewer,
) -> Select[Any]:
    """PostgreSQL: the ids of the newest MATCH_CAP documents matching `q` that `viewer`
    may see, of `types` (None: of every type): the highest document ids, or of some types
    the highest item ids (ties: the highest document id).

    Of the types asked for: taken from matches of every type, then filtered, a rare type's
    few matches were mostly not among the first ones, and went missing. The newest of them
    by item: the planner then walks the type's (entity_type, entity_id) index for a common
    word and reads the GIN index for a rare one. Unordered, it read the table from the start
    to find 8,000 articles, all at its end in the bench's data (2.2 s at `large`). Of
    several types, each type's newest, then the newest of those: one index walk serves one
    type, and for two it read every match and sorted them (`type=article,event` with a
    common word at `large`: 1.1 s, now ms)."""
    doc = SearchDocument
    if types is not None and len(types) > 1:
        each = union_all(*(_newest_matches(session, q, tsquery, [t], viewer) for t in types))
        merged = each.subquery("each_type")
        newest = (merged.c.entity_id.desc(), merged.c.id.desc())
        return select(merged.c.id, merged.c.entity_id).order_by(*newest).limit(MATCH_CAP)
    first: Any = select(col(doc.id).label("id"), col(doc.entity_id).label("entity_id")).where(
        literal_column(PG_TSVECTOR).op("@@")(tsquery), visible_document(doc, viewer)
    )
    if types is not None:
        first = first.where(col(doc.entity_type) == types[0].name)
    if _words_are_sparse(session, q, types or ALL_TYPES, types is not None):
        # Few of the newest documents have the words: a walk would check many for each
        # match (`q=israel` at `large`: 168,000 documents for 2,000 matches, 130 ms), while
        # the GIN index finds the matches at once (17,677 of them, read and sorted: ~20 ms
        # warm). The OFFSET keeps the planner from walking anyway to serve the outer
        # ORDER BY ... LIMIT.
        fenced = first.offset(0).subquery("matched")
        found: Any = fenced.c
        first = select(found.id, found.entity_id)
    else:
        found = doc
    if types is None:
        first = first.order_by(col(found.id).desc())
    else:
        first = first.order_by(col(found.entity_id).desc(), col(found.id).desc())
    return first.limit(MATCH_CAP)


def search(
    session: Session,
    q: str,
    types: Sequence[ContentType],
    viewer: Viewer,
    limit: int,
    after: tuple[float, str, int] | None = None,
) -> tuple[list[Hit], int]:
    """Ranked hits (best first; ties by type, then id) and the total number of matches.

    At most `MATCH_CAP` matching documents are ranked and counted: on SQLite the best ones
    when there are at most `RANK_ALL` matches (FTS5 ranks them cheaply), else the newest;
    on PostgreSQL the newest. Only documents whose
    stored visibility lets `viewer` see the item are matched.
    """
    sqlite = session.get_bind().dialect.name == "sqlite"
    doc = SearchDocument
    of_types = {t.name for t in types} != _EVERY_TYPE
    if sqlite:
        # FTS5 ranks matches quickly in C, but not half a million of them (0.5 s): up to
        # RANK_ALL matches the best MATCH_CAP go on to the page, past it the newest
        # MATCH_CAP (rowid order costs nothing). Counted over every type, as before the
        # index knew types: the same words rank the same way (best or newest) whichever
        # types are asked for.
        fts_q = _fts5_query(q, types)
        many = (
            session.execute(
                text("SELECT 1 FROM search_fts WHERE search_fts MATCH :fts_q LIMIT 1 OFFSET :n"),
                {"fts_q": _fts5_query(q), "n": RANK_ALL},
            ).first()
            is not None
        )
        # Hidden items are left out before the cap, not after: 2,100 drafts with a word
        # pushed the one public item that has it out of the results (and the total said 0).
        inner = aliased(SearchDocument, name="matched")
        # The type column weighs nothing: only the words score.
        bm25 = literal_column("-bm25(search_fts, 4.0, 1.0, 0.0)", Float)
        top = (
            select(_FTS_TABLE.c.rowid.label("doc_id"), bm25.label("score"))
            .select_from(_FTS_TABLE.join(inner, col(inner.id) == _FTS_TABLE.c.rowid))
            .where(
                text("search_fts MATCH :fts_q").bindparams(bindparam("fts_q", fts_q)),
                visible_document(inner, viewer),
                *([col(inner.entity_type).in_([t.name for t in types])] if of_types else []),
            )
            .order_by(_FTS_TABLE.c.rowid.desc() if many else literal_column("score").desc())
            .limit(MATCH_CAP)
            .subquery("top")
        )
        base: Select[Any, Any, Any, Any] = (
            select(
                col(doc.entity_type),
                col(doc.entity_id),
                top.c.score,
                literal_column("''").label("snippet"),
            )
            .select_from(top)
            .join(doc, col(doc.id) == top.c.doc_id)
        )
    else:
        plan_for_the_words(session)
        tsquery = _tsquery(q)
        score = func.ts_rank_cd(literal_column(PG_TSVECTOR), tsquery, 1).cast(Float)
        # The newest MATCH_CAP visible matches (the highest document ids, as SQLite takes
        # them past RANK_ALL), hidden ones left out as the matches are read (the
        # visibility is the document's own): drafts, scheduled and deleted items cannot
        # crowd public ones out. Newest, not the first found: a scan's first rows are no
        # order (rows rewritten in place move; a parallel scan returns its workers' rows
        # as they come; a scan of a large table joins one under way), so each page of one
        # search was ranked among other candidates, and walking them lost results. The
        # planner walks the primary key backwards for a common word and reads the GIN
        # index for a rare one. In the candidates' own query (`correlate(None)`: its
        # search_document is its own, not the outer one), fenced off as a MATERIALIZED
        # CTE: run first, its MATCH_CAP rows then ranked. Inlined, the planner priced the
        # capped subquery so high that it ranked and sorted every document instead (a
        # common word at `large`: 5 s and a 503, not 70 ms).
        first = _newest_matches(session, q, tsquery, types if of_types else None, viewer)
        candidates = (
            first.correlate(None)
            .cte("candidates")
            .prefix_with("MATERIALIZED", dialect="postgresql")
        )
        base = select(
            col(doc.entity_type),
            col(doc.entity_id),
            score.label("score"),
            literal_column("''").label("snippet"),
        ).where(col(doc.id).in_(select(candidates.c.id)))
    ranked = base.subquery()
    scope = f"search:{MATCH_CAP}:{RANK_ALL}:" + "\x1f".join(
        [" ".join(_words(q)), *sorted(t.name for t in types)]
    )
    # Kept per version of every type, not only those asked for: the MATCH_CAP matches
    # counted are taken from every type's documents (and SQLite ranks them by statistics
    # of them all), so a new person's bio can push an article out of a `type=article` total.
    total = cached_count(
        session,
        scope,
        types,
        viewer,
        lambda: session.scalar(select(func.count()).select_from(ranked)) or 0,
        reads=ALL_TYPES,
    )
    page = select(ranked)
    if after is not None:
        score_after, type_after, id_after = after
        page = page.where(
            or_(
                ranked.c.score < score_after,
                and_(
                    ranked.c.score == score_after,
                    tuple_(ranked.c.entity_type, ranked.c.entity_id) > tuple_(type_after, id_after),
                ),
            )
        )
    page = page.order_by(ranked.c.score.desc(), ranked.c.entity_type, ranked.c.entity_id).limit(
        limit
    )
    rows = session.execute(page).all()
    from app.content.types import BY_NAME

    hits = [Hit(BY_NAME[r.entity_type], r.entity_id, float(r.score), r.snippet) for r in rows]
    if hits:
        hits = _sqlite_snippets(session, q, hits) if sqlite else _pg_snippets(session, q, hits)
    return [Hit(h.ctype, h.entity_id, h.score, _snippet_markup(h.snippet)) for h in hits], total


def _sqlite_snippets(session: Session, q: str, hits: list[Hit]) -> list[Hit]:
    """FTS5 snippets for the page's rows only (computing them for every match is costly)."""
    doc = SearchDocument
    by_type: dict[str, list[int]] = {}
    for h in hits:
        by_type.setdefault(h.ctype.name, []).append(h.entity_id)
    # One IN per type (the (type, id) index serves each); SQLite reads a row-value IN
    # over (type, id) pairs with a scan of the whole table.
    ids = {
        (t, e): i
        for i, t, e in session.execute(
            select(col(doc.id), col(doc.entity_type), col(doc.entity_id)).where(
                or_(
                    *[
                        and_(col(doc.entity_type) == t, col(doc.entity_id).in_(entity_ids))
                        for t, entity_ids in by_type.items()
                    ]
                )
            )
        )
    }
    snippet: ColumnElement[str] = literal_column(
        f"snippet(search_fts, -1, '{_START}', '{_STOP}', '…', 24)"
    )
    rows = session.execute(
        select(_FTS_TABLE.c.rowid, snippet)
        .select_from(_FTS_TABLE)
        .where(
            text("search_fts MATCH :fts_q").bindparams(bindparam("fts_q", _fts5_query(q))),
            _FTS_TABLE.c.rowid.in_(list(ids.values())),
        )
    ).all()
    snippets = {rowid: text_ for rowid, text_ in rows}
    return [
        Hit(
            h.ctype,
            h.entity_id,
            h.score,
            snippets.get(ids.get((h.ctype.name, h.entity_id), -1), ""),
        )
        for h in hits
    ]


def split_joined(document: Any) -> Any:
    """The document as PostgreSQL's search vector reads it (migration
    `search_splits_joined_words`): `WORD_END` after each of `JOINED`, where the parser
    then ends a word, so `LeanIn.org` is the words `leanin` and `org`, and `Covid-19`
    `covid` and `19`, as on SQLite."""
    return func.regexp_replace(document, JOINED, "\\1" + WORD_END, "g")


def _any_word(q: str) -> Any:
    """A query matching any of `q`'s words: what a snippet marks. The words a document
    matched for (all of them) may stand far apart: with them all asked for, `ts_headline`
    found no passage short enough and showed the document's first words, unmarked."""
    config: ColumnElement[Any] = literal_column(f"'{PG_CONFIG}'::regconfig")
    words = _words(q)
    if len(words) < 2:
        return _tsquery(q)
    query: ColumnElement[Any] = func.plainto_tsquery(config, words[0])
    for word in words[1:]:
        query = query.op("||")(func.plainto_tsquery(config, word))
    return query


def _pg_snippets(session: Session, q: str, hits: list[Hit]) -> list[Hit]:
    """ts_headline only for the page's rows: it is the expensive part of PostgreSQL search."""
    doc = SearchDocument
    headline = func.ts_headline(
        literal_column(f"'{PG_CONFIG}'::regconfig"),
        split_joined(func.coalesce(doc.title, "") + " " + func.coalesce(doc.body, "")),
        _any_word(q),
        f"StartSel={_START}, StopSel={_STOP}, MaxWords=30, MinWords=12, MaxFragments=1",
    )
    keys = [(h.ctype.name, h.entity_id) for h in hits]
    rows = session.execute(
        select(col(doc.entity_type), col(doc.entity_id), headline).where(
            tuple_(doc.entity_type, doc.entity_id).in_(keys)
        )
    ).all()
    snippets = {(r[0], r[1]): r[2].replace(WORD_END, "") for r in rows}
    return [
        Hit(h.ctype, h.entity_id, h.score, snippets.get((h.ctype.name, h.entity_id), ""))
        for h in hits
    ]


def search_position(secret: str, scope: str, cursor: str, parameter: str) -> tuple[float, str, int]:
    """The (score, type, id) a search cursor says, or a QueryError on `parameter`."""
    try:
        found, type_name, entity_id = decode_token(
            secret, scope, cursor, (score, of_type(str), row_id)
        )
    except (InvalidToken, ValueError) as exc:
        raise QueryError(parameter, str(exc)) from None
    if type_name not in BY_NAME:
        raise QueryError(parameter, "malformed token")
    return float(found), type_name, entity_id
