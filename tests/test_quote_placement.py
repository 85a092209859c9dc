"""A pull quote's place in its article's body (`after_block`): counted, checked, kept."""

from __future__ import annotations

import html
import json
import re
import time
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from app.content.placement import blocks, count_blocks, reanchor
from app.db import make_engine, make_session_factory, session_scope
from app.migrations import upgrade_to_head
from app.models import Article, AuditEntry
from app.transfer import ImportFailed, export_lines, import_records
from tests.admin_helpers import Keys

THREE = "<p>One.</p><h2>Two</h2><p>Three.</p>"
ARTICLE_OF_THE_DEMO = "sheryl-sandberg-screams-before-silence-stanford"


@pytest.mark.parametrize(
    ("body", "count"),
    [
        (None, 0),
        ("", 0),
        ("plain text, no element", 0),
        (THREE, 3),
        # Top-level elements only, as the DOM's `children`: text between them is none,
        # nested elements are their parent's, void elements (no end tag) count once.
        ("lead <b>bold</b> tail<p>a <i>b</i></p>\n<br><img src=/a.jpg><hr>", 5),
        ("<figure><img src=/a.jpg><figcaption>C <cite>R</cite></figcaption></figure>", 1),
        ("<table><tbody><tr><td>1</td></tr></tbody></table><ul><li>a</li><li>b</li></ul>", 2),
        ("<p>a &lt;p&gt; b</p><p title='x>y'>c</p>", 2),
        ("<pre>\n\nline\n<b>x</b></pre>\u2028<p>after a line separator</p>", 2),
    ],
)
def test_blocks_are_the_bodys_top_level_elements(body: str | None, count: int) -> None:
    assert count_blocks(body) == count


def test_each_block_is_its_markup() -> None:
    assert blocks("<p>a</p>\n<p>b</p> tail\n<h2>c</h2>") == [
        "<p>a</p>",
        "<p>b</p> tail",
        "<h2>c</h2>",
    ]


@pytest.mark.parametrize(
    ("new", "after", "moved"),
    [
        # A paragraph inserted above: the quote moves down with its block.
        ("<p>Zero.</p>" + THREE, 2, 3),
        # Below it: stays.
        (THREE + "<p>Four.</p>", 2, 2),
        # The block it follows edited in place: still after it.
        ("<p>One.</p><h2>Two, retitled</h2><p>Three.</p>", 2, 2),
        # Its block deleted: after the nearest block before it that survived.
        ("<p>One.</p><p>Three.</p>", 2, 1),
        ("<p>Three.</p>", 2, 0),
        # Its block split in two: after the second half.
        ("<p>One.</p><h2>T</h2><h2>wo</h2><p>Three.</p>", 2, 3),
        # Every block replaced: the same places, as far as the new body goes.
        ("<p>A.</p><p>B.</p>", 2, 2),
        ("<p>A.</p>", 3, 1),
        # No body left: at the top.
        (None, 3, 0),
        # Before the first block: stays there.
        ("<p>Zero.</p>" + THREE, 0, 0),
    ],
)
def test_a_quote_follows_the_block_it_stood_after(new: str | None, after: int, moved: int) -> None:
    assert reanchor(THREE, new, after) == moved


@pytest.fixture
def keys(factory: sessionmaker[Session]) -> Keys:
    return Keys(factory, seed=True)


def _article(api: TestClient, keys: Keys, slug: str, body: str = THREE) -> None:
    response = api.post(
        "/api/v1/articles",
        json={"slug": slug, "title": slug, "body": body, "status": "published"},
        headers=keys.writer,
    )
    assert response.status_code == 201, response.text


def _quote(api: TestClient, keys: Keys, **fields: Any) -> Any:
    body = {"text": "Words.", "status": "published", **fields}
    return api.post("/api/v1/quotes", json=body, headers=keys.writer)


def _error(response: Any) -> tuple[int, list[Any]]:
    return response.status_code, [(e["loc"], e["msg"]) for e in response.json().get("errors", [])]


def test_a_quote_is_placed_between_blocks(api: TestClient, keys: Keys) -> None:
    _article(api, keys, "story")
    created = _quote(api, keys, slug="placed", article="story", after_block=2)
    assert created.status_code == 201, created.text
    assert created.json()["after_block"] == 2
    assert api.get("/api/v1/quotes/placed").json()["after_block"] == 2
    for place in (0, 3):  # before the first block, after the last
        response = api.patch(
            "/api/v1/quotes/placed", json={"after_block": place}, headers=keys.writer
        )
        assert response.status_code == 200, response.text
    embedded = api.get("/api/v1/articles/story?include=quotes").json()["quotes"]
    assert [(q["slug"], q["after_block"]) for q in embedded] == [("placed", 3)]
    assert "after_block" not in api.get("/api/v1/articles/story").json()["quotes"][0]  # compact
    query = '{ article(slug: "story") { quotes { slug afterBlock } } }'
    data = api.post("/graphql", json={"query": query}).json()["data"]
    assert data["article"]["quotes"] == [{"slug": "placed", "afterBlock": 3}]
    unplaced = _quote(api, keys, slug="beside", article="story")
    assert unplaced.json()["after_block"] is None


def test_a_place_the_body_cannot_hold_is_refused(api: TestClient, keys: Keys) -> None:
    _article(api, keys, "story")
    _article(api, keys, "short", body="<p>Only.</p>")
    loc = ["body", "after_block"]
    assert _error(_quote(api, keys, article="story", after_block=4)) == (
        422,
        [(loc, "is past the end of the article's body, which has 3 top-level blocks")],
    )
    assert _error(_quote(api, keys, after_block=0)) == (
        422,
        [
            (
                loc,
                "places the quote in its article's body, and it has no article: give article, "
                "or after_block null to place it nowhere",
            )
        ],
    )
    assert _quote(api, keys, article="story", after_block=-1).status_code == 422
    assert _quote(api, keys, article="story", after_block="2").status_code == 422

    assert _quote(api, keys, slug="placed", article="story", after_block=3).status_code == 201
    too_far = api.patch("/api/v1/quotes/placed", json={"after_block": 9}, headers=keys.writer)
    assert _error(too_far)[0] == 422
    # Moved to another article, its place counted the former one's blocks: say it again.
    moved = api.patch("/api/v1/quotes/placed", json={"article": "short"}, headers=keys.writer)
    assert _error(moved) == (
        422,
        [
            (
                loc,
                "counts the blocks of the quote's former article: give after_block (or null) "
                "with the new article",
            )
        ],
    )
    # Taken out of its article, a placed quote is told how to be placed nowhere.
    unlinked = api.patch("/api/v1/quotes/placed", json={"article": None}, headers=keys.writer)
    assert _error(unlinked) == (
        422,
        [
            (
                loc,
                "places the quote in its article's body, and it has no article: give article, "
                "or after_block null to place it nowhere",
            )
        ],
    )
    both = api.patch(
        "/api/v1/quotes/placed", json={"article": "short", "after_block": 1}, headers=keys.writer
    )
    assert both.status_code == 200, both.text
    cleared = api.patch(
        "/api/v1/quotes/placed", json={"article": None, "after_block": None}, headers=keys.writer
    )
    assert (cleared.status_code, cleared.json()["after_block"]) == (200, None)
    assert api.get("/api/v1/quotes/placed").json()["article"] is None


def test_other_edits_of_a_placed_quote_are_not_checked_again(
    api: TestClient, keys: Keys, factory: sessionmaker[Session]
) -> None:
    _article(api, keys, "story")
    assert _quote(api, keys, slug="placed", article="story", after_block=3).status_code == 201
    with session_scope(factory) as session:  # a body shortened behind the API's back
        article = session.scalars(select(Article).where(col(Article.slug) == "story")).one()
        article.body = "<p>One.</p>"
    response = api.patch(
        "/api/v1/quotes/placed", json={"text": "Other words."}, headers=keys.writer
    )
    assert response.status_code == 200, response.text
    assert response.json()["after_block"] == 3


def test_quotes_follow_their_blocks_when_the_body_changes(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    """With the response cache on: the quotes that moved are purged with the article."""
    keys = Keys(session_factory, seed=True)
    _article(client, keys, "story")
    for slug, place in (("top", 0), ("middle", 2), ("end", 3)):
        assert (
            _quote(client, keys, slug=slug, article="story", after_block=place).status_code == 201
        )
    assert _quote(client, keys, slug="draft", article="story", after_block=2, status="draft")
    before = client.get("/api/v1/quotes/middle")
    assert before.json()["after_block"] == 2

    inserted = "<p>Zero.</p><p>One.</p><h2>Two</h2><p>Three.</p><p>Four.</p>"
    response = client.patch("/api/v1/articles/story", json={"body": inserted}, headers=keys.writer)
    assert response.status_code == 200, response.text

    def places() -> dict[str, int]:
        found = client.get("/api/v1/quotes?article=story&fields=slug,after_block").json()["data"]
        return {q["slug"]: q["after_block"] for q in found}

    assert places() == {"top": 0, "middle": 3, "end": 4}
    after = client.get("/api/v1/quotes/middle")
    assert after.json()["after_block"] == 3
    assert after.headers["ETag"] != before.headers["ETag"]  # a new version of the quote
    preview = client.get("/api/v1/quotes/draft?preview=true", headers=keys.previewer)
    assert preview.json()["after_block"] == 3
    with session_factory() as session:
        audited = session.scalars(
            select(AuditEntry.slug).where(  # type: ignore[call-overload]
                col(AuditEntry.entity_type) == "quote", col(AuditEntry.action) == "update"
            )
        ).all()
    assert sorted(audited) == ["draft", "end", "middle"]  # "top" did not move

    deleted = client.patch(
        "/api/v1/articles/story", json={"body": "<p>Three.</p><p>Four.</p>"}, headers=keys.writer
    )
    assert deleted.status_code == 200
    assert places() == {"top": 0, "middle": 0, "end": 1}


def test_an_import_moves_quotes_with_the_body_and_then_writes_its_own_places(
    factory: sessionmaker[Session], api: TestClient, keys: Keys
) -> None:
    _article(api, keys, "story")
    assert _quote(api, keys, slug="placed", article="story", after_block=2).status_code == 201
    with factory() as session:
        lines = list(export_lines(session))
    quote_line = next(line for line in lines if b'"placed"' in line)
    assert b'"after_block":2' in quote_line
    article_line = next(line for line in lines if b'"type":"article"' in line)
    edited = article_line.replace(b"<p>One.</p>", b"<p>New.</p><p>One.</p>")
    with session_scope(factory) as session:
        import_records(session, [edited])  # the quote follows its block
    assert api.get("/api/v1/quotes/placed").json()["after_block"] == 3
    with session_scope(factory) as session:
        import_records(
            session, [edited, quote_line.replace(b'"after_block":2', b'"after_block":4')]
        )
    assert api.get("/api/v1/quotes/placed").json()["after_block"] == 4
    with session_scope(factory) as session, pytest.raises(Exception, match="past the end"):
        import_records(session, [quote_line.replace(b'"after_block":2', b'"after_block":5')])


def test_an_import_places_quotes_in_the_files_bodies_whatever_the_order_of_its_lines(
    factory: sessionmaker[Session], api: TestClient, keys: Keys
) -> None:
    """A quote's `after_block` counts the blocks of its article's body in the file, which
    an import writes first wherever its line stands: a quote listed before its article was
    checked against the stored body (refused when the file's body had grown), and, had it
    been written, the article's new body would then have moved it from its new place."""
    _article(api, keys, "story")
    assert _quote(api, keys, slug="placed", article="story", after_block=3).status_code == 201
    with factory() as session:
        lines = list(export_lines(session))
    article_line = next(line for line in lines if b'"type":"article"' in line)
    quote_line = next(line for line in lines if b'"placed"' in line)
    grown = article_line.replace(b"<p>One.</p>", b"<p>Zero.</p><p>One.</p>").replace(
        b"<p>Three.</p>", b"<p>Three.</p><p>Four.</p>"
    )

    def placed_at(place: int) -> bytes:
        return quote_line.replace(b'"after_block":3', f'"after_block":{place}'.encode())

    with session_scope(factory) as session:  # fits the file's body only (5 blocks)
        import_records(session, [placed_at(5), grown])
    assert api.get("/api/v1/quotes/placed").json()["after_block"] == 5
    with session_scope(factory) as session:  # the body as it was: the quote at its place
        import_records(session, [placed_at(1), article_line])
    assert api.get("/api/v1/quotes/placed").json()["after_block"] == 1

    # A new article, and a quote of it listed first.
    new_article = grown.replace(b'"slug":"story"', b'"slug":"new-story"')
    new_quote = placed_at(4).replace(b'"placed"', b'"fresh"').replace(b'"story"', b'"new-story"')
    with session_scope(factory) as session:
        import_records(session, [new_quote, new_article])
    fresh = api.get("/api/v1/quotes/fresh").json()
    assert (fresh["article"]["slug"], fresh["after_block"]) == ("new-story", 4)

    # A place past the end of the file's body: refused, by its line, and nothing written.
    with session_scope(factory) as session, pytest.raises(ImportFailed) as failed:
        import_records(session, [placed_at(6), grown])
    assert failed.value.errors == [
        "line 1: quote 'placed': The request body is not valid. body.after_block: is past "
        "the end of the article's body, which has 5 top-level blocks"
    ]
    assert api.get("/api/v1/articles/story").json()["body"] == THREE
    assert api.get("/api/v1/quotes/placed").json()["after_block"] == 1


# Bodies as editors write them: sanitized, they must count in Python as a browser counts.
BROWSER_CASES = [
    THREE,
    "lead <b>bold</b> tail<p>a <i>b</i></p>\n<br><img src=/a.jpg><hr>",
    "<p>unclosed<p>second<div>block in p?</div>",
    "<table><tr><td>1<td>2</table><ul><li>a<li>b</ul>text",
    "<h2><span><h3>nested heading</h3></span></h2><blockquote><p>q</blockquote>",
    "<pre>\n\ncode &lt;p&gt;\n</pre><figure><img src=/x.jpg><figcaption>c</figcaption></figure>",
    "<p title='a>b'>x</p><script>alert(1)</script><p>y</p><!-- c --><q>inline</q>",
    "<p>line\u2028separator</p>\r\n<p>crlf</p>",
]


def test_a_browser_counts_the_blocks_as_after_block_does(tmp_path: Path) -> None:
    """`after_block` is read by frontends through the DOM (`children`): for each body,
    Chromium's top-level elements are ours, tag for tag."""
    from app.content.text import sanitize_html
    from app.demo.data import DEMO_DATASET
    from tests.browser import dump_dom

    bodies = [sanitize_html(body) for body in BROWSER_CASES]
    bodies += [sanitize_html(a["body"]) for a in DEMO_DATASET["articles"] if a["body"]]
    page = tmp_path / "blocks.html"
    script = (
        "const bodies = " + json.dumps(bodies) + ";"
        "document.getElementById('out').textContent = JSON.stringify(bodies.map(body => {"
        "  const holder = document.createElement('div'); holder.innerHTML = body;"
        "  return Array.from(holder.children, child => child.tagName.toLowerCase()); }));"
    )
    page.write_text(f"<!doctype html><pre id=out></pre><script>{script}</script>", "utf-8")
    dom = dump_dom(page.as_uri(), tmp_path / "profile", 2000)
    found = re.search(r'<pre id="out">(.*?)</pre>', dom, re.DOTALL)
    assert found is not None, dom[-2000:]
    in_browser = json.loads(html.unescape(found.group(1)))
    ours = [[re.match(r"<([a-z0-9]+)", block).group(1) for block in blocks(b)] for b in bodies]  # type: ignore[union-attr]
    assert ours == in_browser


README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readmes_loop_places_each_quote_after_its_blocks(tmp_path: Path) -> None:
    """The README's loop, run in Chromium on the demo's article and its three quotes (and
    more: two at one place, one before the first block, one not in the body): each quote
    stands after `after_block` of the body's blocks, quotes at one place in their order.
    (`el.children[after_block - 1].after(quote)`, quote by quote, as it said before, put
    the demo's second and third quotes one and two blocks early: each quote inserted is a
    child too.)"""
    from app.content.text import sanitize_html
    from app.demo.data import DEMO_DATASET
    from tests.browser import dump_dom

    text = README.read_text()
    section = text[text.index("A pull quote's `after_block`") :]
    loop = section.split("```js", 1)[1].split("```", 1)[0]
    (article,) = [a for a in DEMO_DATASET["articles"] if a["slug"] == ARTICLE_OF_THE_DEMO]
    quotes = [
        {"slug": q["slug"], "after_block": q["after_block"]}
        for q in DEMO_DATASET["quotes"]
        if q.get("article") == ARTICLE_OF_THE_DEMO
    ]
    assert [q["after_block"] for q in quotes] == [8, 15, 26]
    quotes[2:2] = [{"slug": "tie", "after_block": 15}]  # in the article's order
    quotes += [{"slug": "first", "after_block": 0}, {"slug": "beside", "after_block": None}]
    script = (
        "const el = document.createElement('div');"
        f"const article = {{body: {json.dumps(sanitize_html(article['body']))}, "
        f"quotes: {json.dumps(quotes)}}};"
        "el.innerHTML = article.body;"
        "function render(quote) { const q = document.createElement('aside');"
        " q.id = quote.slug; return q; }" + loop + "let before = 0; const found = [];"
        "for (const child of el.children) {"
        " if (child.tagName === 'ASIDE') found.push([child.id, before]); else before += 1; }"
        "document.getElementById('out').textContent = JSON.stringify(found);"
    )
    page = tmp_path / "quotes.html"
    page.write_text(f"<!doctype html><pre id=out></pre><script>{script}</script>", "utf-8")
    dom = dump_dom(page.as_uri(), tmp_path / "profile", 2000)
    found = re.search(r'<pre id="out">(.*?)</pre>', dom, re.DOTALL)
    assert found is not None, dom[-2000:]
    placed = sorted(
        (q["after_block"], i, q["slug"])
        for i, q in enumerate(quotes)
        if q["after_block"] is not None
    )
    assert json.loads(html.unescape(found.group(1))) == [[slug, n] for n, _, slug in placed]


def test_a_quote_of_a_deleted_article_exports_without_a_place(
    factory: sessionmaker[Session], api: TestClient, keys: Keys, empty_database_url: str
) -> None:
    """A quote placed in an article that is then deleted shows no article: its place,
    counted in that article's body, goes with it (exported as null, so the export imports
    into an empty database), and comes back when the article is restored."""
    _article(api, keys, "story")
    assert _quote(api, keys, slug="placed", article="story", after_block=2).status_code == 201
    with factory() as session:
        article_line = next(line for line in export_lines(session) if b'"story"' in line)
    assert api.delete("/api/v1/articles/story", headers=keys.writer).status_code == 204
    with factory() as session:
        exported = list(export_lines(session))
    quote_line = next(line for line in exported if b'"placed"' in line)
    assert json.loads(quote_line)["data"]["article"] is None
    assert json.loads(quote_line)["data"]["after_block"] is None

    upgrade_to_head(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            import_records(session, exported)
        with make_session_factory(engine)() as session:
            assert list(export_lines(session)) == exported
    finally:
        engine.dispose()

    # Edits of the quote, and the whole line imported again, keep its place for a restore.
    edited = api.patch("/api/v1/quotes/placed", json={"text": "Other."}, headers=keys.writer)
    assert edited.status_code == 200, edited.text
    with session_scope(factory) as session:
        assert import_records(session, [quote_line]).changed == 1  # the text, back
    with session_scope(factory) as session:
        assert import_records(session, [quote_line]).changed == 0
    # A place given while the article is deleted: none to count in (the editor sees none).
    status, errors = _error(
        api.patch("/api/v1/quotes/placed", json={"after_block": 1}, headers=keys.writer)
    )
    deleted_article = (
        "places the quote in its article's body, and that article is deleted: give another "
        "article, or after_block null to place it nowhere"
    )
    assert (status, errors) == (422, [(["body", "after_block"], deleted_article)])
    with session_scope(factory) as session:
        import_records(session, [article_line])  # restored
    assert api.get("/api/v1/quotes/placed").json()["after_block"] == 2
    assert api.delete("/api/v1/articles/story", headers=keys.writer).status_code == 204
    # A PATCH that clears the (deleted) article clears its place with it.
    cleared = api.patch("/api/v1/quotes/placed", json={"article": None}, headers=keys.writer)
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["after_block"] is None


def test_following_a_long_body_of_repeated_blocks_takes_no_quadratic_time() -> None:
    """Comparing the blocks of two bodies costs about their number, however many repeat:
    difflib's matcher took time quadratic in the repeated blocks (4,000 line breaks: 2 s;
    the 50,000 a body's 200,000 characters hold: minutes, with every writer waiting)."""
    old = "<br><hr>" * 25_000
    new = "<hr><br>" * 25_000
    started = time.monotonic()
    assert 0 <= reanchor(old, new, 30_000) <= 50_000
    assert reanchor("<p>a</p>" + old, "<p>b</p><p>a</p>" + old, 7) == 8
    assert time.monotonic() - started < 10  # a bound, not a benchmark: it was minutes


FUTURE = "2099-01-01T00:00:00Z"
HIDDEN_ARTICLE = {
    "draft": {"status": "draft"},
    "scheduled": {"status": "published", "published_at": FUTURE},
    "deleted": None,  # DELETE
}
PLACE_QUERY = '{ quote(slug: "placed") { afterBlock article { slug } } }'
STREAM_QUERY = (
    '{ topic(slug: "kidnapping") { stream { nodes { ... on Quote { slug afterBlock } } } } }'
)


@pytest.mark.parametrize("state", list(HIDDEN_ARTICLE))
def test_a_place_in_an_article_the_reader_cannot_see_is_not_shown(
    app_factory: Any, state: str
) -> None:
    """A quote whose article the viewer does not see (a draft, scheduled, deleted) shows
    `article: null`, and so `after_block: null`: no place in an article the reader cannot
    see, on every surface (REST lists, the item, includes, topic streams, GraphQL on both
    executors). A preview, which sees drafts and scheduled articles, sees the place; an
    export keeps it (a backup: restored, the quote stands where it stood)."""
    fast_app = app_factory()  # with the response cache: the article's write purges the quote
    stock_app = app_factory(graphql_fast_path=False, response_cache=False)
    keys = Keys(fast_app.state.session_factory, seed=True)
    with TestClient(fast_app) as api, TestClient(stock_app) as stock:
        _article(api, keys, "story")
        published = {"status": "published", "topics": ["kidnapping"]}
        created = _quote(api, keys, slug="placed", article="story", after_block=2, **published)
        assert created.status_code == 201, created.text
        related = [{"type": "quote", "slug": "placed"}]
        response = api.post(
            "/api/v1/articles",
            json={"slug": "host", "title": "Host", "status": "published", "related": related},
            headers=keys.writer,
        )
        assert response.status_code == 201, response.text

        def public() -> dict[str, Any]:
            stream = "/api/v1/topics/kidnapping/stream"
            graphql = [
                client.post("/graphql", json={"query": query}).json()["data"]
                for client in (api, stock)
                for query in (PLACE_QUERY, STREAM_QUERY)
            ]
            return {
                "list": api.get("/api/v1/quotes").json()["data"][0]["after_block"],
                "list fields": api.get("/api/v1/quotes?fields=slug,after_block").json()["data"],
                "item": api.get("/api/v1/quotes/placed").json()["after_block"],
                "item fields": api.get("/api/v1/quotes/placed?fields=after_block").json(),
                "include": api.get("/api/v1/articles/host?include=related").json()["related"][0][
                    "after_block"
                ],
                "stream": api.get(stream).json()["data"][0]["after_block"],
                "stream fields": api.get(f"{stream}?fields=after_block").json()["data"],
                "graphql fast": graphql[:2],
                "graphql stock": graphql[2:],
            }

        def shown(place: int | None, article: str | None) -> dict[str, Any]:
            quote = {"afterBlock": place, "article": article and {"slug": article}}
            streamed = {"slug": "placed", "afterBlock": place}
            graphql = [{"quote": quote}, {"topic": {"stream": {"nodes": [streamed]}}}]
            return {
                "list": place,
                "list fields": [{"id": ANY, "slug": "placed", "after_block": place}],
                "item": place,
                "item fields": {"id": ANY, "after_block": place},
                "include": place,
                "stream": place,
                "stream fields": [{"type": "quote", "id": ANY, "after_block": place}],
                "graphql fast": graphql,
                "graphql stock": graphql,
            }

        assert public() == shown(2, "story")
        change = HIDDEN_ARTICLE[state]
        if change is None:
            response = api.delete("/api/v1/articles/story", headers=keys.writer)
        else:
            response = api.patch("/api/v1/articles/story", json=change, headers=keys.writer)
        assert response.status_code in (200, 204), response.text
        assert public() == shown(None, None)

        seen = None if state == "deleted" else 2  # a preview never sees a deleted article
        preview = {"X-Preview": "true", **keys.previewer}
        item = api.get("/api/v1/quotes/placed?preview=true", headers=keys.previewer).json()
        assert item["after_block"] == seen
        for client in (api, stock):
            data = client.post("/graphql", json={"query": PLACE_QUERY}, headers=preview).json()
            assert data["data"]["quote"]["afterBlock"] == seen

        with fast_app.state.session_factory() as session:
            exported = [json.loads(line) for line in export_lines(session)]
        (line,) = [line["data"] for line in exported if line["type"] == "quote"]
        # Kept for the draft's and the scheduled article's restore; a deleted article's
        # place goes with it (the export imports into an empty database).
        assert (line["article"], line["after_block"]) == (
            (None, None) if state == "deleted" else ("story", 2)
        )
