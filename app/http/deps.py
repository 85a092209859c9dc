"""Request-scoped dependencies shared by every router (`SessionDep`, `SettingsDep`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import session_scope


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One unit of work per request: committed on success, rolled back on error, closed always.

    Used with `scope="function"`, so the commit happens before the response is sent: a
    commit that fails becomes the error response instead of a 2xx for lost work.

    Making the session does no I/O (it takes its connection at its first statement, in
    the route's worker thread), so it is made here, on the event loop: a synchronous
    dependency would cost a hop to a worker thread, and every hop queues behind the busy
    threads under load. A request never holds a connection while it waits for a thread:
    requests that did, and threads waiting for their connections, stopped each other.
    The end (commit or rollback, and close) goes to a worker thread as FastAPI ends a
    synchronous dependency: shielded from cancellation, and on a limiter of its own, so it
    never waits for a thread behind the requests that wait for its connection.
    """
    scope = session_scope(session_factory_for(request))
    session = scope.__enter__()
    limiter = anyio.CapacityLimiter(1)
    try:
        yield session
    except BaseException as exc:
        with anyio.CancelScope(shield=True):
            handled = await anyio.to_thread.run_sync(
                scope.__exit__, type(exc), exc, exc.__traceback__, limiter=limiter
            )
        if not handled:
            raise
    else:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(scope.__exit__, None, None, None, limiter=limiter)


def session_factory_for(request: Request) -> sessionmaker[Session]:
    """Reads (GET, HEAD) go to the read replica when one is configured; writes never do."""
    if request.method in ("GET", "HEAD"):
        factory: sessionmaker[Session] = request.app.state.read_session_factory
    else:
        factory = request.app.state.session_factory
    return factory


async def get_app_settings(request: Request) -> Settings:
    """The settings the running app was built with (tests build apps with their own).
    `async`, as every dependency that does no I/O: it runs on the event loop, not in a
    worker thread (see `get_session`)."""
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
