import datetime

import time_machine

from crm.dates import company_date, company_today

UTC = datetime.UTC


def test_it_counts_2330_utc_as_the_next_day_in_shanghai():
    with time_machine.travel(datetime.datetime(2026, 3, 1, 23, 30, tzinfo=UTC), tick=False):
        assert company_today() == datetime.date(2026, 3, 2)


def test_it_keeps_the_same_day_before_midnight_in_shanghai():
    with time_machine.travel(datetime.datetime(2026, 3, 1, 15, 59, tzinfo=UTC), tick=False):
        assert company_today() == datetime.date(2026, 3, 1)


def test_it_follows_the_configured_company_zone(settings):
    settings.TIME_ZONE = "America/New_York"
    with time_machine.travel(datetime.datetime(2026, 3, 2, 3, 30, tzinfo=UTC), tick=False):
        assert company_today() == datetime.date(2026, 3, 1)


def test_it_converts_a_moment_to_the_company_day():
    moment = datetime.datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert company_date(moment) == datetime.date(2027, 1, 1)
