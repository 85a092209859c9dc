"""What feeds offer beside their text: hero images as enclosures, and titles that look like
markup read back as written."""

from __future__ import annotations

import feedparser
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.test_feeds_visibility import FUTURE, public_fields, write


def test_hero_images_are_enclosures(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    factory = session_factory
    write(factory, "topics", {"slug": "vis", "name": "Visibility"})
    images = {
        "jpeg": "/media/Photo.JPG",
        "webp": "https://cdn.example.net/x/y.webp?w=800#top",
        "no-extension": "/media/image",
        "not-an-image": "/media/page.php",
        "none": None,
    }
    for slug, url in images.items():
        hero = {"hero_image": {"url": url, "alt": "Alt"}} if url else {}
        write(factory, "articles", public_fields(slug, slug=f"article-{slug}", **hero))
    write(
        factory,
        "events",
        public_fields("Talk", slug="talk", starts_at=FUTURE, hero_image={"url": "/media/talk.png"}),
    )
    site = "https://www.example.org"
    expected = {
        "article-jpeg": (f"{site}/media/Photo.JPG", "image/jpeg"),
        "article-webp": ("https://cdn.example.net/x/y.webp?w=800#top", "image/webp"),
        "talk": (f"{site}/media/talk.png", "image/png"),
    }
    for fmt in ("rss", "atom"):
        parsed = feedparser.parse(client.get(f"/feeds/topics/vis.{fmt}").content)
        assert parsed.bozo == 0, parsed.get("bozo_exception")
        found = {}
        for entry in parsed.entries:
            slug = entry.link.rsplit("/", 1)[1]
            # The item's page stays its one alternate link.
            alternates = [link for link in entry.links if link["rel"] == "alternate"]
            assert [(a["href"], a["type"]) for a in alternates] == [(entry.link, "text/html")]
            for enclosure in entry.enclosures:
                found[slug] = (enclosure["href"], enclosure["type"])
                # RSS needs a length, unknown here: 0, as RSS practice has it. Atom's is
                # advisory: none.
                assert enclosure.get("length") == ("0" if fmt == "rss" else None)
        assert found == expected, fmt


@pytest.mark.parametrize(
    "title", ["Tom & Jerry <script>", "Tom & Jerry <script>alert(1)</script>", "AT&T: 1 < 2"]
)
def test_titles_read_back_as_written(
    client: TestClient, session_factory: sessionmaker[Session], title: str
) -> None:
    """Titles are plain text, escaped once: RSS, Atom (as feedparser reads them) and JSON
    Feed give back what the editor wrote."""
    write(session_factory, "topics", {"slug": "vis", "name": "Visibility"})
    write(session_factory, "articles", public_fields(title, slug="a"))
    for fmt in ("rss", "atom"):
        parsed = feedparser.parse(client.get(f"/feeds/articles.{fmt}").content)
        (entry,) = parsed.entries
        assert entry.title == title, fmt
        assert entry.title_detail.type == "text/plain", fmt
    (item,) = client.get("/feeds/articles.json").json()["items"]
    assert item["title"] == title
