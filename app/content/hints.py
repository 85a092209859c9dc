"""Answers that only choose a query plan, remembered a while.

Whether a topic is popular, whether words are common: each costs a capped count, and either
plan returns the same rows, so an answer a minute old is good enough. Per process, keyed by
database and question, at most `size` answers (then all are forgotten at once).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable


class PlanHints:
    def __init__(self, ttl: float = 60.0, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._known: dict[Hashable, tuple[float, bool]] = {}

    def get(self, key: Hashable, work_out: Callable[[], bool]) -> bool:
        now = time.monotonic()
        known = self._known.get(key)
        if known is not None and now - known[0] < self.ttl:
            return known[1]
        answer = work_out()
        if len(self._known) >= self.size:
            self._known.clear()
        self._known[key] = (now, answer)
        return answer
