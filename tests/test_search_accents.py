"""Accents fold alike on both databases: `q=bogota` finds "Bogotá", and `q=Bogotá` "Bogota"."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.content.search import search
from app.content.types import ALL_TYPES
from app.content.visibility import Viewer
from app.content.writes import create_item
from app.db import session_scope

PLACES = {
    "Bogotá": "Kidnapping in Bogotá",
    "Zürich": "Negotiators meet in Zürich",
    "São Paulo": "Ransom insurance in São Paulo",
    "Ciudad Juárez": "Hostages of Ciudad Juárez",
    "Plain": "Sequestration in Bogota",
}


@pytest.fixture
def places(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    with session_scope(session_factory) as session:
        for title in PLACES.values():
            create_item(session, "topics", {"name": title}, "t")
    return session_factory


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("bogota", {"Kidnapping in Bogotá", "Sequestration in Bogota"}),
        ("Bogotá", {"Kidnapping in Bogotá", "Sequestration in Bogota"}),
        ("BOGOTÁ kidnapping", {"Kidnapping in Bogotá"}),
        ("zurich", {"Negotiators meet in Zürich"}),
        ("sao paulo", {"Ransom insurance in São Paulo"}),
        ("juarez hostage", {"Hostages of Ciudad Juárez"}),
    ],
)
def test_accents_fold_on_both_databases(
    places: sessionmaker[Session], q: str, expected: set[str]
) -> None:
    with session_scope(places) as session:
        hits, total = search(session, q, ALL_TYPES, Viewer(), 20)
        names = {h.snippet.replace("<mark>", "").replace("</mark>", "") for h in hits}
    assert (names, total) == (expected, len(expected))


def test_the_snippet_marks_the_word_as_written(places: sessionmaker[Session]) -> None:
    with session_scope(places) as session:
        hits, _ = search(session, "bogota kidnapping", ALL_TYPES, Viewer(), 20)
    assert [h.snippet for h in hits] == ["<mark>Kidnapping</mark> in <mark>Bogotá</mark>"]
