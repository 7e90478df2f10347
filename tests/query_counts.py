"""What a page's query count depends on besides the page itself."""

from django.db import connection


def team_scope_queries() -> int:
    """The query that reads the user's teams for scoping deals: on PostgreSQL the authentication
    backend loads them with the user (``teams.visibility.user_team_scope_annotations``), on
    SQLite a page reads them in a query of its own."""
    return 0 if connection.vendor == "postgresql" else 1
