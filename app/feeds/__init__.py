"""Syndication: RSS, Atom and JSON Feed, iCalendar subscriptions and citation export."""

from fastapi import APIRouter

from app.feeds.citation import router as citation_router
from app.feeds.routes import router as feeds_router

router = APIRouter()
router.include_router(feeds_router)
router.include_router(citation_router)

__all__ = ["router"]
