"""One feed document, three serialisations: RSS 2.0 and Atom 1.0 (feedgen), JSON Feed 1.1.

Every value in the output derives from the content (no "now"), so the bytes — and with
them the ETag — only change when the content does.
"""

from __future__ import annotations

import html
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson

from app.feeds.entries import Author, FeedEntry, printable

if TYPE_CHECKING:
    from feedgen.feed import FeedGenerator

# feedgen (with lxml, ~30 ms) is imported by the first RSS or Atom feed a process serves.

GENERATOR = "Dossier"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
# Atom's `updated` of a feed with nothing to date it by: none of its types, nor anything
# else, was ever public (a database without public content).
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class FeedFormat(StrEnum):
    """The file extension of a feed: its format."""

    rss = "rss"
    atom = "atom"
    json = "json"


MEDIA_TYPES = {
    FeedFormat.rss: "application/rss+xml; charset=utf-8",
    FeedFormat.atom: "application/atom+xml; charset=utf-8",
    FeedFormat.json: "application/feed+json; charset=utf-8",
}

# The media type of an image by its file's extension: the only thing a hero image's URL
# says about it. A fixed table, not `mimetypes` (which reads the machine's own tables:
# the bytes, and the ETag, would depend on the server they were made on).
IMAGE_TYPES = {
    ".avif": "image/avif",
    ".bmp": "image/bmp",
    ".gif": "image/gif",
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".jpeg": "image/jpeg",
    ".jpg": "image/jpeg",
    ".jxl": "image/jxl",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".webp": "image/webp",
}


def image_type(url: str) -> str | None:
    """The media type an image's web address names by its extension (`/a/b.JPG?w=800`:
    `image/jpeg`); None for another address, or an extension of no image format."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return None
    return IMAGE_TYPES.get(posixpath.splitext(parts.path)[1].lower())


@dataclass
class FeedDocument:
    feed_id: str  # Atom feed id: the feed's URL without extension
    title: str
    description: str
    home_url: str  # the HTML page on the public site
    self_url: str  # this feed, in this format
    entries: list[FeedEntry]
    # The newest change its entries do not date (`app.content.changed`: an item leaving
    # the feed; a change to the topic or person it is of), if any.
    changed: datetime | None = None
    # The feed's own author (the site): RFC 4287 §4.1.1 wants one in an Atom feed unless
    # every entry names its own, and events and many quotes have none.
    publisher: Author | None = None
    # The language of its text (`FEED_LANGUAGE`): RSS <language>, Atom xml:lang, JSON
    # Feed `language`.
    language: str | None = None

    @property
    def updated(self) -> datetime | None:
        """When the feed last changed: its newest entry's change, that of an item, person or
        topic an entry shows, or `changed`, whichever is latest. None: nothing dates it."""
        moments = [e.updated for e in self.entries]
        moments += [e.references_updated for e in self.entries if e.references_updated]
        if self.changed is not None:
            moments.append(self.changed)
        return max(moments, default=None)


def _clean_entry(entry: FeedEntry) -> FeedEntry:
    def text(value: str | None) -> str | None:
        return printable(value) if value is not None else None

    return replace(
        entry,
        title=printable(entry.title),
        url=text(entry.url),
        summary=text(entry.summary),
        content_html=text(entry.content_html),
        image=text(entry.image),
        authors=[Author(printable(a.name), text(a.url)) for a in entry.authors],
        categories=[printable(c) for c in entry.categories],
    )


def xml_safe(doc: FeedDocument) -> FeedDocument:
    """The document without characters XML cannot carry (lxml refuses them)."""
    return replace(
        doc,
        title=printable(doc.title),
        description=printable(doc.description),
        entries=[_clean_entry(e) for e in doc.entries],
    )


_LINK_ATTRIBUTES = ("rel", "type", "hreflang", "title", "length")


@cache
def _entry_class() -> type[Any]:
    """feedgen's entry, with its Atom links as they were given.

    feedgen 1.0.0 (the latest) writes an Atom entry's links with their `href` alone: its
    loop reads their attributes from the element it has just made instead of the link's
    data (lkiesow/python-feedgen#135). An entry's page lost its `type`, and an enclosure
    its `rel`: a second `alternate` link, which RFC 4287 §4.1.1 forbids (same type) and
    readers took for the page."""
    from feedgen.entry import FeedEntry as GeneratedEntry

    class Entry(GeneratedEntry):  # type: ignore[misc]
        def atom_entry(self, extensions: bool = True) -> Any:
            entry = super().atom_entry(extensions)
            links = self.link() or []
            for element, link in zip(entry.findall("link"), links, strict=False):
                if element.get("href") != link["href"]:
                    break  # not the links feedgen wrote in order: leave them
                for name in _LINK_ATTRIBUTES:
                    if link.get(name):
                        element.set(name, link[name])
            return entry

    return Entry


def _generator(doc: FeedDocument, self_type: str) -> FeedGenerator:
    from feedgen.feed import FeedGenerator

    doc = xml_safe(doc)
    fg = FeedGenerator()
    # RSS <author> must be an e-mail address, so RSS names authors with dc:creator;
    # Atom has <author><name> (dc:creator there would list every author twice).
    fg.load_extension("dc", atom=False, rss=True)
    fg.id(doc.feed_id)
    fg.title(doc.title or doc.feed_id)
    fg.subtitle(doc.description or doc.title or doc.feed_id)  # also RSS <description>
    if doc.publisher is not None:  # Atom only: RSS's managingEditor must be an e-mail
        fg.author({"name": doc.publisher.name, "uri": doc.publisher.url})
    fg.link(href=doc.self_url, rel="self", type=self_type)
    # feedgen takes RSS's one <link> from the last link added: the HTML page.
    fg.link(href=doc.home_url, rel="alternate", type="text/html")
    fg.generator(GENERATOR)
    if doc.language:
        fg.language(doc.language)  # RSS <language>, and xml:lang on Atom's <feed>
    fg.updated(doc.updated or EPOCH)  # atom:updated and rss lastBuildDate
    for item in doc.entries:
        fe = fg.add_entry(_entry_class()(), order="append")
        fe.id(item.guid)
        fe.guid(item.guid, permalink=False)
        fe.title(item.title or item.guid)  # a title of control characters only
        fe.link(href=item.url or doc.home_url, rel="alternate", type="text/html")
        if item.summary:
            # RSS <description> and Atom <summary>. The summary is plain text, and RSS
            # readers take <description> as HTML: escaped, as HTML it reads the same
            # (`a<b` stays text), and Atom says `type="html"`, which means the same text.
            fe.summary(html.escape(item.summary, quote=False), type="html")
        if item.content_html:
            fe.content(item.content_html, type="html")  # escaped: content:encoded / atom html
        for author in item.authors:
            fe.author({"name": author.name, **({"uri": author.url} if author.url else {})})
            fe.dc.dc_creator(author.name)
        for name in item.categories:
            fe.category(term=name, label=name)
        media = image_type(item.image) if item.image else None
        if media is not None:
            # The hero image: RSS <enclosure> (its size is unknown: length="0", as RSS
            # practice has it) and Atom <link rel="enclosure"> (no length: it is advisory).
            # Where the type cannot be known, none: an enclosure must state it.
            fe.link(href=item.image, rel="enclosure", type=media)
        fe.published(item.published)  # Atom <published>, RSS <pubDate>
        fe.updated(item.updated)
    return fg


def render_rss(doc: FeedDocument) -> bytes:
    fg = _generator(doc, MEDIA_TYPES[FeedFormat.rss].split(";")[0])
    # The channel's <description> is plain text (a topic's description), and RSS readers
    # take it as HTML, as an item's: escaped the same way. (Atom's <subtitle> is text.)
    fg.subtitle(html.escape(fg.subtitle(), quote=False))
    body: bytes = fg.rss_str(pretty=True)
    return body


def render_atom(doc: FeedDocument) -> bytes:
    fg = _generator(doc, MEDIA_TYPES[FeedFormat.atom].split(";")[0])
    body: bytes = fg.atom_str(pretty=True)
    return body


def _json_author(author: Author) -> dict[str, str]:
    return {"name": author.name, **({"url": author.url} if author.url else {})}


def _json_item(item: FeedEntry) -> dict[str, Any]:
    out: dict[str, Any] = {"id": item.guid, "title": item.title}
    if item.url:
        out["url"] = item.url
    if item.external_url:
        out["external_url"] = item.external_url
    out["content_html"] = item.content_html or f"<p>{html.escape(item.title)}</p>"
    if item.summary:
        out["summary"] = item.summary
    if item.image:
        out["image"] = item.image
    out["date_published"] = item.published.isoformat()
    out["date_modified"] = item.updated.isoformat()
    if item.authors:
        out["authors"] = [_json_author(a) for a in item.authors]
    if item.categories:
        out["tags"] = item.categories
    extension: dict[str, Any] = {"id": item.public_id}
    if item.extension:
        extension.update(item.extension)
    out["_dossier"] = extension
    return out


def render_json(doc: FeedDocument) -> bytes:
    """JSON Feed 1.1 (https://jsonfeed.org/version/1.1); `_dossier` holds our extension."""
    feed = {
        "version": JSON_FEED_VERSION,
        "title": doc.title,
        "home_page_url": doc.home_url,
        "feed_url": doc.self_url,
        "description": doc.description,
        **({"language": doc.language} if doc.language else {}),
        **({"authors": [_json_author(doc.publisher)]} if doc.publisher else {}),
        "items": [_json_item(item) for item in doc.entries],
    }
    return orjson.dumps(feed, option=orjson.OPT_INDENT_2)


RENDERERS: dict[FeedFormat, Callable[[FeedDocument], bytes]] = {
    FeedFormat.rss: render_rss,
    FeedFormat.atom: render_atom,
    FeedFormat.json: render_json,
}
