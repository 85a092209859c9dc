"""The least a Python server on this stack can do per response: `bench/floor.py`'s server.

A bare ASGI app, run by the same uvicorn (same event loop and HTTP parser) as `dossier
serve`, that answers every path with bytes read once at start-up from the files that
`FLOOR_BODIES` names (`path=file` pairs, `;`-separated), with the content type and length
only: no routing, middleware, validation, database or serialization. What it cannot reach
for a response, no handler that makes the same bytes can.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def _bodies() -> dict[str, tuple[list[tuple[bytes, bytes]], bytes]]:
    found = {}
    for pair in os.environ.get("FLOOR_BODIES", "").split(";"):
        if pair:
            path, file = pair.split("=", 1)
            body = Path(file).read_bytes()
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ]
            found[path] = (headers, body)
    return found


BODIES = _bodies()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    headers, body = BODIES[scope["path"]]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
