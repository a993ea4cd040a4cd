"""Billing rules: issuing invoices, numbered without gaps."""

from django.apps import apps
from django.db import connections, models, router, transaction
from django.utils import timezone


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
        existing = self.filter(order=order).first()
        if existing is not None:
            return existing
        issued_at = timezone.now()
        # No savepoint of its own: a failure here fails the confirmation that issues it.
        with transaction.atomic(using=router.db_for_write(self.model), savepoint=False):
            number = apps.get_model(self.model._meta.app_label, "InvoiceSequence").objects.take_next(issued_at.year)
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


InvoiceManager = models.Manager.from_queryset(InvoiceQuerySet)
InvoiceSequenceManager = models.Manager.from_queryset(InvoiceSequenceQuerySet)
