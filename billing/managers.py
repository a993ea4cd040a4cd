"""Billing rules: issuing invoices and credit notes, numbered without gaps; refunds within what was paid.

models.py imports this module, so the querysets reach their sibling models through their
relations (`related_model`) or the app registry rather than by importing them.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.apps import apps
from django.conf import settings
from django.db import connections, models, router, transaction
from django.db.models import F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from billing.exceptions import RefundExceedsPayment
from orders.exceptions import IdempotencyKeyReused, InvalidOrder
from orders.models import Order
from orders.status import PaymentMethod

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def _sibling(queryset, name: str):
    return apps.get_model(queryset.model._meta.app_label, name)


class PaymentQuerySet(models.QuerySet):
    def awaiting_gateway(self):
        """Card payments the gateway has yet to settle: not charged yet, or being charged."""
        return self.filter(method=PaymentMethod.CARD, status__in=self.model.AWAITING_GATEWAY)


class InvoiceQuerySet(models.QuerySet):
    def of(self, user):
        """Invoices the user may see: all for staff, their own orders' for a customer."""
        return self if user.is_staff else self.filter(order__customer__user_id=user.pk)

    def with_state(self):
        """Annotate what `Invoice.state` needs: the amount credited so far and the payment's status (no extra query)."""
        credited = (
            _sibling(self, "CreditNote")
            .objects.filter(invoice=OuterRef("pk"))
            .order_by()
            .values("invoice")
            .annotate(total=Sum("amount"))
            .values("total")
        )
        return self.annotate(
            credited=Coalesce(Subquery(credited), ZERO, output_field=models.DecimalField()),
            payment_status=F("order__payment__status"),
        )

    def issue_for(self, order, *, new_order: bool = False):
        """Issue the order's invoice with the next number of the year; return the existing one if issued.

        Taking the number locks the year's sequence row until the surrounding transaction
        commits, so racing confirmations take numbers one after another: no gaps, no
        duplicates. Called outside a transaction, it opens one: a failed invoice gives its
        number back. `new_order`: the order was created in this transaction (a cash order
        confirmed as it is placed), so there is no invoice to look for.
        """
        existing = None if new_order else self.filter(order=order).first()
        if existing is not None:
            return existing
        issued_at = timezone.now()
        # No savepoint of its own: a failure here fails the confirmation that issues it.
        with transaction.atomic(using=router.db_for_write(self.model), savepoint=False):
            number = _sibling(self, "InvoiceSequence").objects.take_next(issued_at.year)
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


class YearSequenceQuerySet(models.QuerySet):
    def take_next(self, year: int) -> int:
        """Return the year's next document number, starting the year at 1.

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


class CreditNoteQuerySet(models.QuerySet):
    def of(self, user):
        """Credit notes the user may see: all for staff, their own orders' for a customer."""
        return self if user.is_staff else self.filter(invoice__order__customer__user_id=user.pk)

    def issue(self, invoice, *, amount: Decimal, lines: list[dict], reason: str = "", refund=None):
        """Issue a credit note on `invoice` with the year's next CN number, inside the transaction of its refund.

        Numbered like invoices (YearSequenceQuerySet.take_next): gap-free and unique per
        year under concurrency, and a rolled-back refund gives its number back.
        """
        issued_at = timezone.now()
        with transaction.atomic(using=router.db_for_write(self.model), savepoint=False):
            number = _sibling(self, "CreditNoteSequence").objects.take_next(issued_at.year)
            return self.create(
                number=f"CN-{issued_at.year}-{number:06d}",
                year=issued_at.year,
                sequence=number,
                invoice=invoice,
                refund=refund,
                issued_at=issued_at,
                amount=amount,
                lines=lines,
                reason=reason[:500],
            )

    issue.alters_data = True

    def credit_in_full(self, invoice, *, reason: str = ""):
        """Credit what is left of an invoice whose order was cancelled before any money came in; return the note.

        No money moves (there is no refund): the note cancels the bill, line by line.
        """
        credited = invoice.credit_notes.aggregate(total=Sum("amount"))["total"] or ZERO
        lines = [
            {"item": item.pk, "product_name": item.product_name, "sku": item.sku, "quantity": item.quantity,
             "amount": str(_paid_for(invoice.order, item.line_total))}
            for item in invoice.order.items.all()
        ]  # fmt: skip
        return self.issue(invoice, amount=invoice.total - credited, lines=lines, reason=reason)

    credit_in_full.alters_data = True


class RefundQuerySet(models.QuerySet):
    def of(self, user):
        """Refunds the user may see: all for staff, their own orders' for a customer."""
        return self if user.is_staff else self.filter(payment__order__customer__user_id=user.pk)

    def issue(
        self,
        order,
        *,
        units: dict[int, int] | None = None,
        restock: bool = False,
        reason: str = "",
        actor=None,
        idempotency_key: str = "",
        request_fingerprint: str = "",
    ):
        """Refund `units` (order item id -> quantity) of the order, or every unit not refunded yet; return the refund.

        In one transaction, under the order's row lock and then the payment's (everything
        that refunds or cancels takes them in that order, so racing refunds take turns):
        - refuse (RefundExceedsPayment) unless the money came in, and refuse units beyond
          those not refunded yet;
        - price the units at what was paid for them (their share of the discount taken
          off); the refund that gives back the last unit takes what is left, so the refunds
          add up to exactly the payment, never more;
        - put the units back on the shelf if `restock` (Order.return_to_stock);
        - write the refund and its lines, a credit note if the order was invoiced, and a
          history event on the order.
        A cash refund is paid out at once; a card refund waits for the worker
        (payments.process_refund). The caller hands it over after commit (tasks.hand_over).
        """
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=order.pk)
            payment = (
                self.model._meta.get_field("payment")
                .related_model.objects.select_for_update()
                .filter(order=order)
                .first()
            )
            if payment is None or payment.status not in payment.CAPTURED:
                raise RefundExceedsPayment("Nothing has been paid on this order yet, so nothing can be refunded.")
            available = payment.amount - (payment.refunds.aggregate(total=Sum("amount"))["total"] or ZERO)
            remaining = _units_not_refunded(order)
            if units is None:
                units = {item: left for item, (left, _) in remaining.items() if left}
                if not units and not available:
                    raise RefundExceedsPayment("Everything paid on this order has been refunded already.")
            _check_units(units, remaining)
            line_amounts = {item: _paid_for(order, remaining[item][1] * quantity) for item, quantity in units.items()}
            amount = sum(line_amounts.values(), ZERO)
            if all(units.get(item, 0) == left for item, (left, _) in remaining.items()):
                line_amounts = _take_what_is_left(line_amounts, available)
                amount = available
            if amount > available:
                raise RefundExceedsPayment(
                    f"This refund comes to {amount}; only {available} of this order's payment is left to refund.",
                    available=str(available),
                    requested=str(amount),
                )
            refund = self.create(
                payment=payment,
                amount=amount,
                reason=reason[:500],
                restock=restock,
                actor=actor,
                status=self.model.Status.SUCCEEDED
                if payment.method == PaymentMethod.CASH
                else self.model.Status.PENDING,
                idempotency_key=idempotency_key,
                request_fingerprint=request_fingerprint,
            )
            lines = refund.lines.bulk_create(
                refund.lines.model(refund=refund, item_id=item, quantity=quantity, amount=line_amounts[item])
                for item, quantity in sorted(units.items())
            )
            if restock and units:
                order.return_to_stock(units)
            invoice = getattr(order, "invoice", None)
            if invoice is not None:
                _sibling(self, "CreditNote").objects.issue(
                    invoice, amount=amount, lines=_credited_lines(order, lines), reason=reason, refund=refund
                )
            order.record_event(_describe(refund, order, lines), actor=actor)
            if refund.status == refund.Status.SUCCEEDED:
                payment.settle_refunds()
        return refund

    issue.alters_data = True

    def issue_once(self, order, *, idempotency_key: str, request_fingerprint: str, **options):
        """Issue a refund once per idempotency key of the order; return `(refund, created)`.

        A repeat with the same body returns the first refund (created=False); with another
        body it raises IdempotencyKeyReused. The order's row lock, taken first as by `issue`,
        makes racing repeats take turns: the second finds the first's refund.
        """
        with transaction.atomic():
            Order.objects.select_for_update().filter(pk=order.pk).values_list("pk").get()
            earlier = self.filter(payment__order=order, idempotency_key=idempotency_key).first()
            if earlier is not None:
                if earlier.request_fingerprint != request_fingerprint:
                    raise IdempotencyKeyReused()
                return earlier, False
            refund = self.issue(
                order, idempotency_key=idempotency_key, request_fingerprint=request_fingerprint, **options
            )
            return refund, True

    issue_once.alters_data = True


def _units_not_refunded(order) -> dict[int, tuple[int, Decimal]]:
    """Return each of the order's item ids -> (units not refunded yet, unit price), in one query."""
    items = order.items.annotate(refunded=Coalesce(Sum("refund_lines__quantity"), 0)).values_list(
        "pk", "quantity", "refunded", "unit_price"
    )
    return {pk: (quantity - refunded, unit_price) for pk, quantity, refunded, unit_price in items}


def _check_units(units: dict[int, int], remaining: dict) -> None:
    unknown = sorted(item for item in units if item not in remaining)
    if unknown:
        raise InvalidOrder({"lines": [f"Item {item} is not a line of this order." for item in unknown]})
    beyond = [
        {"item": item, "requested": quantity, "refundable": remaining[item][0]}
        for item, quantity in sorted(units.items())
        if quantity > remaining[item][0]
    ]
    if beyond:
        raise RefundExceedsPayment(
            "Some lines have fewer units left to refund than asked for.",
            lines=beyond,
        )


def _paid_for(order, gross: Decimal) -> Decimal:
    """Return what the customer paid for goods listed at `gross`: their share of the order's discount taken off."""
    if not order.discount or not order.subtotal:
        return gross
    return (gross * order.total / order.subtotal).quantize(CENT, rounding=ROUND_HALF_UP)


def _take_what_is_left(line_amounts: dict[int, Decimal], available: Decimal) -> dict[int, Decimal]:
    """Make the last refund of an order come to exactly what is left: rounding lands on its last line."""
    if not line_amounts:
        return line_amounts
    last = max(line_amounts)
    others = sum((amount for item, amount in line_amounts.items() if item != last), ZERO)
    return {**line_amounts, last: max(available - others, ZERO)}


def _credited_lines(order, lines) -> list[dict]:
    items = {item.pk: item for item in order.items.all()}
    return [
        {
            "item": line.item_id,
            "product_name": items[line.item_id].product_name,
            "sku": items[line.item_id].sku,
            "quantity": line.quantity,
            "amount": str(line.amount),
        }
        for line in lines
    ]


def _describe(refund, order, lines) -> str:
    names = dict(order.items.values_list("pk", "product_name"))
    what = ", ".join(f"{line.quantity} x {names[line.item_id]}" for line in lines) or "the rest of the payment"
    returned = " (returned to stock)" if refund.restock and lines else ""
    reason = f" Reason: {refund.reason}" if refund.reason else ""
    return f"Refund of {refund.amount} {settings.SHOP_CURRENCY}: {what}{returned}.{reason}"


PaymentManager = models.Manager.from_queryset(PaymentQuerySet)
InvoiceManager = models.Manager.from_queryset(InvoiceQuerySet)
CreditNoteManager = models.Manager.from_queryset(CreditNoteQuerySet)
RefundManager = models.Manager.from_queryset(RefundQuerySet)
YearSequenceManager = models.Manager.from_queryset(YearSequenceQuerySet)
