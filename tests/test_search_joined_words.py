"""Words joined by `.`, `/`, `@` or `:` are searched as their words on both databases:
PostgreSQL's parser read "LeanIn.org", "U.S" and "9/11" as single words no query matched."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.content.search import WORD_END, search
from app.content.types import ALL_TYPES
from app.content.visibility import Viewer
from app.content.writes import create_item
from app.db import session_scope

NAMES = (
    "U.S. Department of Justice",
    "LeanIn.org",
    "Ph.D. program",
    "Remembering 9/11",
    "Write to desk@institute.org",
    "Covid-19 and the G-20",
)


@pytest.fixture
def named(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    with session_scope(session_factory) as session:
        for name in NAMES:
            create_item(session, "organizations", {"name": name}, "t")
    return session_factory


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("U.S. Department of Justice", "U.S. Department of Justice"),
        ("LeanIn.org", "LeanIn.org"),
        ("leanin", "LeanIn.org"),
        ("Ph.D.", "Ph.D. program"),
        ("9/11", "Remembering 9/11"),
        ("desk@institute.org", "Write to desk@institute.org"),
        ("institute", "Write to desk@institute.org"),
        ("Covid-19", "Covid-19 and the G-20"),
        ("G-20", "Covid-19 and the G-20"),
    ],
)
def test_joined_words_are_found_on_both_databases(
    named: sessionmaker[Session], q: str, expected: str
) -> None:
    with session_scope(named) as session:
        hits, total = search(session, q, ALL_TYPES, Viewer(), 20)
    assert total == 1, [h.snippet for h in hits]
    (hit,) = hits
    assert "<mark>" in hit.snippet
    # Shown as written, the separators the search vector reads taken out. (PostgreSQL
    # may end a short snippet before the document ends.)
    shown = hit.snippet.replace("<mark>", "").replace("</mark>", "")
    assert WORD_END not in shown
    assert expected.startswith(shown), (shown, expected)


def test_a_snippet_marks_words_that_stand_far_apart(
    session_factory: sessionmaker[Session],
) -> None:
    """All the words are asked for, and a document may hold them a page apart: PostgreSQL's
    snippet then found no passage with every one and showed the first words, unmarked."""
    filler = " ".join(["Scholars met for a long seminar on policy and markets."] * 60)
    body = f"<p>Talks about ransom began early.</p><p>{filler}</p><p>The negotiation ended.</p>"
    with session_scope(session_factory) as session:
        create_item(
            session, "articles", {"title": "Far apart", "body": body, "status": "published"}, "t"
        )
    with session_scope(session_factory) as session:
        hits, total = search(session, "ransom negotiation", ALL_TYPES, Viewer(), 20)
    assert total == 1
    assert "<mark>" in hits[0].snippet, hits[0].snippet
