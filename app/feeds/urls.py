"""Absolute URLs and stable identifiers for syndicated items.

Links point at the public website (`settings.public_site_url` + the per-type template in
`settings.url_templates`); self links point at this API (`api_base`). GUIDs are
`tag:` URIs (RFC 4151) built from the item's public id and creation date, so they never
change when an item is edited, retitled or re-slugged.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlsplit

from starlette.requests import Request

from app.config import Settings
from app.content.text import browser_url
from app.content.types import ContentType


def site_root(settings: Settings) -> str:
    return settings.public_site_url.rstrip("/") + "/"


def absolute(settings: Settings, url: str, page: str | None = None) -> str:
    """A URL from content (an image, a link in a body) resolved as a browser on the public
    site would resolve it, on `page` (an absolute URL there) or else the site's root;
    absolute URLs are returned unchanged but for what a browser's parser changes
    (`browser_url`: a body stored before writes did the same may hold `\\host` or spaces)."""
    return urljoin(page or site_root(settings), browser_url(url))


def site_link(settings: Settings, url: str | None) -> str | None:
    """A link an editor may give relative to the site (an event's online or registration
    link, a publication's URL), made `absolute` for readers that have no base URL (feed
    readers, calendars, reference managers); None stays None."""
    return absolute(settings, url) if url else None


def public_url(settings: Settings, type_name: str, **values: Any) -> str | None:
    """The public page of an item: its type's URL template filled with `values`.

    None when the type has no page (`URL_TEMPLATES` gives it null) or the template needs
    a value that is missing (e.g. a quote's `article_slug` for a quote without a source
    article).
    """
    template = settings.url_templates.get(type_name)
    if not template:
        return None
    try:
        path = template.format_map(values)
    except (KeyError, IndexError, ValueError):
        return None
    if "://" in path:
        return path
    # Templates are paths under the public site, which may itself live under a path.
    return settings.public_site_url.rstrip("/") + "/" + path.lstrip("/")


def api_base(settings: Settings, request: Request) -> str:
    """This API's base URL for links to itself: `API_BASE_URL`, or else the request's own
    scheme, host and root path (what pagination links and `Location` use too)."""
    return (settings.api_base_url or str(request.base_url)).rstrip("/")


def api_url(base: str, path: str) -> str:
    """An absolute URL on this API (self links); `base` from `api_base`."""
    return base + "/" + path.lstrip("/")


def authority(settings: Settings) -> str:
    """The host name that tags our identifiers (RFC 4151 `taggingEntity`)."""
    return urlsplit(settings.public_site_url).hostname or "localhost"


def tag_uri(settings: Settings, ctype: ContentType, row: Any) -> str:
    """A GUID that survives edits: `tag:www.example.org,2024-11-21:art_4`."""
    return f"tag:{authority(settings)},{row.created_at:%Y-%m-%d}:{ctype.public_id(row.id)}"


def calendar_uid(settings: Settings, ctype: ContentType, row: Any) -> str:
    """A VEVENT UID (RFC 5545 §3.8.4.7): globally unique and stable."""
    return f"{ctype.public_id(row.id)}@{authority(settings)}"
