"""Request-rate limits of the API (429 past them), read from settings on every request.

DRF's own classes copy the rates once, at import; reading them per request lets the rates be
changed with the settings (``API_THROTTLE_ANON`` / ``API_THROTTLE_USER``, and in tests).
"""

from rest_framework import throttling
from rest_framework.settings import api_settings


class _RatesFromSettings:
    scope: str

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonRateThrottle(_RatesFromSettings, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(_RatesFromSettings, throttling.UserRateThrottle):
    pass
