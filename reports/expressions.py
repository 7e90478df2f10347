"""SQL building blocks shared by the report selectors, identical on PostgreSQL and SQLite.

Every figure is computed by the database. Where the two databases differ (numeric types, date
arithmetic, the median) the difference is handled here, once, so the selectors read the same
on both.
"""

import statistics
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Aggregate, DecimalField, Func, Value
from django.db.models.expressions import Col
from django.db.models.functions import NullIf

DECIMAL = DecimalField(max_digits=30, decimal_places=10)


class AsNumeric(Func):
    """A number the database divides exactly: ``numeric`` on PostgreSQL (integer ÷ integer
    would truncate), ``REAL`` on SQLite (which has no exact decimal type)."""

    template = "CAST(%(expressions)s AS numeric)"
    arity = 1
    output_field = DECIMAL

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="CAST(%(expressions)s AS REAL)", **extra_context)


class Rounded(Func):
    """ROUND(x, places), half away from zero, returned as a Decimal with ``places`` decimals."""

    function = "ROUND"
    arity = 1

    def __init__(self, expression, places: int = 2):
        self.places = int(places)
        super().__init__(AsNumeric(expression), output_field=DecimalField(max_digits=30, decimal_places=self.places))

    def as_sql(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler, connection, template=f"%(function)s(%(expressions)s, {self.places})", **extra_context
        )

    def get_db_converters(self, connection):
        # Same Decimal on every database: SQLite hands back a float, PostgreSQL a numeric.
        return [*super().get_db_converters(connection), self._quantize]

    def _quantize(self, value, expression, connection):
        return as_rounded_decimal(value, self.places)


def as_rounded_decimal(value, places: int = 2) -> Decimal | None:
    """A ``Rounded`` figure as the driver returned it (``AsFetched``) → the Decimal ``Rounded``
    gives: for a running sum, where only the last line's value is kept, convert just that one."""
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def ratio(numerator, denominator, places: int = 4) -> Rounded:
    """numerator ÷ denominator rounded to ``places``; NULL (never an error) when the denominator is 0."""
    return Rounded(AsNumeric(numerator) / NullIf(AsNumeric(denominator), Value(0), output_field=DECIMAL), places)


class DaysBetween(Func):
    """Elapsed days (fractional) from the moment ``start`` to the moment ``end``."""

    arity = 2
    output_field = DECIMAL

    def _compile_pair(self, compiler):
        start, end = self.get_source_expressions()
        start_sql, start_params = compiler.compile(start)
        end_sql, end_params = compiler.compile(end)
        return start_sql, end_sql, (*end_params, *start_params)

    def as_sql(self, compiler, connection, **extra_context):
        start_sql, end_sql, params = self._compile_pair(compiler)
        return f"(EXTRACT(EPOCH FROM ({end_sql} - {start_sql})) / 86400.0)", params

    def as_sqlite(self, compiler, connection, **extra_context):
        start_sql, end_sql, params = self._compile_pair(compiler)
        return f"(julianday({end_sql}) - julianday({start_sql}))", params


class Median(Aggregate):
    """The median (50th percentile, interpolated between the two middle values when the count is
    even). PostgreSQL: ``percentile_cont(0.5)``. SQLite has no percentile function, so the same
    definition is registered on each SQLite connection as ``jihui_median`` (see
    ``register_sqlite_functions``) — the way Django itself adds STDDEV to SQLite."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY CAST(%(expressions)s AS double precision))"
    output_field = DECIMAL
    allow_distinct = False

    def as_sqlite(self, compiler, connection, **extra_context):
        clone = self.copy()
        clone.function = "jihui_median"
        clone.template = "%(function)s(%(expressions)s)"
        return super(Median, clone).as_sql(compiler, connection, **extra_context)


class _SqliteMedian:
    """SQLite aggregate: the database hands us the values, we return the same median as
    PostgreSQL's percentile_cont(0.5)."""

    def __init__(self):
        self.values: list[float] = []

    def step(self, value):
        if value is not None:
            self.values.append(float(value))

    def finalize(self):
        return statistics.median(self.values) if self.values else None


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("jihui_median", 1, _SqliteMedian)


class Over(Func):
    """An aggregate of the grouped rows, as a window: ``SUM(COUNT(*)) OVER (PARTITION BY …)``.

    It lets one GROUP BY query also return subtotals (per channel) and totals (``OVER ()``)
    computed by the database — the way GROUPING SETS would, on both databases. Django refuses
    ``Window(Sum(Count(…)))``, but the SQL is standard (PostgreSQL; SQLite ≥ 3.25)."""

    contains_aggregate = True  # never put it in GROUP BY
    contains_over_clause = True

    def __init__(self, function: str, expression, *, partition_by=(), output_field=None):
        self.window_function = function
        self.partition_size = len(partition_by)
        super().__init__(expression, *partition_by, output_field=output_field)

    def _resolve_output_field(self):
        return self.get_source_expressions()[0].output_field

    def as_sql(self, compiler, connection, **extra_context):
        expression, *partition = self.get_source_expressions()
        sql, params = compiler.compile(expression)
        compiled = [compiler.compile(item) for item in partition]
        clause = ("PARTITION BY " + ", ".join(part_sql for part_sql, _params in compiled)) if compiled else ""
        return f"{self.window_function}({sql}) OVER ({clause})", (*params, *(p for _sql, ps in compiled for p in ps))


class AsFetched(Func):
    """The value exactly as the database driver returns it, without Django's per-row Python
    conversion (used on integer columns of long line lists, where that conversion is most of the
    Python time)."""

    template = "%(expressions)s"
    arity = 1

    def get_db_converters(self, connection):
        return []


class PerGroup(Func):
    """An expression over columns already in the GROUP BY (e.g. a source's cost from its money,
    days and day rate), computed once per group instead of being added to the GROUP BY and
    computed for every row."""

    template = "%(expressions)s"
    arity = 1
    contains_aggregate = True

    def get_group_by_cols(self):
        # Group by the columns it reads, not by the expression: PostgreSQL then drops them from
        # the GROUP BY (they depend on the grouped primary key) and computes the expression once
        # per group; grouping by the expression computed it for every row.
        return [column for column in self.get_source_expressions()[0].flatten() if isinstance(column, Col)]
