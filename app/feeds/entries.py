"""Content rows -> format-neutral feed entries (what RSS, Atom and JSON Feed all render).

Relations (authors, participants, topics, a quote's speaker and article) are loaded once
per relation and content type for the whole feed, so a feed costs a constant number of
queries whatever its length.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import nh3
from sqlalchemy.orm import Session

from app.config import Settings
from app.content.relations import RELATIONS, Link
from app.content.text import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, NOT_XML, URL_SCHEMES, safe_url
from app.content.types import ContentType
from app.content.visibility import Viewer
from app.feeds.eventinfo import STATUS_NOTES, location_text, participants_text, when_text
from app.feeds.urls import absolute, public_url, site_link, tag_uri

SUMMARY_LENGTH = 300
_SPACE = re.compile(r"\s+")


def printable(value: str) -> str:
    """`value` without the control characters XML and iCalendar cannot carry."""
    return NOT_XML.sub("", value)


# Relations each type's entries need, loaded per batch.
_NEEDED = {
    "article": ("authors", "topics"),
    "event": ("participants", "topics"),
    "publication": ("authors", "topics"),
    "quote": ("speaker", "article", "topics"),
}


@dataclass
class Author:
    name: str
    url: str | None = None


@dataclass
class FeedEntry:
    public_id: str
    guid: str
    url: str | None
    title: str
    summary: str | None
    content_html: str | None
    published: datetime
    updated: datetime
    authors: list[Author] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    image: str | None = None
    external_url: str | None = None
    extension: dict[str, Any] | None = None  # JSON Feed `_dossier` object
    mentions: set[str] = field(default_factory=set)  # public ids shown (Surrogate-Key)
    # The newest change of an item the entry shows (an author's name, a topic's, a quote's
    # article): not the entry's own `updated`, but the feed's (`FeedDocument.updated`).
    references_updated: datetime | None = None


def utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def excerpt(text: str | None, limit: int = SUMMARY_LENGTH) -> str | None:
    """Whitespace-collapsed text cut at a word boundary, with an ellipsis when cut."""
    if not text:
        return None
    flat = _SPACE.sub(" ", text).strip()
    if len(flat) <= limit:
        return flat or None
    cut = flat[:limit].rsplit(" ", 1)[0].rstrip(" ,;:.-\u2013\u2014")
    return cut + "…"


def feed_html(settings: Settings, value: str | None, page: str | None = None) -> str | None:
    """Sanitized HTML with every link and image made absolute (readers have no base URL),
    resolved as on `page`, the item's page on the public site, where the body is shown
    (`img.png` in an article at /news/x is /news/img.png)."""
    if not value:
        return None

    def absolutize(tag: str, attribute: str, url: str) -> str | None:
        # Checked as writes check them: nh3 checks the schemes of `href` and `src` only, and
        # a body written in SQL (or before a rule) may hold a `cite="javascript:…"`.
        checked = safe_url(tag, attribute, url)
        if checked is None or attribute not in ("href", "src", "cite"):
            return checked
        return absolute(settings, checked, page)

    return nh3.clean(
        value,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        attribute_filter=absolutize,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def _image(url: str, alt: str | None) -> str:
    """A hero image in a feed entry's content."""
    return f'<p><img src="{html.escape(url, quote=True)}" alt="{html.escape(alt or "", quote=True)}"></p>'


def _paragraph(label: str | None, text: str) -> str:
    prefix = f"<strong>{html.escape(label)}:</strong> " if label else ""
    return f"<p>{prefix}{html.escape(text)}</p>"


@dataclass
class _Context:
    settings: Settings
    links: dict[str, dict[str, dict[int, list[Link]]]]  # type -> relation -> parent id -> links

    def of(self, ctype: ContentType, relation: str, row: Any) -> list[Link]:
        return self.links[ctype.name][relation].get(row.id, [])

    def person(self, row: Any) -> Author:
        return Author(
            row.name, public_url(self.settings, "person", slug=row.slug, id=f"per_{row.id}")
        )

    def base(self, ctype: ContentType, row: Any, title: str, url: str | None) -> FeedEntry:
        topics = self.of(ctype, "topics", row)
        entry = FeedEntry(
            public_id=ctype.public_id(row.id),
            guid=tag_uri(self.settings, ctype, row),
            url=url,
            title=title,
            summary=None,
            content_html=None,
            published=utc(row.published_at),
            updated=utc(max(row.updated_at, row.published_at)),
            categories=[link.target.name for link in topics],
        )
        entry.mentions.add(entry.public_id)
        entry.mentions.update(f"top_{link.target.id}" for link in topics)
        return entry

    def url(self, ctype: ContentType, row: Any, **values: Any) -> str | None:
        return public_url(
            self.settings, ctype.name, slug=row.slug, id=ctype.public_id(row.id), **values
        )


def _article(ctx: _Context, ctype: ContentType, row: Any) -> FeedEntry:
    entry = ctx.base(ctype, row, row.title, ctx.url(ctype, row))
    people = [link.target for link in ctx.of(ctype, "authors", row)]
    entry.authors = [ctx.person(p) for p in people] or ([Author(row.byline)] if row.byline else [])
    entry.mentions.update(f"per_{p.id}" for p in people)
    entry.summary = row.subtitle or excerpt(row.body_text)
    parts = []
    if row.subtitle:
        parts.append(f"<p><em>{html.escape(row.subtitle)}</em></p>")
    if row.hero_image_url:
        entry.image = absolute(ctx.settings, row.hero_image_url)
        parts.append(_image(entry.image, row.hero_image_alt))
    if row.body:
        parts.append(row.body)
    entry.content_html = "".join(parts) or None
    return entry


def _event(ctx: _Context, ctype: ContentType, row: Any) -> FeedEntry:
    title = row.title
    if row.event_status in ("cancelled", "postponed"):
        title = f"{row.event_status.capitalize()}: {title}"
    entry = ctx.base(ctype, row, title, ctx.url(ctype, row))
    participants = ctx.of(ctype, "participants", row)
    entry.mentions.update(f"per_{link.target.id}" for link in participants)
    entry.summary = row.summary or row.subtitle or excerpt(row.body_text)
    note = STATUS_NOTES.get(row.event_status)
    parts = [_paragraph(None, note)] if note else []
    parts.append(_paragraph("When", when_text(row)))
    # Links an editor may give relative to the site: a feed reader has no base URL.
    online_url = site_link(ctx.settings, row.online_url)
    registration_url = site_link(ctx.settings, row.registration_url)
    where = location_text(row, online_url)
    if where:
        parts.append(_paragraph("Where", where))
    people = participants_text(participants)
    if people:
        parts.append(_paragraph(None, people))
    if registration_url:
        href = html.escape(registration_url, quote=True)
        parts.append(f'<p><a href="{href}">Register</a></p>')
    if row.hero_image_url:
        entry.image = absolute(ctx.settings, row.hero_image_url)
        parts.append(_image(entry.image, row.hero_image_alt))
    body = row.body or (_paragraph(None, row.summary) if row.summary else None)
    if body:
        parts.append(body)
    entry.content_html = "".join(parts)
    entry.external_url = online_url or registration_url
    entry.extension = {
        "type": "event",
        "starts_at": utc(row.starts_at).isoformat(),
        "ends_at": utc(row.ends_at).isoformat() if row.ends_at else None,
        "timezone": row.timezone,
        "attendance_mode": row.attendance_mode,
        "online_platform": row.online_platform,
        "event_status": row.event_status,
        "location": where,
    }
    return entry


def doi_url(doi: str | None) -> str | None:
    """The DOI's resolver URL, the DOI percent-encoded as doi.org asks (a `#`, `?` or `%`
    in a DOI is part of it, and SICI DOIs hold `<` and `>`)."""
    return f"https://doi.org/{quote(doi, safe='/:;()')}" if doi else None


def _publication(ctx: _Context, ctype: ContentType, row: Any) -> FeedEntry:
    entry = ctx.base(ctype, row, row.title, ctx.url(ctype, row))
    people = [link.target for link in ctx.of(ctype, "authors", row)]
    entry.authors = [ctx.person(p) for p in people]
    entry.mentions.update(f"per_{p.id}" for p in people)
    entry.summary = excerpt(row.abstract)
    entry.external_url = doi_url(row.doi) or site_link(ctx.settings, row.url)
    source = ", ".join(
        part
        for part in (
            row.journal,
            row.publisher,
            f"vol. {row.volume}" if row.volume else None,
            f"no. {row.issue}" if row.issue else None,
            f"pp. {row.pages}" if row.pages else None,
            str(row.year) if row.year else None,
        )
        if part
    )
    parts = [_paragraph(None, row.abstract)] if row.abstract else []
    if source:
        parts.append(_paragraph(None, source))
    if entry.external_url:
        href = html.escape(entry.external_url, quote=True)
        label = html.escape(f"doi:{row.doi}" if row.doi else entry.external_url)
        parts.append(f'<p><a href="{href}">{label}</a></p>')
    entry.content_html = "".join(parts) or None
    return entry


def _quote(ctx: _Context, ctype: ContentType, row: Any) -> FeedEntry:
    speaker = next((link.target for link in ctx.of(ctype, "speaker", row)), None)
    article = next((link.target for link in ctx.of(ctype, "article", row)), None)
    who = speaker.name if speaker else row.attribution
    title = f"“{excerpt(row.text, 90)}”" + (f" — {who}" if who else "")
    url = ctx.url(ctype, row, article_slug=article.slug) if article else None
    if url is None and speaker is not None:
        url = ctx.person(speaker).url
    entry = ctx.base(ctype, row, title, url)
    entry.summary = row.text
    if speaker is not None:
        entry.authors = [ctx.person(speaker)]
        entry.mentions.add(f"per_{speaker.id}")
    if article is not None:
        entry.mentions.add(f"art_{article.id}")
    credit = ", ".join(p for p in (speaker.name if speaker else None, row.attribution) if p)
    entry.content_html = f"<blockquote><p>{html.escape(row.text)}</p></blockquote>" + (
        _paragraph(None, f"— {credit}") if credit else ""
    )
    return entry


_BUILDERS: dict[str, Callable[[_Context, ContentType, Any], FeedEntry]] = {
    "article": _article,
    "event": _event,
    "publication": _publication,
    "quote": _quote,
}


def build_entries(
    session: Session,
    settings: Settings,
    items: Sequence[tuple[ContentType, Any]],
    viewer: Viewer,
) -> list[FeedEntry]:
    """Feed entries for `items`, in the given order."""
    batches: dict[str, tuple[ContentType, list[Any]]] = {}
    for ctype, row in items:
        batches.setdefault(ctype.name, (ctype, []))[1].append(row)
    links: dict[str, dict[str, dict[int, list[Link]]]] = {}
    for name, (_, rows) in batches.items():
        links[name] = {
            relation: RELATIONS[name][relation].loader(session, rows, viewer)
            for relation in _NEEDED[name]
        }
    ctx = _Context(settings, links)
    entries = [_BUILDERS[ctype.name](ctx, ctype, row) for ctype, row in items]
    for (ctype, row), entry in zip(items, entries, strict=True):
        # One pass over the whole fragment: the stored body and the HTML built around it
        # (links to registration or DOI pages included) are sanitized and made absolute.
        entry.content_html = feed_html(settings, entry.content_html, entry.url)
        shown = [link for relation in _NEEDED[ctype.name] for link in ctx.of(ctype, relation, row)]
        entry.references_updated = references_updated(shown)
    return entries


def references_updated(links: Iterable[Link]) -> datetime | None:
    """The newest change of the linked items shown (their `updated_at`)."""
    return max((utc(link.target.updated_at) for link in links), default=None)
