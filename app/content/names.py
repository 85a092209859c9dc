"""A person's sort name derived from the name as written: "Family, Given[, Suffix]".

The sort name orders people lists and gives citations (BibTeX, RIS, CSL-JSON) their family
and given names, so "Martin Luther King Jr." must not become "Jr., Martin Luther King" nor
"Jane Doe, PhD" become "PhD, Jane Doe,". The last word is the family name, as before, once
two kinds of trailing words are set aside:

- a generational suffix (`GENERATIONAL`), at the end of the name or after a comma, is kept
  as the third part: "Martin Luther King, Jr." -> "King, Martin Luther, Jr.", the form
  BibTeX ("von Last, Jr, First" once reordered) and RIS ("Last, First, Suffix") know;
- post-nominal degrees and honours (`POST_NOMINALS`), only after a comma, are dropped:
  "Jane Doe, PhD" -> "Doe, Jane". They are not moved to the person's `degrees`: the name
  stays as the editor wrote it, and `degrees` is theirs to fill.

A name written family name first, "Díaz-Cayeros, Alberto" (one part after a comma that is
not wholly such words), is its own sort name, suffixes and post-nominals handled as above:
"Díaz-Cayeros, Alberto, PhD" -> "Díaz-Cayeros, Alberto". A comma with nothing after it
("Jane Doe,") is ignored.

Both lists are short on purpose: a word is set aside only when it cannot plausibly be a
name. "V" (an initial as often as a fifth), "2nd", and a degree without a comma before it
("Jane Doe PhD") are left alone, as is a name with more than one part after its commas that
is not wholly such words: those names are derived exactly as before this module.
Sort names stored by the old rule for names that have such words are derived again by
migration d2168608de6d, which holds its own copy of this rule as it was then (before sort
names were cut to fit): a change here changes later writes only.
"""

from __future__ import annotations

import unicodedata

# Compared as written, except that Jr and Sr may also be upper or lower case ("JR.").
GENERATIONAL = frozenset({"Jr", "Jr.", "Sr", "Sr.", "II", "III", "IV"})
_GENERATIONAL_FOLDED = frozenset({"jr", "jr.", "sr", "sr."})

# Compared without their dots ("Ph.D." is PhD), as written or in capitals ("PHD"), never
# otherwise: "Ma" and "Do" are family names, "MA" and "DO" would be degrees.
POST_NOMINALS = frozenset(
    {
        # doctorates
        "PhD", "DPhil", "MD", "EdD", "PsyD", "DrPH", "DDS", "DMD", "DVM", "JD", "LLD", "ScD",
        # masters and bachelors
        "MA", "MS", "MSc", "MBA", "MPA", "MPH", "MPP", "MFA", "MSW", "MEd", "LLM", "LLB",
        "BA", "BS", "BSc",
        # professions and honours
        "RN", "CPA", "Esq", "FRS", "FBA", "OBE", "CBE", "MBE", "KBE", "DBE",
    }
)  # fmt: skip
_POST_NOMINALS_CAPITALS = frozenset(p.upper() for p in POST_NOMINALS)


def is_generational(word: str) -> bool:
    return word in GENERATIONAL or word.lower() in _GENERATIONAL_FOLDED


def is_post_nominal(word: str) -> bool:
    bare = word.replace(".", "")
    return bare in POST_NOMINALS or (bare.isupper() and bare in _POST_NOMINALS_CAPITALS)


# `person.sort_name`'s length, as a name's: "Family, Given" is a comma longer than
# "Given Family", so a name of the longest length derives a sort name past it.
SORT_NAME_LENGTH = 200


def derive_sort_name(name: str) -> str:
    """The sort name of a person called `name` when none is given (see the module), cut
    to SORT_NAME_LENGTH: past it, without its suffix, then short of the given names' end
    (a long name was refused on PostgreSQL and stored too long on SQLite)."""
    derived = _fit(_derive(name))
    if not any(unicodedata.category(char)[0] in "LNPS" for char in derived):
        # Nothing to read ("\u0301, MD" gave a lone combining mark, and a cut may leave
        # only marks), which every later write of the person refused as a blank sort
        # name: the name as written, cut the same way.
        derived = _fit(" ".join(name.split()))
    return derived


def _fit(derived: str) -> str:
    if len(derived) <= SORT_NAME_LENGTH:
        return derived
    parts = derived.split(", ")
    if len(parts) == 3 and is_generational(parts[2]):
        derived = ", ".join(parts[:2])
    return derived[:SORT_NAME_LENGTH].rstrip(", ")


def _derive(name: str) -> str:
    # A comma with nothing after it ("Jane Doe,", "Jane Doe,, PhD") says nothing.
    head, *after_commas = [part for part in name.split(",") if part.strip()] or [name]
    words = head.split()
    suffixes = []
    given = []  # "Díaz-Cayeros, Alberto": written family name first
    for part in after_commas:
        tokens = part.split()
        if len(tokens) == 1 and is_generational(tokens[0]):
            suffixes.append(tokens[0])
        elif not all(is_post_nominal(t) for t in tokens):
            given.append(" ".join(tokens))
    if given:
        if len(given) > 1 or len(suffixes) > 1 or not words:
            return _last_word_first(name)  # a comma that says something else
        return ", ".join([" ".join(words), given[0], *suffixes])
    if len(words) > 2 and is_generational(words[-1]):
        suffixes.insert(0, words.pop())
    if len(suffixes) > 1 or (suffixes and len(words) < 2):
        return _last_word_first(name)  # "Ann Lee Jr., Sr.", "Prince, Jr.": no telling
    if len(words) < 2:
        return " ".join(words) or _last_word_first(name)  # "Cher, PhD" -> "Cher"
    sort_name = f"{words[-1]}, {' '.join(words[:-1])}"
    return f"{sort_name}, {suffixes[0]}" if suffixes else sort_name


def _last_word_first(name: str) -> str:
    """The last word, then the others: the whole derivation before suffixes and
    post-nominals were known, and still that of every name without them."""
    parts = name.split()
    return f"{parts[-1]}, {' '.join(parts[:-1])}" if len(parts) > 1 else name
