"""How staff read dates in the admin: short, in the shop's time zone."""

from datetime import UTC, datetime

from django.utils import timezone

from common.formats import short_date, short_datetime


def test_this_years_dates_leave_out_the_year():
    moment = timezone.now().replace(month=12, day=2, hour=14, minute=3)

    assert short_datetime(moment) == "2 Dec 14:03"
    assert short_date(moment) == "2 Dec"


def test_other_years_dates_name_the_year():
    moment = datetime(2020, 3, 9, 8, 5, tzinfo=UTC)

    assert short_datetime(moment) == "9 Mar 2020 08:05"
    assert short_date(moment) == "9 Mar 2020"


def test_no_date_is_a_dash():
    assert short_datetime(None) == short_date(None) == "-"
