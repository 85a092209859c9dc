"""Request and response models."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Schema(BaseModel):
    """Base of the API's request and response models.

    Their validators and JSON schemas are built when first used, not when the class is
    made: the response models serve only the OpenAPI document (handlers send JSON they
    render themselves) and the write models only writes, so a server starts without
    building either (3.5% of the instructions to ready).
    """

    model_config = ConfigDict(defer_build=True)
