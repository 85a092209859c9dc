"""The query layer: the one place that decides what is visible, in what order, on which page.

REST routers, GraphQL resolvers, feeds, calendars, search and the change log all read
content through these functions.
"""
