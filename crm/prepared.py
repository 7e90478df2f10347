"""A few fixed-text statements prepared once per PostgreSQL connection.

PostgreSQL plans every statement it is sent. For the opportunity page's deal (six joins around
a table of 33 indexes) and its timeline (a UNION ALL of six history tables) planning took 0.8 ms
each, longer than running them. A statement prepared on the connection (``PREPARE``) is planned
for its first five runs, and then, when a generic plan costs no more than those, not again:
planning falls to about 0.01 ms. Django with psycopg2 sends every statement as text, so
``execute`` prepares the statement the first time a connection sees it, in the same round trip
as its first run (``PREPARE …; EXECUTE …``: one query, as before), and afterwards sends
``EXECUTE`` with the values.

Only statements whose plan does not depend on their values belong here (a deal by id, its
history by its id): a generic plan is one plan for every value. And each value must take its
type from where it stands (compared with a column, cast): a bare value, such as a constant the
ORM writes into a UNION's columns, has no type once it is a parameter, and PostgreSQL refuses
the statement (the dashboard's figures are run plainly for that reason). Each connection keeps the names
it prepared; a new connection starts with none. A statement whose first run failed is prepared
again under another name (whether its PREPARE ran is unknown). When the server no longer knows
a name (``DEALLOCATE``, a pooler's reset), the connection's names are forgotten and the statement
is prepared again at once — outside a transaction; inside one, whose error has spoilt it, the
call fails and the next one prepares. Poolers in
transaction mode such as PgBouncer hand each transaction another server session, where the
prepared names do not exist: set ``DB_PREPARED_STATEMENTS=false`` there. Elsewhere than
PostgreSQL the statement is simply executed.
"""

import functools
import itertools
import re
from dataclasses import dataclass, field

from django.conf import settings

_PLACEHOLDER = re.compile(r"%%|%s|%\((\w+)\)s")
# PostgreSQL's error for a prepared statement name it does not know.
_UNKNOWN_STATEMENT = "26000"


@dataclass(frozen=True, slots=True)
class _Statement:
    text: str  # PREPARE's text: $1, $2 … for the values, '%' escaped for psycopg2
    names: tuple[str, ...] | None  # the order of named values (%(name)s), or None: positional
    count: int


@functools.lru_cache(maxsize=512)
def _statement(sql: str) -> _Statement:
    names: list[str] = []
    positional = 0

    def number(match: re.Match) -> str:
        nonlocal positional
        if match.group(0) == "%%":
            return "%%"  # stays a literal '%' once psycopg2 has read the string
        if match.group(1) is None:
            positional += 1
            return f"${positional}"
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    text = _PLACEHOLDER.sub(number, sql)
    if names and positional:
        raise ValueError("a statement's values are either all named or all positional")
    return _Statement(text=text, names=tuple(names) if names else None, count=len(names) or positional)


@dataclass(slots=True)
class _Connection:
    raw: object  # the driver's connection these names were prepared on
    names: dict[str, str] = field(default_factory=dict)
    numbers: itertools.count = field(default_factory=lambda: itertools.count(1))


def _prepared_on(wrapper) -> _Connection:
    state = getattr(wrapper, "_jihui_prepared", None)
    if state is None or state.raw is not wrapper.connection:  # a new connection: nothing prepared
        state = _Connection(raw=wrapper.connection)
        wrapper._jihui_prepared = state
    return state


def execute(cursor, sql: str, params=None) -> None:
    """``cursor.execute(sql, params)`` (a Django cursor), through a statement prepared once per
    connection on PostgreSQL. ``params``: a sequence for ``%s``, a mapping for ``%(name)s``."""
    wrapper = cursor.db
    if wrapper.vendor != "postgresql" or not settings.DB_PREPARED_STATEMENTS:
        cursor.execute(sql, params)
        return
    statement = _statement(sql)
    if statement.names is None:
        values = list(params or ())
    else:
        values = [params[name] for name in statement.names]
    if len(values) != statement.count:
        raise ValueError(f"the statement takes {statement.count} values, not {len(values)}")
    arguments = f"({', '.join(['%s'] * len(values))})" if values else ""
    state = _prepared_on(wrapper)
    name = state.names.get(sql)
    if name is not None:
        try:
            cursor.execute(f"EXECUTE {name}{arguments}", values)
            return
        except Exception as exc:
            if getattr(getattr(exc, "__cause__", None), "pgcode", None) != _UNKNOWN_STATEMENT:
                raise
            # The server forgot it, and surely the others too (DEALLOCATE ALL, DISCARD ALL).
            state.names.clear()
            if wrapper.in_atomic_block:
                raise  # the transaction is spoilt: prepared again by the next call
    name = f"jihui_{next(state.numbers)}"
    cursor.execute(f"PREPARE {name} AS {statement.text}; EXECUTE {name}{arguments}", values)
    state.names[sql] = name
