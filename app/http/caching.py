"""HTTP caching for every public GET: ETag/304, Cache-Control and Surrogate-Key.

One function, `cacheable_response`, is used by REST, GraphQL over GET and the feeds, so
conditional requests and CDN purge keys behave the same on every surface.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import orjson
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from xxhash import xxh3_128_hexdigest

PRIVATE = "private, no-store"
# What a public GET's body may depend on beyond its URL: an `Authorization` (a preview key
# with `?preview=true` makes the same URL a private answer, which a browser must not take
# from its cache of the public one). Not `Accept`: no REST body depends on it (JSON, and
# errors are problem+json whatever it says; the response cache keys them without it), and a
# CDN kept one copy per `Accept` value clients send. GraphQL, which negotiates its media
# type, sends its own Vary; feeds and calendars depend on neither (`cacheable_response`'s
# `vary`).
VARY = "Authorization"
# GZipMiddleware's threshold (app.main): a smaller body goes out uncompressed, and its
# response does not vary by Accept-Encoding.
GZIP_MINIMUM_SIZE = 1000
MAX_SURROGATE_KEYS = 200
_PUBLIC_ID = re.compile(r"^[a-z]{3}_\d+$")
_PREFIX_COLLECTION = {
    "top": "topics",
    "org": "organizations",
    "per": "people",
    "art": "articles",
    "quo": "quotes",
    "evt": "events",
    "pub": "publications",
    "res": "resources",
}


def etag_for(body: bytes, variant: str = "") -> str:
    """A strong ETag: the body's 128-bit XXH3 digest. Every public GET not answered from
    the response cache hashes its whole body: a 315 KB list takes 0.015 ms with XXH3
    against 0.7 ms with BLAKE2b and 1.3 ms with SHA-256 on the bench machine. The digest
    is not cryptographic, and needs not be: an ETag tells versions of one resource apart
    (`If-None-Match`, `If-Match`), and only editors write what is hashed; 128 bits make an
    accidental collision between two versions beyond reach. `variant`: what else tells
    this representation from another of the same body (a media type), suffixed."""
    return '"' + xxh3_128_hexdigest(body) + variant + '"'


def item_etag(public_id: str, version: int, body: bytes) -> str:
    """The ETag of one representation of one item: the item's public id and version, then
    the body's digest (`"evt_3.v7.<digest>"`). `If-None-Match` compares whole tags, so
    each representation (`include`, `fields`, preview or public) is revalidated on its own
    bytes, a related item's change included; `If-Match` on a write compares the id and
    version (`item_version_of`), so the ETag of whichever representation an editor read
    guards the write, and every write to the item, which bumps its version, outdates them
    all."""
    return f'"{public_id}.v{version}.{xxh3_128_hexdigest(body)}"'


_ITEM_ETAG = re.compile(r'"(?P<id>[a-z]{3}_\d+)\.v(?P<version>\d{1,18})\.[0-9a-f]{32}"')


def item_version_of(etag: str) -> tuple[str, int] | None:
    """The (public id, version) an item's ETag names (`W/` ignored); None for any other."""
    found = _ITEM_ETAG.fullmatch(etag.removeprefix("W/"))
    return (found["id"], int(found["version"])) if found else None


# RFC 9110 §8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E / obs-text.
_ENTITY_TAG = re.compile(r'[ \t]*((?:W/)?"[\x21\x23-\x7e\x80-\xff]*")[ \t]*')
ANY_TAG = "*"


def parse_if_match(header: str) -> list[str]:
    """The entity tags of an `If-Match` header (RFC 9110 §13.1.1: `*` or a comma-separated
    list of quoted tags; empty elements are skipped), `[ANY_TAG]` for `*`. ValueError when
    it is neither: a tag without its quotes, stray text, `*` in a list, nothing at all."""
    if header.strip(" \t") == ANY_TAG:
        return [ANY_TAG]
    tags = _list_elements(header)
    if not tags:
        raise ValueError("it names no entity tag")
    return tags


def _list_elements(header: str) -> list[str]:
    out: list[str] = []
    position, end = 0, len(header)
    while position < end:
        if header[position] in ", \t":
            position += 1  # separators and empty list elements
            continue
        found = _ENTITY_TAG.match(header, position)
        if found is None:
            raise ValueError(f"'{header[position : position + 40]}' is not a quoted entity tag")
        out.append(found[1])
        position = found.end()
        if position < end and header[position] != ",":
            raise ValueError(f"'{header[position : position + 40]}' follows an entity tag")
    return out


def field_lines(headers: Headers, name: str) -> str | None:
    """Every field line of the request's `name` header as the one list they are (RFC 9110
    §5.3: several lines of a list-based field are one comma-separated list, in order);
    None when there is none. `Headers.get` reads the first line alone: a client (or a
    proxy merging caches' validators) that sent `If-None-Match: "a"` and `If-None-Match:
    "b"` on two lines was answered as if it held "a" only."""
    lines = headers.getlist(name)
    return ", ".join(lines) if lines else None


def etag_matches_header(header: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison against If-None-Match (lists, W/ and * included)."""
    if not header:
        return False
    wanted = etag.removeprefix("W/")
    return any(
        tag == "*" or tag.removeprefix("W/") == wanted
        for tag in (element.strip() for element in header.split(","))
    )


def http_date(moment: datetime) -> str:
    """`moment` as an HTTP-date (RFC 9110 §5.6.7: `Sun, 06 Nov 1994 08:49:37 GMT`), to the
    second below: `Last-Modified` says no later a time than the change."""
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH = "(?P<month>" + "|".join(_MONTHS) + ")"
_TIME = r"(?P<hour>\d\d):(?P<minute>\d\d):(?P<second>\d\d)"
# RFC 9110 §5.6.7: IMF-fixdate, and the obsolete rfc850-date and asctime-date that
# recipients still accept. Nothing else (a list of dates, another zone) is an HTTP-date.
_HTTP_DATES = tuple(
    re.compile(form, re.ASCII)
    for form in (
        rf"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (?P<day>\d\d) {_MONTH} (?P<year>\d{{4}}) {_TIME} GMT",
        rf"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day, (?P<day>\d\d)-{_MONTH}-(?P<year>\d\d)"
        rf" {_TIME} GMT",
        rf"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) {_MONTH} (?P<day>[ \d]\d) {_TIME} (?P<year>\d{{4}})",
    )
)


def parse_http_date(value: str, now: datetime | None = None) -> datetime | None:
    """An HTTP-date (RFC 9110 §5.6.7) as an aware UTC datetime; None when it is not one.
    An rfc850-date's two-digit year is the latest such year not over 50 years after `now`'s."""
    text = value.strip(" \t")
    for form in _HTTP_DATES:
        found = form.fullmatch(text)
        if found is not None:
            break
    else:
        return None
    year = int(found["year"])
    if len(found["year"]) == 2:
        this_year = (now or datetime.now(UTC)).year
        year += this_year - this_year % 100
        if year > this_year + 50:
            year -= 100
    try:
        return datetime(
            year,
            _MONTHS.index(found["month"]) + 1,
            int(found["day"]),
            int(found["hour"]),
            int(found["minute"]),
            int(found["second"]),
            tzinfo=UTC,
        )
    except ValueError:  # 31 Feb, 25:00:00, year 0000
        return None


def not_modified(conditions: Headers, etag: str, last_modified: str | None) -> bool:
    """Whether a GET's conditions (`conditions`: the request's headers) ask for a 304 (RFC
    9110 §13.2.2): `If-None-Match` when the request has one (a weak comparison,
    `etag_matches_header`, against every tag of every field line, `field_lines`), and only
    then; otherwise `If-Modified-Since`, when the response has a `Last-Modified` not later
    than it. An `If-Modified-Since` that is not one valid HTTP-date is ignored (§13.1.3),
    as is one sent on several lines or asked of a response without `Last-Modified`. One
    function for the app (`cacheable_response`) and the response cache's replays, so that a
    conditional request has one answer, cache or no cache."""
    if_none_match = field_lines(conditions, "if-none-match")
    if if_none_match is not None:
        return etag_matches_header(if_none_match, etag)
    if_modified_since = conditions.getlist("if-modified-since")
    if len(if_modified_since) != 1 or last_modified is None:
        return False
    since = parse_http_date(if_modified_since[0])
    modified = parse_http_date(last_modified)
    return since is not None and modified is not None and modified <= since


def gzip_variant_etag(etag: str) -> str:
    """The ETag of a response's gzipped variant: the plain body's, marked weak.

    RFC 9110 §8.8.3.3: each content coding of a resource needs an ETag of its own, and a
    strong one promises the same bytes. Gzip output is not the plain body, and a level or a
    zlib version apart it is not even the same bytes, so it gets the weak tag, as nginx
    gives it. `If-None-Match` compares weakly (RFC 9110 §13.1.2), so either tag revalidates
    either variant; `If-Match` on writes accepts both (`check_if_match`): they name one
    version of one item."""
    return etag if etag.startswith("W/") else "W/" + etag


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether `Accept-Encoding` accepts gzip (RFC 9110 §12.5.3): `gzip` (or `x-gzip`, or
    else `*`) listed with a weight above 0. Codings are case-insensitive; `gzip;q=0` refuses
    it. A malformed weight counts as a refusal: the plain body is always readable."""
    if not accept_encoding:
        return False
    anything: float | None = None
    for part in accept_encoding.split(","):
        coding, _, parameters = part.partition(";")
        coding = coding.strip().lower()
        if coding in ("gzip", "x-gzip"):
            return weight(parameters) > 0
        if coding == "*":
            anything = weight(parameters)
    return anything is not None and anything > 0


def weight(parameters: str) -> float:
    """The `q` of an Accept-style element's parameters (1 when absent, 0 when malformed)."""
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                weight = float(value.strip())
            except ValueError:
                return 0.0
            return weight if 0.0 <= weight <= 1.0 else 0.0
    return 1.0


def max_age_until(moment: datetime | None, now: datetime, max_age: int) -> int:
    """`max_age`, or less when the response changes by itself at `moment` (an event
    ends and leaves an `upcoming` list): no cache, ours or a CDN's, keeps it past then."""
    if moment is None:
        return max_age
    left = math.floor((moment - now).total_seconds())  # down: never past the moment
    return max(0, min(max_age, left))


def cache_control_max_age(value: str) -> int | None:
    """The `max-age` of a `Cache-Control` value, if it has one."""
    for directive in value.split(","):
        name, _, number = directive.strip().partition("=")
        if name.lower() == "max-age" and number.strip().isdigit():
            return int(number.strip())
    return None


def not_modified_vary(vary: str, size: int) -> str:
    """The `Vary` of a 304: that of the 200 it stands for (RFC 9110 §15.4.5), which names
    Accept-Encoding when the body is large enough to be gzipped."""
    return vary_by_encoding(vary) if size >= GZIP_MINIMUM_SIZE else vary


def vary_by_encoding(vary: str) -> str:
    return ", ".join(name for name in (vary, "Accept-Encoding") if name)


def collect_ids(payload: Any, found: set[str] | None = None) -> set[str]:
    """Every public id (`evt_3`) anywhere in a response payload."""
    found = set() if found is None else found
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key == "id" and isinstance(value, str) and _PUBLIC_ID.match(value):
                found.add(value)
            elif isinstance(value, dict | list):
                collect_ids(value, found)
    elif isinstance(payload, list):
        for value in payload:
            collect_ids(value, found)
    return found


def surrogate_keys(ids: Iterable[str], extra: Iterable[str] = ()) -> str:
    """Entity keys plus one key per collection; past the bound only collection keys remain,
    so a purge by collection still reaches the response."""
    ids = sorted(set(ids))
    collections = sorted({_PREFIX_COLLECTION[i[:3]] for i in ids if i[:3] in _PREFIX_COLLECTION})
    keys = [*sorted(set(extra)), *collections]
    if len(ids) + len(keys) <= MAX_SURROGATE_KEYS:
        keys += ids
    return " ".join(dict.fromkeys(keys))


def cacheable_response(
    request: Request,
    body: bytes,
    *,
    media_type: str,
    max_age: int,
    private: bool,
    keys: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    item: tuple[str, int] | None = None,
    last_modified: datetime | None = None,
    vary: str = VARY,
    variant: str = "",
) -> Response:
    """A response with ETag and caching headers; 304 without a body when the client has it.
    `item`: the public id and version of the one item the body represents (`item_etag`).
    `last_modified`: when what the body says last changed (`Last-Modified`, which
    `If-Modified-Since` is then compared with). `vary`: the request headers the response
    depends on (empty: none; GZipMiddleware adds `Accept-Encoding` where gzip applies).
    Each name costs CDNs and browsers a copy per distinct value clients send. `variant`:
    part of the ETag that tells this representation from another of the same body."""
    etag = etag_for(body, variant) if item is None else item_etag(*item, body)
    out_headers = {
        "ETag": etag,
        "Cache-Control": PRIVATE if private else f"public, max-age={max_age}",
    }
    if vary:
        out_headers["Vary"] = vary
    if last_modified is not None:
        out_headers["Last-Modified"] = http_date(last_modified)
    if keys and not private:
        out_headers["Surrogate-Key"] = keys
    if headers:
        out_headers.update(headers)
    if status_code == 200 and not_modified(request.headers, etag, out_headers.get("Last-Modified")):
        vary = not_modified_vary(out_headers.get("Vary", ""), len(body))
        if vary:
            out_headers["Vary"] = vary
        return Response(status_code=304, headers=out_headers)
    return Response(body, status_code=status_code, media_type=media_type, headers=out_headers)


def json_body(payload: Any) -> bytes:
    return orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS)


def is_private(request: Request, preview: bool) -> bool:
    """Authenticated or preview responses must never be stored by shared caches."""
    return preview or "authorization" in request.headers
