"""Report periods: whole calendar days in the company time zone.

A period ``start``–``end`` (both inclusive) runs from midnight at the start of ``start`` to
midnight at the end of ``end``, Asia/Shanghai by default: a deal won at 23:59 on 31 March
Shanghai time is a March deal even though it is 15:59 UTC. Filters compare moments against
these two instants, so the database can use its indexes.
"""

import datetime
from dataclasses import dataclass

from crm.dates import company_today, company_zone


def company_midnight(day: datetime.date) -> datetime.datetime:
    """The instant a company-local day begins."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=company_zone())


def month_start(day: datetime.date, months_ahead: int = 0) -> datetime.date:
    index = day.year * 12 + (day.month - 1) + months_ahead
    return datetime.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date

    @property
    def start_at(self) -> datetime.datetime:
        return company_midnight(self.start)

    @property
    def end_at(self) -> datetime.datetime:
        """Exclusive: the first instant after the period."""
        return company_midnight(self.end + datetime.timedelta(days=1))

    @classmethod
    def this_month(cls) -> "Period":
        today = company_today()
        first = month_start(today)
        return cls(first, month_start(today, 1) - datetime.timedelta(days=1))
