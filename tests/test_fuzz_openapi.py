"""Property-based fuzzing of every operation in the app's own OpenAPI document (schemathesis).

Schemathesis reads `/openapi.json` and, for every operation (REST reads and writes, the
audit log, feeds, calendars, GraphQL over HTTP, health), sends

- the documented examples,
- generated valid ("positive") and invalid ("negative") parameters, headers and bodies,
- stateful sequences: links inferred from `Location` headers chain a create into reads,
  updates and deletes of what it created,

with an admin API key on the operations that declare the `ApiKey` scheme (writes, the
audit log), over a database holding the demo dataset. Every response must be no 5xx and
conform to the document: a documented status code, a documented content type, a body
valid against the documented schema.

It runs schemathesis's own engine (the one behind its CLI) in process, over ASGI: the
same phases and checks as `schemathesis run`, no server needed.

Knobs (environment): `DOSSIER_FUZZ_EXAMPLES` examples per operation and phase (default
10, which keeps this file well under a minute on both databases), `DOSSIER_FUZZ_COVERAGE=1`
adds the coverage phase (boundary and near-boundary values of every parameter, ~6,000
more requests), `DOSSIER_FUZZ_RANDOM=1` draws new inputs on every run instead of the same
derandomized ones. `make fuzz` sets all three.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from schemathesis.engine import events, from_schema

from app.db import session_scope
from app.demo.loader import load_demo
from app.http.auth import create_api_key
from tests.conftest import AppFactory

EXAMPLES = int(os.environ.get("DOSSIER_FUZZ_EXAMPLES", "10"))
COVERAGE = os.environ.get("DOSSIER_FUZZ_COVERAGE") == "1"
RANDOM = os.environ.get("DOSSIER_FUZZ_RANDOM") == "1"
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)


@dataclass
class FuzzReport:
    """What one schemathesis run did and found."""

    operations: set[str] = field(default_factory=set)
    cases: Counter[str] = field(default_factory=Counter)  # by phase
    failures: dict[tuple[str, str, str], str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    stateful_links: int = 0

    def summary(self) -> str:
        lines = [
            f"operations: {len(self.operations)}",
            "cases: "
            + ", ".join(f"{phase} {n}" for phase, n in sorted(self.cases.items()))
            + f" (total {sum(self.cases.values())})",
            f"stateful links inferred: {self.stateful_links}",
            f"failures: {len(self.failures)}, errors: {len(self.errors)}",
        ]
        for (label, check, title), detail in sorted(self.failures.items()):
            lines.append(f"FAIL {label} [{check}] {title}\n{detail}")
        lines.extend(f"ERROR {e}" for e in self.errors)
        return "\n".join(lines)


def fuzz(app: FastAPI, key: str, *, examples: int, coverage: bool, randomize: bool) -> FuzzReport:
    config = schemathesis.Config.from_dict(
        {
            "auth": {"openapi": {"ApiKey": {"bearer": key}}},
            "generation": {
                "mode": "all",
                "max-examples": examples,
                "deterministic": not randomize,
                "database": "none",
            },
            "phases": {"coverage": {"enabled": coverage}},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "suppress-health-check": ["all"],
            "max-failures": 50,
            "cache": {"enabled": False},  # no .schemathesis/ directory in the tree
        }
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    report = FuzzReport()
    for event in from_schema(schema).execute():
        if isinstance(event, events.PhaseStarted) and event.payload is not None:
            report.stateful_links = event.payload.inferred_transitions
        elif isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            if event.phase.value != "stateful":
                report.operations.add(recorder.label)
            report.cases[event.phase.value] += len(recorder.cases)
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    info = check.failure_info
                    if check.status.value != "failure" or info is None:
                        continue
                    label = recorder.cases[case_id].value.operation.label
                    key_ = (label, check.name, info.failure.title)
                    report.failures.setdefault(
                        key_, f"  {info.failure.message[:600]}\n  {info.code_sample[:600]}"
                    )
        elif isinstance(event, events.NonFatalError | events.FatalError):
            error = event.value if isinstance(event, events.NonFatalError) else event.exception
            report.errors.append(f"{type(error).__name__}: {error}")
    return report


@pytest.fixture
def fuzz_app(app_factory: AppFactory) -> tuple[FastAPI, str]:
    """The app over a database holding the demo dataset, and an admin key for it."""
    # Negative cases send bad credentials by the hundred: never throttle them here.
    app = app_factory(auth_failure_limit=1_000_000)
    with session_scope(app.state.session_factory) as session:
        load_demo(session)
        key = create_api_key(session, "fuzzer", ["admin"])
    return app, key


def test_every_operation_survives_fuzzing(fuzz_app: tuple[FastAPI, str]) -> None:
    app, key = fuzz_app
    report = fuzz(app, key, examples=EXAMPLES, coverage=COVERAGE, randomize=RANDOM)
    print(report.summary())  # shown by `make fuzz` (pytest -s)
    documented = {
        f"{method.upper()} {path}"
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    assert report.operations == documented, documented ^ report.operations
    assert not report.failures, report.summary()
    assert not report.errors, report.summary()
    assert report.cases["fuzzing"] >= len(documented) * min(EXAMPLES, 3)
    assert report.cases["stateful"] > 0, "no stateful sequences ran"


def _path_value(parameter: dict[str, Any]) -> str:
    enum = parameter.get("schema", {}).get("enum")
    return str(enum[0]) if enum else "kidnapping"


def test_nul_in_any_url_parameter_of_any_operation_is_a_documented_4xx(
    fuzz_app: tuple[FastAPI, str],
) -> None:
    """A systematic sweep the random generators may miss: NUL (which PostgreSQL cannot even
    compare with) in each path and query parameter of every operation, with the admin key."""
    app, key = fuzz_app
    document = app.openapi()
    tried = 0
    with TestClient(app) as client:
        for template, path_item in document["paths"].items():
            for method, operation in path_item.items():
                parameters = [
                    p for p in operation.get("parameters", []) if p["in"] in ("path", "query")
                ]
                for target in parameters:
                    for value in ("\x00", "a\x00b"):
                        in_path = {
                            p["name"]: value if p is target else _path_value(p)
                            for p in parameters
                            if p["in"] == "path"
                        }
                        url = template.format(**{k: quote(v, safe="") for k, v in in_path.items()})
                        query = {target["name"]: value} if target["in"] == "query" else {}
                        response = client.request(
                            method.upper(),
                            url,
                            params=query,
                            headers={"Authorization": f"Bearer {key}"},
                            json={} if method in ("post", "patch") else None,
                        )
                        what = f"{method.upper()} {url} {query!r}: {response.text[:200]}"
                        assert response.status_code < 500, what
                        assert str(response.status_code) in operation["responses"], what
                        tried += 1
    assert tried > 200
