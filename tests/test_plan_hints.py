"""PlanHints: answers that only choose a query plan, remembered a while, at most `size`."""

from __future__ import annotations

import pytest

import app.content.hints as hints
from app.content.hints import PlanHints


def _asked(hints_: PlanHints, keys: list[str], log: list[str]) -> dict[str, bool]:
    def work_out(missing: list[str]) -> dict[str, bool]:
        log.extend(missing)
        return {name: True for name in missing}

    return hints_.get_many({name: ("db", name) for name in keys}, work_out)


def test_at_most_size_answers_are_kept_even_when_one_call_asks_more() -> None:
    """`popular_topics` asks of every topic of a request and type at once: a GraphQL query
    with thousands of topics in its pool asked more than `size` questions in one call, and
    every answer was kept."""
    plan_hints = PlanHints(size=4)
    log: list[str] = []
    asked = [f"k{i}" for i in range(10)]
    assert _asked(plan_hints, asked, log) == dict.fromkeys(asked, True)
    assert len(plan_hints._known) <= 4
    _asked(plan_hints, ["k0"], log)  # still answered, by whatever is kept
    assert len(plan_hints._known) <= 4


def test_answers_asked_again_once_expired_do_not_count_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An expired answer asked again replaces itself: the hints do not grow, so they are
    not all forgotten (the others still fresh) as if they had."""
    clock = [0.0]
    monkeypatch.setattr(hints.time, "monotonic", lambda: clock[0])
    plan_hints = PlanHints(ttl=60.0, size=3)
    log: list[str] = []
    _asked(plan_hints, ["a"], log)
    clock[0] = 30.0
    _asked(plan_hints, ["b", "c"], log)
    clock[0] = 61.0
    _asked(plan_hints, ["a"], log)  # expired: worked out again
    assert log == ["a", "b", "c", "a"]
    _asked(plan_hints, ["b", "c"], log)  # still fresh: remembered
    assert log == ["a", "b", "c", "a"]
