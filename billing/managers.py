"""Billing rules: redeeming discount codes within their limits, numbering invoices without gaps."""

from django.db import connections, models, router, transaction
from django.db.models import F, Q
from django.utils import timezone

from billing.exceptions import InvalidDiscountCode


class DiscountCodeQuerySet(models.QuerySet):
    def usable(self, at=None):
        """Codes that can be redeemed now: active, inside their dates, with uses left."""
        at = at or timezone.now()
        return self.filter(
            Q(valid_until__isnull=True) | Q(valid_until__gt=at),
            Q(max_uses__isnull=True) | Q(times_used__lt=F("max_uses")),
            is_active=True,
            valid_from__lte=at,
        )

    def find_usable(self, code: str):
        """Return the usable code named `code` (any case); raise InvalidDiscountCode saying why not."""
        found = self.filter(code__iexact=code.strip()).first()
        if found is None:
            raise InvalidDiscountCode(f"There is no discount code {code.strip()!r}.")
        now = timezone.now()
        if not found.is_active or found.valid_from > now or (found.valid_until and found.valid_until <= now):
            raise InvalidDiscountCode(f"Discount code {found.code} is not valid now.")
        if found.max_uses is not None and found.times_used >= found.max_uses:
            raise InvalidDiscountCode(f"Discount code {found.code} has been used up.")
        return found

    def redeem(self, code) -> None:
        """Count one use of a code found by `find_usable`.

        One conditional UPDATE decides the race for the last use: `times_used` never passes
        `max_uses`, and the loser is told the code is used up.
        """
        if not self.filter(pk=code.pk).usable()._update_uses(F("times_used") + 1):
            raise InvalidDiscountCode(f"Discount code {code.code} has been used up.")

    redeem.alters_data = True

    def release(self, code_id: int) -> None:
        """Give back one use of a code (its order was cancelled or its payment failed)."""
        self.filter(pk=code_id, times_used__gt=0)._update_uses(F("times_used") - 1)

    release.alters_data = True

    def _update_uses(self, times_used) -> int:
        return self.update(times_used=times_used, updated_at=timezone.now())


class InvoiceQuerySet(models.QuerySet):
    def of(self, user):
        """Invoices the user may see: all for staff, their own orders' for a customer."""
        return self if user.is_staff else self.filter(order__customer__user_id=user.pk)

    def issue_for(self, order):
        """Issue the order's invoice with the next number of the year; return the existing one if issued.

        Taking the number locks the year's sequence row until the surrounding transaction
        commits, so racing confirmations take numbers one after another: no gaps, no
        duplicates. Called outside a transaction, it opens one: a failed invoice gives its
        number back.
        """
        from billing.models import InvoiceSequence

        existing = self.filter(order=order).first()
        if existing is not None:
            return existing
        issued_at = timezone.now()
        # No savepoint of its own: a failure here fails the confirmation that issues it.
        with transaction.atomic(using=router.db_for_write(self.model), savepoint=False):
            number = InvoiceSequence.objects.take_next(issued_at.year)
            return self.create(
                number=f"INV-{issued_at.year}-{number:06d}",
                year=issued_at.year,
                sequence=number,
                order=order,
                issued_at=issued_at,
                subtotal=order.subtotal,
                discount=order.discount,
                total=order.total,
                payment_method=order.payment_method,
            )

    issue_for.alters_data = True


class InvoiceSequenceQuerySet(models.QuerySet):
    def take_next(self, year: int) -> int:
        """Return the year's next invoice number, starting the year at 1.

        One statement (an upsert) creates or increments the row and locks it until the
        transaction ends; a racing caller waits on the lock, then increments the committed
        value. The ORM has no UPDATE ... RETURNING, hence the SQL (PostgreSQL and SQLite
        both speak it).
        """
        connection = connections[router.db_for_write(self.model)]
        table = connection.ops.quote_name(self.model._meta.db_table)
        year_column, last_column = (
            connection.ops.quote_name(self.model._meta.get_field(name).column) for name in ("year", "last_number")
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({year_column}, {last_column}) VALUES (%s, 1) "
                f"ON CONFLICT ({year_column}) DO UPDATE SET {last_column} = {table}.{last_column} + 1 "
                f"RETURNING {last_column}",
                [year],
            )
            return cursor.fetchone()[0]

    take_next.alters_data = True


DiscountCodeManager = models.Manager.from_queryset(DiscountCodeQuerySet)
InvoiceManager = models.Manager.from_queryset(InvoiceQuerySet)
InvoiceSequenceManager = models.Manager.from_queryset(InvoiceSequenceQuerySet)
