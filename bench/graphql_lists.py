"""Every GraphQL connection, filter, sort, nested connection and search, one request at a time.

    .venv/bin/python bench/graphql_lists.py --db postgresql --scale large

`bench/lists.py` sweeps REST; frontend developers use GraphQL, whose nested connections
(`people { articles(filter: ...) }`, `topics { stream(filter: ...) }`) ask the query layer
batched per parent, which REST never does. This sends every root connection with each of
its filters (read from the schema's filter input types: a typical value each, a popular and
a rare topic, a common and a rare word, `updatedSince` long past and recent) and each of its
sorts, at `first: 20` and `first: 100`, the nested connections with the same filters,
`topic(slug) { stream }`, `organization`, `search(query:, types:)`, `node(id:)` and the
contract's flagship query, every connection with its `totalCount`. Not a test: it prints
figures and asserts nothing.

For each query: the first request (cold: a total not yet counted at this content version,
a plan not yet cached) and the median of `--requests` more, on one `dossier serve` with the
response cache off. Rows slower than `--slow` ms (median) are marked; an answer with
`errors` is marked `ERR` (and its first error printed).
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import sys
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from graphql import (  # noqa: E402
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
)
from sqlalchemy import select  # noqa: E402
from sqlmodel import col  # noqa: E402

from app.db import make_engine, make_session_factory  # noqa: E402
from app.generate.vocabulary import CONTENT_WORDS  # noqa: E402
from app.models import Person, Quote  # noqa: E402
from bench.dataset import RESULTS, prepare  # noqa: E402
from bench.lists import Values, sweep_arguments, sweep_env, timed, values  # noqa: E402
from bench.server import Server  # noqa: E402

RARE_WORD = CONTENT_WORDS[-1]  # the vocabulary's least drawn content word
LONG_AGO = "2000-01-01T00:00:00Z"

# Root connection -> (filter input, sort enum, the node's fields asked).
ROOTS: dict[str, tuple[str, str, str]] = {
    "articles": (
        "ArticleFilter",
        "ArticleSort",
        "id slug title publishedAt authors { name } topics { slug }",
    ),
    "events": ("EventFilter", "EventSort", "id slug title startsAt speakers { name }"),
    "publications": ("PublicationFilter", "PublicationSort", "id slug title year authors { name }"),
    "people": ("PersonFilter", "PersonSort", "id slug name affiliations { role }"),
    "organizations": ("OrganizationFilter", "OrganizationSort", "id slug name parent { name }"),
    "resources": ("ResourceFilter", "ResourceSort", "id slug name"),
    "quotes": ("QuoteFilter", "QuoteSort", "id slug text speaker { name }"),
    "topics": ("TopicFilter", "TopicSort", "id slug name"),
}
# Person's reverse connections -> the filter input they take.
PERSON_CONNECTIONS = {
    "articles": "ArticleFilter",
    "events": "EventFilter",
    "publications": "PublicationFilter",
    "quotes": "QuoteFilter",
}
STREAM_NODE = (
    "__typename ... on Article { title } ... on Event { title } "
    "... on Publication { title } ... on Quote { text }"
)


@dataclass
class Found(Values):
    """What the queries name, found in the database (bench/lists.py's values and more)."""

    quote_speaker: str = ""  # the person quoted most
    event_person: str = ""  # the person in the most events
    rare_author: str = ""  # a person with one article
    node_ids: tuple[str, ...] = ()  # a global id of each type


def _global_id(type_name: str, public_id: str) -> str:
    return base64.b64encode(f"{type_name}:{public_id}".encode()).decode()


def find(url: str) -> Found:
    from sqlalchemy import func

    from app.content.types import ALL_TYPES
    from app.content.visibility import Viewer, visible
    from app.models import ArticleAuthor, EventParticipant

    base = values(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:

            def most(column: object, order: object) -> str:
                return (
                    session.scalar(
                        select(col(Person.slug))
                        .join_from(Person, column.table, column == col(Person.id))  # type: ignore[attr-defined]
                        .group_by(col(Person.slug))
                        .order_by(order, col(Person.slug))
                        .limit(1)
                    )
                    or ""
                )

            speaker = most(col(Quote.speaker_id), func.count().desc())
            participant = most(col(EventParticipant.person_id), func.count().desc())
            rare = most(col(ArticleAuthor.person_id), func.count())
            ids = []
            for ctype in ALL_TYPES:
                model: Any = ctype.model
                pk = session.scalar(select(func.max(model.id)).where(visible(model, Viewer())))
                if pk is not None:
                    ids.append(_global_id(ctype.name.capitalize(), ctype.public_id(pk)))
    finally:
        engine.dispose()
    return Found(
        **vars(base),
        quote_speaker=speaker,
        event_person=participant,
        rare_author=rare,
        node_ids=tuple(ids),
    )


def _literal(value: object) -> str:
    """A GraphQL literal: enums are given as `Enum(NAME)` strings, lists and strings as JSON."""
    if isinstance(value, str) and value.startswith("Enum(") and value.endswith(")"):
        return value[5:-1]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return json.dumps(value)


def _input(fields: dict[str, object]) -> str:
    return "{" + ", ".join(f"{k}: {_literal(v)}" for k, v in fields.items()) + "}"


def _unwrap(kind: object) -> object:
    while isinstance(kind, GraphQLNonNull | GraphQLList):
        kind = kind.of_type
    return kind


def filter_cases(schema: GraphQLSchema, input_name: str, found: Found) -> list[dict[str, object]]:
    """Each filter of an input type alone with a typical value (two for topic, q,
    updatedSince, upcoming and year), then the combinations REST found slow."""
    recent = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    kind = schema.type_map[input_name]
    assert isinstance(kind, GraphQLInputObjectType)
    typical: dict[str, list[object]] = {
        "topic": [found.topic, found.rare_topic],
        "topics": [[found.topic, found.rare_topic]],
        "q": [found.word, RARE_WORD],
        "updatedSince": [LONG_AGO, "2020-01-01T00:00:00Z", recent],
        "from": ["2025-01-01T00:00:00Z"],
        "to": ["2025-02-01T00:00:00Z"],
        "publishedAfter": ["2025-06-01T00:00:00Z"],
        "publishedBefore": ["2025-07-01T00:00:00Z"],
        "upcoming": [True, False],
        "year": [2020, 2011],
        "author": [found.author, found.rare_author],
        "person": [found.event_person],
        "speaker": [found.quote_speaker],
        "organization": [found.organization],
        "article": [found.article],
    }
    cases: list[dict[str, object]] = []
    for name, field in kind.fields.items():
        named = _unwrap(field.type)
        if name in typical:
            cases += [{name: v} for v in typical[name]]
        elif isinstance(named, GraphQLEnumType):
            cases.append({name: f"Enum({next(iter(named.values))})"})
        elif isinstance(named, GraphQLScalarType):
            print(f"  (no typical value for {input_name}.{name}: left out)")
    combined = [
        {"from": "2025-01-01T00:00:00Z", "to": "2025-02-01T00:00:00Z"},
        {"publishedAfter": "2025-06-01T00:00:00Z", "publishedBefore": "2025-07-01T00:00:00Z"},
        {"topic": found.topic, "upcoming": True},
        {"topic": found.topic, "articleType": "Enum(NEWS)"},
        {"topic": found.rare_topic, "q": found.word},
        {"topic": found.topic, "q": RARE_WORD},
        {"person": found.event_person, "role": "Enum(SPEAKER)"},
        {"upcoming": True, "eventType": "Enum(LECTURE)"},
        {"year": 2020, "publicationType": "Enum(BOOK)"},
        {"q": found.word, "updatedSince": "2020-01-01T00:00:00Z"},
    ]
    cases += [c for c in combined if all(k in kind.fields for k in c)]
    return cases


def sorts(schema: GraphQLSchema, enum_name: str) -> list[str]:
    kind = schema.type_map[enum_name]
    assert isinstance(kind, GraphQLEnumType)
    return list(kind.values)


def _args(first: int, filters: dict[str, object] | None = None, sort: str | None = None) -> str:
    parts = [f"first: {first}"]
    if filters:
        parts.append(f"filter: {_input(filters)}")
    if sort:
        parts.append(f"sort: {sort}")
    return ", ".join(parts)


def _connection(field: str, args: str, node: str) -> str:
    return (
        f"{field}({args}) {{ totalCount edges {{ cursor node {{ {node} }} }} "
        "pageInfo { hasNextPage endCursor } }"
    )


FLAGSHIP = """{ events(filter: {topic: "%s"}, first: 20) {
    edges { node { title startsAt attendanceMode
      speakers { name slug title photo { url } bio
        affiliations { role organization { name } } } } }
    pageInfo { hasNextPage endCursor } } }"""


def queries(schema: GraphQLSchema, found: Found, every: bool) -> Iterator[str]:
    """The sweep's queries, in order: root connections, nested ones, streams, search, nodes."""
    for root, (input_name, enum_name, node) in ROOTS.items():
        cases = filter_cases(schema, input_name, found)
        for sort in sorts(schema, enum_name):
            yield "{ " + _connection(root, _args(20, None, sort), node) + " }"
        for case in cases:
            for first in (20, 100):
                yield "{ " + _connection(root, _args(first, case), node) + " }"
        if every:
            for case in cases:
                for sort in sorts(schema, enum_name):
                    yield "{ " + _connection(root, _args(20, case, sort), node) + " }"
    # A person's page and a list of people, each with a reverse connection narrowed.
    for field, input_name in PERSON_CONNECTIONS.items():
        node = ROOTS[field][2]
        # Not the filter the person's own list fills itself (refused: BAD_USER_INPUT).
        own = {"author", "person", "speaker"}
        narrowed = [c for c in filter_cases(schema, input_name, found) if not own & set(c)]
        cases: list[dict[str, object] | None] = [None, *narrowed]
        for case in cases:
            inner = _connection(field, _args(5, case), node)
            yield f"{{ people(first: 20) {{ totalCount edges {{ node {{ name {inner} }} }} }} }}"
        for case in cases:
            inner = _connection(field, _args(20, case), node)
            who = found.quote_speaker if field == "quotes" else found.author
            if field == "events":
                who = found.event_person
            yield f'{{ person(slug: "{who}") {{ name {inner} }} }}'
        for sort in sorts(schema, ROOTS[field][1]):
            inner = _connection(field, _args(5, None, sort), node)
            yield f"{{ people(first: 20) {{ edges {{ node {{ name {inner} }} }} }} }}"
    inner = _connection("articles", _args(5), ROOTS["articles"][2])
    yield (
        f'{{ people(first: 20, filter: {{organization: "{found.organization}"}}) '
        f"{{ totalCount edges {{ node {{ name {inner} }} }} }} }}"
    )
    # Streams: a popular and a rare topic's page, and a list of topics each with its stream.
    stream_cases: list[dict[str, object] | None] = [
        None,
        *filter_cases(schema, "StreamFilter", found),
    ]
    for case in stream_cases:
        inner = _connection("stream", _args(5, case), STREAM_NODE)
        yield f"{{ topics(first: 10) {{ totalCount edges {{ node {{ name {inner} }} }} }} }}"
    for first in (20, 100):
        inner = _connection("stream", _args(5), STREAM_NODE)
        yield f"{{ topics(first: {first}) {{ edges {{ node {{ name {inner} }} }} }} }}"
    for topic in (found.topic, found.rare_topic):
        for case in stream_cases:
            for first in (20, 100):
                inner = _connection("stream", _args(first, case), STREAM_NODE)
                yield f'{{ topic(slug: "{topic}") {{ name {inner} }} }}'
        for sort in sorts(schema, "StreamSort"):
            inner = _connection("stream", _args(20, None, sort), STREAM_NODE)
            yield f'{{ topic(slug: "{topic}") {{ name {inner} }} }}'
        for types in ("[EVENT]", "[ARTICLE, QUOTE]"):
            for case in (None, {"q": found.word}):
                inner = _connection("stream", _args(20, case) + f", types: {types}", STREAM_NODE)
                yield f'{{ topic(slug: "{topic}") {{ name {inner} }} }}'
    # Organizations: one with its parents and topics, and a page of them.
    yield (
        f'{{ organization(slug: "{found.organization}") {{ name shortName url '
        "parent { name parent { name } } topics { slug name } } }"
    )
    yield (
        "{ organizations(first: 100) { totalCount edges { node { name "
        "parent { name parent { name } } topics { slug } } } } }"
    )
    # Search: each type alone, two, all; a common and a rare word.
    search_node = (
        "__typename ... on Article { title } ... on Event { title } ... on Person { name }"
    )
    item_types = sorts(schema, "ItemType")
    for word in (found.word, RARE_WORD):
        for types in [None, *([t] for t in item_types), ["ARTICLE", "EVENT"], item_types[:4]]:
            for first in (20, 100):
                args = f'query: "{word}", first: {first}'
                if types:
                    args += f", types: [{', '.join(types)}]"
                yield (
                    f"{{ search({args}) {{ totalCount edges {{ cursor score snippet node "
                    f"{{ {search_node} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"
                )
    # Nodes.
    for gid in found.node_ids:
        yield f'{{ node(id: "{gid}") {{ id __typename }} }}'
    yield "{ nodes(ids: [" + ", ".join(f'"{g}"' for g in found.node_ids) + "]) { id } }"
    # The contract's flagship query, for its topic and the most popular one.
    for topic in ("kidnapping", found.topic):
        yield FLAGSHIP % topic


def _short(query: str) -> str:
    return re.sub(r"\s+", " ", query)


def main() -> None:
    parser = sweep_arguments(__doc__.splitlines()[0], "query")
    parser.add_argument(
        "--every", action="store_true", help="also every root filter x sort; print only slow rows"
    )
    parser.add_argument(
        "--only", default="", help="send only the queries containing this text (a regex)"
    )
    parser.add_argument(
        "--stock", action="store_true", help="stock Strawberry execution (GRAPHQL_FAST_PATH=false)"
    )
    args = parser.parse_args()
    url = prepare(args.db, args.scale, args.pg_admin_url, pg_db=args.pg_db)
    env = {**sweep_env(url), "GRAPHQL_FAST_PATH": "false" if args.stock else "true"}
    from app.graphql.schema import schema

    found = find(url)
    print(
        f"Dossier GraphQL: {args.db}, {args.scale} dataset, one request at a time, "
        f"response cache off, fast path {'off' if args.stock else 'on'}"
    )
    print(
        f"topic {found.topic} (rare {found.rare_topic}), words {found.word}/{RARE_WORD}, "
        f"author {found.author} (rare {found.rare_author}), organization {found.organization}"
    )
    print(f"{'status':>6} {'first ms':>9} {'p50 ms':>8}  query")
    all_queries = list(dict.fromkeys(queries(schema._schema, found, args.every)))
    if args.only:
        all_queries = [q for q in all_queries if re.search(args.only, _short(q))]
    with Server("graphql-lists", env, 1, RESULTS) as server:
        server.start()
        parts = urllib.parse.urlsplit(server.base_url)
        connection = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port, timeout=300
        )
        slow = failed = 0
        for query in all_queries:
            body = json.dumps({"query": query}).encode()
            json_body = {"Content-Type": "application/json"}
            status, first, median, answer = timed(
                connection, args.requests, "POST", "/graphql", body, json_body
            )
            errors = json.loads(answer).get("errors") if answer.startswith(b"{") else None
            mark = "  <- slow" if median > args.slow else ""
            if errors or status != 200:
                mark += f"  ERR {json.dumps(errors)[:200] if errors else answer[:200]!r}"
                failed += 1
            slow += median > args.slow
            if mark or not args.every:
                print(f"{status:>6} {first:9.1f} {median:8.1f}  {_short(query)}{mark}", flush=True)
        connection.close()
        print(
            f"{len(all_queries)} queries, {slow} with a median over {args.slow:g} ms, "
            f"{failed} with errors"
        )


if __name__ == "__main__":
    main()
