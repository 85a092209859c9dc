"""Search ranks and counts at most MATCH_CAP matches, so a very common word stays cheap."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.content import search as search_module
from app.content.types import ALL_TYPES
from app.content.visibility import Viewer
from app.content.writes import create_item
from app.db import session_scope


def test_ranking_and_total_stop_at_the_cap(
    session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_scope(session_factory) as session:
        for i in range(6):
            create_item(session, "topics", {"name": f"Hostage topic {i}"}, "t")
    with session_scope(session_factory) as session:
        hits, total = search_module.search(session, "hostage", ALL_TYPES, Viewer(), 10)
        assert (len(hits), total) == (6, 6)
        monkeypatch.setattr(search_module, "MATCH_CAP", 4)
        hits, total = search_module.search(session, "hostage", ALL_TYPES, Viewer(), 10)
        assert (len(hits), total) == (4, 4)
