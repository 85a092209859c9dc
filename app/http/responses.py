"""Fast JSON for handlers that build their payload themselves.

FastAPI's own `ORJSONResponse` is deprecated in this FastAPI version, and making any
custom class the app's `default_response_class` would switch off FastAPI's fastest path
(Pydantic serialising a `response_model` straight to bytes). So the app keeps the default
class, and a handler returning a hand-built dict returns `ORJSONResponse(payload)`, which
also skips `jsonable_encoder`.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse


class ORJSONResponse(JSONResponse):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
