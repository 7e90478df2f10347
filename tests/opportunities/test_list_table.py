"""The list's rows written in Python (opportunities/list_table.py) format as the filters would."""

import random
from decimal import Decimal

import pytest
from django.template.defaultfilters import floatformat
from django.utils import translation

from opportunities.list_table import amount_formatter

AMOUNTS = [
    Decimal("0"),
    Decimal("0.00"),
    Decimal("-0.00"),
    Decimal("-0.004"),
    Decimal("0.005"),
    Decimal("2.005"),
    Decimal("2.015"),
    Decimal("-2.005"),
    Decimal("999.99"),
    Decimal("1000"),
    Decimal("-1234567.891"),
    Decimal("12345678901234.56"),
    Decimal("85000.00"),
    Decimal("1E+3"),
]


@pytest.mark.parametrize("language", ["en", "zh-hans", "de", "hi"])
def test_it_writes_amounts_as_floatformat_2g_does(language):
    generator = random.Random(8)
    amounts = AMOUNTS + [Decimal(generator.randrange(-(10**12), 10**12)) / 100 for _ in range(500)]
    with translation.override(language):
        formatted = amount_formatter()
        assert [formatted(amount) for amount in amounts] == [str(floatformat(amount, "2g")) for amount in amounts]
