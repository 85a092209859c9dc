"""ASGI middleware that keeps every response, even a failing one, a well-formed problem."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http.caching import accepts_gzip, gzip_variant_etag
from app.http.errors import BadRequest, PayloadTooLarge, handle_error, problem_response


class CatchAllMiddleware:
    """Turn an exception no handler claimed into a 500 problem+json response.

    It sits just outside the routes, so the 500 still passes through the request id,
    CORS and metrics middleware like any other response (Starlette's own last-resort
    handler is outside all of them and re-raises into the server's log).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response_started = False

        async def send_tracking(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception as exc:
            if response_started:  # too late for a problem document; let the server log it
                raise
            response = await handle_error(Request(scope, receive), exc)
            await response(scope, receive, send)


NUL_IN_URL = "The URL must not contain NUL characters (%00)."


class RejectNulMiddleware:
    """400 problem+json for a URL with a NUL character in its path or query string.

    No stored text contains NUL (writes refuse it with 422) and PostgreSQL cannot even
    compare with it, so such a request can only be an error — the same one on every route
    and database, decided before any route or query runs. `/graphql` answers in GraphQL's
    own error format instead (see `app.graphql.execution`).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and ("\x00" in scope["path"] or b"%00" in scope.get("query_string", b""))
            and not scope["path"].startswith("/graphql")
        ):
            error = BadRequest(NUL_IN_URL)
            await problem_response(error)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class _BodyTooLarge(HTTPException):
    """Raised from `receive`: an HTTPException, so FastAPI's body parsing lets it through
    (any other error there becomes a 400) and the error handler renders it as a 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes.")


_METHODS_WITH_BODIES = frozenset({"POST", "PUT", "PATCH"})


class BodySizeLimitMiddleware:
    """413 problem+json for bodies over the limit, declared or streamed.

    A declared Content-Length over the limit is refused before anything is read; a body
    sent without one (chunked) is counted as the application reads it. (FastAPI's own
    `max_body_size` is not used: it rewrites a declared-oversize 413 as plain text.)
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Only the methods whose bodies are read: another's is never read (a GET, a DELETE),
        # and its 413 was an answer the operation's documentation did not list.
        if scope["type"] != "http" or scope["method"] not in _METHODS_WITH_BODIES:
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        for name, value in scope["headers"]:
            if name == b"content-length":
                if value.isdigit() and int(value) > limit:
                    detail = f"The request body is larger than {limit} bytes."
                    await problem_response(PayloadTooLarge(detail))(scope, receive, send)
                    return
                break
        received = 0

        async def receive_counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge(limit)
            return message

        await self.app(scope, receive_counted, send)


class AcceptEncodingMiddleware:
    """Decide gzip by RFC 9110 §12.5.3 for GZipMiddleware and the response cache inside it,
    and give the gzipped variant an ETag of its own.

    Starlette's GZipMiddleware looks for the substring `gzip` in `Accept-Encoding`: it sent
    gzip to `gzip;q=0` (a refusal) and not to `GZIP` (codings are case-insensitive). This
    sits just outside it and leaves the header as `gzip` when gzip is acceptable, and
    absent when it is not.

    On the way out, a gzipped response's ETag is the plain body's marked weak, as nginx
    does (`gzip_variant_etag`), and so is that of a 304 standing for one.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = [v for k, v in scope["headers"] if k == b"accept-encoding"]
        wanted = given == [b"gzip"]
        if given and not wanted:
            wanted = accepts_gzip(", ".join(v.decode("latin-1") for v in given))
            headers = [(k, v) for k, v in scope["headers"] if k != b"accept-encoding"]
            if wanted:
                headers.append((b"accept-encoding", b"gzip"))
            # In place, not a copy of the scope: the routes record what they matched in
            # it (`route`, `endpoint`), and the metrics outside read that back.
            scope["headers"] = headers
        if not wanted:
            await self.app(scope, receive, send)
            return

        async def send_variant(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                message["headers"] = _gzip_variant_headers(message["status"], headers)
            await send(message)

        await self.app(scope, receive, send_variant)


def _gzip_variant_headers(
    status: int, headers: list[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    """Mark the ETag weak on a gzipped 200, and on a 304 whose 200 would be gzipped: such a
    304's `Vary` names Accept-Encoding (`not_modified_vary`), and the request accepts gzip."""
    names = {k.lower(): v for k, v in headers}
    if status == 304:
        vary = names.get(b"vary", b"").decode("latin-1").lower()
        gzipped = "accept-encoding" in (name.strip() for name in vary.split(","))
    else:
        gzipped = names.get(b"content-encoding") == b"gzip"
    if not gzipped or b"etag" not in names:
        return headers
    return [
        (k, gzip_variant_etag(v.decode("latin-1")).encode("latin-1") if k.lower() == b"etag" else v)
        for k, v in headers
    ]
