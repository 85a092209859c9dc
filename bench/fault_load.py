"""The clients of `bench/faults.py`: readers, writers, a readiness probe, and the ledger of
everything they saw, from which the final state is verified."""

from __future__ import annotations

import itertools
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

STALE_BOUND = 1.0  # seconds: the documented cross-worker cache coherence bound
PEOPLE, ORG, TOPICS = ("larry-diamond", "julie-cordua"), "cisac", ["kidnapping", "israel"]
READS = [
    "/api/v1/events?topic=kidnapping&limit=20",
    "/api/v1/events?limit=50&include=participants.person",
    "/api/v1/articles?limit=20",
    "/api/v1/search?q=hostage",
    "/api/v1/topics/kidnapping/stream",
    "/api/v1/changes?limit=100",
    "/graphql?query=%7Bevents(first%3A20)%7Bedges%7Bnode%7Btitle%20speakers%7Bname%7D%7D%7D%7D%7D",
    "/feeds/events.atom",
]


@dataclass
class Attempt:
    value: str
    sent: float
    acked: float | None = None  # when a 2xx came back


@dataclass
class Ledger:
    """Everything the clients saw, shared by all threads (guarded by `lock`)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    outcomes: Counter[str] = field(default_factory=Counter)
    read_ok: list[float] = field(default_factory=list)  # end times of successful DB reads
    bad_5xx: list[str] = field(default_factory=list)
    titles: dict[str, list[Attempt]] = field(default_factory=dict)  # slug -> PATCH attempts
    created: dict[str, bool] = field(default_factory=dict)  # slug -> acknowledged?
    deleted: dict[str, bool] = field(default_factory=dict)
    stale: list[str] = field(default_factory=list)
    readyz: list[tuple[float, int | None]] = field(default_factory=list)

    def record(self, response: httpx.Response | None, error: Exception | None = None) -> None:
        with self.lock:
            if response is None:
                self.outcomes[f"transport:{type(error).__name__}"] += 1
                return
            self.outcomes[str(response.status_code)] += 1
            masked_bug = b"INTERNAL_SERVER_ERROR" in response.content  # a GraphQL "500"
            if (response.status_code >= 500 and not _good_503(response)) or masked_bug:
                head = (
                    f"{response.status_code} {response.request.method} {response.request.url.path}"
                )
                self.bad_5xx.append(
                    f"{head} {response.headers.get('content-type')} {response.text[:200]}"
                )


def _good_503(response: httpx.Response) -> bool:
    return (
        response.status_code == 503
        and response.headers.get("content-type", "").startswith("application/problem+json")
        and response.headers.get("retry-after", "").isdigit()
    )


def _call(
    ledger: Ledger, client: httpx.Client, method: str, url: str, **kw: Any
) -> httpx.Response | None:
    try:
        response = client.request(method, url, **kw)
    except httpx.HTTPError as exc:
        ledger.record(None, exc)
        return None
    ledger.record(response)
    return response


def event_body(slug: str, title: str) -> dict[str, Any]:
    return {
        "slug": slug, "title": title, "event_type": "seminar", "starts_at": "2025-03-01T17:00:00Z",
        "timezone": "UTC", "attendance_mode": "online", "status": "published",
        "published_at": "2025-01-01T00:00:00Z", "sponsors": [ORG], "topics": TOPICS,
        "participants": [{"person": PEOPLE[0], "role": "speaker"}, {"person": PEOPLE[1], "role": "moderator"}],
    }  # fmt: skip


# ---------------------------------------------------------------------------------------
# Clients


def reader(base: str, ledger: Ledger, items: list[str], stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=base, timeout=10) as client:
        while not stop.is_set():
            if rng.random() < 0.5:  # a PATCHed item, publicly (cached): check it is not stale
                slug = rng.choice(items)
                began = time.monotonic()
                response = _call(ledger, client, "GET", f"/api/v1/events/{slug}")
                if response is not None and response.status_code == 200:
                    _check_fresh(ledger, slug, response.json()["title"], began)
            else:
                response = _call(ledger, client, "GET", rng.choice(READS))
            if response is not None and response.status_code < 500:
                with ledger.lock:
                    ledger.read_ok.append(time.monotonic())
            time.sleep(0.01 if response is not None and response.status_code < 500 else 0.1)


def _check_fresh(ledger: Ledger, slug: str, title: str, began: float) -> None:
    """A read may show the latest write acknowledged STALE_BOUND before it began, or any
    attempted after that one (acknowledged or not); anything older is stale."""
    with ledger.lock:
        attempts = ledger.titles[slug]
        old = [
            i
            for i, a in enumerate(attempts)
            if a.acked is not None and a.acked <= began - STALE_BOUND
        ]
        allowed = (
            {a.value for a in attempts[old[-1] :]} if old else {slug, *(a.value for a in attempts)}
        )
        if title not in allowed:
            ledger.stale.append(
                f"{slug}: read {title!r} at {began:.2f}, expected one of {sorted(allowed)[:3]}"
            )


def patcher(base: str, key: str, ledger: Ledger, items: list[str], stop: threading.Event) -> None:
    with httpx.Client(
        base_url=base, timeout=10, headers={"Authorization": f"Bearer {key}"}
    ) as client:
        for n in itertools.count():
            if stop.is_set():
                return
            slug = items[n % len(items)]
            attempt = Attempt(f"{slug} r{n} {uuid.uuid4().hex[:6]}", time.monotonic())
            with ledger.lock:
                ledger.titles[slug].append(attempt)
            response = _call(
                ledger, client, "PATCH", f"/api/v1/events/{slug}", json={"title": attempt.value}
            )
            if response is not None and response.status_code == 200:
                with ledger.lock:
                    attempt.acked = time.monotonic()
            time.sleep(0.02 if attempt.acked else 0.2)


def creator(base: str, key: str, ledger: Ledger, stop: threading.Event, tag: str) -> None:
    with httpx.Client(
        base_url=base, timeout=10, headers={"Authorization": f"Bearer {key}"}
    ) as client:
        for n in itertools.count():
            if stop.is_set():
                return
            slug = f"fault-{tag}-{n}"
            response = _call(
                ledger, client, "POST", "/api/v1/events", json=event_body(slug, f"Created {n}")
            )
            acked = response is not None and response.status_code == 201
            with ledger.lock:
                ledger.created[slug] = acked
            if acked and n % 4 == 0:
                gone = _call(ledger, client, "DELETE", f"/api/v1/events/{slug}")
                with ledger.lock:
                    ledger.deleted[slug] = gone is not None and gone.status_code == 204
            time.sleep(0.05 if acked else 0.2)


def readiness(base: str, ledger: Ledger, stop: threading.Event) -> None:
    with httpx.Client(base_url=base, timeout=5) as client:
        while not stop.is_set():
            try:
                status: int | None = client.get("/readyz").status_code
            except httpx.HTTPError:
                status = None
            with ledger.lock:
                ledger.readyz.append((time.monotonic(), status))
            time.sleep(0.1)


# ---------------------------------------------------------------------------------------
# Verification


def verify(base: str, key: str, ledger: Ledger, items: list[str]) -> list[str]:
    """Problems with the final state: lost or half-applied writes, stale public reads."""
    problems: list[str] = []
    auth = {"Authorization": f"Bearer {key}"}  # private: straight from the database
    with httpx.Client(base_url=base, timeout=30) as client:
        for slug in items:
            attempts = ledger.titles[slug]
            acked = [i for i, a in enumerate(attempts) if a.acked is not None]
            title = client.get(f"/api/v1/events/{slug}", headers=auth).json()["title"]
            allowed = (
                {a.value for a in attempts[acked[-1] :]}
                if acked
                else {slug, *(a.value for a in attempts)}
            )
            if title not in allowed:
                problems.append(
                    f"LOST UPDATE {slug}: final title {title!r}, acknowledged {attempts[acked[-1]].value!r}"
                )
            public = {client.get(f"/api/v1/events/{slug}").json()["title"] for _ in range(6)}
            if public != {title}:
                problems.append(f"STALE CACHE {slug}: public reads {sorted(public)} vs {title!r}")
        for slug, created in ledger.created.items():
            response = client.get(f"/api/v1/events/{slug}", headers=auth)
            if ledger.deleted.get(slug):
                if response.status_code != 404:
                    problems.append(f"LOST DELETE {slug}: {response.status_code}")
                continue
            if response.status_code == 404:
                if created:
                    problems.append(f"LOST CREATE {slug}")
                continue
            event = response.json()
            complete = (
                len(event["participants"]) == 2
                and [s["slug"] for s in event["sponsors"]] == [ORG]
                and sorted(t["slug"] for t in event["topics"]) == sorted(TOPICS)
            )
            if not complete:
                problems.append(f"HALF-APPLIED {slug} (acknowledged: {created}): {event}")
    return problems
