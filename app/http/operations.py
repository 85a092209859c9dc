"""Operational endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import Response

from app.http.errors import ServiceUnavailable, is_database_unavailable, problem_responses
from app.migrations import current_revision, head_revision
from app.schemas import Schema

router = APIRouter(tags=["operations"])


class Status(Schema):
    status: str


class Readiness(Schema):
    status: str
    revision: str | None


@router.get("/healthz", response_model=Status, summary="Liveness")
async def healthz() -> Status:
    """The process is up. Touches no database: use it for liveness probes.

    Answered on the event loop, never queued behind database work in the handler threads
    (`WORKER_THREADS`): a busy worker is still alive."""
    return Status(status="ok")


@router.get(
    "/readyz", response_model=Readiness, summary="Readiness", responses=problem_responses(503)
)
def readyz(request: Request) -> Readiness:
    """Ready to serve: the database answers and its schema is at the newest migration.

    Otherwise 503 with `Retry-After`; take the instance out of rotation until it recovers.
    """
    engine: Engine = request.app.state.engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        revision = current_revision(engine)
    except SQLAlchemyError as exc:
        if not is_database_unavailable(exc):
            raise
        raise ServiceUnavailable("The database is unreachable.") from exc
    head = head_revision()
    if revision != head:
        raise ServiceUnavailable(
            f"The database schema is at revision {revision or 'none'}, not {head}; "
            "run `dossier migrate`."
        )
    return Readiness(status="ok", revision=revision)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}},
)
def metrics(request: Request) -> Response:
    """Request counts and latency histograms by route template, method and status."""
    registry = request.app.state.metrics
    return Response(registry.render(), media_type=registry.content_type)
