"""Querysets of one user, compiled to SQL once per process.

Building and compiling a queryset costs Django up to a millisecond, often more than PostgreSQL
takes to run it, and a page asks several that differ from one user to the next only by the
user's id: their teams, the people of the teams they manage. ``UserQuery`` compiles such a
queryset once for each role a user can have and runs it with the user's id in place.
"""

import copy
from collections.abc import Callable

from django.core.exceptions import EmptyResultSet
from django.db.models import Model, QuerySet

from teams.visibility import user_is_active, user_is_admin

# Stands for the user's id while a query is compiled: no user has it.
USER_ID_PLACEHOLDER = -7_319_451_117


class UserQuery:
    """``build(user)``: a queryset of model instances (no select_related or prefetch) that
    depends on the user through their id and their role (active, administrator) only. Calling
    the UserQuery with a user gives the queryset's rows as a list, from SQL compiled once per
    role: the same SQL, with the user's id where the queryset had it."""

    def __init__(self, build: Callable[..., QuerySet]):
        self.build = build
        self._compiled: dict[tuple, tuple | None] = {}

    def _statement(self, user) -> tuple | None:
        role = (type(user), user_is_active(user), user_is_admin(user))
        if role not in self._compiled:
            stand_in = copy.copy(user)  # the same role, an id nobody has
            stand_in.pk = USER_ID_PLACEHOLDER
            queryset = self.build(stand_in)
            try:
                sql, params = queryset.query.sql_with_params()
            except EmptyResultSet:  # matches nothing for this role
                self._compiled[role] = None
            else:
                positions = [index for index, value in enumerate(params) if value == USER_ID_PLACEHOLDER]
                self._compiled[role] = (queryset.model, queryset.db, sql, list(params), positions)
        return self._compiled[role]

    def __call__(self, user) -> list[Model]:
        statement = self._statement(user)
        if statement is None:
            return []
        model, db, sql, params, positions = statement
        params = list(params)
        for position in positions:
            params[position] = user.pk
        return list(model._default_manager.db_manager(db).raw(sql, params))
