"""A publication as BibTeX, RIS and CSL-JSON: what reference managers import.

Entry types follow each format's vocabulary for the publication type; authors keep their
order and their names exactly as written (UTF-8: "Díaz-Cayeros" stays "Díaz-Cayeros"), but
for BibTeX's given names whose first letter is accented (`{\\'E}mile`, for BibTeX 0.99 to
abbreviate it).
Family and given names, and a generational suffix, come from the person's `sort_name`
("Family, Given" or "Family, Given, Suffix"); lowercase words that end the given names
("Beethoven, Ludwig van") are a particle, as BibTeX reads a name's lowercase words.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import orjson

from app.content.names import derive_sort_name
from app.content.text import slugify
from app.feeds.entries import printable


class CitationFormat(StrEnum):
    bibtex = "bibtex"
    ris = "ris"
    csl_json = "csl-json"


MEDIA_TYPES = {
    CitationFormat.bibtex: "application/x-bibtex; charset=utf-8",
    CitationFormat.ris: "application/x-research-info-systems; charset=utf-8",
    CitationFormat.csl_json: "application/vnd.citationstyles.csl+json",
}
EXTENSIONS = {
    CitationFormat.bibtex: "bib",
    CitationFormat.ris: "ris",
    CitationFormat.csl_json: "json",
}

# publication_type -> (BibTeX entry type, RIS TY, CSL type, genre / report type).
# A research project is a report of its kind in RIS (`RPRT` with `M3  - Research project`):
# RIS's generic `GEN` is read as a journal article by Zotero, and no other RIS type Zotero
# reads as a generic document means that to other reference managers. "other" keeps `GEN`,
# RIS's own word for a work of no more precise type.
TYPES: dict[str, tuple[str, str, str, str | None]] = {
    "journal_article": ("article", "JOUR", "article-journal", None),
    "book": ("book", "BOOK", "book", None),
    "book_chapter": ("incollection", "CHAP", "chapter", None),
    "report": ("techreport", "RPRT", "report", None),
    "policy_brief": ("techreport", "RPRT", "report", "Policy brief"),
    "working_paper": ("techreport", "RPRT", "report", "Working paper"),
    "research_project": ("misc", "RPRT", "document", "Research project"),
    "other": ("misc", "GEN", "document", None),
}
_PAGE_RANGE = re.compile("\\s*(?:-+|\u2013|\u2014)\\s*")  # hyphens, en or em dash
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Name:
    family: str
    given: str | None = None
    suffix: str | None = None  # generational: "Jr.", "III"
    particle: str | None = None  # "van" of "Beethoven, Ludwig van"

    @classmethod
    def of(cls, name: str, sort_name: str | None) -> Name:
        """From the sort name, "Family, Given" or "Family, Given, Suffix" (as a person's is
        derived, `app.content.names`, and as BibTeX and RIS write a suffix); otherwise the
        name whole: a single name, or an organisation as author. A single name's derived sort
        name is that name without its post-nominals ("Cher, PhD" -> "Cher"): cited so, as
        "Jane Doe, PhD" is cited "Doe, Jane" (RIS reads "Cher, PhD" as "Last, First")."""
        if sort_name and ", " not in sort_name and sort_name == derive_sort_name(name):
            return cls(sort_name.strip())
        if not sort_name or ", " not in sort_name:
            return cls(name.strip())
        parts = [p.strip() for p in sort_name.split(", ")]
        if len(parts) == 3 and all(parts):
            given, particle = _particle_apart(parts[1])
            return cls(parts[0], given, suffix=parts[2], particle=particle)
        family, given = sort_name.split(", ", 1)
        if not given.strip():
            return cls(family.strip())
        given, particle = _particle_apart(given.strip())
        return cls(family.strip(), given, particle=particle)


def _particle_apart(given: str) -> tuple[str, str | None]:
    """(given names, particle): the lowercase words that end the given names after one that
    is not ("Ludwig van", "Jan van der"); none in "bell" or "María del Carmen"."""
    words = given.split()
    end = len(words)
    # "and" is no particle: "Smith and", the given names of a derived "Sons, Smith and".
    while end > 1 and words[end - 1][:1].islower() and words[end - 1].lower() != "and":
        end -= 1
    if end == len(words) or words[0][:1].islower():
        return given, None
    return " ".join(words[:end]), " ".join(words[end:])


@dataclass
class Citation:
    """Everything the three formats need, independent of the database rows."""

    key: str  # public id, e.g. pub_1
    publication_type: str
    title: str
    authors: list[Name] = field(default_factory=list)
    container: str | None = None  # journal, or the book of a chapter
    publisher: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    year: int | None = None
    month: int | None = None
    day: int | None = None
    doi: str | None = None
    url: str | None = None
    abstract: str | None = None
    keywords: list[str] = field(default_factory=list)

    @property
    def types(self) -> tuple[str, str, str, str | None]:
        return TYPES.get(self.publication_type, TYPES["other"])

    @property
    def page_range(self) -> tuple[str, str | None] | None:
        if not self.pages:
            return None
        parts = _PAGE_RANGE.split(self.pages.strip(), maxsplit=1)
        return parts[0], (parts[1] if len(parts) > 1 else None)


def _one_line(value: str) -> str:
    return _SPACE.sub(" ", printable(value)).strip()


# ---------------------------------------------------------------------------------------
# BibTeX

_BIBTEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_BIBTEX_ESCAPE = re.compile("|".join(re.escape(c) for c in _BIBTEX_SPECIAL))
# BibTeX counts every brace of a value, a backslash before it or not: a lone `\}` ends the
# value there, and the fields after it are lost. Braces that do not pair are written as
# LaTeX's brace symbols instead, which hold no brace BibTeX would count.
_LONE_BRACES = {**_BIBTEX_SPECIAL, "{": r"\textbraceleft{}", "}": r"\textbraceright{}"}


def _braces_pair(text: str) -> bool:
    depth = 0
    for char in text:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def bibtex_escape(value: str) -> str:
    """Escape only what TeX treats specially; every other character stays UTF-8."""
    text = _one_line(value)
    special = _BIBTEX_SPECIAL if _braces_pair(text) else _LONE_BRACES
    return _BIBTEX_ESCAPE.sub(lambda m: special[m.group(0)], text)


# A run of letters (and the combining marks of decomposed ones), as case is changed in.
_LETTERS = re.compile(r"(?:[^\W\d_]|[\u0300-\u036f])+")


def bibtex_protect_case(value: str) -> str:
    r"""`bibtex_escape`, with every word holding a capital braced: `{Mexico}`, `{DNA}`.

    Styles set titles in sentence case: BibTeX's `change.case$` ("Living in fear: The
    dynamics of extortion in mexico's drug war") and biblatex's `\MakeSentenceCase` (as APA
    styles do) lowercase everything outside braces but the first letter. Which capitals are
    proper nouns or acronyms no rule can tell, so every word with a capital is braced, as
    Zotero's BibTeX export does, except the first word when its first letter is its only
    capital (the one letter no style lowercases). A title in title case then keeps its
    capitals in every style, which is the safe error; a sentence-case title stays one, and
    styles can still capitalise its lowercase words. Bracing the whole title (`{{...}}`)
    would do the same for a title in title case, but freeze every lowercase word too.
    Braces wrap runs of letters only, never a TeX escape: a group opening with a backslash
    is one "special character" to BibTeX, whose letters it changes the case of. For the
    same reason an escaped brace followed by another escape (`\{\$`, from "{$"), a group
    to BibTeX that opens with a backslash, gets an empty group between them (`\{{}\$`)."""
    text = _one_line(value)
    special = _BIBTEX_SPECIAL if _braces_pair(text) else _LONE_BRACES
    out: list[str] = []
    position = 0
    for match in _LETTERS.finditer(text):
        out.append(
            _BIBTEX_ESCAPE.sub(lambda m: special[m.group(0)], text[position : match.start()])
        )
        word = match.group(0)
        capitals = [i for i, char in enumerate(word) if char.isupper()]
        if capitals and (match.start() > 0 or capitals != [0]):
            word = "{" + word + "}"
        out.append(word)
        position = match.end()
    out.append(_BIBTEX_ESCAPE.sub(lambda m: special[m.group(0)], text[position:]))
    # (Every backslash of the output opens an escape: the text's own are \textbackslash{}.)
    return "".join(out).replace("\\{\\", "\\{{}\\")


def _bibtex_doi(doi: str) -> str:
    """A DOI as `_bibtex_verbatim` writes it, its own `%` percent-encoded first (`%25`, as
    doi.org and the feeds' `doi_url` have it): with braces and backslashes encoded, a `%`
    left as it was could not be told from one of theirs (`a%7Bb` was `a{b` or `a%7Bb`), and
    is a comment to TeX."""
    return _bibtex_verbatim(doi.replace("%", "%25"))


def _bibtex_verbatim(value: str) -> str:
    """doi and url are verbatim fields for biblatex and the url package: not TeX-escaped.
    Braces still delimit the value there, and no escape hides one from BibTeX: an
    unbalanced `}` ended the field and lost the fields after it. They are percent-encoded,
    as in any URL (and as doi.org resolves a DOI), and so is a backslash: `{10.1000/a\\}` is
    a whole value to BibTeX, but an escaped brace to readers that honour TeX's escapes
    (bibtexparser), which lost the entry and every one after it."""
    return _one_line(value).replace("{", "%7B").replace("}", "%7D").replace("\\", "%5C")


# BibTeX splits `author` into names at the word "and" in any case ("AND", "And"), and a
# name into its parts at commas, wherever they are not inside braces.
_AND_WORD = re.compile(r"(?:^|\s)and(?:\s|$)", re.IGNORECASE)


# The LaTeX accents (by combining mark) and letters that BibTeX's styles, Biber and every
# BibTeX reader know, for the first letter of a given name.
_TEX_ACCENTS = {
    "\u0300": "`",
    "\u0301": "'",
    "\u0302": "^",
    "\u0303": "~",
    "\u0304": "=",
    "\u0306": "u",
    "\u0307": ".",
    "\u0308": '"',
    "\u030a": "r",
    "\u030b": "H",
    "\u030c": "v",
    "\u0323": "d",
    "\u0327": "c",
    "\u0328": "k",
}
_TEX_LETTERS = {"Ø": "O", "ø": "o", "Ł": "L", "ł": "l", "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe"}
# Where a name token starts, as BibTeX splits given names to abbreviate them ("Jean-Émile").
_NAME_TOKEN_START = re.compile(r"(?:^|(?<=[\s-]))[^\x00-\x7f]")


def _tex_letter(char: str) -> str | None:
    r"""A letter as a LaTeX special character, `{\'E}` for É (`{\v{S}}`, `{\O}`), or None."""
    if char in _TEX_LETTERS:
        return "{\\" + _TEX_LETTERS[char] + "}"
    decomposed = unicodedata.normalize("NFD", char)
    base, marks = decomposed[0], decomposed[1:]
    if not (base.isascii() and base.isalpha()) or marks not in _TEX_ACCENTS:
        return None
    accent = _TEX_ACCENTS[marks]
    return f"{{\\{accent}{{{base}}}}}" if accent.isalpha() else f"{{\\{accent}{base}}}"


def _bibtex_initials(given: str) -> str:
    r"""Given names whose tokens begin with a non-ASCII letter, that letter written in LaTeX:
    `{\'E}mile`. BibTeX 0.99 reads UTF-8 a byte at a time, and its initial of "Émile" was
    the first byte of É alone, an invalid character where styles abbreviate given names
    (`\xc3.~Zola`); a special character is copied whole (`{\'E}.~Zola`), and sorts as its
    letter. Biber and bibtexparser's LaTeX decoding read it back as É. The rest of the name
    stays UTF-8; a letter with no LaTeX form (Cyrillic, Greek, CJK) is left as it is, for
    Biber or a Unicode BibTeX to abbreviate."""
    return _NAME_TOKEN_START.sub(lambda m: _tex_letter(m.group(0)) or m.group(0), given)


def _bibtex_name_part(part: str, initials: bool = False) -> str:
    """One part of a name (family, given, suffix), escaped, and braced whole when it holds
    the word "and" or a comma: "Tom and Jerry" as given names were two authors to BibTeX,
    "Smith, Tom" and "Jerry"."""
    escaped = _bibtex_initials(bibtex_escape(part)) if initials else bibtex_escape(part)
    return "{" + escaped + "}" if _AND_WORD.search(part) or "," in part else escaped


def _bibtex_name(name: Name) -> str:
    if name.given is None:
        return "{" + bibtex_escape(name.family) + "}"  # keep a single or corporate name whole
    family = _bibtex_name_part(name.family)
    given = _bibtex_name_part(name.given, initials=True)
    if name.particle:  # lowercase words before the last name are BibTeX's "von" part
        family = f"{bibtex_escape(name.particle)} {family}"
    if name.suffix:  # BibTeX's "von Last, Jr, First"
        return f"{family}, {_bibtex_name_part(name.suffix)}, {given}"
    return f"{family}, {given}"


# The month macros every BibTeX style defines (and Biber reads as the month's number):
# `month = may`, unbraced; `{5}` is printed "5" by the standard styles.
BIBTEX_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _bibtex_keywords(keywords: list[str]) -> str | None:
    """BibLaTeX's comma-separated keyword list. A keyword holding a comma (or the
    semicolon some readers also split on) is braced, the one grouping BibTeX's syntax
    has: "Crime, Organized" stays one keyword to a reader that honours braces. No escape
    reaches every reader: Zotero's BibTeX import drops the braces and splits at every comma
    and semicolon, and Biber splits at commas. RIS writes one `KW` line per keyword, which
    Zotero keeps whole unless it holds a semicolon (or is the only one and holds a comma)."""
    escaped = [
        "{" + bibtex_escape(k) + "}" if "," in k or ";" in k else bibtex_escape(k) for k in keywords
    ]
    return ", ".join(escaped) or None


def cite_key(citation: Citation) -> str:
    """`magaloni2020living`: first author, year, first significant title word (ASCII)."""
    first = slugify(citation.authors[0].family).replace("-", "") if citation.authors else ""
    words = [
        w for w in slugify(citation.title).split("-") if w not in {"a", "an", "the", "on", "of"}
    ]
    key = f"{first}{citation.year or ''}{words[0] if words else ''}"
    return key or citation.key


def to_bibtex(citation: Citation) -> str:
    entry_type, _, _, genre = citation.types
    pages = citation.page_range
    fields: list[tuple[str, str | None]] = [
        ("author", " and ".join(_bibtex_name(n) for n in citation.authors) or None),
        ("title", bibtex_protect_case(citation.title)),
        (
            "journal",
            bibtex_escape(citation.container)
            if citation.container and entry_type == "article"
            else None,
        ),
        (  # a book's title, set in sentence case like titles (a journal's name never is)
            "booktitle",
            bibtex_protect_case(citation.container)
            if citation.container and entry_type == "incollection"
            else None,
        ),
        (
            "institution" if entry_type == "techreport" else "publisher",
            bibtex_escape(citation.publisher) if citation.publisher else None,
        ),
        ("type", genre if entry_type == "techreport" else None),
        # A book's `journal` is its series ("Journal or series"): BibTeX's `series`, whose
        # number in it is `number` (the issue), as Zotero's BibTeX import reads them.
        (
            "series",
            bibtex_protect_case(citation.container)
            if entry_type == "book" and citation.container
            else None,
        ),
        (
            "howpublished",
            bibtex_escape(citation.container)
            if entry_type == "misc" and citation.container
            else None,
        ),
        ("note", genre if entry_type == "misc" else None),
        ("year", str(citation.year) if citation.year else None),
        ("month", BIBTEX_MONTHS[citation.month - 1] if citation.month else None),
        ("volume", bibtex_escape(citation.volume) if citation.volume else None),
        ("number", bibtex_escape(citation.issue) if citation.issue else None),
        ("pages", "--".join(bibtex_escape(p) for p in pages if p) if pages else None),
        ("doi", _bibtex_doi(citation.doi) if citation.doi else None),
        ("url", _bibtex_verbatim(citation.url) if citation.url else None),
        ("abstract", bibtex_escape(citation.abstract) if citation.abstract else None),
        ("keywords", _bibtex_keywords(citation.keywords)),
    ]
    lines = [
        f"  {name} = {value}" if name == "month" else f"  {name} = {{{value}}}"
        for name, value in fields
        if value
    ]
    return f"@{entry_type}{{{cite_key(citation)},\n" + ",\n".join(lines) + "\n}\n"


# ---------------------------------------------------------------------------------------
# RIS (one "TAG  - value" line each, CRLF line ends, closed by "ER  - ")


def _ris_name(name: Name) -> str:
    """RIS's "Lastname, Firstname, Suffix" (AU); a particle stays after the first names,
    as sorted (RIS has no place of its own for it)."""
    if name.given is None:
        return name.family
    given = f"{name.given} {name.particle}" if name.particle else name.given
    return ", ".join(p for p in (name.family, given, name.suffix) if p)


# The tag of the issue per RIS type, as Zotero's RIS import reads it (the translator's
# `fieldMap`): `IS` is a journal's issue, but the number of a book in its series is `M1`
# (`IS` is dropped: a book has no issue), of a chapter's book `SV` (`IS` is read as its
# number of volumes), and a report's number `SN` (`IS` is dropped), as BibTeX's `number`
# is each of them. The container, `T2`, is what each type wants as it is: the journal
# (publicationTitle), the book of a chapter (bookTitle), the series of a book (series) or
# of a report (seriesTitle), which is what `journal` holds for them ("Journal or series").
# `JO` is no journal to Zotero but its abbreviation, so it is not written.
_RIS_ISSUE = {"BOOK": "M1", "CHAP": "SV", "RPRT": "SN"}


def to_ris(citation: Citation) -> str:
    _, ris_type, _, genre = citation.types
    lines: list[tuple[str, str | None]] = [("TY", ris_type)]
    lines += [("AU", _ris_name(n)) for n in citation.authors]
    lines.append(("TI", citation.title))
    lines.append(("T2", citation.container))
    lines.append(("M3", genre))  # a report's type (reportType)
    lines.append(("PY", str(citation.year) if citation.year else None))
    if citation.year and citation.month:
        lines.append(("DA", f"{citation.year:04d}/{citation.month:02d}/{citation.day or 1:02d}"))
    lines += [("VL", citation.volume), (_RIS_ISSUE.get(ris_type, "IS"), citation.issue)]
    pages = citation.page_range
    if pages:
        lines += [("SP", pages[0]), ("EP", pages[1])]
    lines += [("PB", citation.publisher), ("DO", citation.doi), ("UR", citation.url)]
    lines.append(("AB", citation.abstract))
    lines += [("KW", k) for k in citation.keywords]
    out = [f"{tag}  - {_one_line(value)}" for tag, value in lines if value]
    out.append("ER  - ")
    return "\r\n".join(out) + "\r\n"


# ---------------------------------------------------------------------------------------
# CSL-JSON (the Citation Style Language's data format, as citeproc and Zotero read it)


def _csl_name(name: Name) -> dict[str, str]:
    if name.given is None:
        return {"literal": name.family}
    parts = {"family": name.family, "given": name.given}
    if name.particle:  # sorted after the given names: CSL's "dropping" kind
        parts["dropping-particle"] = name.particle
    return parts | ({"suffix": name.suffix} if name.suffix else {})


# The CSL variables of the container (`journal`, "Journal or series") and of the issue per
# CSL type, as styles print them and Zotero's CSL-JSON import reads them (the CSL mappings of
# its schema): a book's or report's series is `collection-title` (a `container-title` was
# dropped, neither has a publication title, and styles print it as a journal's); a book's or
# chapter's number in its series `collection-number`, and a report's number `number` (its
# report number; an `issue` was dropped), as BibTeX's `number` is each of them.
_CSL_CONTAINER = {"book": "collection-title", "report": "collection-title"}
_CSL_ISSUE = {"book": "collection-number", "chapter": "collection-number", "report": "number"}


def to_csl(citation: Citation) -> list[dict[str, Any]]:
    _, _, csl_type, genre = citation.types
    item: dict[str, Any] = {"id": citation.key, "type": csl_type, "title": citation.title}
    if citation.authors:
        item["author"] = [_csl_name(n) for n in citation.authors]
    optional = {
        _CSL_CONTAINER.get(csl_type, "container-title"): citation.container,
        "publisher": citation.publisher,
        "genre": genre,
        "volume": citation.volume,
        _CSL_ISSUE.get(csl_type, "issue"): citation.issue,
        "page": citation.pages,
        "DOI": citation.doi,
        "URL": citation.url,
        "abstract": citation.abstract,
        # One string (CSL-JSON has no list of keywords): citeproc prints it as it is, and
        # Zotero's CSL-JSON import reads no `keyword` at all, so no comma in a topic is
        # split by either; ", " is how pandoc and citation.js join them.
        "keyword": ", ".join(citation.keywords) or None,
    }
    item.update({k: v for k, v in optional.items() if v})
    if citation.year:
        parts = [citation.year] + ([citation.month] if citation.month else [])
        if citation.month and citation.day:
            parts.append(citation.day)
        item["issued"] = {"date-parts": [parts]}
    return [item]


def render(citation: Citation, fmt: CitationFormat) -> bytes:
    if fmt is CitationFormat.bibtex:
        return to_bibtex(citation).encode()
    if fmt is CitationFormat.ris:
        return to_ris(citation).encode()
    return orjson.dumps(to_csl(citation), option=orjson.OPT_INDENT_2)
