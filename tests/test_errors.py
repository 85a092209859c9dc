"""Every error is RFC 9457 problem+json: raised, validation, database outages, crashes."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from typing import Annotated

import pytest
from fastapi import APIRouter, Body, FastAPI, Query
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from app.content.errors import QueryError
from app.http import errors
from app.http.deps import SessionDep, SettingsDep
from app.main import create_app
from app.models import Topic
from tests.support import make_settings

PROBLEM = "application/problem+json"


class Thing(BaseModel):
    name: str
    size: int


def probe_router() -> APIRouter:
    router = APIRouter(prefix="/probe")

    @router.get("/raise/{name}")
    def raise_named(name: str) -> None:
        raise {
            "bad-request": errors.BadRequest("Nope."),
            "unauthorized": errors.Unauthorized("Who are you?"),
            "forbidden": errors.Forbidden(),
            "not-found": errors.NotFound("No event 'x'."),
            "conflict": errors.Conflict("Slug taken."),
            "precondition": errors.PreconditionFailed(),
            "unsupported": errors.UnsupportedMediaType(),
            "unprocessable": errors.Unprocessable(
                "Unknown reference.", errors=[{"loc": ("body", "topics", 0), "msg": "unknown"}]
            ),
            "rate": errors.TooManyRequests(retry_after=30),
            "unavailable": errors.ServiceUnavailable(),
            "query": QueryError("sort", "cannot sort by colour"),
            "db-down": OperationalError("SELECT 1", {}, Exception("connection refused")),
            "db-locked": OperationalError(
                "UPDATE x", {}, sqlite3.OperationalError("database is locked")
            ),
            "crash": RuntimeError("boom"),
        }[name]

    @router.get("/params")
    def params(limit: Annotated[int, Query(ge=1, le=100)] = 20) -> dict[str, int]:
        return {"limit": limit}

    @router.post("/things", responses=errors.problem_responses(409, 422))
    def create_thing(thing: Annotated[Thing, Body()]) -> Thing:
        return thing

    @router.get("/settings")
    def settings(settings: SettingsDep) -> dict[str, int]:
        return {"max_body_bytes": settings.max_body_bytes}

    return router


def probe_app(database_url: str = "sqlite://", **overrides: object) -> FastAPI:
    app = create_app(make_settings(database_url, **overrides))
    app.include_router(probe_router())
    return app


@pytest.fixture
def probe() -> Iterator[TestClient]:
    with TestClient(probe_app(max_body_bytes=1000)) as client:
        yield client


@pytest.mark.parametrize(
    ("name", "status", "slug"),
    [
        ("bad-request", 400, "bad-request"),
        ("unauthorized", 401, "unauthorized"),
        ("forbidden", 403, "forbidden"),
        ("not-found", 404, "not-found"),
        ("conflict", 409, "conflict"),
        ("precondition", 412, "precondition-failed"),
        ("unsupported", 415, "unsupported-media-type"),
        ("unprocessable", 422, "validation"),
        ("rate", 429, "rate-limited"),
        ("unavailable", 503, "unavailable"),
        ("query", 400, "bad-request"),
        ("db-down", 503, "unavailable"),
        ("db-locked", 503, "unavailable"),
        ("crash", 500, "internal"),
    ],
)
def test_errors_render_as_problems(probe: TestClient, name: str, status: int, slug: str) -> None:
    response = probe.get(f"/probe/raise/{name}")
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == f"https://dossier.dev/problems/{slug}"
    assert problem["status"] == status
    assert problem["title"]
    assert problem["detail"]
    assert set(problem) <= {"type", "title", "status", "detail", "errors"}


def test_metrics_label_routes_by_template(probe: TestClient) -> None:
    probe.get("/probe/raise/not-found")
    probe.get("/probe/raise/conflict")
    metrics = probe.get("/metrics").text
    assert 'route="/probe/raise/{name}",status="404"' in metrics
    assert 'route="/probe/raise/{name}",status="409"' in metrics


def test_problem_headers(probe: TestClient) -> None:
    assert probe.get("/probe/raise/unauthorized").headers["www-authenticate"] == "Bearer"
    assert probe.get("/probe/raise/rate").headers["retry-after"] == "30"
    assert probe.get("/probe/raise/unavailable").headers["retry-after"] == "2"
    assert probe.get("/probe/raise/db-down").headers["retry-after"] == "2"


def test_unprocessable_lists_errors(probe: TestClient) -> None:
    problem = probe.get("/probe/raise/unprocessable").json()
    assert problem["errors"] == [{"loc": ["body", "topics", 0], "msg": "unknown"}]


def test_query_error_names_the_parameter(probe: TestClient) -> None:
    problem = probe.get("/probe/raise/query").json()
    assert problem["detail"] == "cannot sort by colour"
    assert problem["errors"] == [{"loc": ["query", "sort"], "msg": "cannot sort by colour"}]


def test_crash_is_logged_with_the_request_id(
    probe: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="app.http.errors"):
        response = probe.get("/probe/raise/crash", headers={"X-Request-ID": "crash-123"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "crash-123"
    assert "boom" not in response.text  # no internals leak to clients
    record = next(r for r in caplog.records if r.name == "app.http.errors")
    assert "crash-123" in record.getMessage()
    assert record.exc_info is not None
    assert record.request_id == "crash-123"  # type: ignore[attr-defined]


def test_bad_query_parameter_is_400(probe: TestClient) -> None:
    for value in ("0", "101", "ten"):
        response = probe.get("/probe/params", params={"limit": value})
        assert response.status_code == 400, value
        assert response.headers["content-type"] == PROBLEM
        problem = response.json()
        assert problem["type"] == "https://dossier.dev/problems/bad-request"
        assert problem["errors"][0]["loc"] == ["query", "limit"]
        assert problem["errors"][0]["msg"]
    assert probe.get("/probe/params", params={"limit": "5"}).json() == {"limit": 5}


def test_invalid_body_is_422_and_malformed_json_400(probe: TestClient) -> None:
    response = probe.post("/probe/things", json={"name": "x", "size": "big"})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"] == [
        {
            "loc": ["body", "size"],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
        }
    ]

    response = probe.post(
        "/probe/things", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM


def test_oversized_bodies_are_413(probe: TestClient) -> None:
    declared = probe.post(
        "/probe/things", content=b"x" * 2000, headers={"Content-Type": "application/json"}
    )
    assert declared.status_code == 413
    assert declared.headers["content-type"] == PROBLEM

    def chunks() -> Iterator[bytes]:
        yield b'{"name": "' + b"x" * 1500
        yield b'", "size": 1}'

    streamed = probe.post(
        "/probe/things", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413
    assert streamed.headers["content-type"] == PROBLEM
    assert probe.post("/probe/things", json={"name": "ok", "size": 1}).status_code == 200
    # A body no route reads (a GET's) is not measured: its 413 was an answer the GET
    # operations' documentation did not list.
    ignored = probe.request("GET", "/probe/settings", content=b"x" * 2000)
    assert ignored.status_code == 200, ignored.text


def test_settings_dependency_is_the_apps(probe: TestClient) -> None:
    assert probe.get("/probe/settings").json() == {"max_body_bytes": 1000}


def test_openapi_documents_problems(probe: TestClient) -> None:
    document = probe.get("/openapi.json").json()
    create = document["paths"]["/probe/things"]["post"]["responses"]
    for status in ("409", "422", "400"):
        content = create[status]["content"][PROBLEM]
        assert content["schema"] == {"$ref": "#/components/schemas/Problem"}, status
        if "example" in content:  # statuses the app gives a stock example for
            assert content["example"]["status"] == int(status)
    params = document["paths"]["/probe/params"]["get"]["responses"]
    assert "400" in params
    assert "422" not in params  # parameter errors are 400, and there is no body
    assert document["components"]["schemas"]["Problem"]["required"] == [
        "type",
        "title",
        "status",
        "detail",
    ]


# --- The request's unit of work (`SessionDep`), on both databases -----------------------


def session_router() -> APIRouter:
    router = APIRouter(prefix="/unit-of-work")

    @router.post("/{slug}")
    def create(slug: str, session: SessionDep) -> dict[str, str]:
        session.add(Topic(slug=slug, name=slug.title()))
        if slug.startswith("fail"):
            session.flush()
            raise errors.Conflict("changed my mind")
        return {"slug": slug}

    return router


@pytest.fixture
def uow(app: FastAPI) -> Iterator[TestClient]:
    app.include_router(session_router())
    with TestClient(app) as client:
        yield client


def topic_count(app: FastAPI) -> int:
    with app.state.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(Topic)) or 0)


def test_session_commits_on_success(uow: TestClient) -> None:
    assert uow.post("/unit-of-work/kidnapping").status_code == 200
    assert topic_count(uow.app) == 1  # type: ignore[arg-type]


def test_session_rolls_back_on_error(uow: TestClient) -> None:
    assert uow.post("/unit-of-work/fail-please").status_code == 409
    assert topic_count(uow.app) == 0  # type: ignore[arg-type]


def test_failed_commit_is_an_error_response(uow: TestClient) -> None:
    assert uow.post("/unit-of-work/kidnapping").status_code == 200
    # The duplicate slug only fails at commit, which happens before the response is sent.
    response = uow.post("/unit-of-work/kidnapping")
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert topic_count(uow.app) == 1  # type: ignore[arg-type]


def test_database_outage_on_a_request_is_503() -> None:
    app = probe_app("postgresql://postgres@127.0.0.1:9/nowhere")
    app.include_router(session_router())
    with TestClient(app) as client:
        response = client.post("/unit-of-work/anything")
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["retry-after"] == "2"
