"""The Node interface and the small value objects (images, venues, feed links)."""

from __future__ import annotations

from typing import Any

import strawberry

from app.content.rows import columns
from app.graphql.ids import global_id_of


@strawberry.interface(
    description="An object with a globally unique id (Relay): `node(id:)` refetches it."
)
class Node:
    @strawberry.field(
        description='Globally unique id (base64 of "Type:publicId"; the public id is the REST `id`).'
    )
    def id(self) -> strawberry.ID:
        return strawberry.ID(global_id_of(self))


@strawberry.type(
    description="An image: a person's photo, or an article's or an event's hero image."
)
class Image:
    url: str = strawberry.field(description="Image URL.")
    alt: str | None = strawberry.field(description="Text alternative for screen readers.")
    caption: str | None = strawberry.field(description="Caption (hero images).")
    credit: str | None = strawberry.field(description="Photographer or source to credit.")


@strawberry.type(description="Where an event takes place.")
class Venue:
    name: str | None = strawberry.field(description="Name of the place, e.g. a building and room.")
    address: str | None = strawberry.field(description="Street address.")


@strawberry.type(description="Feed URLs for syndication and feed autodiscovery.")
class FeedLinks:
    rss: str = strawberry.field(description="RSS 2.0 feed.")
    atom: str = strawberry.field(description="Atom 1.0 feed.")
    json: str = strawberry.field(description="JSON Feed 1.1.")
    ics: str | None = strawberry.field(description="iCalendar of the events (topics only).")


def photo_of(row: Any) -> Image | None:
    values = columns(row, ("photo_url", "photo_alt", "photo_credit"))
    if values["photo_url"] is None:
        return None
    return Image(
        url=values["photo_url"],
        alt=values["photo_alt"],
        caption=None,
        credit=values["photo_credit"],
    )


def hero_image_of(row: Any) -> Image | None:
    if row.hero_image_url is None:
        return None
    return Image(
        url=row.hero_image_url,
        alt=row.hero_image_alt,
        caption=row.hero_image_caption,
        credit=row.hero_image_credit,
    )


def venue_of(row: Any) -> Venue | None:
    if row.venue_name is None and row.venue_address is None:
        return None
    return Venue(name=row.venue_name, address=row.venue_address)


def feed_links_of(kind: str, slug: str, api_base_url: str) -> FeedLinks:
    from app.feeds.links import feed_links

    links = feed_links(kind, slug, api_base_url)
    return FeedLinks(rss=links["rss"], atom=links["atom"], json=links["json"], ics=links.get("ics"))
