"""Company-local dates.

Close dates are calendar days in the company's time zone (settings.TIME_ZONE), not the
server's or the user's: a deal due "today" in Shanghai is due today even at 23:30 UTC.
"""

import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def company_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def company_today() -> datetime.date:
    return timezone.localdate(timezone.now(), timezone=company_zone())


def company_date(moment: datetime.datetime) -> datetime.date:
    return timezone.localdate(moment, timezone=company_zone())
