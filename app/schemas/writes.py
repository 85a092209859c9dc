"""What clients may write: one model per collection, in the REST write shape.

Relations are given by slug or public id. A PATCH is applied as a JSON merge patch to
the item's current write shape and the result is validated with the same model, so a
patched item obeys exactly the rules a new one does.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from functools import cache
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from app.content.text import ALLOWED_TAGS, RICH_TEXT_MAX
from app.schemas import Schema

T = TypeVar("T", bound=Any)

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=200)]
Ref = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
# An absolute http(s) URL with a host, and an email address: in `Url` and `Email` below, and
# for a resource contact of those kinds (`ResourceContact`).
# None of them holds a space, `"`, `<`, `>` or a backtick (RFC 3986 has them
# percent-encoded): `/img/x.jpg"><script>…` was stored, and a front end writing it into an
# attribute unescaped ran it.
_URL_TEXT = r"[^\s\"<>`]"
WEB_ADDRESS = rf"https?://[^/\s?#@\"<>`]+(?:[/?#]{_URL_TEXT}*)?"
EMAIL_ADDRESS = r"[^@\s\"<>`]+@[^@\s\"<>`]+\.[^@\s\"<>`]+"
# An absolute http(s) URL with a host, a path on the public site (`/events/x`; not `//x`
# nor `/\x`, which browsers read as another host), or a mailto: address.
URL_PATTERN = rf"^({WEB_ADDRESS}|/(?:[^/\\\s\"<>`]{_URL_TEXT}*)?|mailto:{EMAIL_ADDRESS})$"
Url = Annotated[str, StringConstraints(max_length=500, pattern=URL_PATTERN)]
EMAIL_PATTERN = rf"^{EMAIL_ADDRESS}$"
Email = Annotated[str, StringConstraints(max_length=300, pattern=EMAIL_PATTERN)]
DOI_PATTERN = r"^10\.\S+/\S+$"
# What a 422 says when a value does not match one of the patterns above: pydantic's own
# message quotes the regular expression, which tells an editor nothing.
PATTERN_MESSAGES = {
    SLUG_PATTERN: "must be lowercase ASCII letters and digits, in words joined by single "
    "hyphens, e.g. 'abbas-milani'",
    URL_PATTERN: "must be an http:// or https:// address with a host, a path on the public "
    "site starting with '/', or a mailto: address, without spaces, quotes, '<', '>' or '`' "
    "(percent-encode them)",
    EMAIL_PATTERN: "is not an email address (name@example.org; no spaces, quotes, '<', '>' or '`')",
    DOI_PATTERN: "must be a DOI such as 10.1000/182 (without https://doi.org/)",
}
# What the OpenAPI document says of the fields an editor writes (`/docs`).
BY_SLUG_OR_ID = "by slug or id (`abbas-milani` or `per_4`); an unknown or deleted one is 422"
RICH_TEXT = (
    "Rich text: HTML, sanitized when written. Kept: "
    + ", ".join(f"`<{tag}>`" for tag in sorted(ALLOWED_TAGS))
    + "; other tags are dropped (their text kept, a script's not), and so are event-handler "
    "and style attributes and `javascript:` URLs. Its plain text is derived beside it."
)
SLUG = (
    "URL-safe ASCII: lowercase letters and digits in words joined by single hyphens "
    "(`abbas-milani`). Left out of a create: derived from the title, name or text, "
    "transliterated from any script, with `-2`, `-3`… added when taken. A slug that "
    "another item of this type holds, or held before it was deleted, is 409 (a deleted "
    "item's slug is never reused). A PATCH renames the item: its old slug then finds "
    "nothing (404) and is free for another item; its id never changes (keep ids, not "
    "slugs, to follow an item)."
)
STATUS = (
    "`draft` (the default): seen by editors and previews only; `published`: public from "
    "`published_at` on; `archived`: taken off the public surfaces, kept."
)
PUBLISHED_AT = (
    "When the item is (or was) published, with a UTC offset. A future time schedules a "
    "published item: it goes public then by itself, no write needed. Left out when a draft "
    "without one is published: the time of that write. A published item always has one "
    "(`null`: 422)."
)
Short = Annotated[str, StringConstraints(max_length=300)]
Line = Annotated[str, StringConstraints(max_length=500)]
Text = Annotated[str, StringConstraints(max_length=RICH_TEXT_MAX)]


def _not_blank(value: str) -> str:
    """Something to read: a letter, digit, punctuation mark or symbol. Spaces, zero-width
    characters and lone combining marks are blank."""
    if not any(unicodedata.category(char)[0] in "LNPS" for char in value):
        raise ValueError("must not be blank")
    return value


NOT_BLANK = AfterValidator(_not_blank)


def _not_before(value: T, info: ValidationInfo, earlier: str) -> T:
    """A field validator's check that `value` is not before the field `earlier` (declared
    first, so already validated): the 422 names this field."""
    first = info.data.get(earlier)
    if value is not None and first is not None and value < first:
        raise ValueError(f"is before {earlier}")
    return value


# The years a written time may fall in, as the year fields (`start_year`, `year`) allow:
# every real date, and none near the ends of Python's calendar, where a day's arithmetic
# (a calendar's time zone span, a local time) would overflow.
FIRST_YEAR, LAST_YEAR = 1000, 2999


def _aware(value: datetime) -> datetime:
    """With a UTC offset (API.md: "ISO 8601 with offset") and representable in UTC (stored
    that way). A time without one is refused, not read as UTC: an editor typing an event's
    local wall-clock time would silently get it hours off."""
    if value.tzinfo is None:
        raise ValueError(
            "needs a UTC offset, e.g. 2026-12-03T12:00:00-08:00 or 2026-12-03T20:00:00Z"
        )
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range once converted to UTC") from None
    if not FIRST_YEAR <= utc.year <= LAST_YEAR:
        raise ValueError(f"must fall between the years {FIRST_YEAR} and {LAST_YEAR} (in UTC)")
    return value


def _calendar_text(value: Any) -> Any:
    """A date or time is sent as ISO 8601 text (`2026-12-03…`), not as a number: pydantic
    would read `1893456000` as seconds since 1970, past the offset rule above."""
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    raise ValueError("must be ISO 8601 text, e.g. 2026-12-03T12:00:00-08:00 (a date: 2026-12-03)")


def _in_written_years(value: date) -> date:
    """A date in the years a written time may fall in (`FIRST_YEAR`, `LAST_YEAR`)."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"must fall between the years {FIRST_YEAR} and {LAST_YEAR}")
    return value


_ISO_DATE = re.compile(r"\s*[0-9]{4}-[0-9]{2}-[0-9]{2}")
AwareDatetime = Annotated[datetime, BeforeValidator(_calendar_text), AfterValidator(_aware)]
IsoDate = Annotated[date, BeforeValidator(_calendar_text), AfterValidator(_in_written_years)]
# JSON `true`/`false` and whole numbers only: pydantic would take `"yes"` as true and
# `true` as 1.
Flag = StrictBool
Number = StrictInt
Status = Literal["draft", "published", "archived"]


# Files of the time zone database that are not zones: the host's own (`localtime`), a
# placeholder (`Factory`) and a rule template (`posixrules`).
_NOT_ZONES = frozenset({"localtime", "Factory", "posixrules"})


@cache
def iana_zones() -> frozenset[str]:
    """The IANA zone names this machine knows (`Europe`, a directory, is not one)."""
    return frozenset(available_timezones()) - _NOT_ZONES


class WriteModel(Schema):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    slug: Slug | None = Field(default=None, description=SLUG)
    topics: list[Ref] = Field(
        default_factory=list,
        max_length=50,
        description=f'The topics it is tagged with, {BY_SLUG_OR_ID}: `["kidnapping"]`.',
    )


class PublishableWrite(WriteModel):
    status: Status = Field(default="draft", description=STATUS)
    published_at: AwareDatetime | None = Field(default=None, description=PUBLISHED_AT)

    @model_validator(mode="after")
    def _published_needs_time(self) -> PublishableWrite:
        if self.status == "published" and self.published_at is None:
            self.published_at = datetime.now(UTC)
        return self


class TopicWrite(WriteModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200), NOT_BLANK] = Field(
        description='As pages show it: "Kidnapping".'
    )
    description: Text | None = Field(default=None, description="Plain text.")
    topics: list[Ref] = Field(
        default_factory=list, max_length=0, description="A topic is tagged with none."
    )


class OrganizationWrite(WriteModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=300), NOT_BLANK]
    short_name: Annotated[str, StringConstraints(max_length=60)] | None = Field(
        default=None, description='e.g. "CDDRL"'
    )
    url: Url | None = None
    parent: Ref | None = Field(
        default=None,
        description=f"The organization it is part of, {BY_SLUG_OR_ID}; never itself or one "
        "of its own parts (422).",
    )


class Photo(Schema):
    model_config = ConfigDict(extra="forbid")
    url: Url
    alt: Line | None = None
    credit: Short | None = None


class AffiliationWrite(Schema):
    model_config = ConfigDict(extra="forbid")
    organization: Ref = Field(description=f"The organization, {BY_SLUG_OR_ID}.")
    role: Annotated[str, StringConstraints(min_length=1, max_length=300), NOT_BLANK] = Field(
        description='e.g. "W. Glenn Campbell National Fellow"'
    )
    start_year: Annotated[Number, Field(ge=1000, le=3000)] | None = None
    end_year: Annotated[Number, Field(ge=1000, le=3000)] | None = None
    is_current: Flag | None = Field(
        default=None,
        description="Whether the person holds it now. Left out (or null): true without an "
        "`end_year`, false with one. False without an `end_year`: it has ended, the year "
        'unknown ("former Chief Operating Officer of Meta"). Never true with an `end_year` '
        "(422).",
    )
    is_primary: Flag = False

    @field_validator("end_year")
    @classmethod
    def _years_in_order(cls, value: int | None, info: ValidationInfo) -> int | None:
        return _not_before(value, info, "start_year")

    @field_validator("is_current")
    @classmethod
    def _ended_when_it_ended(cls, value: bool | None, info: ValidationInfo) -> bool | None:
        if value and info.data.get("end_year") is not None:
            raise ValueError("an affiliation with an end_year has ended: false, or leave it out")
        return value

    @model_validator(mode="after")
    def _current_without_end(self) -> AffiliationWrite:
        if self.is_current is None:
            self.is_current = self.end_year is None
        return self


class PersonWrite(WriteModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200), NOT_BLANK]
    sort_name: Annotated[str, StringConstraints(min_length=1, max_length=200), NOT_BLANK] | None = (
        Field(
            default=None,
            description='"Family, Given", or "Family, Given, Suffix" with a generational '
            'suffix ("King, Martin Luther, Jr."); it orders people and names authors in '
            "citations (BibTeX, RIS and CSL-JSON read the family and given names from it). "
            "Derived from the name when not given (and again when the name changes, if it "
            "was derived), by one rule that knows nothing of languages: the last word is the "
            'family name ("Jane Doe" -> "Doe, Jane"), a trailing "Jr.", "Sr.", "II", "III" or '
            '"IV" is kept last, degrees after a comma ("Jane Doe, PhD") are left out, and a '
            'name written family name first with a comma ("Doe, Jane") is kept. **Set it** '
            "whenever the family name is not the last word, or the derived value would cite "
            'the person wrongly: a name written family name first ("Xi Jinping" derives '
            '"Jinping, Xi": set "Xi, Jinping"), a family name of several words ("Ana García '
            'Márquez" derives "Márquez, Ana García": set "García Márquez, Ana"), an '
            "organisation or group listed as a person (set the name to sort by with no comma, "
            '"Example Foundation" for "The Example Foundation": citations then name it whole). '
            "A sort name you set is kept when the name changes: update it too.",
        )
    )
    title: Line | None = Field(
        default=None, description='Headline under the name: "Research Fellow, Hoover Institution".'
    )
    degrees: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, description='e.g. "MA, PhD"'
    )
    bio: Text | None = Field(default=None, description=RICH_TEXT)
    photo: Photo | None = None
    email: Email | None = None
    phone: Annotated[str, StringConstraints(max_length=100)] | None = None
    office: Line | None = Field(default=None, description="The office address; line breaks kept.")
    profile_url: Url | None = None
    cv_url: Url | None = None
    affiliations: list[AffiliationWrite] = Field(
        default_factory=list,
        max_length=50,
        description="Roles at organizations, current and former, in the order shown.",
    )


class HeroImage(Schema):
    model_config = ConfigDict(extra="forbid")
    url: Url
    alt: Annotated[str, StringConstraints(max_length=1000)] | None = None
    caption: Annotated[str, StringConstraints(max_length=2000)] | None = None
    credit: Short | None = None


class RelatedRef(Schema):
    model_config = ConfigDict(extra="forbid")
    type: Literal["article", "event", "publication", "quote", "resource"]
    slug: Ref = Field(description="The item's slug, or its id (`evt_3`).")


class ArticleWrite(PublishableWrite):
    title: Annotated[str, StringConstraints(min_length=1, max_length=500), NOT_BLANK]
    subtitle: Text | None = None
    article_type: Literal["news", "commentary", "interview", "analysis", "announcement"] = "news"
    authors: list[Ref] = Field(
        default_factory=list,
        max_length=50,
        description=f"The people who wrote it, in byline order, {BY_SLUG_OR_ID}.",
    )
    byline: Line | None = Field(
        default=None, description="Free text, for authors who are not in the directory."
    )
    body: Text | None = Field(
        default=None,
        description=RICH_TEXT + " Its pull quotes are not written here: each is a quote "
        "that names the article, placed among the body's blocks by its `after_block`.",
    )
    hero_image: HeroImage | None = None
    resources: list[Ref] = Field(
        default_factory=list,
        max_length=50,
        description=f"Support resources listed with it, in order, {BY_SLUG_OR_ID}.",
    )
    related: list[RelatedRef] = Field(
        default_factory=list,
        max_length=50,
        description='"Read more" items of any type, in order: `{"type": "article", "slug": "…"}`.',
    )


AFTER_BLOCK = (
    "Where the quote stands in its article's body: after this many of the body's top-level "
    "blocks (0: before the first). A block is a top-level element of the body, as a "
    "browser's DOM lists them (`children`); text between elements is none. It must not "
    "exceed the body's number of blocks (422), needs `article`, and is given again when "
    "the quote moves to another article. When the article's body changes, the quote "
    "follows the block it stood after. Null: not placed in the body."
)


class QuoteWrite(PublishableWrite):
    text: Annotated[str, StringConstraints(min_length=1, max_length=5000), NOT_BLANK] = Field(
        description="The words quoted, without quotation marks."
    )
    speaker: Ref | None = Field(default=None, description=f"The person quoted, {BY_SLUG_OR_ID}.")
    attribution: Line | None = Field(
        default=None, description='As shown under the speaker\'s name: "Founder, LeanIn.org".'
    )
    article: Ref | None = Field(
        default=None, description=f"The article it is a pull quote of, {BY_SLUG_OR_ID}."
    )
    position: Annotated[Number, Field(ge=0, le=100_000)] = Field(
        default=0, description="Order among its article's quotes, smallest first."
    )
    after_block: Annotated[Number, Field(ge=0, le=100_000)] | None = Field(
        default=None,
        description=AFTER_BLOCK,
    )


class Venue(Schema):
    model_config = ConfigDict(extra="forbid")
    name: Short | None = None
    address: Line | None = None


class ParticipantWrite(Schema):
    model_config = ConfigDict(extra="forbid")
    person: Ref = Field(description=f"The person, {BY_SLUG_OR_ID}.")
    role: Literal["speaker", "moderator", "host", "panelist", "discussant", "organizer"]
    title: Line | None = Field(
        default=None,
        description="The person's title as this event presents it (the lines under the name "
        "on its card), when it differs from their profile's.",
    )


class EventWrite(PublishableWrite):
    title: Annotated[str, StringConstraints(min_length=1, max_length=500), NOT_BLANK]
    subtitle: Text | None = None
    event_type: Literal[
        "seminar", "conference", "panel", "lecture", "screening", "workshop", "other"
    ] = "other"
    summary: Text | None = Field(default=None, description="Plain text.")
    body: Text | None = Field(default=None, description=RICH_TEXT)
    starts_at: AwareDatetime = Field(
        description="With a UTC offset (`2026-12-03T12:00:00-08:00`); stored in UTC."
    )
    ends_at: AwareDatetime | None = Field(default=None, description="Not before `starts_at`.")
    timezone: Annotated[str, StringConstraints(max_length=64)] = Field(
        default="UTC",
        description="The IANA time zone the event is in (`America/Los_Angeles`): calendars "
        "show its times there.",
    )
    attendance_mode: Literal["in_person", "online", "hybrid"] = "in_person"
    event_status: Literal["scheduled", "cancelled", "postponed", "rescheduled"] = "scheduled"
    venue: Venue | None = None
    online_url: Url | None = None
    online_platform: (
        Annotated[str, StringConstraints(min_length=1, max_length=100), NOT_BLANK] | None
    ) = Field(
        default=None,
        description='What an online or hybrid event is attended on, e.g. "Zoom" (the page\'s '
        '"Zoom Only"), with or without its `online_url`. Not for an in-person event (422).',
    )
    registration_url: Url | None = None
    hero_image: HeroImage | None = Field(
        default=None, description="The event's lead image (a photo shown above its text)."
    )
    participants: list[ParticipantWrite] = Field(
        default_factory=list,
        max_length=100,
        description="Speakers, moderators, hosts… in the order shown; a person may have "
        "several roles, each once.",
    )
    sponsors: list[Ref] = Field(
        default_factory=list,
        max_length=50,
        description=f"The organizations that host or sponsor it, {BY_SLUG_OR_ID}.",
    )

    # Field validators, not a model's: the 422 names the field (`loc`), for forms.
    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in iana_zones():
            raise ValueError(f"'{value}' is not an IANA time zone") from None
        return value

    @field_validator("ends_at")
    @classmethod
    def _ends_after_start(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        return _not_before(value, info, "starts_at")

    @field_validator("online_platform")
    @classmethod
    def _attended_online(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("attendance_mode") == "in_person":
            raise ValueError("an in-person event has no online platform (attendance_mode)")
        return value


class PublicationWrite(PublishableWrite):
    title: Annotated[str, StringConstraints(min_length=1, max_length=500), NOT_BLANK]
    publication_type: Literal[
        "journal_article",
        "book",
        "book_chapter",
        "working_paper",
        "report",
        "policy_brief",
        "research_project",
        "other",
    ] = "other"
    abstract: Text | None = Field(default=None, description="Plain text.")
    authors: list[Ref] = Field(
        default_factory=list,
        max_length=100,
        description=f"The authors in citation order, {BY_SLUG_OR_ID}.",
    )
    journal: Short | None = None
    publisher: Short | None = None
    volume: Annotated[str, StringConstraints(max_length=40)] | None = None
    issue: Annotated[str, StringConstraints(max_length=40)] | None = None
    pages: Annotated[str, StringConstraints(max_length=40)] | None = None
    year: Annotated[Number, Field(ge=1000, le=3000)] | None = None
    published_on: IsoDate | None = None
    doi: Annotated[str, StringConstraints(max_length=200, pattern=DOI_PATTERN)] | None = Field(
        default=None, description="A DOI such as `10.1000/182`, without `https://doi.org/`."
    )
    url: Url | None = None


class ResourceContact(Schema):
    model_config = ConfigDict(extra="forbid")
    label: Annotated[str, StringConstraints(min_length=1, max_length=100), NOT_BLANK] = Field(
        description='As the page shows it: "Phone", "24/7 urgent support hotline", "Helpline".'
    )
    kind: Literal["phone", "sms", "email", "url", "other"] = Field(
        description="What `value` is: a number to call or text, an email address, a web "
        "address (`https://…`), or other (written out as it is)."
    )
    value: Annotated[str, StringConstraints(min_length=1, max_length=300), NOT_BLANK] = Field(
        description='The number or address, as the page writes it: "866.742.5667 (SHALOM-7)".'
    )

    # A field validator, not a model's: the 422 names `value` (`loc`), for forms.
    @field_validator("value")
    @classmethod
    def _fits_its_kind(cls, value: str, info: ValidationInfo) -> str:
        kind = info.data.get("kind")
        if kind in ("phone", "sms") and not any(char.isdigit() for char in value):
            raise ValueError(f"a {kind} number has digits")
        if kind == "email" and not _EMAIL.fullmatch(value):
            raise ValueError("is not an email address")
        if kind == "url" and not _WEB_ADDRESS.fullmatch(value):
            raise ValueError("is not an http(s) URL")
        return value


_EMAIL = re.compile(EMAIL_ADDRESS)
_WEB_ADDRESS = re.compile(WEB_ADDRESS)


def _has_digits(value: str) -> str:
    if not any(char.isdigit() for char in value):
        raise ValueError("a phone number has digits")
    return value


# A resource's `phone` and `hotline` are read as its contacts (kind `phone`) when it has
# none of its own: "N/A" was stored, read as a contact, and refused when written back.
ContactNumber = Annotated[str, StringConstraints(max_length=100), AfterValidator(_has_digits)]


class ResourceWrite(PublishableWrite):
    name: Annotated[str, StringConstraints(min_length=1, max_length=300), NOT_BLANK]
    resource_type: Literal[
        "counseling", "hotline", "support_group", "legal", "information", "other"
    ] = "other"
    description: Text | None = None
    phone: ContactNumber | None = None
    hotline: ContactNumber | None = None
    email: Email | None = None
    contacts: list[ResourceContact] | None = Field(
        default=None,
        max_length=20,
        description="Every way to reach the resource, labelled and in order, as its page "
        "lists them. Left out or null: made, when read, from `phone`, `hotline` and `email` "
        '(labelled "Phone", "Hotline", "Email"), which keep their meaning for the clients that '
        "read them; `[]`: none.",
    )
    url: Url | None = None
    hours: Short | None = None
    audience: Short | None = None
    is_confidential: Flag = False
    position: Annotated[Number, Field(ge=0, le=100_000)] = Field(
        default=0, description="Order in lists of resources (their default sort), smallest first."
    )


WRITE_MODELS: dict[str, type[WriteModel]] = {
    "topics": TopicWrite,
    "organizations": OrganizationWrite,
    "people": PersonWrite,
    "articles": ArticleWrite,
    "quotes": QuoteWrite,
    "events": EventWrite,
    "publications": PublicationWrite,
    "resources": ResourceWrite,
}
