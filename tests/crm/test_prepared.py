"""crm.prepared: the same rows as a plain execute, prepared once per connection."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from crm import prepared

pytestmark = pytest.mark.django_db

postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="PREPARE is PostgreSQL's")

POSITIONAL = "SELECT %s::int + n, 'a%%b' FROM generate_series(1, %s) AS n ORDER BY n"
NAMED = "SELECT %(base)s::int + n, %(base)s::int FROM generate_series(1, %(upto)s) AS n ORDER BY n"


def rows(sql, params):
    with connection.cursor() as cursor:
        prepared.execute(cursor, sql, params)
        return cursor.fetchall()


def plain(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def prepared_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {name for (name,) in cursor.fetchall()}


@postgresql
def test_it_gives_the_rows_a_plain_execute_gives():
    for sql, params in ((POSITIONAL, [10, 3]), (NAMED, {"base": 10, "upto": 3}), ("SELECT 1", None)):
        for _ in range(7):  # past PostgreSQL's five custom plans, onto the generic one
            assert rows(sql, params) == plain(sql, params)
    assert rows(POSITIONAL, [1, 2]) == [(2, "a%b"), (3, "a%b")]


@postgresql
def test_it_prepares_once_per_connection_in_the_first_runs_round_trip():
    sql = "SELECT %s::int * 2"
    with CaptureQueriesContext(connection) as captured:
        assert rows(sql, [4]) == [(8,)]
        assert rows(sql, [5]) == [(10,)]
    first, second = (query["sql"] for query in captured)
    assert first.startswith("PREPARE jihui_") and "; EXECUTE jihui_" in first
    assert second.startswith("EXECUTE jihui_")
    assert second.split("(")[0].removeprefix("EXECUTE ") in prepared_names()


@postgresql
@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_again():
    sql = "SELECT %s::int + 1"
    assert rows(sql, [1]) == [(2,)]
    connection.close()
    with CaptureQueriesContext(connection) as captured:
        assert rows(sql, [2]) == [(3,)]
    assert captured[-1]["sql"].startswith("PREPARE ")


@postgresql
@pytest.mark.django_db(transaction=True)  # outside a transaction, as pages read; and its own connection
def test_a_failed_first_run_or_a_forgotten_statement_does_not_stick():
    sql, other = "SELECT 1 / %s::int", "SELECT %s::int - 1"
    try:
        with pytest.raises(DatabaseError):  # division by zero after PREPARE ran
            rows(sql, [0])
        assert rows(sql, [1]) == [(1,)]  # prepared again under another name
        assert rows(other, [1]) == [(0,)]
        with connection.cursor() as cursor:
            cursor.execute("DEALLOCATE ALL")  # as a pooler's reset would
        assert rows(sql, [1]) == [(1,)]  # prepared again at once
        assert rows(other, [2]) == [(1,)]
        with connection.cursor() as cursor:
            cursor.execute("DEALLOCATE ALL")
        with pytest.raises(DatabaseError), transaction.atomic():  # inside a transaction it fails once
            rows(sql, [1])
        assert rows(sql, [1]) == [(1,)]
        assert rows(other, [3]) == [(2,)]
    finally:
        connection.close()  # no test after this one shares its prepared names


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the other databases")
def test_elsewhere_it_executes_the_statement_as_it_is():
    with CaptureQueriesContext(connection) as captured:
        assert rows("SELECT %s, %s", [3, "a%b"]) == [(3, "a%b")]
    assert not captured[0]["sql"].startswith("PREPARE")


def test_it_refuses_a_mix_of_named_and_positional_values():
    with pytest.raises(ValueError, match="named or all positional"):
        prepared._statement("SELECT %s, %(a)s")


@postgresql
def test_it_can_be_turned_off(settings):
    settings.DB_PREPARED_STATEMENTS = False
    with CaptureQueriesContext(connection) as captured:
        assert rows("SELECT %s::int", [3]) == [(3,)]
    assert captured[0]["sql"] == "SELECT 3::int"
