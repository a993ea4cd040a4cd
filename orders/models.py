import secrets

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from common.models import TimeStampedModel
from orders.exceptions import InvalidTransition
from orders.managers import OrderManager
from orders.signals import order_status_changed

MONEY = {"max_digits": 12, "decimal_places": 2}


class Status(models.TextChoices):
    PENDING = "pending"
    PAYMENT_PROCESSING = "payment_processing"
    CONFIRMED = "confirmed"
    IN_PROGRESS = "in_progress"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    PAYMENT_FAILED = "payment_failed"


class DeliveryMethod(models.TextChoices):
    HOME_DELIVERY = "home_delivery"
    PICKUP = "pickup"
    DRIVE_THRU = "drive_thru"


class PaymentMethod(models.TextChoices):
    CARD = "card"
    CASH = "cash"


def _always(order) -> bool:
    return True


# The status machine (SPEC §4): every allowed change, and the condition under which it is.
# Order.transition_to is the only way through it.
TRANSITIONS = {
    (Status.PENDING, Status.PAYMENT_PROCESSING): lambda order: order.payment_method == PaymentMethod.CARD,
    (Status.PENDING, Status.CONFIRMED): lambda order: order.payment_method == PaymentMethod.CASH,
    (Status.PENDING, Status.CANCELLED): _always,
    (Status.PAYMENT_PROCESSING, Status.CONFIRMED): _always,
    (Status.PAYMENT_PROCESSING, Status.PAYMENT_FAILED): _always,
    (Status.CONFIRMED, Status.IN_PROGRESS): _always,
    (Status.CONFIRMED, Status.CANCELLED): _always,
    (Status.IN_PROGRESS, Status.SHIPPED): lambda order: order.delivery_method == DeliveryMethod.HOME_DELIVERY,
    (Status.IN_PROGRESS, Status.DELIVERED): lambda order: order.delivery_method != DeliveryMethod.HOME_DELIVERY,
    (Status.IN_PROGRESS, Status.CANCELLED): _always,
    (Status.SHIPPED, Status.DELIVERED): _always,
}
# Reaching these gives the reserved stock back.
RELEASES_STOCK = frozenset({Status.CANCELLED, Status.PAYMENT_FAILED})
# A customer may cancel their own order only this early; staff may until it ships.
CUSTOMER_CANCELLABLE = frozenset({Status.PENDING, Status.CONFIRMED})
# A review of a product bought in an order in one of these is a verified purchase.
PURCHASED = frozenset({Status.CONFIRMED, Status.IN_PROGRESS, Status.SHIPPED, Status.DELIVERED})

NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


def new_order_number() -> str:
    """Return a human-friendly random number like SK-8F4K2-Q9M3X (50 bits: collisions are negligible)."""
    symbols = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(10))
    return f"SK-{symbols[:5]}-{symbols[5:]}"


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
    subtotal = models.DecimalField(**MONEY, editable=False)
    discount = models.DecimalField(**MONEY, default=0, editable=False)
    total = models.DecimalField(**MONEY, editable=False)
    discount_code = models.ForeignKey(
        "billing.DiscountCode", null=True, blank=True, on_delete=models.PROTECT, related_name="orders", editable=False
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

    def allowed_transitions(self) -> list[str]:
        """Return the statuses this order may move to next."""
        return [to for (start, to), allowed in TRANSITIONS.items() if start == self.status and allowed(self)]

    def transition_to(self, status: str, *, actor=None, note: str = "", only_from=None) -> None:
        """Move the order along the status machine, record the event, and announce it.

        The row is locked first, so racing changes take turns and the loser sees the new
        status. Stock is released on the way to cancelled or payment_failed, exactly once.
        `only_from` narrows the statuses this particular change may start from.
        """
        with transaction.atomic():
            locked = Order.objects.select_for_update().get(pk=self.pk)
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
            self.events.create(from_status=previous, to_status=status, actor=actor, note=note)
            for field, value in changes.items():
                setattr(self, field, value)
            order_status_changed.send(sender=Order, order=self, previous=previous, actor=actor)

    transition_to.alters_data = True

    def cancel(self, *, actor, note: str = "") -> None:
        """Cancel for a customer (while pending or confirmed) or for staff (until shipped)."""
        only_from = None if actor is not None and actor.is_staff else CUSTOMER_CANCELLABLE
        self.transition_to(Status.CANCELLED, actor=actor, note=note, only_from=only_from)

    cancel.alters_data = True

    def release_holds(self) -> None:
        """Give back the stock and the discount code use this order took (its transition locks it: once)."""
        from billing.models import DiscountCode
        from catalog.models import Product

        Product.objects.release(dict(self.items.values_list("product_id", "quantity")))
        if self.discount_code_id:
            DiscountCode.objects.release(self.discount_code_id)


class OrderItem(TimeStampedModel):
    """A line of an order: the product, and its name, SKU and price as they were when ordered."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="order_items")
    product_name = models.CharField(max_length=200)
    sku = models.CharField("SKU", max_length=64)
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(**MONEY)
    line_total = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "product"], name="order_item_one_line_per_product"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="order_item_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="order_item_price_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_name}"


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
        return f"{self.order_id}: {self.from_status or '∅'} → {self.to_status}"

    @property
    def actor_name(self) -> str:
        return self.actor.get_username() if self.actor_id else "system"
