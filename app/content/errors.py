"""Errors the query layer raises for bad client input; each surface maps them (REST: 400)."""

from __future__ import annotations


class QueryError(ValueError):
    """A parameter the client sent cannot be honoured (bad sort, include, cursor, filter…)."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message


class WriteError(Exception):
    """A write that cannot be applied; nothing has been changed. `status` is the HTTP status."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        errors: list[dict[str, object]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors or []


# The errors one 422 lists: a body of 900 KB with 70,000 unknown fields got 7 MB back.
MAX_ERRORS = 50


def invalid(
    errors: list[dict[str, object]], detail: str = "The request body is not valid."
) -> WriteError:
    if len(errors) > MAX_ERRORS:
        detail = f"{detail} It has {len(errors):,} errors; the first {MAX_ERRORS} are listed."
        errors = errors[:MAX_ERRORS]
    return WriteError(422, "Validation failed", detail, errors)


def conflict(detail: str) -> WriteError:
    return WriteError(409, "Conflict", detail)
