"""Time in the demo shop: when it opened, and when its orders begin (used by `seed_demo`)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from config.management.commands import _demo_data as data


@dataclass(frozen=True)
class Calendar:
    """The demo shop's dates: now, when its catalog opened, and the first day of its orders."""

    now: datetime
    opened: datetime
    orders_from: datetime

    @classmethod
    def at(cls, now: datetime) -> "Calendar":
        """Return the calendar of a shop seeded at `now`: orders over the last ORDER_DAYS days, today included."""
        first_day = timezone.localdate(now) - timedelta(days=data.ORDER_DAYS - 1)
        orders_from = timezone.make_aware(datetime.combine(first_day, datetime.min.time()))
        return cls(now=now, opened=orders_from - timedelta(days=data.CATALOG_DAYS), orders_from=orders_from)

    def between(self, rng, start: datetime, end: datetime) -> datetime:
        """Return a moment drawn evenly from [start, end)."""
        return start + (end - start) * rng.random()
