"""`GET /api/v1/publications/{id_or_slug}/citation`: BibTeX, RIS or CSL-JSON of a publication."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from app.config import Settings
from app.content.queries import get_item
from app.content.relations import RELATIONS
from app.content.types import PUBLICATION
from app.content.visibility import Viewer
from app.feeds.bibliography import (
    EXTENSIONS,
    MEDIA_TYPES,
    Citation,
    CitationFormat,
    Name,
    cite_key,
    render,
)
from app.feeds.sources import usable_key
from app.feeds.urls import site_link
from app.http.caching import cacheable_response, is_private, surrogate_keys
from app.http.deps import SessionDep, SettingsDep
from app.http.errors import NotFound, no_item, problem_responses
from app.http.viewer import ViewerDep
from app.models import Publication
from app.rest.params import QueryParam, StrictQuery

router = APIRouter(tags=["publications"])

CITATION_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The citation in the requested format.",
        "content": {
            "application/x-bibtex": {"schema": {"type": "string"}},
            "application/x-research-info-systems": {"schema": {"type": "string"}},
            "application/vnd.citationstyles.csl+json": {
                "schema": {"type": "array", "items": {"type": "object"}}
            },
        },
    },
    304: {"description": "Not Modified: the `If-None-Match` ETag is current."},
    **problem_responses(400, 401, 403, 404),
}


def citation_of(
    session: Session, settings: Settings, row: Publication, viewer: Viewer
) -> tuple[Citation, list[str]]:
    """The citation data of a publication, and the public ids it shows (for Surrogate-Key)."""
    authors = (
        RELATIONS["publication"]["authors"].loader(session, [row], viewer).get(row.id or 0, [])
    )
    topics = RELATIONS["publication"]["topics"].loader(session, [row], viewer).get(row.id or 0, [])
    citation = citation_from_rows(
        settings, row, [link.target for link in authors], [link.target for link in topics]
    )
    ids = [citation.key]
    ids += [f"per_{link.target.id}" for link in authors]
    ids += [f"top_{link.target.id}" for link in topics]
    return citation, ids


def citation_from_rows(
    settings: Settings, row: Any, authors: list[Any], topics: list[Any]
) -> Citation:
    """The citation data of a publication row, with its shown authors (in order: their
    `name` and `sort_name`) and topics (their `name`), as REST and GraphQL load them."""
    published_on = row.published_on
    year = row.year or (published_on.year if published_on else None)
    if published_on is not None and published_on.year != year:
        # `year` (the issue's) and `published_on` (online first, say) are two dates: the
        # month and day of one do not go with the year of the other.
        published_on = None
    return Citation(
        key=PUBLICATION.public_id(row.id or 0),
        publication_type=row.publication_type,
        title=row.title,
        authors=[Name.of(person.name, person.sort_name) for person in authors],
        container=row.journal,
        publisher=row.publisher,
        volume=row.volume,
        issue=row.issue,
        pages=row.pages,
        year=year,
        month=published_on.month if published_on else None,
        day=published_on.day if published_on else None,
        doi=row.doi,
        # Given relative to the site, it is cited whole: a reference manager has no base.
        url=site_link(settings, row.url),
        abstract=row.abstract,
        keywords=[topic.name for topic in topics],
    )


@router.get(
    "/api/v1/publications/{id_or_slug}/citation",
    summary="Cite a publication",
    response_class=Response,
    responses=CITATION_RESPONSES,
    # As every REST read: `format=bibtex&format=ris` is 400, not the last one silently.
    dependencies=[Depends(StrictQuery([QueryParam("format", "", {"type": "string"})]))],
)
def publication_citation(
    id_or_slug: Annotated[
        str, Path(description="The publication's id (`pub_1`) or slug.", max_length=200)
    ],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    citation_format: Annotated[
        CitationFormat,
        Query(
            alias="format",
            description="`bibtex` (`application/x-bibtex`), `ris` "
            "(`application/x-research-info-systems`) or `csl-json` "
            "(`application/vnd.citationstyles.csl+json`).",
        ),
    ] = CitationFormat.bibtex,
    preview: Annotated[
        bool | None,
        Query(
            description="`true` cites a draft or scheduled publication too; needs an API key "
            "with the `content:preview` scope. Responses are then `private, no-store`.",
        ),
    ] = None,  # read by the viewer dependency; declared here to be documented
) -> Response:
    """The publication as a reference-manager entry, with authors in order and names intact.

    Entry types follow the publication type: a journal article is `@article` / `TY  - JOUR` /
    `article-journal`; a book `@book` / `BOOK` / `book`; a chapter `@incollection` / `CHAP` /
    `chapter`; reports, policy briefs and working papers `@techreport` / `RPRT` / `report`
    (with their kind as `type` / `M3` / `genre`); research projects `@misc` / `RPRT` /
    `document` (with "Research project" as `note` / `M3` / `genre`); other works `@misc` /
    `GEN` / `document`. In RIS, `T2` is the journal, the book of a chapter or the series of a
    book or report, and the issue is a book's or chapter's number in its series (`M1`, `SV`)
    or a report's number (`SN`), as Zotero reads them; in CSL-JSON a book's or report's series
    is `collection-title`, a book's or chapter's number in it `collection-number` and a
    report's number `number`. BibTeX is UTF-8 with only TeX's special characters escaped,
    but for the accented first letter of a given name (`{\\'E}mile`: BibTeX 0.99 reads UTF-8 a
    byte at a time, and abbreviated "É" to a broken byte; Biber reads it as É). In its title,
    a chapter's book title and a book's series every word with a capital is braced (`Living
    in {Fear}: ... {Mexico}'s`), as Zotero's BibTeX export does, so that styles setting titles
    in sentence case keep proper nouns and acronyms. Its `month` is the month's macro
    (`month = may`), and `keywords` (the topics) a comma-separated list in which a topic
    holding a comma is braced (`{Crime, Organized}`); Zotero and Biber split it at the comma
    all the same, and keep it whole from RIS (one `KW` per topic) when the publication has
    other topics.
    Unknown format: 400; unknown publication: 404.
    """
    row = get_item(session, PUBLICATION, id_or_slug, viewer) if usable_key(id_or_slug) else None
    if not isinstance(row, Publication):
        raise NotFound(no_item(PUBLICATION.name, PUBLICATION.collection, id_or_slug))
    citation, ids = citation_of(session, settings, row, viewer)
    filename = f"{cite_key(citation)}.{EXTENSIONS[citation_format]}"
    return cacheable_response(
        request,
        render(citation, citation_format),
        media_type=MEDIA_TYPES[citation_format],
        max_age=settings.cache_max_age,
        private=is_private(request, viewer.preview),
        keys=surrogate_keys(ids, ["publications"]),
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )
