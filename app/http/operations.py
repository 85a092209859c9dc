"""Operational endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import Response

from app.http.errors import (
    PROBLEM_MEDIA_TYPE,
    ServiceUnavailable,
    is_database_unavailable,
    problem_example,
    problem_responses,
)
from app.http.middleware import NUL_IN_URL
from app.migrations import current_revision, head_revision
from app.schemas import Schema

router = APIRouter(tags=["operations"])


class Status(Schema):
    status: str


class Readiness(Schema):
    status: str
    revision: str | None


# Every request's URL is checked for NUL (`RejectNulMiddleware`), these operations' too.
_NUL_IN_URL = problem_responses(400)
_NUL_IN_URL[400]["description"] = "The URL holds a NUL character (`%00`)."
_NUL_IN_URL[400]["content"][PROBLEM_MEDIA_TYPE]["example"] = problem_example(400, NUL_IN_URL)


@router.get("/healthz", response_model=Status, summary="Liveness", responses=_NUL_IN_URL)
async def healthz() -> Status:
    """The process is up. Touches no database: use it for liveness probes.

    Answered on the event loop, never queued behind database work in the handler threads
    (`WORKER_THREADS`): a busy worker is still alive."""
    return Status(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness",
    responses={**_NUL_IN_URL, **problem_responses(503)},
)
def readyz(request: Request) -> Readiness:
    """Ready to serve: the database (and the read replica, `DATABASE_READ_URL`, which every
    read uses) answers and its schema is at the newest migration.

    Otherwise 503 with `Retry-After`; take the instance out of rotation until it recovers.
    """
    engine: Engine = request.app.state.engine
    revision = _ready_revision(engine, "database")
    read_engine: Engine = request.app.state.read_engine
    if read_engine is not engine:
        _ready_revision(read_engine, "read replica")
    return Readiness(status="ok", revision=revision)


def _ready_revision(engine: Engine, name: str) -> str:
    """The revision of the database behind `engine`; 503 when it is unreachable or not at
    the newest migration."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        revision = current_revision(engine)
    except SQLAlchemyError as exc:
        if not is_database_unavailable(exc):
            raise
        raise ServiceUnavailable(f"The {name} is unreachable.") from exc
    head = head_revision()
    if revision != head:
        raise ServiceUnavailable(
            f"The {name} schema is at revision {revision or 'none'}, not {head}; "
            "run `dossier migrate`."
        )
    return head


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}, "description": "Prometheus text format."},
        **_NUL_IN_URL,
    },
)
def metrics(request: Request) -> Response:
    """Request counts and latency histograms by route template, method and status."""
    registry = request.app.state.metrics
    return Response(registry.render(), media_type=registry.content_type)
