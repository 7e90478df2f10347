"""Paging of the opportunity list, with a count that stops at a bound.

Counting every row of a manager's 200,000 deals costs PostgreSQL more than the page itself;
nobody reads the exact figure past a few thousand. So the list counts at most ``bound + 1``
rows (``SELECT COUNT(*) FROM (… LIMIT bound + 1)``, which stops early) and says "10,000+".
Past the bound, pages still go on for as long as they are full.
"""

import math

from django.core.exceptions import EmptyResultSet
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connection, connections
from django.db.models import F, OrderBy, QuerySet
from django.utils.functional import cached_property

from crm import prepared

LIST_COUNT_BOUND = 10_000


def union_all_sql(querysets) -> tuple[str | None, list]:
    """The SQL of ``querysets`` (same columns) as one ``UNION ALL`` and its parameters; a
    queryset that can match nothing is left out (None when all are)."""
    parts, params = [], []
    for position, queryset in enumerate(querysets):
        try:
            sql, part_params = queryset.query.sql_with_params()
        except EmptyResultSet:
            continue
        parts.append(f"SELECT * FROM ({sql}) part_{position}")  # noqa: S608 (ORM SQL)
        params.extend(part_params)
    return (" UNION ALL ".join(parts) or None), params


class RowsById:
    """The rows of a ``values()`` queryset with the given ids, as
    ``queryset.filter(pk__in=ids)`` reads them (same SQL, same values), the SQL compiled once
    per process and number of ids (a page reads 1 to 100): compiling the list's rows (four joins,
    three subqueries) cost as much as running them. Rows come in the database's order."""

    PLACEHOLDER = -(10**15)  # the ids while compiling: no row has them

    def __init__(self, queryset: QuerySet):
        self.queryset = queryset
        self._statements: dict[int, tuple] = {}

    def _statement(self, count: int) -> tuple:
        statement = self._statements.get(count)
        if statement is None:
            placeholders = [self.PLACEHOLDER - index for index in range(count)]
            query = self.queryset.filter(pk__in=placeholders).query
            compiler = query.get_compiler(using=self.queryset.db)
            sql, params = compiler.as_sql()
            params = list(params)
            positions = [params.index(placeholder) for placeholder in placeholders]
            # The columns' names as ValuesIterable takes them.
            if query.selected:
                names = list(query.selected)
            else:
                names = [*query.extra_select, *query.values_select, *query.annotation_select]
            converters = compiler.get_converters([column[0] for column in compiler.select[: compiler.col_count]])
            statement = self._statements[count] = (sql, params, positions, names, converters)
        return statement

    def by_ids(self, ids: list[int]) -> list[dict]:
        if not ids:
            return []
        sql, params, positions, names, converters = self._statement(len(ids))
        params = list(params)
        for position, pk in zip(positions, ids, strict=True):
            params[position] = pk
        connection = connections[self.queryset.db]
        with connection.cursor() as cursor:
            # Prepared once per connection: rows by id plan alike for any ids (crm.prepared).
            prepared.execute(cursor, sql, params)
            rows = cursor.fetchall()
        if converters:  # as SQLCompiler.apply_converters, with this thread's connection
            rows = [list(row) for row in rows]
            for row in rows:
                for index, (functions, expression) in converters.items():
                    for function in functions:
                        row[index] = function(row[index], expression, connection)
        return [dict(zip(names, row, strict=True)) for row in rows]


class BranchedRows:
    """Matching rows in the order ``order_by``, read branch by branch for a paginator:
    ``branches`` are the matching rows split by the branches of the visibility rule
    (``visible_to_by_branch``, narrowed by the same filters), which never share a row.

    A page is each branch's first ``offset + limit`` ids in the order (each branch walks an
    index of its own), merged in SQL (UNION ALL, ORDER BY, LIMIT/OFFSET), then those rows read
    by id from ``read`` (a ``RowsById``, or a queryset of model instances or ``values()`` rows
    with their ``pk``; the ids are visible rows already): two queries. A count is the sum of
    the branches' counts: one query. An OR of the branches would make PostgreSQL read and sort
    every visible row for one page.
    """

    ordered = True

    def __init__(self, *, order_by: list, branches: list[QuerySet], read: "QuerySet | RowsById"):
        self.order_by = list(order_by)
        self.branches = branches
        self.read = read
        self.order = [_order_term(term) for term in self.order_by]

    def count(self) -> int:
        return self.count_up_to(None)

    def count_up_to(self, limit: int | None) -> int:
        """How many rows there are, counting no further than ``limit`` (None: all)."""
        counts, params = [], []
        for branch in self.branches:
            ids = branch.order_by().values_list("pk")
            try:
                sql, branch_params = (ids if limit is None else ids[:limit]).query.sql_with_params()
            except EmptyResultSet:
                continue
            counts.append(f"(SELECT COUNT(*) FROM ({sql}) branch)")  # noqa: S608 (ORM SQL)
            params.extend(branch_params)
        if not counts:
            return 0
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {' + '.join(counts)}", params)  # noqa: S608 (ORM SQL)
            total = cursor.fetchone()[0]
        return total if limit is None else min(total, limit)

    def __getitem__(self, window: slice) -> list:
        offset, limit = window.start or 0, window.stop - (window.start or 0)
        names = [name for name, _descending, _nulls_last in self.order if name != "pk"]
        merged, params = union_all_sql(
            branch.order_by(*self.order_by).values_list("pk", *names)[: offset + limit] for branch in self.branches
        )
        if merged is None or limit <= 0:
            return []
        order = []
        for name, descending, nulls_last in self.order:
            column = 1 if name == "pk" else names.index(name) + 2
            order.append(f"{column} {'DESC' if descending else 'ASC'}{' NULLS LAST' if nulls_last else ''}")
        sql = f"SELECT * FROM ({merged}) merged ORDER BY {', '.join(order) or '1'} LIMIT %s OFFSET %s"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, limit, offset])
            ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            return []
        found = self.read.by_ids(ids) if isinstance(self.read, RowsById) else self.read.filter(pk__in=ids)
        rows = {(row["pk"] if isinstance(row, dict) else row.pk): row for row in found}
        return [rows[pk] for pk in ids if pk in rows]


def _order_term(term) -> tuple[str, bool, bool]:
    """An ORDER BY term of a queryset ("-name", "pk", F("name").desc(nulls_last=True)) as
    (field path, descending, nulls last)."""
    if isinstance(term, str):
        name = term.removeprefix("-")
        return ("pk" if name in ("pk", "id") else name), term.startswith("-"), False
    if isinstance(term, OrderBy) and isinstance(term.expression, F):
        name = term.expression.name
        return ("pk" if name in ("pk", "id") else name), term.descending, bool(term.nulls_last)
    raise ValueError(f"Cannot page by {term!r}")


class BoundedPage(Page):
    def has_next(self) -> bool:
        if self.paginator.is_bounded and self.number >= self.paginator.num_pages:
            return len(self.object_list) == self.paginator.per_page
        return super().has_next()


class BoundedPaginator(Paginator):
    """A Paginator whose ``count`` is at most ``bound``; ``is_bounded`` says there are more."""

    def __init__(self, object_list, per_page, *, count_up_to=None, bound: int | None = None):
        """``count_up_to(limit)``: how many rows there are, counting no further than ``limit``
        (default: a COUNT over ``object_list[:limit]``)."""
        super().__init__(object_list, per_page)
        self.bound = LIST_COUNT_BOUND if bound is None else bound
        self.count_up_to = count_up_to or (lambda limit: self.object_list[:limit].count())

    @cached_property
    def _counted(self) -> int:
        return self.count_up_to(self.bound + 1)

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.bound)

    @property
    def is_bounded(self) -> bool:
        return self._counted > self.bound

    @cached_property
    def num_pages(self) -> int:
        if self.count == 0:
            return 1
        return math.ceil(self.count / self.per_page)

    def validate_number(self, number) -> int:
        try:
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from exc
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        if number > self.num_pages and not self.is_bounded:
            raise EmptyPage(self.error_messages["no_results"])
        return number

    def page(self, number) -> BoundedPage:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if not self.is_bounded and top >= self.count:
            top = self.count
        return BoundedPage(self.object_list[bottom:top], number, self)
