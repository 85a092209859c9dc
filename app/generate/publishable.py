"""Row builders for the publishable types: events, articles, quotes and publications."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from app.generate.content import ContentBuilder, _choose_count, slug
from app.generate.lifecycle import BASE, YEAR_MINUTES, past_instant, publication_state
from app.generate.vocabulary import BUILDINGS, JOURNALS, PUBLISHERS, QUALIFIERS, STREETS, TIMEZONES
from app.models import (
    ARTICLE_TYPES,
    ATTENDANCE_MODES,
    EVENT_STATUSES,
    EVENT_TYPES,
    PUBLICATION_TYPES,
)

# Weights, in the order of the models' tuples of choices.
EVENT_TYPE_WEIGHTS = (30, 12, 18, 18, 4, 10, 8)
ATTENDANCE_WEIGHTS = (55, 25, 20)
EVENT_STATUS_WEIGHTS = (92, 4, 2, 2)
ARTICLE_TYPE_WEIGHTS = (50, 15, 10, 15, 10)
PUBLICATION_TYPE_WEIGHTS = (35, 10, 10, 15, 10, 10, 5, 5)


class SyntheticContent(ContentBuilder):
    """Every type's builder; `build_all` writes a whole plan in dependency order."""

    def build_all(self) -> None:
        self.build_topics()
        self.build_organizations()
        self.build_people()
        self.build_resources()
        self.build_events()
        self.build_articles()
        self.build_quotes()
        self.build_publications()

    def _person_index(self, pk: int) -> int:
        return pk - self.bases["person"] - 1

    # -- events ----------------------------------------------------------------------

    def build_events(self) -> None:
        rng = self._rng("event")
        for i in range(self.plan.events):
            pk, event_slug = self.pk("event", i), slug("event", i + 1)
            # From 15 years ago to a year ahead, recent ones likelier; quarter-hour starts.
            offset = int(16 * YEAR_MINUTES * rng.random() ** 1.5) - YEAR_MINUTES
            starts = BASE - timedelta(minutes=offset - offset % 15)
            event_type = rng.choices(EVENT_TYPES, weights=EVENT_TYPE_WEIGHTS)[0]
            if event_type == "conference":
                ends = starts + timedelta(days=rng.randint(0, 2), hours=rng.randint(6, 9))
            else:
                ends = starts + timedelta(minutes=30 * rng.randint(2, 6))
            announced = min(
                starts - timedelta(days=rng.randint(7, 60)),
                BASE - timedelta(hours=rng.randint(1, 240)),
            )
            mode = rng.choices(ATTENDANCE_MODES, weights=ATTENDANCE_WEIGHTS)[0]
            body, body_text = self.text.body(
                1000, 3000, self._title(rng) if rng.random() < 0.3 else None
            )
            state = publication_state(rng, announced)
            title = self._title(rng)
            self._emit(
                "event",
                {
                    "id": pk,
                    "slug": event_slug,
                    **state,
                    "title": title,
                    "subtitle": rng.choice(QUALIFIERS) if rng.random() < 0.3 else None,
                    "event_type": event_type,
                    "summary": self.text.sentences(1, 2),
                    "body": body,
                    "body_text": body_text,
                    "starts_at": starts,
                    "ends_at": ends,
                    "timezone": rng.choice(TIMEZONES),
                    "attendance_mode": mode,
                    "event_status": rng.choices(EVENT_STATUSES, weights=EVENT_STATUS_WEIGHTS)[0],
                    **self._venue(rng, mode),
                    "online_url": f"https://zoom.example.org/j/{rng.randrange(10**10):010d}"
                    if mode != "in_person"
                    else None,
                    "online_platform": "Zoom" if mode != "in_person" else None,
                    "registration_url": f"https://events.example.org/register/{event_slug}"
                    if rng.random() < 0.5
                    else None,
                    **self._event_image(i, event_slug, title),
                },
            )
            self._participants(rng, pk, event_type)
            sponsors = rng.sample(
                range(self.plan.organizations), rng.choices((0, 1, 2), weights=(40, 40, 20))[0]
            )
            for position, org in enumerate(sponsors):
                self.sink(
                    "event_sponsor",
                    {
                        "event_id": pk,
                        "organization_id": self.pk("organization", org),
                        "position": position,
                    },
                )
            self._tag(rng, "event", pk, (35, 35, 20, 10))

    @staticmethod
    def _event_image(index: int, event_slug: str, title: str) -> dict[str, Any]:
        """A photo for every third event (chosen by number, not drawn: the event stream's
        other values stay as they were)."""
        if index % 3:
            return dict.fromkeys(
                ("hero_image_url", "hero_image_alt", "hero_image_caption", "hero_image_credit")
            )
        return {
            "hero_image_url": f"/media/events/{event_slug}.jpg",
            "hero_image_alt": title,
            "hero_image_caption": None,
            "hero_image_credit": "Getty Images" if index % 2 else None,
        }

    @staticmethod
    def _venue(rng: random.Random, mode: str) -> dict[str, Any]:
        if mode == "online":
            return {"venue_name": None, "venue_address": None}
        building = rng.choice(BUILDINGS)
        name = (
            f"{building} Hall, Room {rng.randint(100, 499)}"
            if rng.random() < 0.7
            else f"{building} Conference Center"
        )
        address = (
            f"{rng.randint(100, 999)} {rng.choice(STREETS)}, Stanford, CA 94305"
            if rng.random() < 0.8
            else None
        )
        return {"venue_name": name, "venue_address": address}

    def _participants(self, rng: random.Random, event_id: int, event_type: str) -> None:
        people = self.people.distinct(rng, _choose_count(rng, (10, 20, 25, 20, 15, 10)))
        main_role = "panelist" if event_type == "panel" and rng.random() < 0.7 else "speaker"
        roles = [main_role] * len(people)
        if len(people) >= 3 and rng.random() < 0.3:
            roles[0] = "host"
        if len(people) >= 2 and rng.random() < 0.6:
            roles[-1] = "moderator"
        if event_type == "seminar" and len(people) >= 3 and rng.random() < 0.15:
            roles[-2] = "discussant"
        if event_type == "workshop" and rng.random() < 0.3:
            roles[0] = "organizer"
        for position, (person_id, role) in enumerate(zip(people, roles, strict=True)):
            self.sink(
                "event_participant",
                {
                    "event_id": event_id,
                    "person_id": person_id,
                    "role": role,
                    "position": position,
                    "title": None,  # the profile's title holds (no per-event card lines)
                },
            )

    # -- articles and quotes -------------------------------------------------------------

    def build_articles(self) -> None:
        rng = self._rng("article")
        for i in range(self.plan.articles):
            pk, article_slug = self.pk("article", i), slug("article", i + 1)
            state = publication_state(rng, past_instant(rng))
            body, body_text = self.text.body(
                1000, 3000, self._title(rng) if rng.random() < 0.3 else None
            )
            blocks = body.count("\n") + 1  # `TextMaker.body`: one block a line
            self.article_state.append(
                (state["status"], state["published_at"], state["created_at"], blocks)
            )
            hero = rng.random() < 0.5
            self._emit(
                "article",
                {
                    "id": pk,
                    "slug": article_slug,
                    **state,
                    "title": self._title(rng),
                    "subtitle": self.text.sentences(1, 1) if rng.random() < 0.6 else None,
                    "article_type": rng.choices(ARTICLE_TYPES, weights=ARTICLE_TYPE_WEIGHTS)[0],
                    "byline": "By the Editorial Staff" if rng.random() < 0.05 else None,
                    "body": body,
                    "body_text": body_text,
                    "hero_image_url": f"/media/articles/{article_slug}.jpg" if hero else None,
                    "hero_image_alt": self.text.sentences(1, 1) if hero else None,
                    "hero_image_caption": self.text.sentences(1, 1)
                    if hero and rng.random() < 0.5
                    else None,
                    "hero_image_credit": "Getty Images" if hero and rng.random() < 0.5 else None,
                },
            )
            for position, person_id in enumerate(
                self.people.distinct(rng, _choose_count(rng, (60, 30, 10)))
            ):
                self.sink(
                    "article_author",
                    {"article_id": pk, "person_id": person_id, "position": position},
                )
            if rng.random() < 0.05:
                for position, res in enumerate(
                    rng.sample(range(self.plan.resources), rng.randint(1, 2))
                ):
                    self.sink(
                        "article_resource",
                        {
                            "article_id": pk,
                            "resource_id": self.pk("resource", res),
                            "position": position,
                        },
                    )
            if rng.random() < 0.1:
                self._related(rng, pk, i)
            self._tag(rng, "article", pk, (35, 35, 20, 10))

    def _related(self, rng: random.Random, article_id: int, index: int) -> None:
        targets: dict[tuple[str, int], None] = {}
        for _ in range(rng.randint(1, 3)):
            if index > 0 and rng.random() < 0.6:
                targets[("article", self.pk("article", rng.randrange(index)))] = None
            else:
                targets[("event", self.pk("event", rng.randrange(self.plan.events)))] = None
        for position, (target_type, target_id) in enumerate(targets):
            self.sink(
                "related_item",
                {
                    "article_id": article_id,
                    "target_type": target_type,
                    "target_id": target_id,
                    "position": position,
                },
            )

    def build_quotes(self) -> None:
        rng = self._rng("quote")
        positions: dict[int, int] = {}
        for i in range(self.plan.quotes):
            pk = self.pk("quote", i)
            state = publication_state(rng, past_instant(rng))
            article_id = None
            position = 0
            after_block = None
            if rng.random() < 0.75:
                index = rng.randrange(self.plan.articles)
                article_id = self.pk("article", index)
                position = positions[index] = positions.get(index, -1) + 1
                status, published_at, created_at, blocks = self.article_state[index]
                # Every second block from the second on, in order (no random draw: the
                # stream, and so every other value, stays as it was).
                after_block = min(blocks, 2 * position + 2)
                # A quote goes live with its source article.
                live = (
                    published_at
                    if published_at is not None and published_at <= BASE
                    else created_at
                )
                state |= {
                    "status": status,
                    "published_at": published_at,
                    "created_at": created_at,
                    "updated_at": min(BASE, max(live, state["updated_at"])),
                    "was_public": published_at is not None and published_at <= BASE,
                }
                if state["deleted_at"] is not None:
                    state["deleted_at"] = state["updated_at"]
            speaker = self.people.one(rng) if rng.random() < 0.9 else None
            attribution = None
            if speaker is not None and rng.random() < 0.7:
                attribution = self.person_titles[self._person_index(speaker)]
            self._emit(
                "quote",
                {
                    "id": pk,
                    "slug": slug("quote", i + 1),
                    **state,
                    "text": self.text.sentences(1, 3),
                    "speaker_id": speaker,
                    "attribution": attribution,
                    "article_id": article_id,
                    "position": position,
                    "after_block": after_block,
                },
            )
            self._tag(rng, "quote", pk, (50, 30, 20))

    # -- publications ----------------------------------------------------------------------

    def build_publications(self) -> None:
        rng = self._rng("publication")
        for i in range(self.plan.publications):
            pk, pub_slug = self.pk("publication", i), slug("publication", i + 1)
            when = past_instant(rng)
            kind = rng.choices(PUBLICATION_TYPES, weights=PUBLICATION_TYPE_WEIGHTS)[0]
            journal = kind == "journal_article"
            self._emit(
                "publication",
                {
                    "id": pk,
                    "slug": pub_slug,
                    **publication_state(rng, when),
                    "title": self._title(rng),
                    "publication_type": kind,
                    "abstract": self.text.sentences(4, 9),
                    "journal": rng.choice(JOURNALS) if journal else None,
                    "publisher": rng.choice(PUBLISHERS)
                    if kind in ("book", "book_chapter", "report")
                    else None,
                    "volume": str(rng.randint(1, 80)) if journal else None,
                    "issue": str(rng.randint(1, 12)) if journal else None,
                    "pages": f"{(first := rng.randint(1, 900))}-{first + rng.randint(10, 40)}"
                    if journal
                    else None,
                    "year": when.year,
                    "published_on": when.date() if rng.random() < 0.7 else None,
                    "doi": f"10.5555/gen.{i + 1:06d}" if rng.random() < 0.6 else None,
                    "url": f"https://www.example.org/publications/{pub_slug}"
                    if rng.random() < 0.5
                    else None,
                },
            )
            for position, person_id in enumerate(
                self.people.distinct(rng, _choose_count(rng, (30, 30, 20, 12, 8)))
            ):
                self.sink(
                    "publication_author",
                    {"publication_id": pk, "person_id": person_id, "position": position},
                )
            self._tag(rng, "publication", pk, (35, 35, 20, 10))
