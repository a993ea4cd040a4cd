import secrets
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models, transaction
from django.db.models import F, Q, Sum
from django.db.models.functions import Lower
from django.utils import timezone

from catalog.models import Product, Review, Variant
from common.formats import short_datetime
from common.models import MoneyField, TimeStampedModel
from orders.exceptions import InvalidOrder, InvalidTransition
from orders.managers import DiscountCodeManager, OrderManager
from orders.signals import order_status_changed
from orders.status import CUSTOMER_CANCELLABLE, RELEASES_STOCK, TRANSITIONS, DeliveryMethod, PaymentMethod, Status

CENT = Decimal("0.01")


NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


def new_order_number() -> str:
    """Return a human-friendly random number like SK-8F4K2-Q9M3X (50 bits: collisions are negligible)."""
    symbols = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(10))
    return f"SK-{symbols[:5]}-{symbols[5:]}"


class DiscountCode(TimeStampedModel):
    """A code that takes a percentage or a fixed amount off an order, a limited number of times.

    Pricing applied when an order is placed, so it lives with orders (SPEC §12): placing
    redeems a use, and cancellation or a failed payment gives it back (Order.release_holds).
    """

    class Kind(models.TextChoices):
        PERCENT = "percent"
        FIXED = "fixed"

    code = models.CharField(max_length=40, help_text="Unique in any letter case, e.g. WELCOME10.")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = MoneyField(validators=[MinValueValidator(CENT)], help_text="Percent off (1-100), or an amount off.")
    valid_from = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(null=True, blank=True)
    max_uses = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: unlimited.")
    times_used = models.PositiveIntegerField(default=0, editable=False)
    is_active = models.BooleanField(default=True)

    objects = DiscountCodeManager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(Lower("code"), name="discount_code_unique_ci"),
            models.CheckConstraint(condition=Q(value__gt=0), name="discount_value_positive"),
            models.CheckConstraint(
                condition=~Q(kind="percent") | Q(value__lte=100), name="discount_percent_at_most_100"
            ),
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(times_used__lte=F("max_uses")),
                name="discount_never_used_beyond_max",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def discount_for(self, subtotal: Decimal) -> Decimal:
        """Return the amount this code takes off `subtotal`, never more than the subtotal."""
        if self.kind == self.Kind.PERCENT:
            amount = (subtotal * self.value / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        else:
            amount = self.value
        return min(amount, subtotal)


class Order(TimeStampedModel):
    """A customer's order. Placed by OrderManager.place; its status moves only by transition_to."""

    number = models.CharField(max_length=20, unique=True, default=new_order_number, editable=False)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, editable=False)
    delivery_method = models.CharField(max_length=20, choices=DeliveryMethod.choices)
    payment_method = models.CharField(max_length=10, choices=PaymentMethod.choices)
    shipping_address = models.JSONField(
        null=True, blank=True, help_text="A copy of the address at ordering time; required for home delivery."
    )
    subtotal = MoneyField(editable=False)
    discount = MoneyField(default=0, editable=False)
    total = MoneyField(editable=False)
    discount_code = models.ForeignKey(
        DiscountCode, null=True, blank=True, on_delete=models.PROTECT, related_name="orders", editable=False
    )
    holds_stock = models.BooleanField(
        default=True,
        editable=False,
        help_text="Whether the order still holds its stock (and its discount code use).",
    )
    idempotency_key = models.CharField(max_length=255, blank=True, editable=False)
    request_fingerprint = models.CharField(max_length=64, blank=True, editable=False)

    objects = OrderManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="order_idempotency_key_unique_per_customer",
            ),
            models.CheckConstraint(
                condition=~Q(delivery_method=DeliveryMethod.HOME_DELIVERY) | Q(shipping_address__isnull=False),
                name="order_home_delivery_has_address",
            ),
            # Sums are not checked in the database: SQLite keeps decimals as floats there.
            models.CheckConstraint(
                condition=Q(subtotal__gte=0, discount__gte=0, total__gte=0), name="order_money_non_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="order_customer_created_idx"),
            models.Index(fields=["status", "-created_at"], name="order_status_created_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def loaded_items(self) -> list["OrderItem"]:
        """The lines prefetched into `prefetched_items` (lists; placing keeps those it inserted), else `items`.

        A list per order keeps a page of orders cheap, and lets a new order be answered
        without reading its lines back.
        """
        if hasattr(self, "prefetched_items"):
            return self.prefetched_items
        return list(self.items.all())

    def allowed_transitions(self) -> list[str]:
        """Return the statuses this order may move to next."""
        return [to for (start, to), allowed in TRANSITIONS.items() if start == self.status and allowed(self)]

    def transition_to(self, status: str, *, actor=None, note: str = "", only_from=None) -> None:
        """Move the order along the status machine, record the event, and announce it.

        The row is locked first, so racing changes take turns and the loser sees the new
        status. In one transaction, in this order:
        - on the way to cancelled or payment_failed, the stock and the discount code use
          come back, exactly once (release_holds);
        - on confirmation, the customer's reviews of these products become verified purchases;
        - the history event is written;
        - `order_status_changed` is sent. Its receivers run inside this transaction, so
          their failure undoes the change: billing issues the invoice on confirmation
          (billing.signals.issue_invoice_on_confirmation), cancels a cancelled order's
          uncharged payment or, after commit, refunds its capture, and emails the customer
          about its confirmation or failed payment.
        `only_from` narrows the statuses this particular change may start from.
        """
        with transaction.atomic():
            locked = Order.objects.select_for_update().get(pk=self.pk)
            self.move_locked(locked, status, actor=actor, note=note, only_from=only_from)

    transition_to.alters_data = True

    def move_locked(
        self, locked, status: str, *, actor=None, note: str = "", only_from=None, placing=False, earlier_events=()
    ):
        """Do transition_to's work inside the caller's transaction, which holds this order's row lock.

        `locked` is the row as read under that lock. Placement passes the order it has just
        inserted (no one else sees it before commit) with `placing`, which the receivers
        hear; and `earlier_events` (unsaved), which go into the same INSERT as this
        change's event. Anything else calls transition_to.
        """
        allowed = locked.allowed_transitions()
        if only_from is not None and locked.status not in only_from:
            allowed = [to for to in allowed if to != status]
        if status not in allowed:
            raise InvalidTransition(locked.status, status, allowed)
        previous = locked.status
        changes = {"status": status, "updated_at": timezone.now()}
        releases = status in RELEASES_STOCK and locked.holds_stock
        if releases:
            changes["holds_stock"] = False
        Order.objects.filter(pk=self.pk).update(**changes)
        if releases:
            self.release_holds()
        if status == Status.CONFIRMED:
            Review.objects.mark_verified(self.customer_id, self.items.values("product_id"))
        event = OrderStatusEvent(order=self, from_status=previous, to_status=status, actor=actor, note=note)
        OrderStatusEvent.objects.bulk_create([*earlier_events, event])
        for field, value in changes.items():
            setattr(self, field, value)
        order_status_changed.send(sender=Order, order=self, previous=previous, actor=actor, placing=placing)

    move_locked.alters_data = True

    def cancel(self, *, actor, note: str = "") -> None:
        """Cancel for a customer (while pending or confirmed) or for staff (until shipped)."""
        only_from = None if actor is not None and actor.is_staff else CUSTOMER_CANCELLABLE
        self.transition_to(Status.CANCELLED, actor=actor, note=note, only_from=only_from)

    cancel.alters_data = True

    def release_holds(self) -> None:
        """Give back the stock and the discount code use this order took (its transition locks it: once).

        Units already returned to stock (`return_to_stock`) are not given back twice.
        """
        held = self.items.values("variant_id").annotate(held=Sum(F("quantity") - F("quantity_returned")))
        still_held = {row["variant_id"]: row["held"] for row in held.order_by() if row["held"] > 0}
        if still_held:
            Variant.objects.release(still_held)
        if self.discount_code_id:
            DiscountCode.objects.release(self.discount_code_id)

    def return_to_stock(self, units: dict[int, int]) -> None:
        """Put returned units back on the shelf: `units` maps this order's item ids to quantities.

        Each line's `quantity_returned` grows by a conditional update that never lets it pass
        the quantity ordered (and a check constraint backs it), so racing returns cannot
        restock a unit twice; all lines or none. An order that still holds its stock gives
        these units back now, and keeps the rest for a later cancellation.
        """
        with transaction.atomic():
            for item_id, quantity in sorted(units.items()):
                returned = self.items.filter(pk=item_id, quantity__gte=F("quantity_returned") + quantity).update(
                    quantity_returned=F("quantity_returned") + quantity, updated_at=timezone.now()
                )
                if not returned:
                    raise InvalidOrder({"lines": [f"Item {item_id} has fewer than {quantity} units left to return."]})
            variants = dict(self.items.filter(pk__in=units).values_list("pk", "variant_id"))
            back: dict[int, int] = {}
            for item_id, quantity in units.items():
                back[variants[item_id]] = back.get(variants[item_id], 0) + quantity
            Variant.objects.release(back)

    return_to_stock.alters_data = True

    def record_event(self, note: str, *, actor=None) -> None:
        """Write a history entry that changes no status (a refund, a return): the audit trail of the order."""
        self.events.create(from_status=self.status, to_status=self.status, actor=actor, note=note[:500])

    record_event.alters_data = True


class OrderItem(TimeStampedModel):
    """A line of an order: the variant sold, and its product name, SKU, options, extras and price as they were."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    variant = models.ForeignKey(Variant, on_delete=models.PROTECT, related_name="order_items")
    # The variant's product, kept on the line so "who bought this product" needs no join.
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_items")
    product_name = models.CharField(max_length=200)
    sku = models.CharField("SKU", max_length=64)
    options = models.JSONField(
        default=list, blank=True, help_text='The variant\'s option values: [{"option": "Size", "value": "M"}].'
    )
    extras = models.JSONField(
        default=list,
        blank=True,
        help_text='The extras chosen, as priced then: [{"id": 3, "name": "Cheese", "price": "1.50", "quantity": 1}].',
    )
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    quantity_returned = models.PositiveIntegerField(
        default=0, editable=False, help_text="Units returned to stock after a refund (Order.return_to_stock)."
    )
    unit_price = MoneyField(help_text="The variant's price plus its extras, as ordered.")
    line_total = MoneyField()

    class Meta:
        ordering = ["id"]
        verbose_name = "order line"
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="order_item_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="order_item_price_non_negative"),
            models.CheckConstraint(
                condition=Q(quantity_returned__lte=F("quantity")), name="order_item_returns_at_most_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.description}"

    @property
    def description(self) -> str:
        """Name what was sold as the customer chose it: "Shirt (Size M, Colour Navy) + 2 x Extra cheese"."""
        text = self.product_name
        if self.options:
            text += " (" + ", ".join(f"{pair['option']} {pair['value']}" for pair in self.options) + ")"
        for extra in self.extras:
            text += f" + {extra['quantity']} x {extra['name']}" if extra["quantity"] > 1 else f" + {extra['name']}"
        return text


class OrderStatusEvent(models.Model):
    """One step of an order's history: written with every status change, in its transaction."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who made the change; empty for the system (the payment worker, placement).",
    )
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        """Say what happened, by whom and when: "Confirmed → In progress by staff, 2 Dec 14:03 — note".

        An entry that changes no status (a refund, a return) is its note.
        """
        by = f"{self.actor_name}, {short_datetime(self.created_at)}"
        if self.from_status == self.to_status:
            return f"{self.note} ({by})"
        to = self.get_to_status_display()
        change = f"{self.get_from_status_display()} → {to}" if self.from_status else f"Placed as {to}"
        return f"{change} by {by}" + (f" — {self.note}" if self.note else "")

    @property
    def actor_name(self) -> str:
        return self.actor.get_username() if self.actor_id else "system"
