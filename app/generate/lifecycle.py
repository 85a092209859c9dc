"""Timestamps, publication states and topic choices shared by every generated type.

All times derive from the fixed `BASE` instant, never from the clock, so two runs with
the same seed write identical rows. Scheduled items are published years after `BASE`,
so they stay in the future for as long as this dataset is in use.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any

BASE = datetime(2026, 10, 1, tzinfo=UTC)
YEAR_MINUTES = 365 * 24 * 60
HISTORY_YEARS = 15

DRAFT_SHARE = 0.03
SCHEDULED_SHARE = 0.02
ARCHIVED_SHARE = 0.01
DELETED_SHARE = 0.01
EDITED_SHARE = 0.2


def minutes_before_base(minutes: int) -> datetime:
    return BASE - timedelta(minutes=minutes)


def past_instant(rng: random.Random) -> datetime:
    """A past instant, recent ones likelier (a site publishes more every year)."""
    return minutes_before_base(int(HISTORY_YEARS * YEAR_MINUTES * rng.random() ** 1.5) + 60)


def _edits(
    rng: random.Random, row: dict[str, Any], since: datetime, deletable: bool = True
) -> None:
    if rng.random() < EDITED_SHARE:
        row["version"] = rng.randint(2, 4)
        later = since + timedelta(minutes=rng.randint(60, 90 * 24 * 60))
        row["updated_at"] = min(later, BASE)
    if rng.random() < DELETED_SHARE and deletable:
        row["version"] += 1
        row["deleted_at"] = row["updated_at"] = min(row["updated_at"] + timedelta(days=1), BASE)


def entity_times(rng: random.Random, deletable: bool = True) -> dict[str, Any]:
    """created/updated/deleted/version of a non-publishable item (topic, person, …).

    Topics and organizations are never deleted (`deletable=False`): a deleted topic
    would silently untag thousands of items, which no real site does.
    """
    created = past_instant(rng)
    row: dict[str, Any] = {
        "created_at": created,
        "updated_at": created,
        "deleted_at": None,
        "version": 1,
    }
    _edits(rng, row, created, deletable)
    return row


def publication_state(rng: random.Random, when: datetime) -> dict[str, Any]:
    """status/published_at/created/updated/deleted/version of an item meant for `when`.

    Mostly `published` at `when` (past); a few drafts (no published_at), scheduled
    items (published in the future), archived and deleted ones.
    """
    created = min(when, BASE) - timedelta(minutes=rng.randint(30, 14 * 24 * 60))
    status = "published"
    published_at: datetime | None = when
    draw = rng.random()
    if draw < DRAFT_SHARE:
        status, published_at = "draft", None
    elif draw < DRAFT_SHARE + SCHEDULED_SHARE:
        published_at = BASE + timedelta(
            days=rng.randint(5 * 365, 6 * 365), minutes=rng.randint(0, 1439)
        )
    elif draw < DRAFT_SHARE + SCHEDULED_SHARE + ARCHIVED_SHARE:
        status = "archived"
    row: dict[str, Any] = {
        "status": status,
        "published_at": published_at,
        "created_at": created,
        "updated_at": created,
        "deleted_at": None,
        "version": 1,
    }
    if published_at is not None and published_at <= BASE:
        row["updated_at"] = published_at
    # Published (now archived or deleted, perhaps) in the past: it has been public.
    row["was_public"] = published_at is not None and published_at <= BASE
    row["left_public_at"] = None
    row["public_slug"] = None
    _edits(rng, row, row["updated_at"])
    return row


class WeightedPicker:
    """Draws distinct items with Zipf-like weights: item k weighs 1 / (k + 1) ** exponent."""

    def __init__(self, items: list[int], exponent: float) -> None:
        self.items = items
        self.cum_weights = list(accumulate(1 / (k + 1) ** exponent for k in range(len(items))))
        self.total = self.cum_weights[-1] if items else 0.0

    def one(self, rng: random.Random) -> int:
        index = bisect_right(self.cum_weights, rng.random() * self.total)
        return self.items[min(index, len(self.items) - 1)]

    def distinct(self, rng: random.Random, count: int) -> list[int]:
        count = min(count, len(self.items))
        chosen: list[int] = []
        while len(chosen) < count:
            item = self.one(rng)
            if item not in chosen:
                chosen.append(item)
        return chosen
