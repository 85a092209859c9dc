"""Where a pull quote stands in its article's body: `quote.after_block`.

A quote's `after_block` is the number of top-level blocks of its article's `body` that come
before it: 0 puts it before the first, n after the n-th. A block is a top-level *element*
of the sanitized body, exactly what a browser's DOM lists as the `children` of an element
whose `innerHTML` is the body (`<p>`, `<h2>`, `<figure>`, even a stray top-level `<br>`);
text between elements is no block. So a frontend places a quote after
`blocks[after_block - 1]` (or `prepend`s it for 0), `blocks` being the container's
`children` taken before any quote is inserted, the article's quotes last first (quotes at
one place keep their order; the README has the loop). Null: the quote has no place in the
body (show it beside the article, or not at all).

It is checked on every write that sets it or moves the quote to another article (422 past
the body's end). When the article's body changes, its quotes follow the blocks they stood
after (`reanchor`): a paragraph inserted above moves them down, an edited paragraph keeps
them, a deleted one leaves them after the block before it. Those quotes are written then,
as changed items (version, `updated_at`, audit entry, change log).

The sanitized body is the serialization of a parsed document (nh3, html5ever): every
element but a void one has its end tag, `<` in text and `>` in attributes are escaped, and
parsing it again gives it back (`app.content.text.sanitize_html`). Counting start and end
tags therefore finds the DOM's top-level elements; no tree is built.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from difflib import SequenceMatcher
from html.parser import HTMLParser

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from app.content.errors import invalid
from app.models import Article, Quote

# HTML's void elements: no end tag, no content (the sanitizer keeps br, hr and img).
_VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }
)


class _TopLevel(HTMLParser):
    """Records where each top-level element of a fragment starts (line, column)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.starts: list[tuple[int, int]] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if self.depth == 0:
            self.starts.append(self.getpos())
        if tag not in _VOID:
            self.depth += 1

    def handle_startendtag(self, tag: str, attrs: object) -> None:
        if self.depth == 0:
            self.starts.append(self.getpos())

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID and self.depth > 0:
            self.depth -= 1


_LINE_FEED = re.compile("\n")


def blocks(body: str | None) -> list[str]:
    """The body's top-level blocks, each as its markup up to the next one (text that
    follows an element, before the next, goes with it; white space at its end does not)."""
    if not body:
        return []
    parser = _TopLevel()
    parser.feed(body)
    parser.close()
    # The parser counts lines at line feeds only (not at U+2028, as `splitlines` would).
    line_starts = [0, *(match.end() for match in _LINE_FEED.finditer(body))]
    offsets = [line_starts[line - 1] + column for line, column in parser.starts]
    ends = [*offsets[1:], len(body)][: len(offsets)]
    return [body[start:end].rstrip() for start, end in zip(offsets, ends, strict=True)]


def count_blocks(body: str | None) -> int:
    """How many top-level blocks the body has: the largest `after_block` it takes."""
    return len(blocks(body))


def reanchor(old_body: str | None, new_body: str | None, after_block: int) -> int:
    """Where a quote that stood after `after_block` blocks of `old_body` stands in
    `new_body` (`mover`)."""
    return mover(old_body, new_body)(after_block)


def mover(old_body: str | None, new_body: str | None) -> Callable[[int], int]:
    """Where a quote that stood after n blocks of `old_body` stands in `new_body`: after
    the same block, found again by comparing the two lists of blocks (once, for every
    quote of the article).

    A block kept as it was is the same block wherever it went. One edited in place
    (replaced) counts as itself; when several blocks replace several, each old one maps
    to the new one at its place in the run, and the run's last to the run's last (a
    paragraph split in two: a quote after it follows the second half). A deleted block
    leaves the quote after the nearest block before it that survived, or at the top."""
    old, new = blocks(old_body), blocks(new_body)
    where: dict[int, int] = {}
    for tag, i1, i2, j1, j2 in _opcodes(old, new):
        if tag == "equal":
            where.update({i: j1 + (i - i1) for i in range(i1, i2)})
        elif tag == "replace":
            for i in range(i1, i2):
                where[i] = j2 - 1 if i == i2 - 1 else j1 + min(i - i1, j2 - j1 - 1)

    def move(after_block: int) -> int:
        for before in range(min(after_block, len(old)) - 1, -1, -1):
            if before in where:
                return where[before] + 1
        return 0

    return move


# The most pairs of blocks compared with difflib, whose matcher takes time quadratic in
# the blocks that repeat (`<br>` 50,000 times in a body's 200,000 characters: minutes,
# holding the writers' lock). Past it, the changed run counts as replaced whole.
_MATCHED_PAIRS = 1_000_000

_Opcode = tuple[str, int, int, int, int]


def _opcodes(old: list[str], new: list[str]) -> list[_Opcode]:
    """difflib's opcodes from `old` to `new`; for bodies too long to match block by block,
    over the run between their common first and last blocks (an edit changes a few blocks
    of many), that run replaced whole when it is still too long."""
    if len(old) * len(new) <= _MATCHED_PAIRS:
        return list(SequenceMatcher(None, old, new, autojunk=False).get_opcodes())
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    old_end, new_end = len(old) - tail, len(new) - tail
    codes: list[_Opcode] = [("equal", 0, head, 0, head)] if head else []
    if (old_end - head) * (new_end - head) > _MATCHED_PAIRS:
        codes.append(("replace", head, old_end, head, new_end))
    else:
        matcher = SequenceMatcher(None, old[head:old_end], new[head:new_end], autojunk=False)
        codes.extend(
            (tag, i1 + head, i2 + head, j1 + head, j2 + head)
            for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        )
    if tail:
        codes.append(("equal", old_end, len(old), new_end, len(new)))
    return codes


def check_placement(
    session: Session,
    quote: Quote,
    before: tuple[int | None, int | None] | None,
    given: bool,
) -> None:
    """Refuse (422) a quote's `after_block` that its article's body cannot hold. `before`:
    the quote's (article_id, after_block) before this write (None: a new quote); a write
    that leaves both as they were is not checked again. `given`: the write names
    `after_block` (a PATCH that sends it, a create, an import's whole line)."""
    place = (quote.article_id, quote.after_block)
    if place == before or quote.after_block is None:
        return
    loc: list[object] = ["body", "after_block"]
    if quote.article_id is None:
        raise invalid(
            [
                {
                    "loc": loc,
                    "msg": "places the quote in its article's body, and it has no article: "
                    "give article, or after_block null to place it nowhere",
                }
            ]
        )
    if before is not None and before[0] != quote.article_id and not given:
        raise invalid(
            [
                {
                    "loc": loc,
                    "msg": "counts the blocks of the quote's former article: give after_block "
                    "(or null) with the new article",
                }
            ]
        )
    body = session.execute(
        select(col(Article.body)).where(
            col(Article.id) == quote.article_id, col(Article.deleted_at).is_(None)
        )
    ).first()
    if body is None:  # a deleted article: the quote shows none, and no body to count in
        raise invalid(
            [
                {
                    "loc": loc,
                    "msg": "places the quote in its article's body, and that article is "
                    "deleted: give another article, or after_block null to place it nowhere",
                }
            ]
        )
    count = count_blocks(body[0])
    if quote.after_block > count:
        raise invalid(
            [
                {
                    "loc": loc,
                    "msg": f"is past the end of the article's body, which has {count} "
                    f"top-level block{'' if count == 1 else 's'}",
                }
            ]
        )


def hidden_place(session: Session, quote: Quote) -> int | None:
    """The quote's place in a deleted article's body, which the quote does not show (it
    shows no article): kept for the article's restore, but no editor sees it, nor an
    export (whose quote would not import without its article). None: nothing hidden."""
    if quote.after_block is None or quote.article_id is None:
        return None
    deleted = session.scalar(
        select(col(Article.deleted_at)).where(col(Article.id) == quote.article_id)
    )
    return quote.after_block if deleted is not None else None


def follow_body(
    session: Session, article_id: int, old_body: str | None, new_body: str | None
) -> list[Quote]:
    """Move the article's placed quotes (deleted ones too: a restore finds them in place)
    to where its new body puts the blocks they stood after; the quotes moved."""
    quotes = session.scalars(
        select(Quote).where(
            col(Quote.article_id) == article_id, col(Quote.after_block).is_not(None)
        )
    ).all()
    if not quotes:
        return []
    moved = []
    move = mover(old_body, new_body)
    for quote in quotes:
        assert quote.after_block is not None
        place = move(quote.after_block)
        if place != quote.after_block:
            quote.after_block = place
            moved.append(quote)
    return moved
