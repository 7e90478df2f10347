"""Querysets compiled to SQL once per process.

Building and compiling a queryset costs Django up to a millisecond, often more than PostgreSQL
takes to run it, and every request asks several that differ from the last only by one value:
the signed-in user's own row, their teams, the people of the teams they manage.
``CompiledQuery`` compiles such a queryset once, with a placeholder for that value, and runs it
with the value in its place; ``UserQuery`` keeps one for each role a user can have;
``CompiledValues`` and ``CompiledModels`` keep a queryset's SQL for a caller that keeps them
under every value the queryset was built from.
"""

import copy
from collections.abc import Callable

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

from crm import prepared
from teams.visibility import user_is_active, user_is_admin

# Stands for the user's id while a query is compiled: no user has it.
USER_ID_PLACEHOLDER = -7_319_451_117


class CompiledQuery:
    """``queryset`` (model instances; no select_related or prefetch) compiled to SQL once, with
    ``placeholder`` standing for the value given to ``rows``: the same SQL and rows as the
    queryset filtered by that value. Raises EmptyResultSet for a queryset that matches nothing."""

    def __init__(self, queryset: QuerySet, placeholder):
        sql, params = queryset.query.sql_with_params()
        self.model, self.db, self.sql, self.params = queryset.model, queryset.db, sql, list(params)
        self.positions = [index for index, value in enumerate(params) if value == placeholder]

    def rows(self, value) -> list[Model]:
        params = list(self.params)
        for position in self.positions:
            params[position] = value
        return list(self.model._default_manager.db_manager(self.db).raw(self.sql, params))


class UserQuery:
    """``build(user)``: a queryset of model instances (no select_related or prefetch) that
    depends on the user through their id and their role (active, administrator) only. Calling
    the UserQuery with a user gives the queryset's rows as a list, from SQL compiled once per
    role: the same SQL, with the user's id where the queryset had it."""

    def __init__(self, build: Callable[..., QuerySet]):
        self.build = build
        self._compiled: dict[tuple, CompiledQuery | None] = {}

    def _query(self, user) -> CompiledQuery | None:
        role = (type(user), user_is_active(user), user_is_admin(user))
        if role not in self._compiled:
            stand_in = copy.copy(user)  # the same role, an id nobody has
            stand_in.pk = USER_ID_PLACEHOLDER
            try:
                self._compiled[role] = CompiledQuery(self.build(stand_in), USER_ID_PLACEHOLDER)
            except EmptyResultSet:  # matches nothing for this role
                self._compiled[role] = None
        return self._compiled[role]

    def __call__(self, user) -> list[Model]:
        query = self._query(user)
        return [] if query is None else query.rows(user.pk)


class CompiledValues:
    """A ``values_list`` queryset compiled to SQL once: ``rows()`` runs that SQL and gives the
    tuples iterating the queryset would, converted by the queryset's own compiler. Nothing of
    the rows is kept, only SQL; the caller keeps it under everything the queryset was built
    from. A queryset that matches nothing (EmptyResultSet) runs no query."""

    def __init__(self, queryset: QuerySet):
        self.db = queryset.db
        self.compiler = queryset.query.get_compiler(self.db)
        try:
            sql, params = self.compiler.as_sql()
        except EmptyResultSet:
            sql, params = None, ()
        self.sql, self.params = sql, tuple(params)

    def rows(self) -> list[tuple]:
        if self.sql is None:
            return []
        with connections[self.db].cursor() as cursor:
            cursor.execute(self.sql, self.params)
            fetched = cursor.fetchall()
        return list(self.compiler.results_iter(results=[fetched], tuple_expected=True))


class CompiledModels:
    """A queryset of model instances, with its ``select_related`` objects, compiled to SQL once
    and run as a statement prepared once per connection (``crm.prepared``: only for statements
    whose plan does not depend on their values). ``rows(value)`` runs it with ``value`` wherever
    the queryset had ``placeholder`` (if it has one) and builds the instances as iterating the
    queryset would (no annotations, deferred fields or prefetches). ``from_table`` optionally
    reads the queryset's own table from a subquery of this SQL and parameters (one that selects
    every column of the table), so that PostgreSQL plans the joins around the subquery's rows
    instead of the whole table. Raises EmptyResultSet for a queryset that matches nothing."""

    def __init__(self, queryset: QuerySet, placeholder=None, *, from_table: tuple[str, list] | None = None):
        self.db = queryset.db
        compiler = queryset.query.get_compiler(self.db)
        sql, params = compiler.as_sql()
        params = list(params)
        if from_table is not None:
            table = compiler.quote_name_unless_alias(queryset.model._meta.db_table)
            sql_from, sql_from_params = from_table
            head, found, tail = sql.partition(f" FROM {table} ")
            if not found or " FROM " in head:
                raise ValueError(f"cannot read {table} from a subquery in: {sql}")
            sql = f"{head} FROM ({sql_from} OFFSET 0) {table} {tail}"  # OFFSET 0: planned on its own
            params = [*sql_from_params, *params]
        self.sql, self.params = sql, params
        self.positions = [index for index, value in enumerate(params) if value == placeholder]
        if placeholder is not None and not self.positions:
            raise ValueError("the placeholder is not among the queryset's parameters")
        self.compiler = compiler
        select, klass_info = compiler.select, compiler.klass_info
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        self.model, self.fields = klass_info["model"], (start, end)
        self.init_list = [column[0].target.attname for column in select[start:end]]
        self.related_populators = get_related_populators(klass_info, select, self.db)

    def rows(self, value=None) -> list[Model]:
        params = list(self.params)
        for position in self.positions:
            params[position] = value
        with connections[self.db].cursor() as cursor:
            prepared.execute(cursor, self.sql, params)
            fetched = cursor.fetchall()
        start, end = self.fields
        instances = []
        for row in self.compiler.results_iter(results=[fetched]):
            instance = self.model.from_db(self.db, self.init_list, row[start:end])
            for populator in self.related_populators:
                populator.populate(row, instance)
            instances.append(instance)
        return instances
