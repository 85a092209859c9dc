"""Answers that only choose a query plan, remembered a while.

Whether a topic is popular, whether words are common, how many items they reach: each
costs a capped count, and either plan returns the same rows, so an answer a minute old is
good enough. Per process, keyed by
database and question, at most `size` answers (then all are forgotten at once).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Mapping
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class PlanHints(Generic[V]):
    def __init__(self, ttl: float = 60.0, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._known: dict[Hashable, tuple[float, V]] = {}

    def get(self, key: Hashable, work_out: Callable[[], V]) -> V:
        return self.get_many({None: key}, lambda _: {None: work_out()})[None]

    def get_many(
        self, keys: Mapping[K, Hashable], work_out: Callable[[list[K]], Mapping[K, V]]
    ) -> dict[K, V]:
        """`get` for many questions (`keys`: each one's key): those not remembered are
        answered by one call of `work_out`, with what to answer."""
        now = time.monotonic()
        answers: dict[K, V] = {}
        missing: list[K] = []
        for name, key in keys.items():
            known = self._known.get(key)
            if known is not None and now - known[0] < self.ttl:
                answers[name] = known[1]
            else:
                missing.append(name)
        if not missing:
            return answers
        found = work_out(missing)
        kept = self._known
        # An expired answer asked again replaces itself; past `size`, all are forgotten,
        # and of one call's answers at most `size` are kept (the others answered all the same).
        if len(kept) + sum(keys[name] not in kept for name in missing) > self.size:
            kept.clear()
        for name in missing:
            answers[name] = found[name]
            key = keys[name]
            if key in kept or len(kept) < self.size:
                kept[key] = (now, found[name])
        return answers
