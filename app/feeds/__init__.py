"""Syndication: RSS, Atom and JSON Feed, iCalendar subscriptions and citation export."""

from fastapi import APIRouter

from app.feeds.citation import router as citation_router
from app.feeds.routes import router as feeds_router

routers: list[APIRouter] = [feeds_router, citation_router]

__all__ = ["routers"]
