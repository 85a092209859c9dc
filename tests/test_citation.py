"""Citation export: BibTeX (parsed with bibtexparser v2), RIS and CSL-JSON."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import bibtexparser
import orjson
import pytest
from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors, SplitNameParts
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.content.events import notify_write
from app.content.names import derive_sort_name
from app.content.types import BY_COLLECTION
from app.content.writes import create_item
from app.feeds.bibliography import Citation, Name, to_bibtex
from app.http.auth import create_api_key
from tests.graphql_support import gql

LIVING = "/api/v1/publications/living-in-fear-dynamics-of-extortion-in-mexicos-drug-war/citation"
TITLE = "Living in Fear: The Dynamics of Extortion in Mexico's Drug War"
FAMILIES = ["Magaloni", "Matanock", "Díaz-Cayeros", "Romero"]
GIVEN = ["Beatriz", "Aila M.", "Alberto", "Vidal"]
RIS_LINE = re.compile(r"^[A-Z][A-Z0-9]  - .*$")


def bibtex_entry(client: TestClient, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-bibtex; charset=utf-8"
    library = bibtexparser.parse_string(
        response.content.decode("utf-8"), append_middleware=[SeparateCoAuthors(), SplitNameParts()]
    )
    assert library.failed_blocks == []
    assert len(library.entries) == 1
    return library.entries[0]


def ris_lines(
    client: TestClient, url: str, headers: dict[str, str] | None = None
) -> list[tuple[str, str]]:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-research-info-systems; charset=utf-8"
    text = response.content.decode("utf-8")
    lines = text.split("\r\n")
    assert lines[-1] == ""  # every line, ER included, ends with CRLF
    lines = lines[:-1]
    assert all(RIS_LINE.match(line) for line in lines), lines
    assert lines[0].startswith("TY  - ")
    assert lines[-1] == "ER  - "
    return [(line[:2], line[6:]) for line in lines]


def csl(client: TestClient, url: str) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.citationstyles.csl+json"
    items = orjson.loads(response.content)
    assert isinstance(items, list)
    assert len(items) == 1
    item: dict[str, Any] = items[0]
    assert isinstance(item["id"], str)
    assert isinstance(item["type"], str)
    return item


def test_bibtex_of_a_journal_article(demo_client: TestClient) -> None:
    raw = demo_client.get(LIVING).content
    assert "Díaz-Cayeros".encode() in raw  # UTF-8, not {\'i}
    assert raw.startswith(b"@article{magaloni2020living,")
    entry = bibtex_entry(demo_client, LIVING)
    assert entry.entry_type == "article"
    assert entry.key == "magaloni2020living"
    assert [" ".join(a.last) for a in entry["author"]] == FAMILIES
    assert [" ".join(a.first) for a in entry["author"]] == GIVEN
    # Every word with a capital braced against sentence-casing styles; read as the title.
    assert entry["title"] == (
        "Living in {Fear}: {The} {Dynamics} of {Extortion} in {Mexico}'s {Drug} {War}"
    )
    decoded = bibtexparser.parse_string(
        demo_client.get(LIVING).text, append_middleware=[LatexDecodingMiddleware()]
    ).entries[0]
    assert decoded["title"] == TITLE
    assert entry["journal"] == "Comparative Political Studies"
    assert entry["year"] == "2020"
    assert entry["volume"] == "53"
    assert entry["number"] == "7"
    assert entry["pages"] == "1124--1174"
    assert entry["doi"] == "10.1177/0010414019879958"
    assert entry["keywords"] == "Kidnapping, Mexico, Organized Crime"
    assert entry["abstract"].startswith("Why do drug trafficking organizations (DTOs)")


def test_bibtex_is_the_default_and_ids_work(demo_client: TestClient) -> None:
    by_slug = demo_client.get(LIVING)
    by_id = demo_client.get("/api/v1/publications/pub_1/citation?format=bibtex")
    assert by_id.content == by_slug.content
    assert by_slug.headers["content-disposition"] == 'inline; filename="magaloni2020living.bib"'


def test_ris_of_a_journal_article(demo_client: TestClient) -> None:
    lines = ris_lines(demo_client, LIVING + "?format=ris")
    tags = dict(lines)
    assert tags["TY"] == "JOUR"
    assert [value for tag, value in lines if tag == "AU"] == [
        "Magaloni, Beatriz",
        "Matanock, Aila M.",
        "Díaz-Cayeros, Alberto",
        "Romero, Vidal",
    ]
    assert tags["TI"] == TITLE
    assert tags["T2"] == "Comparative Political Studies"
    assert (tags["PY"], tags["VL"], tags["IS"], tags["SP"], tags["EP"]) == (
        "2020",
        "53",
        "7",
        "1124",
        "1174",
    )
    assert tags["DO"] == "10.1177/0010414019879958"


def test_csl_json_of_a_journal_article(demo_client: TestClient) -> None:
    item = csl(demo_client, LIVING + "?format=csl-json")
    assert item["id"] == "pub_1"
    assert item["type"] == "article-journal"
    assert item["title"] == TITLE
    assert item["author"] == [
        {"family": f, "given": g} for f, g in zip(FAMILIES, GIVEN, strict=True)
    ]
    assert item["container-title"] == "Comparative Political Studies"
    assert (item["volume"], item["issue"], item["page"]) == ("53", "7", "1124-1174")
    assert item["issued"] == {"date-parts": [[2020]]}
    assert item["DOI"] == "10.1177/0010414019879958"


def test_research_project_without_authors_or_year(demo_client: TestClient) -> None:
    url = "/api/v1/publications/dynamics-and-logic-of-extortion-in-mexicos-drug-war/citation"
    entry = bibtex_entry(demo_client, url)
    assert entry.entry_type == "misc"
    assert "author" not in entry.fields_dict
    assert entry["title"] == "The {Dynamics} and {Logic} of {Extortion} in {Mexico}’s {Drug} {War}"
    assert dict(ris_lines(demo_client, url + "?format=ris"))["TY"] == "RPRT"
    item = csl(demo_client, url + "?format=csl-json")
    assert item["type"] == "document"
    assert "issued" not in item
    assert "author" not in item


GRAPHQL_CITATIONS = """{ publications(first: 100) { nodes { slug
  bibtex: citation ris: citation(format: RIS) csl: citation(format: CSL_JSON) } } }"""


def test_graphql_citations_are_the_rest_citations(demo_client: TestClient) -> None:
    """`Publication.citation(format:)` is the text REST's citation answers, format by format."""
    publications = gql(demo_client, GRAPHQL_CITATIONS)["publications"]["nodes"]
    assert len(publications) >= 2
    for publication in publications:
        url = f"/api/v1/publications/{publication['slug']}/citation"
        assert publication["bibtex"] == demo_client.get(url).content.decode()
        assert publication["ris"] == demo_client.get(url + "?format=ris").content.decode()
        assert publication["csl"] == demo_client.get(url + "?format=csl-json").content.decode()
    living = next(p for p in publications if p["slug"] in LIVING)
    assert living["bibtex"].startswith("@article{magaloni2020living,")


def test_citation_caching(demo_client: TestClient) -> None:
    first = demo_client.get(LIVING + "?format=ris")
    assert first.headers["cache-control"].startswith("public, max-age=")
    assert {"publications", "pub_1"} <= set(first.headers["surrogate-key"].split())
    again = demo_client.get(
        LIVING + "?format=ris", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    other = demo_client.get(
        LIVING + "?format=csl-json", headers={"If-None-Match": first.headers["etag"]}
    )
    assert other.status_code == 200  # another format is another representation


@pytest.mark.parametrize(
    ("url", "status"),
    [
        (LIVING + "?format=xml", 400),
        (LIVING + "?format=", 400),
        (LIVING + "?format=BIBTEX", 400),
        (LIVING + "?format=bibtex&format=ris", 400),  # not the last one, silently
        (LIVING + "?style=apa", 400),
        ("/api/v1/publications/no-such-publication/citation", 404),
        ("/api/v1/publications/pub_999/citation?format=ris", 404),
    ],
)
def test_citation_errors(demo_client: TestClient, url: str, status: int) -> None:
    response = demo_client.get(url)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status
    if status == 400:
        assert problem["errors"][0]["loc"] == ["query", "style" if "style" in url else "format"]


# Every publication type: (BibTeX type, RIS TY, CSL type).
TYPES = {
    "journal_article": ("article", "JOUR", "article-journal"),
    "book": ("book", "BOOK", "book"),
    "book_chapter": ("incollection", "CHAP", "chapter"),
    "report": ("techreport", "RPRT", "report"),
    "policy_brief": ("techreport", "RPRT", "report"),
    "working_paper": ("techreport", "RPRT", "report"),
    "research_project": ("misc", "RPRT", "document"),
    "other": ("misc", "GEN", "document"),
}


def _write(factory: sessionmaker[Session], collection: str, data: dict[str, Any]) -> None:
    with factory() as session, session.begin():
        row = create_item(session, collection, data, "test")
    notify_write(BY_COLLECTION[collection], row)  # as the admin routes do, for response caches


def _publish_each_type(
    factory: sessionmaker[Session],
    prefix: str,
    kinds: Any,
    fields: dict[str, Any],
    title: str = "{kind}",
) -> dict[str, str]:
    """A published publication of each of `kinds` (slug `<prefix>-<kind>`, `title` formatted
    with the kind, then `fields`): each kind's citation URL."""
    urls = {}
    for kind in kinds:
        slug = f"{prefix}-{kind.replace('_', '-')}"
        published = (datetime.now(UTC) - timedelta(days=1)).isoformat()
        data = {"slug": slug, "title": title.format(kind=kind), "publication_type": kind}
        data["status"] = "published"
        _write(factory, "publications", {**data, "published_at": published, **fields})
        urls[kind] = f"/api/v1/publications/{slug}/citation"
    return urls


def test_every_publication_type(client: TestClient, session_factory: sessionmaker[Session]) -> None:
    _write(session_factory, "people", {"slug": "ana", "name": "Ana María Díaz-Cayeros"})
    _write(session_factory, "people", {"slug": "org", "name": "Stanford", "sort_name": "Stanford"})
    fields = {
        "authors": ["ana", "org"],
        "journal": "Collected Works",
        "publisher": "Stanford University Press",
        "pages": "7–19",
        "year": 2021,
        "published_on": "2021-03-04",
    }
    title = "On {kind}: 100% R&D_x {{braces}} #1 ~ ^"
    urls = _publish_each_type(session_factory, "p", TYPES, fields, title)
    for kind, (bibtex_type, ris_type, csl_type) in TYPES.items():
        url = urls[kind]
        entry = bibtex_entry(client, url)
        assert entry.entry_type == bibtex_type, kind
        assert [(" ".join(a.first), " ".join(a.last)) for a in entry["author"]] == [
            ("Ana María", "Díaz-Cayeros"),
            ("", "{Stanford}"),
        ]
        assert entry["pages"] == "7--19"
        assert entry["month"] == "mar"  # the macro, unbraced: `month = mar`
        decoded = bibtexparser.parse_string(
            client.get(url).text, append_middleware=[LatexDecodingMiddleware()]
        ).entries[0]
        # pylatexenc renders \textasciicircum as U+02C6; TeX prints a plain ^.
        assert (
            decoded["title"].replace("\u02c6", "^") == f"On {kind}: 100% R&D_x {{braces}} #1 ~ ^"
        ), kind
        assert (
            r"100\% {R}\&{D}\_x \{braces\} \#1 \textasciitilde{} \textasciicircum{}"
            in client.get(url).text
        )
        if bibtex_type == "article":
            assert entry["journal"] == "Collected Works"
        if bibtex_type == "incollection":
            assert entry["booktitle"] == "Collected {Works}"
            assert entry["publisher"] == "Stanford University Press"
        if bibtex_type == "book":  # `journal` is a book's series
            assert entry["series"] == "Collected {Works}"
            assert entry["publisher"] == "Stanford University Press"
        if bibtex_type == "techreport":
            assert entry["institution"] == "Stanford University Press"
        if kind == "working_paper":
            assert entry["type"] == "Working paper"
        ris = ris_lines(client, url + "?format=ris")
        assert dict(ris)["TY"] == ris_type, kind
        assert [v for t, v in ris if t == "AU"] == ["Díaz-Cayeros, Ana María", "Stanford"]
        assert (dict(ris)["SP"], dict(ris)["EP"], dict(ris)["DA"]) == ("7", "19", "2021/03/04")
        item = csl(client, url + "?format=csl-json")
        assert item["type"] == csl_type, kind
        assert item["author"] == [
            {"family": "Díaz-Cayeros", "given": "Ana María"},
            {"literal": "Stanford"},
        ]
        assert item["issued"] == {"date-parts": [[2021, 3, 4]]}


# Zotero's RIS import (zotero/translators, RIS.js): the item type it makes of each `TY`
# (`importTypeMap`: GEN is a journal article to it), and the field a tag fills for an item
# type (`fieldMap`, then `degenerateImportFieldMap`), for the tags citations write.
ZOTERO_RIS_TYPES = {
    "JOUR": "journalArticle",
    "BOOK": "book",
    "CHAP": "bookSection",
    "RPRT": "report",
    "GEN": "journalArticle",
}
ZOTERO_RIS_FIELDS: dict[str, tuple[str | None, dict[str, str]]] = {
    # tag: (the field for any other type, {item type: its field})
    "T2": (
        None,
        {
            "journalArticle": "publicationTitle",
            "bookSection": "bookTitle",
            "book": "series",
            "report": "seriesTitle",
        },
    ),
    "IS": ("issue", {"bookSection": "numberOfVolumes"}),
    "VL": ("volume", {}),
    "PB": ("publisher", {"report": "institution"}),
    "M1": ("extra", {"book": "seriesNumber"}),
    "SV": (None, {"bookSection": "seriesNumber"}),
    "SN": ("ISBN", {"journalArticle": "ISSN", "report": "reportNumber"}),
    "M3": ("DOI", {"report": "reportType"}),
}


def zotero_ris_field(item_type: str, tag: str) -> str | None:
    default, by_type = ZOTERO_RIS_FIELDS[tag]
    return by_type.get(item_type, default)


def test_ris_tags_are_the_fields_zotero_reads(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    """Every type's RIS tags land in the Zotero field meant for them. A research project was
    `TY  - GEN`, a journal article to Zotero; a book's or chapter's number in its series and
    a report's number went out as `IS`, which Zotero drops for books and reports and reads
    as the number of volumes of a chapter's book. `journal` ("Journal or series") is the
    journal of an article, the book of a chapter, the series of a book or report: `T2`."""
    series = {"journal": "The Series", "volume": "Vol-3", "issue": "No-7", "publisher": "Press"}
    article = {"journal": "publicationTitle", "volume": "volume", "issue": "issue"}
    report = {"journal": "seriesTitle", "issue": "reportNumber", "publisher": "institution"}
    meant: dict[str, tuple[str, dict[str, str]]] = {
        "journal_article": ("journalArticle", article | {"publisher": "publisher"}),
        "book": (
            "book",
            {"journal": "series", "volume": "volume", "issue": "seriesNumber"}
            | {"publisher": "publisher"},
        ),
        "book_chapter": (
            "bookSection",
            {"journal": "bookTitle", "volume": "volume", "issue": "seriesNumber"}
            | {"publisher": "publisher"},
        ),
        "report": ("report", report),
        "policy_brief": ("report", report | {"genre": "reportType"}),
        "working_paper": ("report", report | {"genre": "reportType"}),
        "research_project": ("report", report | {"genre": "reportType"}),
        "other": ("journalArticle", article | {"publisher": "publisher"}),
    }
    genres = {
        "policy_brief": "Policy brief",
        "working_paper": "Working paper",
        "research_project": "Research project",
    }
    urls = _publish_each_type(session_factory, "ris", meant, series)
    for kind, (item_type, fields) in meant.items():
        lines = ris_lines(client, f"{urls[kind]}?format=ris")
        assert ZOTERO_RIS_TYPES[dict(lines)["TY"]] == item_type, kind
        values = series | {"genre": genres.get(kind, "")}
        for field, zotero_field in fields.items():
            tags = [tag for tag, value in lines if value == values[field]]
            assert [zotero_ris_field(item_type, tag) for tag in tags] == [zotero_field], (
                kind,
                field,
                tags,
            )


# Zotero's CSL-JSON import (zotero/utilities itemFromCSLJSON with the CSL mappings of
# zotero-schema): the item type of each CSL type, and the field a variable fills for an item
# type (the first of its mapped fields the type has, a base field read as the type's own).
ZOTERO_CSL_TYPES = {
    "article-journal": "journalArticle",
    "book": "book",
    "chapter": "bookSection",
    "report": "report",
    "document": "document",
}
ZOTERO_CSL_FIELDS: dict[str, dict[str, str]] = {
    "container-title": {"journalArticle": "publicationTitle", "bookSection": "bookTitle"},
    "collection-title": {
        "journalArticle": "seriesTitle",
        "book": "series",
        "bookSection": "series",
        "report": "seriesTitle",
    },
    "collection-number": {"book": "seriesNumber", "bookSection": "seriesNumber"}
    | {"report": "seriesNumber"},
    "number": {"report": "reportNumber"},
    "issue": {"journalArticle": "issue"},
    "volume": {"journalArticle": "volume", "book": "volume", "bookSection": "volume"},
    "publisher": {"journalArticle": "publisher", "book": "publisher"}
    | {"bookSection": "publisher", "report": "institution", "document": "publisher"},
    "genre": {"report": "reportType"},
}


def test_csl_variables_are_the_fields_zotero_reads(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    """A book's or report's series went out as `container-title`, which Zotero drops for
    both (and styles print as a journal), and the issue as `issue`, which books, chapters
    and reports do not have: the series is `collection-title`, a book's or chapter's number
    in it `collection-number`, a report's number `number`."""
    values = {"journal": "The Series", "volume": "Vol-3", "issue": "No-7", "publisher": "Press"}
    article = {"journal": "publicationTitle", "volume": "volume", "issue": "issue"}
    book = {"journal": "series", "volume": "volume", "issue": "seriesNumber"}
    chapter = {"journal": "bookTitle", "volume": "volume", "issue": "seriesNumber"}
    report = {"journal": "seriesTitle", "issue": "reportNumber", "publisher": "institution"}
    meant: dict[str, tuple[str, dict[str, str]]] = {
        "journal_article": ("journalArticle", article | {"publisher": "publisher"}),
        "book": ("book", book | {"publisher": "publisher"}),
        "book_chapter": ("bookSection", chapter | {"publisher": "publisher"}),
        "report": ("report", report),
        "working_paper": ("report", report | {"genre": "reportType"}),
        "policy_brief": ("report", report | {"genre": "reportType"}),
        "research_project": ("document", {"publisher": "publisher"}),
        "other": ("document", {"publisher": "publisher"}),
    }
    genres = {"policy_brief": "Policy brief", "working_paper": "Working paper"}
    urls = _publish_each_type(session_factory, "csl", meant, values)
    for kind, (item_type, fields) in meant.items():
        item = csl(client, f"{urls[kind]}?format=csl-json")
        assert ZOTERO_CSL_TYPES[item["type"]] == item_type, kind
        expected = values | {"genre": genres.get(kind, "")}
        for field, zotero_field in fields.items():
            variables = [name for name, value in item.items() if value == expected[field]]
            landed = [ZOTERO_CSL_FIELDS[name].get(item_type) for name in variables]
            assert landed == [zotero_field], (kind, field, variables)


def test_hidden_publications_are_404(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    future = (datetime.now(UTC) + timedelta(days=5)).isoformat()
    _write(session_factory, "publications", {"slug": "draft", "title": "Draft"})
    _write(
        session_factory,
        "publications",
        {"slug": "later", "title": "Later", "status": "published", "published_at": future},
    )
    for slug in ("draft", "later"):
        response = client.get(f"/api/v1/publications/{slug}/citation?format=csl-json")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


def test_preview_needs_key_and_flag(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    _write(session_factory, "publications", {"slug": "draft", "title": "Draft", "year": 2030})
    with session_factory() as session, session.begin():
        secret = create_api_key(session, "previewer", ["content:preview"])
    url = "/api/v1/publications/draft/citation?format=ris"
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get(url + "&preview=true").status_code == 401  # flag without key
    assert client.get(url, headers=bearer).status_code == 404  # key without flag
    response = client.get(url + "&preview=true", headers=bearer)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-store"
    assert "surrogate-key" not in response.headers
    assert dict(ris_lines(client, url + "&preview=true", bearer))["TI"] == "Draft"


def test_braces_in_a_doi_or_url_keep_the_bibtex_entry_whole(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    """doi and url are written verbatim (biblatex reads them so), where a brace delimits
    the value: an unbalanced `}` ended the field early and the fields after it were lost.
    Braces are percent-encoded there instead, as a URL carries them anyway."""
    _write(
        session_factory,
        "publications",
        {
            "title": "Braces",
            "slug": "braces",
            "publication_type": "report",
            "status": "published",
            "published_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
            "doi": "10.1000/a}b{c",
            "url": "https://example.org/x}y",
            "abstract": "After the verbatim fields.",
        },
    )
    entry = bibtex_entry(client, "/api/v1/publications/braces/citation")
    assert entry["doi"] == "10.1000/a%7Db%7Bc"
    assert entry["url"] == "https://example.org/x%7Dy"
    assert entry["abstract"] == "After the verbatim fields."
    # A backslash last: `{10.1000/a\}` is a whole value to BibTeX, but an escaped brace to
    # readers that honour TeX's escapes (bibtexparser), which lost the entry and every one
    # after it. Percent-encoded too (a URL has no backslash; doi.org decodes it).
    _write(
        session_factory,
        "publications",
        {
            "title": "Backslash",
            "slug": "backslash",
            "publication_type": "report",
            "status": "published",
            "published_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
            "doi": "10.1000/a\\",
            "url": "https://example.org/x\\",
            "abstract": "After the verbatim fields.",
        },
    )
    entry = bibtex_entry(client, "/api/v1/publications/backslash/citation")
    assert entry["doi"] == "10.1000/a%5C"
    # A URL's backslash is a slash to every browser (WHATWG): where the link leads.
    assert entry["url"] == "https://example.org/x/"
    assert entry["abstract"] == "After the verbatim fields."
    # A DOI's own `%` is encoded too (first), so that the value decodes to the DOI, as the
    # feeds' doi.org link does; a URL's `%` is its own escapes, kept.
    _write(
        session_factory,
        "publications",
        {
            "title": "Percent",
            "slug": "percent",
            "publication_type": "report",
            "status": "published",
            "published_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
            "doi": "10.1000/a{b}c%e",
            "url": "https://example.org/a%20b",
        },
    )
    entry = bibtex_entry(client, "/api/v1/publications/percent/citation")
    assert entry["doi"] == "10.1000/a%7Bb%7Dc%25e"
    assert unquote(entry["doi"]) == "10.1000/a{b}c%e"
    assert entry["url"] == "https://example.org/a%20b"


def test_generational_suffixes_and_post_nominals_in_citations(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    """An author's derived sort name keeps a generational suffix ("King, Martin Luther,
    Jr.") and leaves a post-nominal out ("Doe, Jane"): BibTeX writes the suffix as its
    "Last, Jr, First", RIS as "Last, First, Suffix", CSL-JSON as `suffix`. The author was
    cited as "Jr." and as "PhD" before; a suffix in a sort name set by hand works too."""
    for name, sort_name in (
        ("Martin Luther King Jr.", None),
        ("Jane Doe, PhD", None),
        ("Henry Ford II", "Ford, Henry, II"),
    ):
        _write(session_factory, "people", {"name": name, "sort_name": sort_name})
    _write(
        session_factory,
        "publications",
        {
            "slug": "dream",
            "title": "A Dream",
            "publication_type": "journal_article",
            "status": "published",
            "published_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
            "authors": ["martin-luther-king-jr", "jane-doe-phd", "henry-ford-ii"],
            "year": 1963,
        },
    )
    url = "/api/v1/publications/dream/citation"
    entry = bibtex_entry(client, url)
    assert entry.key == "king1963dream"
    assert [(a.first, a.von, a.last, a.jr) for a in entry["author"]] == [
        (["Martin", "Luther"], [], ["King"], ["Jr."]),
        (["Jane"], [], ["Doe"], []),
        (["Henry"], [], ["Ford"], ["II"]),
    ]
    assert "author = {King, Jr., Martin Luther and Doe, Jane and Ford, II, Henry}" in (
        client.get(url).text
    )
    ris = ris_lines(client, url + "?format=ris")
    assert [v for t, v in ris if t == "AU"] == [
        "King, Martin Luther, Jr.",
        "Doe, Jane",
        "Ford, Henry, II",
    ]
    assert csl(client, url + "?format=csl-json")["author"] == [
        {"family": "King", "given": "Martin Luther", "suffix": "Jr."},
        {"family": "Doe", "given": "Jane"},
        {"family": "Ford", "given": "Henry", "suffix": "II"},
    ]


def test_a_single_name_cites_without_its_post_nominal(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    """ "Cher, PhD" is sorted as "Cher", and cited so: the whole name went out, RIS's
    `AU  - Cher, PhD` is "Last, First" to a reference manager (an author whose given name is
    "PhD", what leaving post-nominals out of sort names is for), BibTeX's `{Cher, PhD}` and
    CSL's literal kept the degree that "Jane Doe, PhD" loses, and so did the cite key. A single name as written stays
    when the sort name was set by hand ("The RAND Corporation" sorted as "RAND Corporation")."""
    _write(session_factory, "people", {"name": "Cher, PhD"})
    _write(
        session_factory,
        "people",
        {"name": "The RAND Corporation", "sort_name": "RAND Corporation"},
    )
    _write(
        session_factory,
        "publications",
        {
            "slug": "believe",
            "title": "Believe",
            "publication_type": "report",
            "status": "published",
            "published_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
            "authors": ["cher-phd", "the-rand-corporation"],
            "year": 1998,
        },
    )
    url = "/api/v1/publications/believe/citation"
    assert bibtex_entry(client, url).key == "cher1998believe"
    assert "author = {{Cher} and {The RAND Corporation}}" in client.get(url).text
    ris = ris_lines(client, url + "?format=ris")
    assert [v for t, v in ris if t == "AU"] == ["Cher", "The RAND Corporation"]
    assert csl(client, url + "?format=csl-json")["author"] == [
        {"literal": "Cher"},
        {"literal": "The RAND Corporation"},
    ]


def bibtex_fields_as_bibtex_reads_them(text: str) -> dict[str, str]:
    """The fields of one entry as BibTeX itself reads them: a braced value ends at the
    brace that balances its opening one, and a backslash does not hide a brace from that
    count (bibtexparser is more lenient: it reads `\\}` as an escaped brace)."""
    head, _, body = text.partition(",\n")
    assert re.fullmatch(r"@[a-z]+\{[^,]+", head), text
    fields: dict[str, str] = {}
    position = 0
    while True:
        found = re.compile(r"\s*([a-z]+) = \{").match(body, position)
        assert found is not None, f"BibTeX expects a field at {body[position : position + 40]!r}"
        depth, start = 1, found.end()
        position = start
        while depth:
            assert position < len(body), "the entry ends inside a field"
            depth += {"{": 1, "}": -1}.get(body[position], 0)
            position += 1
        fields[found[1]] = body[start : position - 1]
        separator = body[position : position + 2]
        assert separator in (",\n", "\n}"), (
            f"BibTeX expected a `,` or a `}}` after {found[1]}, found {body[position : position + 40]!r}"
        )
        position += 2
        if separator == "\n}":
            return fields


def test_a_lone_brace_keeps_the_bibtex_entry_whole(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    """BibTeX counts every brace of a value, escaped or not: a title's lone `}` written
    `\\}` ended the title there, and BibTeX dropped every field after it ("I was expecting a
    `,' or a `}'"). A value whose braces do not pair writes them `\\textbraceleft{}` and
    `\\textbraceright{}`; paired ones stay `\\{...\\}`. `pages` was not escaped at all."""
    _write(session_factory, "people", {"slug": "brace", "name": "Ann {Brace"})
    _write(
        session_factory,
        "publications",
        {
            "slug": "lone",
            "title": "The set } of {all} sets",
            "publication_type": "journal_article",
            "status": "published",
            "published_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
            "authors": ["brace"],
            "journal": "Journal {of Braces",
            "volume": "3}",
            "issue": "{2}",
            "pages": "12}-{15 & 17%",
            "year": 2021,
            "abstract": "Closed } and { opened.",
        },
    )
    text = client.get("/api/v1/publications/lone/citation").text
    fields = bibtex_fields_as_bibtex_reads_them(text)
    assert list(fields) == [
        "author", "title", "journal", "year", "volume", "number", "pages", "abstract",
    ]  # fmt: skip
    assert (
        fields["title"] == r"The set \textbraceright{} of \textbraceleft{}all\textbraceright{} sets"
    )
    assert fields["author"] == r"\textbraceleft{}Brace, Ann"
    assert fields["journal"] == r"Journal \textbraceleft{}of Braces"
    assert fields["volume"] == r"3\textbraceright{}"
    assert fields["number"] == r"\{2\}"  # paired: as before
    assert fields["pages"] == r"12\textbraceright{}--\textbraceleft{}15 \& 17\%"
    assert fields["abstract"] == r"Closed \textbraceright{} and \textbraceleft{} opened."
    assert (
        bibtex_entry(client, "/api/v1/publications/lone/citation")["abstract"]
        == (fields["abstract"])
    )


def test_a_particle_is_cited_as_one(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    """A sort name keeps a particle after the given names ("Beethoven, Ludwig van"), and so
    did BibTeX's "Last, First", where it is part of the first names: abbreviated, the
    author was "L. v. Beethoven" (BibTeX 0.99d, checked). BibTeX now gets its "von Last,
    First" and CSL-JSON its `dropping-particle`; a lowercase given name alone ("hooks,
    bell") and one inside the given names ("María del Carmen") are not particles."""
    for name in (
        "Ludwig van Beethoven",
        "Jan van der Berg Jr.",
        "bell hooks",
        "María del Carmen Ruiz",
    ):
        _write(session_factory, "people", {"name": name})
    _write(
        session_factory,
        "publications",
        {
            "slug": "symphonies",
            "title": "Symphonies",
            "status": "published",
            "published_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
            "authors": [
                "ludwig-van-beethoven",
                "jan-van-der-berg-jr",
                "bell-hooks",
                "maria-del-carmen-ruiz",
            ],
        },
    )
    url = "/api/v1/publications/symphonies/citation"
    entry = bibtex_entry(client, url)
    assert [(a.first, a.von, a.last, a.jr) for a in entry["author"]] == [
        (["Ludwig"], ["van"], ["Beethoven"], []),
        (["Jan"], ["van", "der"], ["Berg"], ["Jr."]),
        (["bell"], [], ["hooks"], []),
        (["María", "del", "Carmen"], [], ["Ruiz"], []),
    ]
    assert "van Beethoven, Ludwig and van der Berg, Jr., Jan and hooks, bell" in (
        client.get(url).text
    )
    assert csl(client, url + "?format=csl-json")["author"] == [
        {"family": "Beethoven", "given": "Ludwig", "dropping-particle": "van"},
        {"family": "Berg", "given": "Jan", "dropping-particle": "van der", "suffix": "Jr."},
        {"family": "hooks", "given": "bell"},
        {"family": "Ruiz", "given": "María del Carmen"},
    ]
    assert [v for t, v in ris_lines(client, url + "?format=ris") if t == "AU"] == [
        "Beethoven, Ludwig van",  # RIS has no particle of its own: as sorted
        "Berg, Jan van der, Jr.",
        "hooks, bell",
        "Ruiz, María del Carmen",
    ]


def test_a_year_and_a_date_of_another_year_make_no_date(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    """`year` (the issue's) and `published_on` (online first, a year before) name two
    dates; the citation took the year from one and the month and day from the other, a
    date that never was (2020-11-02 for a 2020 volume first out on 2019-11-02)."""
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    for slug, year, on in (("apart", 2020, "2019-11-02"), ("same", 2019, "2019-11-02")):
        _write(
            session_factory,
            "publications",
            {
                "slug": slug,
                "title": slug,
                "status": "published",
                "published_at": past,
                "year": year,
                "published_on": on,
            },
        )
    url = "/api/v1/publications/apart/citation"
    assert csl(client, url + "?format=csl-json")["issued"] == {"date-parts": [[2020]]}
    ris = dict(ris_lines(client, url + "?format=ris"))
    assert (ris["PY"], "DA" in ris) == ("2020", False)
    entry = bibtex_entry(client, url)
    assert (entry["year"], "month" in entry.fields_dict) == ("2020", False)
    # The same year: the whole date, as before.
    url = "/api/v1/publications/same/citation"
    assert csl(client, url + "?format=csl-json")["issued"] == {"date-parts": [[2019, 11, 2]]}
    assert dict(ris_lines(client, url + "?format=ris"))["DA"] == "2019/11/02"
    assert bibtex_entry(client, url)["month"] == "nov"


def test_bibtex_months_are_the_month_macros() -> None:
    """`month = {5}` is printed "5" by BibTeX's standard styles ("5 2020"); the month macros
    every style defines, unbraced, are printed "May" (and read as May by Zotero and Biber)."""
    macros = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    for month, macro in enumerate(macros, start=1):
        text = to_bibtex(
            Citation(key="pub_1", publication_type="other", title="T", year=2020, month=month)
        )
        assert f"  month = {macro}\n" in text, text
        assert bibtexparser.parse_string(text).entries[0]["month"] == macro


def test_the_word_and_in_a_name_is_no_second_author(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    """BibTeX splits `author` at the word "and" in any case, outside braces: "Tom and Jerry
    Smith" (sorted "Smith, Tom and Jerry") was two authors, "Smith, Tom" and "Jerry"; a
    derived "Sons, Smith and" made "and" a particle. A name part holding the word is braced
    whole; "Anderson" and "Andrea" hold no such word and stay as they were."""
    for name, sort_name in (
        ("Tom and Jerry Smith", None),
        ("Smith and Sons", None),  # derived "Sons, Smith and": an editor should set it
        ("Ann AND Bob", None),
        ("Jo Smith and Sons", "Smith and Sons, Jo"),
        ("Andrea Anderson", None),
    ):
        _write(session_factory, "people", {"name": name, "sort_name": sort_name})
    _write(
        session_factory,
        "publications",
        {
            "slug": "cartoons",
            "title": "Cartoons",
            "status": "published",
            "published_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
            "authors": [
                "tom-and-jerry-smith",
                "smith-and-sons",
                "ann-and-bob",
                "jo-smith-and-sons",
                "andrea-anderson",
            ],
            "year": 2020,
        },
    )
    url = "/api/v1/publications/cartoons/citation"
    text = client.get(url).text
    assert (
        "author = {Smith, {Tom and Jerry} and Sons, {Smith and} and Bob, {Ann AND} and "
        "{Smith and Sons}, Jo and Anderson, Andrea}"
    ) in text
    entry = bibtex_entry(client, url)
    assert [(a.first, a.von, a.last) for a in entry["author"]] == [
        (["{Tom and Jerry}"], [], ["Smith"]),
        (["{Smith and}"], [], ["Sons"]),
        (["{Ann AND}"], [], ["Bob"]),
        (["Jo"], [], ["{Smith and Sons}"]),
        (["Andrea"], [], ["Anderson"]),
    ]


def test_a_keyword_with_a_comma_is_one_keyword(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    """Keywords are BibLaTeX's comma-separated list, so the topic "Crime, Organized" was
    two keywords, "Crime" and "Organized". It is braced, BibTeX's one grouping (Zotero's
    and Biber's BibTeX readers split it all the same); RIS gives each keyword a `KW` line of
    its own."""
    _write(session_factory, "topics", {"slug": "crime", "name": "Crime, Organized"})
    _write(session_factory, "topics", {"slug": "fx", "name": "R&D; 100%"})
    _write(session_factory, "topics", {"slug": "mexico", "name": "Mexico"})
    _write(
        session_factory,
        "publications",
        {
            "slug": "tagged",
            "title": "Tagged",
            "status": "published",
            "published_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
            "topics": ["crime", "fx", "mexico"],
        },
    )
    url = "/api/v1/publications/tagged/citation"
    assert "  keywords = {{Crime, Organized}, {R\\&D; 100\\%}, Mexico}\n" in client.get(url).text
    assert bibtex_entry(client, url)["keywords"] == "{Crime, Organized}, {R\\&D; 100\\%}, Mexico"
    ris = ris_lines(client, url + "?format=ris")
    assert [v for t, v in ris if t == "KW"] == ["Crime, Organized", "R&D; 100%", "Mexico"]


# A style that prints, for each title, book title and series, "same" when BibTeX's
# sentence case (`"t" change.case$`, as the standard styles set an article's title) leaves
# it as it is, and the changed text otherwise.
_CASE_BST = """
ENTRY { title booktitle series } {} {}
STRINGS { changed }
FUNCTION {show}
{ duplicate$ empty$
    'pop$
    { duplicate$ "t" change.case$ 'changed :=
      changed =
        { "same" }
        { changed }
      if$
      write$ newline$
    }
  if$
}
FUNCTION {fields} { title show booktitle show series show }
FUNCTION {article} { fields }
FUNCTION {book} { fields }
FUNCTION {incollection} { fields }
FUNCTION {default.type} { fields }
READ
ITERATE {call.type$}
"""


def run_bibtex(tmp_path: Path, style: str, entries: str) -> list[str]:
    """The lines BibTeX 0.99 writes for `entries` with a style, long ones joined."""
    (tmp_path / "check.bst").write_text(style)
    (tmp_path / "entry.bib").write_text(entries)
    (tmp_path / "entry.aux").write_text("\\citation{*}\n\\bibdata{entry}\n\\bibstyle{check}\n")
    run = subprocess.run(
        ["bibtex", "-terse", "entry"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    # BibTeX breaks a line past 79 characters at a space and indents the rest by two.
    return (tmp_path / "entry.bbl").read_text().replace("\n  ", " ").splitlines()


@pytest.mark.skipif(not shutil.which("bibtex"), reason="needs bibtex (texlive-binaries)")
def test_bibtex_sentence_case_keeps_proper_nouns(tmp_path: Path) -> None:
    """A style setting titles in sentence case printed "... extortion in mexico's drug war"
    (and biblatex's `\\MakeSentenceCase` the same): every word with a capital is braced,
    but the first when only its first letter is one, and BibTeX changes none of them. A
    chapter's book title and a book's series are braced too; a journal's name is not (no
    style changes its case)."""
    titles = [
        TITLE,
        "“Iran” and the iPhone: DNA of R&D in São Paulo",
        "Émile Zola’s Ökonomie, {Braces} and 100% #1",
        "Living in fear: the case of Iran",
        # A brace before another of TeX's special characters: escaped, `\{\$`, whose `{\`
        # BibTeX reads as a "special character", and lowercased the capitals inside it.
        "On {$P$} and NP, {#1 Hits} and {\\LaTeX} in {{Mexico}}",
    ]
    citations = [
        Citation(key=f"pub_{i}", publication_type="journal_article", title=title, year=2020)
        for i, title in enumerate(titles)
    ]
    citations.append(
        Citation(
            key="pub_8",
            publication_type="book_chapter",
            title="Kidnapping in Mexico",
            container="Organized Crime in Latin America",
        )
    )
    citations.append(
        Citation(key="pub_9", publication_type="book", title="Iran", container="Studies of Iran")
    )
    # Distinct keys: the entries share first word and year.
    entries = [
        to_bibtex(c).replace("@article{2020", f"@article{{k{i}", 1) for i, c in enumerate(citations)
    ]
    lines = run_bibtex(tmp_path, _CASE_BST, "\n".join(entries))
    assert lines == ["same"] * 9
    assert "journal = {Organized Crime" not in "".join(entries)
    assert "booktitle = {Organized {Crime} in {Latin} {America}}" in entries[5]
    assert "series = {Studies of {Iran}}" in entries[6]
    for citation, entry in zip(citations, entries, strict=True):
        decoded = bibtexparser.parse_string(
            entry, append_middleware=[LatexDecodingMiddleware()]
        ).entries[0]
        assert decoded["title"].replace("\u02c6", "^") == citation.title


# A style that prints how BibTeX itself splits `author` into names ("First|von|Last"
# each), then the month.
_NAMES_BST = """
ENTRY { author month } {} {}
MACRO {may} {"May"}
INTEGERS { n i }
FUNCTION {not} { { #0 } { #1 } if$ }
FUNCTION {names}
{ author num.names$ 'n :=
  #1 'i :=
  { n i < not }
  { author i "{ff}|{vv}|{ll}" format.name$ write$ newline$
    i #1 + 'i := }
  while$
  month write$ newline$
}
FUNCTION {misc} { names }
FUNCTION {default.type} { names }
READ
ITERATE {call.type$}
"""


@pytest.mark.skipif(not shutil.which("bibtex"), reason="needs bibtex (texlive-binaries)")
def test_bibtex_itself_reads_each_author_once(tmp_path: Path) -> None:
    """BibTeX 0.99, not a parser's idea of it: one name per author, whatever "and" or comma
    their parts hold, and the month macro expands."""
    authors = [
        ("Tom and Jerry Smith", None),
        ("Smith and Sons", None),
        ("Ann AND Bob", None),
        ("Jo Smith and Sons", "Smith and Sons, Jo"),
        ("Ann Lee", "Lee, Ann"),
        ("Jan van der Berg Jr.", None),
        ("Anne Lee", "Lee, Anne, and Co"),
    ]
    citation = Citation(
        key="pub_1",
        publication_type="other",
        title="T",
        authors=[Name.of(n, s or derive_sort_name(n)) for n, s in authors],
        month=5,
        year=2020,
    )
    (tmp_path / "names.bst").write_text(_NAMES_BST)
    (tmp_path / "entry.bib").write_text(to_bibtex(citation))
    (tmp_path / "entry.aux").write_text("\\citation{*}\n\\bibdata{entry}\n\\bibstyle{names}\n")
    run = subprocess.run(
        ["bibtex", "-terse", "entry"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert (tmp_path / "entry.bbl").read_text().splitlines() == [
        "{Tom and Jerry}||Smith",
        "{Smith and}||Sons",
        "{Ann AND}||Bob",
        "Jo||{Smith and Sons}",
        "Ann||Lee",
        "Jan|van~der|Berg",  # BibTeX ties the words of a part
        "Anne||Lee",
        "May",
    ]


# A style that prints each author's abbreviated given names, given names and family name,
# as BibTeX itself makes them.
_INITIALS_BST = """
ENTRY { author } {} {}
INTEGERS { n i }
FUNCTION {not} { { #0 } { #1 } if$ }
FUNCTION {names}
{ author num.names$ 'n :=
  #1 'i :=
  { n i < not }
  { author i "{f.}|{ff}|{vv~}{ll}" format.name$ write$ newline$
    i #1 + 'i := }
  while$
}
FUNCTION {misc} { names }
FUNCTION {default.type} { names }
READ
ITERATE {call.type$}
"""
INITIALS = [
    "Émile Zola",
    "Jean-Émile Marie Dupont",
    "Øystein Ore",
    "Štefan Banič",
    "Ödön von Horváth",
    "Ana María Díaz-Cayeros",
]


def _initials_citation() -> Citation:
    return Citation(
        key="pub_1",
        publication_type="other",
        title="T",
        authors=[Name.of(n, derive_sort_name(n)) for n in INITIALS],
    )


@pytest.mark.skipif(not shutil.which("bibtex"), reason="needs bibtex (texlive-binaries)")
def test_bibtex_initials_of_a_multibyte_letter(tmp_path: Path) -> None:
    """BibTeX 0.99 reads UTF-8 a byte at a time: the initial of "Émile" was the first byte of
    É alone (`\\xc3.`), not a character at all, in every style that abbreviates given names.
    A given name's first letter is written as LaTeX's special character (`{\\'E}mile`), which
    BibTeX copies whole; the rest of the name stays UTF-8."""
    lines = run_bibtex(tmp_path, _INITIALS_BST, to_bibtex(_initials_citation()))
    assert lines == [
        "{\\'E}.|{\\'E}mile|Zola",
        "J.-{\\'E}.~M.|Jean-{\\'E}mile~Marie|Dupont",
        "{\\O}.|{\\O}ystein|Ore",
        "{\\v{S}}.|{\\v{S}}tefan|Banič",
        '{\\"O}.|{\\"O}dön|von Horváth',
        "A.~M.|Ana~María|Díaz-Cayeros",
    ]


def test_bibtex_initials_read_back_as_written() -> None:
    """The LaTeX initial decodes to the name as written (bibtexparser's LaTeX decoding, as
    Biber's and Zotero's BibTeX import do; Biber 2.18 makes its initial "É." too)."""
    text = to_bibtex(_initials_citation())
    assert "Zola, {\\'E}mile and Dupont, Jean-{\\'E}mile Marie" in text
    assert "Díaz-Cayeros, Ana María" in text  # only a given name's first letters change
    entry = bibtexparser.parse_string(
        text, append_middleware=[LatexDecodingMiddleware(), SeparateCoAuthors(), SplitNameParts()]
    ).entries[0]
    assert [" ".join(a.first + a.von + a.last) for a in entry["author"]] == INITIALS


def _has_biblatex() -> bool:
    if not (shutil.which("biber") and shutil.which("latex") and shutil.which("kpsewhich")):
        return False
    found = subprocess.run(["kpsewhich", "biblatex.sty"], capture_output=True, check=False)
    return bool(found.stdout.strip())


_BIBLATEX_DOCUMENT = r"""\documentclass{article}
\usepackage[utf8]{inputenc}
\usepackage[backend=biber]{biblatex}
\addbibresource{entry.bib}
\begin{document}
\nocite{*}
\printbibliography
\end{document}
"""


@pytest.mark.skipif(not _has_biblatex(), reason="needs biber, latex and biblatex")
def test_biber_reads_initials_and_braced_titles(tmp_path: Path) -> None:
    """Biber (through biblatex) reads a LaTeX initial back as the letter, and makes its
    initial from it; a title's braces reach biblatex, whose sentence case keeps them."""
    citation = _initials_citation()
    citation.title = "Living in Fear: Mexico's Drug War"
    (tmp_path / "entry.bib").write_text(to_bibtex(citation))
    (tmp_path / "doc.tex").write_text(_BIBLATEX_DOCUMENT)
    for command in (["latex", "-interaction=nonstopmode", "doc"], ["biber", "doc"]):
        run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr
    bbl = (tmp_path / "doc.bbl").read_text()
    given = re.findall(r"\bgiven=\{(.*)\},\n", bbl)
    initials = re.findall(r"\bgiveni=\{(.*)\}(?:,\n|\}\}%)", bbl)
    assert given == [
        "Émile",
        "Jean-Émile\\bibnamedelima Marie",
        "{Ø}ystein",  # Biber keeps a letter macro's braces: the same letter printed
        "Štefan",
        "Ödön",
        "Ana\\bibnamedelima María",
    ]
    assert [i.replace("\\bibinitperiod", ".") for i in initials] == [
        "É.",
        "J\\bibinithyphendelim É.\\bibinitdelim M.",
        "Ø.",
        "Š.",
        "Ö.",
        "A.\\bibinitdelim M.",
    ]
    assert "\\field{title}{Living in {Fear}: {Mexico}'s {Drug} {War}}" in bbl
