"""Liveness, readiness, request ids, metrics, and the self-hosted API docs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from app.http.metrics import MULTIPROCESS_DIR
from app.main import create_app
from app.migrations import head_revision
from tests.support import backend_of, make_settings, terminate_connections

UNREACHABLE_PG = "postgresql://postgres@127.0.0.1:9/nowhere"


def test_healthz_needs_no_database() -> None:
    with TestClient(create_app(make_settings(UNREACHABLE_PG))) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_on_migrated_database(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "revision": head_revision()}


def test_readyz_on_unmigrated_database(empty_database_url: str) -> None:
    with TestClient(create_app(make_settings(empty_database_url))) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "2"
    problem = response.json()
    assert problem["status"] == 503
    assert "dossier migrate" in problem["detail"]


def test_readyz_when_database_unreachable() -> None:
    with TestClient(create_app(make_settings(UNREACHABLE_PG))) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "2"


def test_request_id_generated_and_echoed(bare_client: TestClient) -> None:
    generated = bare_client.get("/healthz").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert bare_client.get("/healthz").headers["x-request-id"] != generated

    echoed = bare_client.get("/healthz", headers={"X-Request-ID": "req-42.abc"})
    assert echoed.headers["x-request-id"] == "req-42.abc"


def test_unsafe_request_id_replaced(bare_client: TestClient) -> None:
    response = bare_client.get("/healthz", headers={"X-Request-ID": "evil\tlog line " + "x" * 200})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


def test_request_id_on_errors_and_preflight(bare_client: TestClient) -> None:
    assert bare_client.get("/no/such/route").headers["x-request-id"]
    preflight = bare_client.options(
        "/healthz",
        headers={"Origin": "https://www.example.org", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["x-request-id"]
    assert preflight.headers["access-control-allow-origin"] == "*"


def test_metrics_count_requests_by_route_template(bare_client: TestClient) -> None:
    bare_client.get("/healthz")
    bare_client.get("/healthz")
    bare_client.get("/static/docs/favicon.png")
    bare_client.get("/no/such/route")
    response = bare_client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'dossier_http_requests_total{method="GET",route="/healthz",status="200"} 2.0' in text
    assert 'route="/static/docs/{path}",status="200"' in text
    assert 'route="<unmatched>",status="404"' in text
    assert "/no/such/route" not in text  # raw paths never become labels
    assert (
        'dossier_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/healthz"'
        in text
    )


_WORKER = """
import sys
from app.http.metrics import Metrics
metrics = Metrics()
for _ in range(int(sys.argv[1])):
    metrics.observe("/healthz", "GET", 200, 0.001)
sys.stdout.write(metrics.render().decode())
"""


def test_metrics_of_several_workers_are_summed(tmp_path: Path) -> None:
    """`dossier serve --workers N` gives its workers one PROMETHEUS_MULTIPROC_DIR: each
    worker's `/metrics` reports the requests of all of them, not only its own (a scrape
    reaches any one worker, and a series that jumps between them reads as resets)."""
    env = {**os.environ, MULTIPROCESS_DIR: str(tmp_path)}
    renders = [
        subprocess.run(
            [sys.executable, "-c", _WORKER, str(count)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        for count in (2, 3)
    ]
    served = 'dossier_http_requests_total{method="GET",route="/healthz",status="200"} 5.0'
    assert served in renders[1]
    assert (
        'dossier_http_request_duration_seconds_count{method="GET",route="/healthz"' in (renders[1])
    )


def test_unknown_route_is_problem_json(bare_client: TestClient) -> None:
    response = bare_client.get("/api/v1/no-such-collection")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "https://dossier.dev/problems/not-found",
        "title": "Not Found",
        "status": 404,
        "detail": "Not Found",
    }


def test_wrong_method_is_problem_json(bare_client: TestClient) -> None:
    response = bare_client.delete("/healthz")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["allow"] == "GET, HEAD"
    problem = response.json()
    assert problem["status"] == 405
    assert problem["type"] == "https://dossier.dev/problems/method-not-allowed"


URL_ATTRIBUTE = re.compile(r"""(?:src|href|spec-url)=["']([^"']+)["']""")


def test_docs_and_redoc_use_local_assets_only(bare_client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        response = bare_client.get(page)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        html = response.text
        assert "http://" not in html
        assert "https://" not in html
        urls = URL_ATTRIBUTE.findall(html)
        assets = [url for url in urls if url != "/openapi.json"]
        assert assets
        for url in assets:
            assert url.startswith("/static/docs/"), url
            assert bare_client.get(url).status_code == 200, url


def test_swagger_ui_assets_and_graphiql_assets_served(bare_client: TestClient) -> None:
    for path in (
        "/static/docs/swagger-ui-bundle.js",
        "/static/docs/swagger-ui.css",
        "/static/docs/redoc.standalone.js",
        "/static/docs/favicon.png",
        "/static/graphiql/graphiql.min.js",
        "/static/graphiql/graphiql.min.css",
        "/static/graphiql/react-dom.production.min.js",
    ):
        assert bare_client.get(path).status_code == 200, path
    missing = bare_client.get("/static/docs/nope.js")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


def test_large_responses_are_gzipped(bare_client: TestClient) -> None:
    response = bare_client.get("/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert bare_client.get("/healthz").headers.get("content-encoding") is None


def test_openapi_documents_operations_and_problems(bare_client: TestClient) -> None:
    document = bare_client.get("/openapi.json").json()
    assert document["info"]["title"] == "Dossier"
    tags = {tag["name"] for tag in document["tags"]}
    assert {
        "topics",
        "organizations",
        "people",
        "articles",
        "quotes",
        "events",
        "publications",
        "resources",
    } <= tags
    schemas = document["components"]["schemas"]
    assert {"Problem", "ProblemError"} <= set(schemas)
    assert "HTTPValidationError" not in schemas
    readyz = document["paths"]["/readyz"]["get"]
    problem = readyz["responses"]["503"]["content"]["application/problem+json"]
    assert problem["schema"] == {"$ref": "#/components/schemas/Problem"}
    for path in ("/healthz", "/readyz", "/metrics"):
        assert path in document["paths"]
    assert "/docs" not in document["paths"]


def test_recovers_when_database_connections_are_cut(client: TestClient, database_url: str) -> None:
    """Connections killed under the app (a database restart) are replaced transparently."""
    assert client.get("/readyz").status_code == 200
    if backend_of(database_url) == "postgresql":
        terminate_connections(database_url)
    assert client.get("/readyz").status_code == 200


def test_metrics_label_cached_answers_by_their_route(client: TestClient) -> None:
    """The response cache answers a repeated GET before routing: its hits (and their 304s)
    are labelled by the route that made the entry, not `<unmatched>`, so a route's
    requests per second count its cached traffic."""
    first = client.get("/api/v1/topics", params={"limit": 3})
    assert first.status_code == 200
    assert client.get("/api/v1/topics", params={"limit": 3}).status_code == 200
    etag = first.headers["etag"]
    again = client.get("/api/v1/topics", params={"limit": 3}, headers={"If-None-Match": etag})
    assert again.status_code == 304
    text = client.get("/metrics").text
    route = 'method="GET",route="/api/v1/topics"'
    assert f'dossier_http_requests_total{{{route},status="200"}} 2.0' in text, text
    assert f'dossier_http_requests_total{{{route},status="304"}} 1.0' in text, text
    assert 'route="<unmatched>"' not in text, text


def test_every_response_says_nosniff(bare_client: TestClient) -> None:
    """A browser takes each response as the type it says (a problem echoing input, a feed,
    JSON), never sniffed as HTML: `X-Content-Type-Options: nosniff`, errors and pages too."""
    for path in ("/healthz", "/no/such/route", "/docs", "/openapi.json", "/api/v1/topics?x=1"):
        response = bare_client.get(path)
        assert response.headers["x-content-type-options"] == "nosniff", path
