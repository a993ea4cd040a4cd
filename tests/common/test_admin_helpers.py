"""The admin's shared display helpers: money with its currency, status badges."""

from decimal import Decimal

import pytest

from common.admin import BADGE_TONES, badge, money


def test_money_shows_the_shop_currency_and_thousands(settings):
    settings.SHOP_CURRENCY = "EUR"

    assert money(Decimal("1234.5")) == "1,234.50 EUR"
    assert money(None) == "-"


@pytest.mark.parametrize("tone", sorted(BADGE_TONES))
def test_a_badge_carries_its_label_escaped_and_its_tone(tone):
    html = badge("<Paid>", tone)

    assert "&lt;Paid&gt;" in html
    assert BADGE_TONES[tone][0] in html
