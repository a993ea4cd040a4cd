"""How staff read dates: short, in the shop's time zone."""

from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format


def short_datetime(value: datetime | None) -> str:
    """Return "2 Dec 14:03" for this year, "2 Dec 2025 14:03" for another, "-" for none."""
    if value is None:
        return "-"
    local = timezone.localtime(value)
    if local.year == timezone.localtime().year:
        return date_format(local, "j M H:i")
    return date_format(local, "j M Y H:i")


def short_date(value: datetime | None) -> str:
    """Return "2 Dec" for this year, "2 Dec 2025" for another, "-" for none."""
    if value is None:
        return "-"
    local = timezone.localtime(value)
    return date_format(local, "j M" if local.year == timezone.localtime().year else "j M Y")
