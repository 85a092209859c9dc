"""Row builders: the shapes of synthetic content, one method per content type.

Each type has its own random stream (seeded from the run's seed and the type's name),
so every table's rows depend only on the seed and the plan, not on the order in which
other tables were built. Rows are handed to a sink (`sink(table_name, row)`) as soon as
they are built: nothing but ids and a few dates is kept in memory.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.content.search import document_text
from app.content.types import BY_NAME
from app.content.visibility import public_since
from app.generate.lifecycle import WeightedPicker, entity_times, past_instant, publication_state
from app.generate.text import TextMaker
from app.generate.vocabulary import (
    ACADEMIC_ROLES,
    DEGREES,
    FIRST_NAMES,
    LAST_NAMES,
    ORG_CHILD_KINDS,
    ORG_FIELDS,
    ORG_PARENT_KINDS,
    PLACES,
    QUALIFIERS,
    THEMES,
)

Sink = Callable[[str, dict[str, Any]], None]
TOPIC_EXPONENT = 1.1  # topic k is tagged ~1/k^1.1 as often as the most popular one
PEOPLE_EXPONENT = 0.6  # a few prolific speakers and authors, a long tail of occasional ones


@dataclass(frozen=True)
class Plan:
    """How many items of each type a run writes."""

    topics: int
    organizations: int
    people: int
    resources: int
    events: int
    articles: int
    quotes: int
    publications: int

    @classmethod
    def for_factor(cls, factor: float) -> Plan:
        """`factor=1` is `large`; topics, organizations and resources grow sublinearly."""
        return cls(
            topics=max(10, round(400 * factor**0.5)),
            organizations=max(8, round(3000 * factor**0.7)),
            people=max(20, round(40_000 * factor)),
            resources=max(5, round(2000 * factor**0.7)),
            events=max(20, round(200_000 * factor)),
            articles=max(20, round(200_000 * factor)),
            quotes=max(10, round(80_000 * factor)),
            publications=max(10, round(80_000 * factor)),
        )

    @property
    def content_rows(self) -> int:
        return sum(vars(self).values())


def slug(type_name: str, number: int) -> str:
    return f"gen-{type_name}-{number:06d}"


def _choose_count(rng: random.Random, weights: tuple[int, ...]) -> int:
    """1..len(weights), with the given weights."""
    return rng.choices(range(1, len(weights) + 1), weights=weights)[0]


def _initials(name: str) -> str:
    return "".join(w[0] for w in name.split() if w[0].isupper())


class ContentBuilder:
    def __init__(
        self,
        seed: int,
        plan: Plan,
        bases: dict[str, int],
        existing_topics: dict[int, str],
        sink: Sink,
    ) -> None:
        self.seed, self.plan, self.bases, self.sink = seed, plan, bases, sink
        self.text = TextMaker(self._rng("text"))
        self.next_search_id = bases["search_document"] + 1
        # (type, id, public_at) of the item last written, which `_tag` tags.
        self.last_indexed: tuple[str, int, datetime | None] = ("", 0, None)
        self.next_affiliation_id = bases["affiliation"] + 1
        gen_topics = [self.pk("topic", i) for i in range(plan.topics)]
        # Existing (curated, e.g. demo) topics come first: they are the popular ones.
        self.existing_topic_names = set(existing_topics.values())
        self.topics = WeightedPicker([*existing_topics, *gen_topics], TOPIC_EXPONENT)
        self.people = WeightedPicker(
            [self.pk("person", i) for i in range(plan.people)], PEOPLE_EXPONENT
        )
        self.person_titles: list[str] = []
        self.org_names: list[str] = []
        # Per article: status, published_at, created_at and its body's number of blocks.
        self.article_state: list[tuple[str, datetime | None, datetime, int]] = []

    def _rng(self, stream: str) -> random.Random:
        return random.Random(f"dossier-generate:{self.seed}:{stream}")

    def pk(self, type_name: str, index: int) -> int:
        return self.bases[type_name] + 1 + index

    def _index(self, type_name: str, row: dict[str, Any]) -> None:
        """The search document `app.content.search.index_item` would write for `row`."""
        ctype = BY_NAME[type_name]
        title, body = document_text(ctype, row.__getitem__)
        public_at = public_since(ctype.model, row.get)
        self.last_indexed = (type_name, row["id"], public_at)
        self.sink(
            "search_document",
            {
                "id": self.next_search_id,
                "entity_type": type_name,
                "entity_id": row["id"],
                "title": title,
                "body": body,
                "public_at": public_at,
                "deleted": row.get("deleted_at") is not None,
            },
        )
        self.next_search_id += 1

    def _tag(
        self, rng: random.Random, type_name: str, entity_id: int, weights: tuple[int, ...]
    ) -> None:
        # An item is tagged right after it is written: its visibility is the last indexed.
        indexed_type, indexed_id, public_at = self.last_indexed
        if (indexed_type, indexed_id) != (type_name, entity_id):
            raise RuntimeError(f"{type_name} {entity_id} tagged before it was written")
        for position, topic_id in enumerate(self.topics.distinct(rng, _choose_count(rng, weights))):
            self.sink(
                "tagging",
                {
                    "entity_type": type_name,
                    "entity_id": entity_id,
                    "topic_id": topic_id,
                    "position": position,
                    "public_at": public_at,
                },
            )

    def _emit(self, type_name: str, row: dict[str, Any]) -> None:
        self.sink(type_name, row)
        self._index(type_name, row)

    def _title(self, rng: random.Random) -> str:
        theme, other, place = rng.choice(THEMES), rng.choice(THEMES), rng.choice(PLACES)
        return rng.choice(
            (
                f"{theme} in {place}",
                f"{theme} and {other}: {rng.choice(QUALIFIERS)}",
                f"Rethinking {theme} in {place}",
                f"The Politics of {theme} in {place}",
                f"{theme}, {other} and the Future of {place}",
                f"What {place} Teaches Us About {theme}",
            )
        )

    # -- directory: topics, organizations, people, resources ---------------------------

    def build_topics(self) -> None:
        rng = self._rng("topic")
        names: list[str] = []
        seen = set(self.existing_topic_names)  # never a second "Kidnapping" beside the demo's
        themes = iter(THEMES)
        while len(names) < self.plan.topics:
            name = next(themes, None) or f"{rng.choice(THEMES)} in {rng.choice(PLACES)}"
            if name not in seen:
                seen.add(name)
                names.append(name)
        for i, name in enumerate(names):
            description = (
                f"Research, events and commentary on {name.lower()}. {self.text.sentences(1, 2)}"
            )
            self._emit(
                "topic",
                {
                    "id": self.pk("topic", i),
                    "slug": slug("topic", i + 1),
                    **entity_times(rng, deletable=False),
                    "name": name,
                    "description": description,
                },
            )

    def build_organizations(self) -> None:
        rng = self._rng("organization")
        top_level = max(1, self.plan.organizations // 5)
        for i in range(self.plan.organizations):
            place, field, theme = rng.choice(PLACES), rng.choice(ORG_FIELDS), rng.choice(THEMES)
            parent = None
            if i >= top_level and rng.random() < 0.7:
                parent = self.pk("organization", rng.randrange(i))
                name = rng.choice(ORG_CHILD_KINDS).format(field=field, theme=theme)
            else:
                name = rng.choice(ORG_PARENT_KINDS).format(place=place, field=field)
            self.org_names.append(name)
            self._emit(
                "organization",
                {
                    "id": self.pk("organization", i),
                    "slug": slug("organization", i + 1),
                    **entity_times(rng, deletable=False),
                    "name": name,
                    "short_name": _initials(name) if rng.random() < 0.5 else None,
                    "url": f"https://www.example.org/organizations/{slug('organization', i + 1)}"
                    if rng.random() < 0.8
                    else None,
                    "parent_id": parent,
                },
            )

    def build_people(self) -> None:
        rng = self._rng("person")
        n_orgs = self.plan.organizations
        for i in range(self.plan.people):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            middle = f" {rng.choice('ABCDEFGHJKLMNPRSTW')}." if rng.random() < 0.3 else ""
            name = f"{first}{middle} {last}"
            pk, person_slug = self.pk("person", i), slug("person", i + 1)
            orgs = [rng.randrange(n_orgs) for _ in range(_choose_count(rng, (30, 30, 20, 12, 8)))]
            orgs = list(dict.fromkeys(orgs))
            roles = [rng.choice(ACADEMIC_ROLES) for _ in orgs]
            title = f"{roles[0]}, {self.org_names[orgs[0]]}"
            self.person_titles.append(title)
            bio, bio_text = self.text.paragraph_html(f"{name} is {title}.", 2, 5)
            email_name = f"{first}.{last}".lower().replace(" ", "")
            self._emit(
                "person",
                {
                    "id": pk,
                    "slug": person_slug,
                    **entity_times(rng),
                    "name": name,
                    "sort_name": f"{last}, {first}{middle}",
                    "title": title,
                    "degrees": rng.choice(DEGREES) if rng.random() < 0.6 else None,
                    "bio": bio,
                    "bio_text": bio_text,
                    **self._photo(rng, name, person_slug),
                    "email": f"{email_name}.{i + 1}@example.org" if rng.random() < 0.7 else None,
                    "phone": f"+1 650-555-{rng.randrange(10_000):04d}"
                    if rng.random() < 0.5
                    else None,
                    "office": f"Encina Hall, Room {rng.randint(100, 499)}"
                    if rng.random() < 0.4
                    else None,
                    "profile_url": f"https://www.example.org/people/{person_slug}",
                    "cv_url": f"https://www.example.org/cv/{person_slug}.pdf"
                    if rng.random() < 0.2
                    else None,
                },
            )
            for position, (org, role) in enumerate(zip(orgs, roles, strict=True)):
                start = rng.randint(1990, 2025)
                current = position == 0 or rng.random() < 0.6
                self.sink(
                    "affiliation",
                    {
                        "id": self.next_affiliation_id,
                        "person_id": pk,
                        "organization_id": self.pk("organization", org),
                        "role": role,
                        "start_year": start if rng.random() < 0.8 else None,
                        "end_year": None if current else min(start + rng.randint(1, 10), 2026),
                        "is_current": current,
                        "is_primary": position == 0,
                        "position": position,
                    },
                )
                self.next_affiliation_id += 1
            if rng.random() < 0.5:
                self._tag(rng, "person", pk, (60, 40))

    @staticmethod
    def _photo(rng: random.Random, name: str, person_slug: str) -> dict[str, Any]:
        if rng.random() >= 0.6:
            return {"photo_url": None, "photo_alt": None, "photo_credit": None}
        return {
            "photo_url": f"/media/people/{person_slug}.jpg",
            "photo_alt": name,
            "photo_credit": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            if rng.random() < 0.3
            else None,
        }

    def build_resources(self) -> None:
        from app.generate.vocabulary import AUDIENCES, HOURS, RESOURCE_KINDS

        rng = self._rng("resource")
        for i in range(self.plan.resources):
            kind = rng.choice(sorted(RESOURCE_KINDS))
            name = f"{rng.choice(PLACES)} {rng.choice(RESOURCE_KINDS[kind])}"
            pk = self.pk("resource", i)
            self._emit(
                "resource",
                {
                    "id": pk,
                    "slug": slug("resource", i + 1),
                    **publication_state(rng, past_instant(rng)),
                    "name": name,
                    "resource_type": kind,
                    "description": self.text.sentences(1, 3),
                    "phone": f"+1 800-555-{rng.randrange(10_000):04d}"
                    if rng.random() < 0.7
                    else None,
                    "hotline": f"+1 888-555-{rng.randrange(10_000):04d}"
                    if kind == "hotline"
                    else None,
                    "email": f"help{i + 1}@example.org" if rng.random() < 0.5 else None,
                    "contacts": None,  # made from phone, hotline and email when read
                    "url": f"https://help.example.org/{slug('resource', i + 1)}",
                    "hours": rng.choice(HOURS),
                    "audience": rng.choice(AUDIENCES),
                    "is_confidential": rng.random() < 0.2,
                    "position": i,
                },
            )
            self._tag(rng, "resource", pk, (60, 40))
