"""Request-scoped dependencies shared by every router (`SessionDep`, `SettingsDep`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import session_scope


def get_session(request: Request) -> Iterator[Session]:
    """One unit of work per request: committed on success, rolled back on error, closed always.

    Used with `scope="function"`, so the commit happens before the response is sent: a
    commit that fails becomes the error response instead of a 2xx for lost work.
    """
    with session_scope(session_factory_for(request)) as session:
        yield session


def session_factory_for(request: Request) -> sessionmaker[Session]:
    """Reads (GET, HEAD) go to the read replica when one is configured; writes never do."""
    if request.method in ("GET", "HEAD"):
        factory: sessionmaker[Session] = request.app.state.read_session_factory
    else:
        factory = request.app.state.session_factory
    return factory


def get_app_settings(request: Request) -> Settings:
    """The settings the running app was built with (tests build apps with their own)."""
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
