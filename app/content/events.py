"""Write notifications: the one hook that caches subscribe to.

The write routes call `notify_write(ctype, row)` after their transaction has committed
(never before: a cache purged for a write that then rolls back could be refilled with
the old content and keep it). Subscribers register with `on_write(callback)`; a failing
subscriber is logged and never turns a committed write into an error.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from app.content.types import ContentType

logger = logging.getLogger("app.content.events")

WriteCallback = Callable[[ContentType, Any], None]

_callbacks: list[WriteCallback] = []
_lock = threading.Lock()


def on_write(callback: WriteCallback) -> Callable[[], None]:
    """Call `callback(ctype, row)` after every committed write; returns an unsubscribe."""
    with _lock:
        _callbacks.append(callback)

    def unsubscribe() -> None:
        with _lock:
            if callback in _callbacks:
                _callbacks.remove(callback)

    return unsubscribe


def notify_write(ctype: ContentType, row: Any) -> None:
    """Tell every subscriber that `row` (of type `ctype`) was created, changed or deleted."""
    with _lock:
        callbacks = list(_callbacks)
    for callback in callbacks:
        try:
            callback(ctype, row)
        except Exception:
            logger.exception("write subscriber %r failed for %s %s", callback, ctype.name, row.id)
