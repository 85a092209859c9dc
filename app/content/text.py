"""Slugs and rich text: the two transformations every write goes through."""

from __future__ import annotations

import html
import re
import threading
from collections import OrderedDict

import nh3
from anyascii import anyascii

_NON_SLUG = re.compile(r"[^a-z0-9]+")
_SPACE = re.compile(r"\s+")
# Where plain text breaks a paragraph: at either end of a block (a figure's caption is not
# the first words of the next paragraph: "Rod SearceyAfter" was neither text nor searchable),
# and where table cells meet (a space).
_BLOCK = re.compile(
    r"</?(?:p|div|li|ul|ol|h[1-6]|blockquote|pre|tr|table|thead|tbody|figure|figcaption)\b[^>]*>"
    r"|<(?:br|hr)\b[^>]*>",
    re.IGNORECASE,
)
_CELL = re.compile(r"</t[dh]>", re.IGNORECASE)

SLUG_MAX = 80
# Characters XML 1.0 forbids (and RFC 5545 TEXT too, but for tab and newline): C0 controls
# other than tab, line feed and carriage return, DEL, lone surrogates, U+FFFE and U+FFFF.
# Writes refuse them; feeds drop them from rows written before that rule, or by SQL.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
# What writes refuse: those, and the C1 controls (U+0080-U+009F), which XML allows but no
# text means (a Windows-1252 byte decoded as Latin-1: U+0092 for an apostrophe).
REFUSED_IN_WRITES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

# What editors may use in rich text. Everything else — scripts, styles, event-handler
# attributes, `javascript:` URLs, iframes — is removed by ammonia (nh3).
ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "cite",
    "code",
    "em",
    "figcaption",
    "figure",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "small",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "blockquote": {"cite"},
    "q": {"cite"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
# Ammonia checks the scheme of `href` and `src` but not of `cite`; every URL attribute
# is checked again here, as a browser reads it (control characters and spaces ignored).
_URL_ATTRIBUTES = {"href", "src", "cite"}
_URL_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.IGNORECASE)
_IGNORED_IN_URLS = re.compile(r"[\x00-\x20\x7f]+")


def slugify(value: str) -> str:
    """ASCII slug from any script: 'Díaz-Cayeros' -> 'diaz-cayeros', '绑架' -> 'bangjia'
    (anyascii joins a CJK word's syllables), "Mexico's Drug War" -> 'mexicos-drug-war'."""
    # An apostrophe (U+2019 and U+02BC fold to it) joins the word it is in, as in the slugs editors
    # write ("mexicos") and Django's or python-slugify's: it split it ("mexico-s").
    ascii_text = anyascii(value).lower().replace("'", "")
    slug = _NON_SLUG.sub("-", ascii_text).strip("-")
    if len(slug) > SLUG_MAX:
        slug = slug[:SLUG_MAX].rsplit("-", 1)[0] or slug[:SLUG_MAX]
    return slug.strip("-")


# What a browser's URL parser (WHATWG) does to a link before resolving it, so that the
# link stored, and the one feeds resolve, is the one readers of the site follow: it trims
# C0 controls and spaces from both ends, drops tabs and line breaks, reads a backslash as a
# slash in an http(s) or relative URL (`\\evil.example` is `//evil.example`, another
# site), and percent-encodes there spaces and the characters no URI may hold ("x y" is
# "x%20y").
_URL_TRIMMED = "".join(chr(code) for code in range(0x21))
_TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")
_PERCENT_ENCODED = re.compile(r'[\x00-\x20"<>`{}\x7f]')
_IN_QUERY_ENCODED = re.compile(r'[\x00-\x20"<>\x7f]')
_SLASH_SCHEMES = {"http", "https"}


def browser_url(value: str) -> str:
    """`value` as a browser parses a link's URL: see `_URL_TRIMMED`. Idempotent."""
    url = _TAB_OR_NEWLINE.sub("", value.strip(_URL_TRIMMED))
    scheme = _URL_SCHEME.match(url)
    if scheme is not None and scheme.group(1).lower() not in _SLASH_SCHEMES:
        return url  # mailto:, tel:: no host or path a backslash or a space could change
    # Only up to the query or fragment: there a backslash is a backslash, and braces and a
    # backtick are kept ("png.latex?\\frac{a}{b}" is a formula).
    cut = min((i for i in (url.find("?"), url.find("#")) if i >= 0), default=len(url))
    head, tail = url[:cut].replace("\\", "/"), url[cut:]
    return _PERCENT_ENCODED.sub(_percent, head) + _IN_QUERY_ENCODED.sub(_percent, tail)


def _percent(found: re.Match[str]) -> str:
    return f"%{ord(found.group()):02X}"


def safe_url(tag: str, attribute: str, value: str) -> str | None:
    if attribute in _URL_ATTRIBUTES:
        # As a browser reads it once the characters a write drops are gone (`_clean`
        # drops them after this check: `jav&#x81;ascript:` became `javascript:`).
        scheme = _URL_SCHEME.match(_IGNORED_IN_URLS.sub("", REFUSED_IN_WRITES.sub("", value)))
        if scheme and scheme.group(1).lower() not in URL_SCHEMES:
            return None
        return browser_url(value)
    return value


# A parser drops the line feed right after `<pre>` (so that the markup may start a line),
# and nh3 writes none back: `<pre>\n\ncode` came out as `<pre>\ncode`, which a browser
# shows without its blank first line, and as `<pre>code` at the next write. In nh3's output
# `<` and `>` are escaped in attribute values, so this matches start tags only.
_PRE_LINE_FEED = re.compile(r"(<pre(?:\s[^>]*)?>)\n")
# A cleaned body parsed again must give itself back (what the next write, and a browser,
# read): `<h2><span><h3>` lost its span, and the next parse closed the h2 at the h3. Each
# pass undoes one such nesting; a body that needs more is rare, and its next write goes on.
_CLEAN_PASSES = 4


def _clean(value: str) -> str:
    clean = nh3.clean(
        value,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
        attribute_filter=safe_url,
    )
    # The characters writes refuse (`REFUSED_IN_WRITES`) come back from a character reference
    # (`&#1;`, `&#xFFFE;`), which the parser decodes and the check of the written text
    # cannot see. Browsers show nothing for them. Dropped before the `<pre>` line feed is
    # restored: one may stand between the two.
    clean = REFUSED_IN_WRITES.sub("", clean)
    return _PRE_LINE_FEED.sub("\\1\n\n", clean)


# The longest rich text an item holds, as stored (sanitized): what a write may send too.
RICH_TEXT_MAX = 200_000
# HTML's formatting elements: one left open when its block ends is opened again at the start
# of every later block (HTML's "reconstruct the active formatting elements"), so a body
# of 22 KB that left 1,000 distinct ones open came out of the parser as 7 MB in 0.6 s, and
# 80 KB as 112 MB in 6.6 s; one link left open, its `href` 20,000 characters long, is
# copied into each later block too. `open_formatting` estimates both before parsing.
_FORMATTING = frozenset(
    "a b big code em font i nobr s small strike strong tt u".split()  # noqa: SIM905
)
# The text read as a parser reads it, left to right, one match per `<`: a comment (`<!-->`
# and `<!--->` are whole ones, `--!>` ends one too), `<!…>` or `<?…>`, an element read as
# raw text with its contents (an end tag there closes nothing), or a tag, ended by the
# first `>` (a `<!--` in an attribute is the tag's). Read only up to the text's last `>`,
# after which there is no tag: so every tag found has its end, and no `<` starts a scan to
# the end of the text (over 200 KB of `<b `, that took minutes).
_TOKENS = re.compile(
    r"<!--(?:-?>|.*?(?:--!?>|\Z))|<[!?][^>]*>"
    r"|<(script|style|textarea|title|xmp|iframe|noembed|noframes|noscript|plaintext)\b"
    r"[^>]*>.*?(?:</\1[\s/>]|\Z)"
    r"|<(/?)([a-zA-Z][a-zA-Z0-9]*)([^>]*)>",
    re.DOTALL | re.IGNORECASE,
)
# Elements an end tag does not look past for its start tag (HTML's "in scope"), and more:
# inside one, an end tag is taken to close nothing opened before it (never fewer open).
_SCOPES = frozenset(
    "applet button caption html marquee math object svg table td template th".split()  # noqa: SIM905
)
MAX_OPEN_FORMATTING = 32
# Nesting: the parser's work grows with the square of the depth (40,000 `<div>`s took 2 s,
# 25,000 `<ul><li>` 3 s). Elements that close themselves (void ones, and those a sibling
# ends: `<p>`, `<li>`, cells) are not counted; editorial HTML nests a few levels.
_SELF_CLOSING = frozenset(
    "area base br col colgroup dd dt embed hr img input li link meta option optgroup p "  # noqa: SIM905
    "param rb rp rt rtc source tbody td tfoot th thead tr track wbr".split()
)
MAX_NESTING = 200


def open_formatting(value: str) -> tuple[int, int, int]:
    """The most formatting elements `value` leaves open at once, as a parser counts them,
    about how many characters of their start tags it writes again in later elements, and
    how deep its elements nest (estimates, which err on the side of more)."""
    stacks: dict[str, list[tuple[str, int]]] = {}
    same: dict[tuple[str, str], int] = {}
    depth = live = most = open_chars = reopened = nested = deepest = 0
    for raw, closing, tag, attributes in _TOKENS.findall(value, 0, value.rfind(">") + 1):
        if raw:
            reopened += open_chars
            continue
        if not tag:
            continue  # a comment
        name = tag.lower()
        # (Formatting elements are counted apart: a block's end closes them.)
        if name not in _SELF_CLOSING and name not in _FORMATTING and not attributes.endswith("/"):
            nested = max(nested + (-1 if closing else 1), 0)
            deepest = max(deepest, nested)
        if name not in _FORMATTING:
            if name in _SCOPES:
                depth = max(depth + (-1 if closing else 1), 0)
            if not closing:
                reopened += open_chars
            continue
        stack = stacks.setdefault(name, [])
        # An end tag closes the last one open; a new `<a>` closes the last one too; not
        # one opened outside the element it is in.
        ends = closing or name == "a"
        closed = [stack.pop()] if ends and stack and stack[-1][1] == depth else []
        for attrs, _ in closed:
            same[(name, attrs)] -= 1
            if same[(name, attrs)] < 3 or attrs:
                live -= 1
                open_chars -= len(name) + len(attrs) + 2
        if closing:
            continue
        attrs = attributes.strip()
        stack.append((attrs, depth))
        count = same.get((name, attrs), 0)
        same[(name, attrs)] = count + 1
        # A parser keeps three alike; alike with attributes only if they read alike, which
        # a quoted `>` can hide here: those count each.
        if count < 3 or attrs:
            live += 1
            open_chars += len(name) + len(attrs) + 2
        most = max(most, live)
    return most, reopened, deepest


def rich_text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as rich text (None: it can; its sanitized form is then
    kept for the write that stores it, `sanitize_html`)."""
    open_at_once, reopened, deepest = open_formatting(value)
    if deepest > MAX_NESTING:
        return (
            f"nests elements about {deepest:,} deep; at most {MAX_NESTING}: close each "
            "where it ends"
        )
    if open_at_once > MAX_OPEN_FORMATTING:
        return (
            f"leaves {open_at_once} formatting elements (<b>, <i>, <a>, ...) open at once; "
            f"at most {MAX_OPEN_FORMATTING}: close each where its text ends"
        )
    if reopened > RICH_TEXT_MAX:
        return (
            f"leaves formatting elements (<b>, <i>, <a>, ...) open that the elements after "
            f"them would repeat, about {reopened:,} characters of them; at most "
            f"{RICH_TEXT_MAX:,} in all: close each where its text ends"
        )
    clean = sanitize_html(value)
    if len(clean) > RICH_TEXT_MAX:
        return (
            f"is {len(clean):,} characters once sanitized (as stored: `&` is written "
            f"`&amp;`, each link gains its `rel`); at most {RICH_TEXT_MAX:,}"
        )
    return None


# The last few texts sanitized, and what they became (only those within the limit): a
# write checks its rich text (`rich_text_problem`) and then stores it, and a PATCH checks
# what the item held too; each pass over 200 KB takes ~70 ms.
_SANITIZED: OrderedDict[str, str] = OrderedDict()
_SANITIZED_KEPT = 8
_SANITIZED_LOCK = threading.Lock()


def sanitize_html(value: str) -> str:
    """Safe rich text, unchanged when sanitized again: a write that changes nothing (an
    import of an export) stores the same body, and moves no version. A text longer than
    `RICH_TEXT_MAX` after a pass is returned as it is (to be refused), not passed again.

    Without the characters writes refuse (`REFUSED_IN_WRITES`; see `_clean`)."""
    with _SANITIZED_LOCK:
        known = _SANITIZED.get(value)
        if known is not None:
            _SANITIZED.move_to_end(value)
            return known
    clean = _clean(value)
    for _ in range(_CLEAN_PASSES - 1):
        if len(clean) > RICH_TEXT_MAX:
            return clean  # refused: not worth another pass, nor keeping
        again = _clean(clean)
        if again == clean:
            break
        clean = again
    if len(clean) <= RICH_TEXT_MAX:
        with _SANITIZED_LOCK:
            _SANITIZED[value] = clean
            while len(_SANITIZED) > _SANITIZED_KEPT:
                _SANITIZED.popitem(last=False)
    return clean


# Migration 2f9c4e8a1b70 holds its own copy of this rule as it was then: a change here
# changes the text of later writes only, and stored text needs a migration of its own.
def html_to_text(value: str) -> str:
    """Plain text of sanitized HTML, paragraphs separated by blank lines."""
    marked = _BLOCK.sub("\n\n", _CELL.sub(" ", value))
    stripped = nh3.clean(marked, tags=set(), attributes={})
    text = html.unescape(stripped)
    paragraphs = [_SPACE.sub(" ", p).strip() for p in text.split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)
