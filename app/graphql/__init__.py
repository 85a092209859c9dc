"""The GraphQL API at /graphql (its router is exported here)."""

from app.graphql.http import router

__all__ = ["router"]
