"""Time in the demo shop: when it opened, when its orders were placed, and how each step of an
order is dated at the moment it happened (used by `seed_demo`).

The rules stamp what they write with `timezone.now()`. The demo walks every order through
them oldest step first, across all orders, and right after each step `Backdating` moves
what that step wrote back to the step's moment. So every timestamp is one the rules would
have written then, and invoices and credit notes, numbered as they are issued, come out
numbered in the order of their issue times.
"""

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import reduce
from operator import or_

from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from billing.models import CreditNote, CreditNoteSequence, Invoice, InvoiceSequence, Payment, PaymentAttempt, Refund
from config.management.commands import _demo_data as data
from orders.models import DiscountCode, Order, OrderItem, OrderStatusEvent

HOUR = timedelta(hours=1)


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


def order_moments(rng, count: int, since: datetime, now: datetime) -> list[datetime]:
    """Return `count` moments in [since, now), oldest first, as a shop takes orders: more in the evening and at
    weekends, a gentle growth towards today, and some noise from day to day.

    Each hour of the window is weighted by its weekday, its hour of the day, the trend and
    its day's noise (and by how much of it lies in the window), then moments are drawn from
    the hours in proportion.
    """
    if count <= 0 or since >= now:
        return []
    span = (now - since).total_seconds()
    noise: dict = {}
    hours, weights = [], []
    hour = since
    while hour < now:
        end = min(hour + HOUR, now)
        local = timezone.localtime(hour)
        day_noise = noise.setdefault(local.date(), rng.uniform(1 - data.DAILY_NOISE, 1 + data.DAILY_NOISE))
        age = (now - hour).total_seconds() / span  # 0 now, 1 at the start of the window
        trend = 1 - (1 - data.FIRST_DAY_SHARE) * age
        rhythm = data.WEEKDAY_WEIGHTS[local.weekday()] * data.HOUR_WEIGHTS[local.hour]
        weights.append(trend * rhythm * day_noise * (end - hour) / HOUR)
        hours.append((hour, end))
        hour = end
    picks = rng.choices(hours, weights=weights, k=count)
    return sorted(start + (end - start) * rng.random() for start, end in picks)


@dataclass(frozen=True)
class Step:
    """One step of a demo order: when it ran (`since`, by the clock) and how far back it moves (`shift`)."""

    order_id: int
    since: datetime
    shift: timedelta


class Backdating:
    """Moves what each step of a demo order wrote back to the moment the step happened.

    Everything a step writes carries a timestamp at or after the step's start (the rules use
    `timezone.now()`), and everything moved back already is earlier. Each such timestamp
    moves back by its step's amount, so rows keep their order and spacing: two history
    events of one step stay microseconds apart, in the order written. Steps are moved in
    batches, a read and a write per table; the rules the demo walks read no timestamps.

    A document is numbered in the year it is issued. One issued by a step whose moment lies
    in another year than the step's run took its number from the wrong year's sequence: at
    once, it gives that number back (it is that year's last: the seeding transaction holds
    the year's row lock from the moment it took it) and takes the next of its own year.
    """

    # What a step may write about an order: the model, how its rows reach the order, and their timestamps.
    WRITTEN = (
        (Order, "pk", ("created_at", "updated_at")),
        (OrderItem, "order", ("created_at", "updated_at")),
        (OrderStatusEvent, "order", ("created_at",)),
        (Payment, "order", ("created_at", "updated_at")),
        (PaymentAttempt, "payment__order", ("created_at",)),
        (Invoice, "order", ("created_at", "updated_at", "issued_at")),
        (Refund, "payment__order", ("created_at", "updated_at")),
        (CreditNote, "invoice__order", ("created_at", "updated_at", "issued_at")),
        (DiscountCode, "orders", ("updated_at",)),  # a use counted or given back
    )
    NUMBERED = ((Invoice, InvoiceSequence, "order"), (CreditNote, CreditNoteSequence, "invoice__order"))
    BATCH = 1_000  # steps moved back together

    def __init__(self) -> None:
        self.steps: list[Step] = []

    def backdate(self, order: Order, since: datetime, moment: datetime) -> None:
        """Move what was written about `order` since `since` back to `moment` (in this step's batch)."""
        step = Step(order.pk, since, since - moment)
        if moment.astimezone(UTC).year != since.astimezone(UTC).year:
            for model, sequences, lookup in self.NUMBERED:
                written = model._base_manager.filter(**{lookup: order.pk, "issued_at__gte": since})
                self.number_in_year_of_issue(written, sequences, step.shift)
        self.steps.append(step)
        if len(self.steps) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        """Move the batch's steps back: per table, read what they wrote and write each timestamp moved by the shift
        of the step that wrote it (one SELECT and one executemany UPDATE)."""
        if not self.steps:
            return
        starts, shifts = [step.since for step in self.steps], [step.shift for step in self.steps]
        orders = {step.order_id for step in self.steps}
        ops = connection.ops

        def moved(stamp: datetime) -> datetime:
            return stamp - shifts[bisect_right(starts, stamp) - 1] if stamp >= starts[0] else stamp

        for model, lookup, fields in self.WRITTEN:
            written = reduce(or_, (Q(**{f"{field}__gte": starts[0]}) for field in fields))
            rows = model._base_manager.filter(written, **{f"{lookup}__in": orders}).values_list("pk", *fields)
            changes = {pk: [ops.adapt_datetimefield_value(moved(stamp)) for stamp in stamps] for pk, *stamps in rows}
            meta = model._meta
            columns = ", ".join(f"{ops.quote_name(meta.get_field(field).column)} = %s" for field in fields)
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {ops.quote_name(meta.db_table)} SET {columns} WHERE {ops.quote_name(meta.pk.column)} = %s",
                    [[*stamps, pk] for pk, stamps in changes.items()],
                )
        self.steps = []

    def number_in_year_of_issue(self, documents, sequences, shift: timedelta) -> None:
        """Renumber the documents numbered in another year than their issue's (once moved back by `shift`)."""

        def issue_year(document) -> int:
            return (document.issued_at - shift).astimezone(UTC).year

        strays = sorted(
            (document for document in documents if document.year != issue_year(document)),
            key=lambda document: document.sequence,
        )
        for document in reversed(strays):  # the last number taken goes back first
            given_back = sequences._base_manager.filter(year=document.year, last_number=document.sequence).update(
                last_number=F("last_number") - 1
            )
            if not given_back:
                raise RuntimeError(f"{document.number} is not the last number of {document.year}: cannot renumber.")
        for document in strays:
            year = issue_year(document)
            number = sequences.objects.take_next(year)
            prefix = document.number.split("-", 1)[0]
            type(document)._base_manager.filter(pk=document.pk).update(
                year=year, sequence=number, number=f"{prefix}-{year}-{number:06d}"
            )
