"""OpenAPI for the write operations: request schemas, examples and error responses.

The routes read their bodies themselves (415/413/400 before any validation, and a PATCH
is validated only after merging), so the request schemas are written into the document
here, from the same pydantic models that validate. Examples come from the demo dataset:
a request example is a demo record, the response example is that record as the API
renders it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Container
from datetime import UTC, datetime
from typing import Any

from app.content.contacts import CONTACT_COLUMNS, contacts_of
from app.content.placement import blocks
from app.content.render import field_names
from app.content.text import html_to_text, sanitize_html, slugify
from app.content.types import BY_COLLECTION, BY_NAME, ContentType
from app.content.writes import merge_patch, not_clearable
from app.demo.data import DEMO_DATASET
from app.feeds.links import feed_links
from app.http.errors import PROBLEM_MEDIA_TYPE, no_item, problem_example, problem_responses
from app.schemas.writes import WRITE_MODELS

CREATE_ERRORS = (400, 401, 403, 409, 413, 415, 422, 429)
UPDATE_ERRORS = (400, 401, 403, 404, 409, 412, 413, 415, 422, 429)
DELETE_ERRORS = (400, 401, 403, 404, 412, 429)
EXAMPLE_TIME = "2025-01-15T09:30:00+00:00"
EXAMPLE_API = "http://127.0.0.1:8000"
_RICH = {"bio": "bio_text", "body": "body_text"}
_FIRST_PARAGRAPH = re.compile(r"^.*?</p>", re.DOTALL)


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    """Replace `#/$defs/...` references by their definitions (the write models nest no cycles)."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inline(v, defs) for v in schema]
    return schema


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema`, or null."""
    if {"type": "null"} in schema.get("anyOf", []):
        return schema
    named = {k: v for k, v in schema.items() if k in ("title", "description")}
    value = {k: v for k, v in schema.items() if k not in named}
    return {**named, "anyOf": [value, {"type": "null"}]}


def _merge_patch_of(schema: dict[str, Any], kept: Container[str] = ()) -> dict[str, Any]:
    """The schema of a merge patch (RFC 7396) of what `schema` describes: an object's
    members are each optional (absent: kept), nullable (`null`: cleared; a required
    field's null is refused, with a 422, as its absence would be on a create) but those
    named in `kept`, which always have a value (`not_clearable`: their null is refused
    too), and have no default; a member that is an object (`photo`, `venue`) is itself
    merged. Arrays are replaced whole, so their items stay as a create has them."""
    schema = {k: v for k, v in schema.items() if k != "default"}
    if "anyOf" in schema:
        schema["anyOf"] = [_merge_patch_of(option) for option in schema["anyOf"]]
    elif schema.get("type") == "object" and "properties" in schema:
        schema.pop("required", None)
        schema["properties"] = {
            name: _merge_patch_of(member) if name in kept else _nullable(_merge_patch_of(member))
            for name, member in schema["properties"].items()
        }
    return schema


def write_schema(collection: str, patch: bool) -> dict[str, Any]:
    schema = WRITE_MODELS[collection].model_json_schema()
    schema = _inline(schema, schema.get("$defs", {}))
    ctype = BY_COLLECTION[collection]
    name = ctype.name
    if patch:
        schema = _merge_patch_of(schema, not_clearable(collection))
        schema["title"] = f"{name.capitalize()} merge patch"
        schema["description"] = (
            "A JSON merge patch (RFC 7396) of the item's write shape: only the fields to "
            "change; `null` clears a field (refused, 422, for one that always has a value, "
            "such as `status`); lists are replaced whole."
        )
    else:
        schema["title"] = f"New {name}"
        schema["description"] = (
            f"{ctype.indefinite_name.capitalize()}. Relations are given by slug or id; "
            f"`slug` is derived from the {ctype.title_field} when omitted."
        )
    return schema


def _score(record: dict[str, Any]) -> int:
    return sum(1 for v in record.values() if v not in (None, [], "", False))


def _shorten(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 400:
        if value.lstrip().startswith("<"):
            match = _FIRST_PARAGRAPH.match(value)
            return match.group(0) if match else value[:400]
        return value[:397].rsplit(" ", 1)[0] + "…"
    return value


def create_example(collection: str) -> dict[str, Any]:
    """The demo record of this collection with the most filled-in fields, without its slug:
    "Try it out" on the demo database then creates an item (with a slug made from its
    title) instead of answering 409 for the demo item's slug."""
    return {k: v for k, v in _example_record(collection).items() if k != "slug"}


def _example_record(collection: str) -> dict[str, Any]:
    record = max(DEMO_DATASET[collection], key=_score)
    example = {k: _shorten(copy.deepcopy(v)) for k, v in record.items()}
    quote = max(DEMO_DATASET["quotes"], key=_score)  # the quotes' example
    if collection == "articles" and quote.get("article") == record["slug"]:
        # The quote example is placed in this article's body: keep the blocks it counts
        # (its first paragraph alone refused the quote, 422), so that the two examples,
        # sent in turn on an empty database, make an article and its placed quote.
        kept = blocks(record["body"])[: max(1, quote.get("after_block") or 0)]
        example["body"] = "".join(kept)
    return example


_PATCHES: dict[str, dict[str, Any]] = {
    "topics": {"description": "Abduction and hostage-taking, and the scholarship on it."},
    "organizations": {"short_name": "FSI"},
    "people": {"title": "Senior Fellow", "photo": None},
    "articles": {"status": "published", "topics": ["kidnapping", "israel"]},
    "quotes": {"attribution": "Founder, LeanIn.org", "position": 2},
    "events": {"event_status": "postponed", "registration_url": None},
    "publications": {"status": "archived"},
    "resources": {"hours": "Mon-Fri 9:00-17:00", "is_confidential": True},
}


def patch_example(collection: str) -> dict[str, Any]:
    return dict(_PATCHES[collection])


def _index() -> dict[tuple[str, str], tuple[int, dict[str, Any]]]:
    """(type, slug) -> (id the demo loader gives it, record)."""
    out = {}
    for collection, records in DEMO_DATASET.items():
        for i, record in enumerate(records):
            out[(BY_COLLECTION[collection].name, str(record["slug"]))] = (i + 1, record)
    return out


_DEMO = _index()


def _ref(ctype: ContentType, slug: str) -> dict[str, Any]:
    pk, record = _DEMO.get((ctype.name, slug), (1, {}))
    return {
        "id": ctype.public_id(pk),
        "slug": slug,
        ctype.title_field: record.get(ctype.title_field),
    }


def _relation(ctype: ContentType, name: str, value: Any) -> Any:
    if name == "participants":
        return [
            {
                "role": p["role"],
                "title": p.get("title"),
                "position": i,
                "person": _ref(BY_NAME["person"], p["person"]),
            }
            for i, p in enumerate(value or [])
        ]
    if name == "affiliations":
        return [
            {
                "start_year": None,
                "end_year": None,
                **{k: v for k, v in a.items() if k != "organization"},
                "is_current": a.get("is_current", a.get("end_year") is None),
                "position": i,
                "organization": _ref(BY_NAME["organization"], a["organization"]),
            }
            for i, a in enumerate(value or [])
        ]
    if name == "related":
        return [{"type": r["type"], **_ref(BY_NAME[r["type"]], r["slug"])} for r in value or []]
    target = {
        "topics": "topic",
        "authors": "person",
        "resources": "resource",
        "sponsors": "organization",
        "parent": "organization",
        "speaker": "person",
        "article": "article",
        "quotes": "quote",
    }[name]
    if isinstance(value, list):
        return [_ref(BY_NAME[target], slug) for slug in value]
    return _ref(BY_NAME[target], value) if value else None


def response_example(collection: str, created: bool) -> dict[str, Any]:
    """How the API answers the create example (`created`: with the slug derived from its
    title, and, new, no quotes yet) or the patch example, applied to the demo item (ids as
    the demo loader assigns them)."""
    ctype = BY_COLLECTION[collection]
    record = _example_record(collection)
    pk = _DEMO[(ctype.name, record["slug"])][0]
    if created:
        record["slug"] = slugify(str(record[ctype.title_field]))
    else:
        record = merge_patch(record, patch_example(collection))
    out: dict[str, Any] = {}
    rich_text = {v: k for k, v in _RICH.items()}
    for name in field_names(ctype):
        if name == "id":
            out[name] = ctype.public_id(pk)
        elif name in ("created_at", "updated_at"):
            out[name] = EXAMPLE_TIME
        elif name in rich_text:
            source = record.get(rich_text[name])
            out[name] = html_to_text(sanitize_html(source)) if source else None
        elif name in _RICH:
            out[name] = sanitize_html(record[name]) if record.get(name) else None
        elif name == "quotes":
            out[name] = [
                _ref(ctype_q, str(q["slug"]))
                for ctype_q in (BY_NAME["quote"],)
                for q in DEMO_DATASET["quotes"]
                if q.get("article") == record["slug"] and not created
            ]
        elif name in (
            "topics",
            "authors",
            "resources",
            "sponsors",
            "parent",
            "speaker",
            "article",
            "participants",
            "affiliations",
            "related",
        ):
            out[name] = _relation(ctype, name, record.get(name))
        elif name == "contacts":
            out[name] = contacts_of({column: record.get(column) for column in CONTACT_COLUMNS})
        elif name in ("starts_at", "ends_at", "published_at") and record.get(name):
            out[name] = (
                datetime.fromisoformat(record[name]).astimezone(UTC).isoformat()
            )  # stored in UTC
        else:
            out[name] = record.get(name)
    if ctype.name in ("topic", "person"):
        out["feeds"] = feed_links(ctype.name, record["slug"], EXAMPLE_API)
    return out


# What each refusal of a write means, for the editor reading `/docs`: the bare status
# names ("Conflict", "Unprocessable Content") left them to guess.
_WRITE_REFUSALS: dict[int, str] = {
    400: "The body is empty or not JSON (or not UTF-8), the `If-Match` header is neither "
    "`*` nor a list of quoted ETags, the id or slug in the path is over 200 characters, or "
    "the request has a query string (writes take no query parameters).",
    401: "No API key, or one that is unknown or revoked: send `Authorization: Bearer <key>`.",
    403: "The API key lacks the `content:write` scope.",
    404: "No item of this type has this id or slug (a deleted item has none; a renamed one "
    "answers to its new slug and its id).",
    409: "The slug is held by another item of this type, live or deleted (slugs of deleted "
    "items are never reused), or another write changed the item at the same moment "
    "(retry). The detail names the holder.",
    412: "`If-Match` names none of the item's current versions: someone changed it since "
    "you read it. Nothing was written; GET it again and retry with its new `ETag`.",
    413: "The body is larger than the configured limit (`MAX_BODY_BYTES`, 1,000,000 bytes).",
    415: "The `Content-Type` is not `application/json` (a PATCH: or "
    "`application/merge-patch+json`), or names a charset other than UTF-8, or the body is "
    "compressed (a `Content-Encoding` other than `identity`).",
    429: "Too many failed authentications with this key from this address within a minute "
    "(`AUTH_FAILURE_LIMIT`): retry after `Retry-After` seconds.",
    422: "The body breaks a rule; nothing was written. Each of `errors` names one field by "
    'its path in `loc` (`["body", "participants", "1", "person"]`: the second '
    "participant's person) and says in `msg` what is wrong: a missing or misspelt field, a "
    "value of the wrong form or out of range, an unknown or deleted reference, or a "
    "combination the item cannot have (named at the field the rule is about).",
}


def _problem_examples(ctype: ContentType) -> dict[int, dict[str, Any]]:
    """An example of each refusal, as a write to this type gets it."""
    slug = str(_example_record(ctype.collection)["slug"])
    held_by = ctype.public_id(_DEMO[(ctype.name, slug)][0])
    return {
        400: problem_example(
            400,
            "The request body is not valid JSON: trailing comma is not allowed: line 1 "
            "column 22 (char 21).",
        ),
        401: problem_example(401, "The API key is unknown or revoked."),
        403: problem_example(403, "The API key 'site' lacks the 'content:write' scope."),
        404: problem_example(404, no_item(ctype.name, ctype.collection, "nope")),
        409: problem_example(
            409,
            f"The slug '{slug}' is taken by another {ctype.name} ({held_by}): choose another "
            "(a create that leaves `slug` out is given a free one).",
        ),
        412: problem_example(
            412,
            f"The {ctype.name} has changed since the ETag you sent (or the ETag is not one "
            "of its own); GET it again and retry with the new ETag.",
        ),
        413: problem_example(413, "The request body is larger than 1000000 bytes."),
        415: problem_example(415, "Send the body as application/json (got 'text/plain')."),
        422: {
            **problem_example(422, "Some references are not valid."),
            "title": "Validation failed",
            "errors": [{"loc": ["body", "topics", "1"], "msg": "unknown topic 'kidnaping'"}],
        },
        429: problem_example(
            429, "Too many failed authentications with this key from this client; retry in 42 s."
        ),
    }


def error_responses(
    ctype: ContentType, statuses: tuple[int, ...]
) -> dict[int | str, dict[str, Any]]:
    responses = problem_responses(*statuses)
    examples = _problem_examples(ctype)
    for status, response in responses.items():
        response["content"][PROBLEM_MEDIA_TYPE]["example"] = examples[int(status)]
        if int(status) in _WRITE_REFUSALS:
            response["description"] = _WRITE_REFUSALS[int(status)]
    # (429's `Retry-After`, as every operation's: `app.http.openapi`.)
    if 401 in responses:
        responses[401]["headers"] = {
            "WWW-Authenticate": {"schema": {"type": "string"}, "example": "Bearer"}
        }
    if 403 in responses:
        responses[403]["headers"] = {
            "WWW-Authenticate": {
                "schema": {"type": "string"},
                "description": "The scope the operation needs (RFC 6750).",
                "example": 'Bearer error="insufficient_scope", scope="content:write"',
            }
        }
    return responses


def item_content(example: dict[str, Any], schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """A JSON response's example (its schema comes from the route's `model` when it has one)."""
    body: dict[str, Any] = {"example": example}
    if schema is not None:
        body["schema"] = schema
    return {"application/json": body}


def request_body(collection: str, patch: bool) -> dict[str, Any]:
    schema = write_schema(collection, patch)
    example = patch_example(collection) if patch else create_example(collection)
    media_types = (
        ("application/merge-patch+json", "application/json") if patch else ("application/json",)
    )
    return {
        "required": True,
        "content": {m: {"schema": schema, "example": example} for m in media_types},
    }
