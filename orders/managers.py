"""Order rules: placing an order (the one write path for an order, its lines and its holds), and redeeming
discount codes within their limits.

models.py imports this module, so the querysets reach their sibling models through their
relations (`related_model`) rather than by importing them.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, models, transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from catalog.models import Product
from common.models import ActivatableQuerySet, created_on
from orders.exceptions import IdempotencyKeyReused, InvalidDiscountCode, InvalidOrder, PriceChanged
from orders.metrics import ORDERS_PLACED
from orders.signals import order_placed
from orders.status import PURCHASED, DeliveryMethod, PaymentMethod, Status


@dataclass(frozen=True)
class Line:
    """One requested line: a product id, a quantity, and optionally the unit price the client saw."""

    product: int
    quantity: int
    unit_price: Decimal | None = None


def _sales() -> dict:
    """Return the aggregates of OrderQuerySet.sales: the orders, and the totals of those PURCHASED."""
    return {
        "orders": Count("pk"),
        "revenue": Coalesce(Sum("total", filter=Q(status__in=PURCHASED)), Decimal("0.00")),
    }


class OrderQuerySet(models.QuerySet):
    def of(self, user):
        """Orders the user may see: all for staff, their own for a customer."""
        return self if user.is_staff else self.filter(customer__user_id=user.pk)

    def placed_on(self, day: date):
        """Orders created on `day`, midnight to midnight in the current time zone."""
        return self.filter(**created_on(day))

    def placed_between(self, first: date, last: date):
        """Orders created from the start of `first` to the end of `last`, in the current time zone."""
        return self.filter(
            created_at__gte=created_on(first)["created_at__gte"], created_at__lt=created_on(last)["created_at__lt"]
        )

    def sales(self) -> dict:
        """Return how many orders these are and their revenue, in one query.

        Revenue is the sum of the totals of those confirmed or further along (PURCHASED):
        pending orders have not paid yet, cancelled and failed ones never will.
        """
        return self.aggregate(**_sales())

    def sales_by_day(self) -> list[dict]:
        """Return sales() for each day these orders were placed on, oldest first, in one query.

        Days are those of the current time zone; a day without orders is left out.
        """
        return list(self.values(day=TruncDate("created_at")).annotate(**_sales()).order_by("day"))

    def has_bought(self, customer_id: int, product_id: int) -> bool:
        """Return whether the customer has a confirmed (or later) order with this product."""
        return self.filter(customer_id=customer_id, status__in=PURCHASED, items__product_id=product_id).exists()

    def place(
        self,
        *,
        customer,
        lines: list[Line],
        delivery_method: str,
        payment_method: str,
        shipping_address_id: int | None = None,
        discount_code: str | None = None,
        actor=None,
        idempotency_key: str | None = None,
        request_fingerprint: str = "",
    ):
        """Place an order in one transaction and return `(order, created)`.

        Validates the lines, checks the prices the client saw, redeems the discount code,
        takes the stock (all lines or none), computes the totals and writes the first history
        event, then sends `order_placed` inside the transaction (billing opens a card order's
        payment and queues its charge after commit). A cash order is confirmed at once; a
        card order stays pending for the payment worker.
        A repeated idempotency key returns the first order with `created=False`, or raises
        IdempotencyKeyReused if the request differed; racing repeats create one order.
        """
        if idempotency_key:
            earlier = self.filter(customer=customer, idempotency_key=idempotency_key).first()
            if earlier is not None:
                return _replay(earlier, request_fingerprint), False

        products = _orderable_products(lines)
        _check_prices(lines, products)
        shipping_address = _shipping_snapshot(customer, delivery_method, shipping_address_id)
        subtotal = sum((products[line.product].price * line.quantity for line in lines), Decimal("0.00"))
        _check_amount_fits(self.model, subtotal)
        code = _related(self.model, "discount_code").objects.find_usable(discount_code) if discount_code else None
        discount = code.discount_for(subtotal) if code else Decimal("0.00")

        try:
            order = self._create_with_holds(
                customer=customer,
                delivery_method=delivery_method,
                payment_method=payment_method,
                shipping_address=shipping_address,
                subtotal=subtotal,
                discount=discount,
                total=subtotal - discount,
                discount_code=code,
                idempotency_key=idempotency_key or "",
                request_fingerprint=request_fingerprint,
                products=products,
                lines=lines,
                actor=actor,
            )
        except IntegrityError:
            # A racing request with the same key committed first: everything we did rolled back.
            earlier = (
                self.filter(customer=customer, idempotency_key=idempotency_key).first() if idempotency_key else None
            )
            if earlier is None:
                raise
            return _replay(earlier, request_fingerprint), False
        return order, True

    place.alters_data = True

    def _create_with_holds(self, *, products, lines, actor, **fields):
        """Write the order, its lines, its holds (stock, code use) and first event, in one transaction.

        The order row goes in first: a racing request with the same idempotency key waits
        on it, then fails, before taking any stock or code use.
        """
        order_item = _related(self.model, "items")
        with transaction.atomic(using=self.db):
            order = self.create(**fields)
            if order.discount_code is not None:
                _related(self.model, "discount_code").objects.redeem(order.discount_code)
            order_item.objects.bulk_create(
                order_item(
                    order=order,
                    product_id=line.product,
                    product_name=products[line.product].name,
                    sku=products[line.product].sku,
                    quantity=line.quantity,
                    unit_price=products[line.product].price,
                    line_total=products[line.product].price * line.quantity,
                )
                for line in lines
            )
            Product.objects.reserve({line.product: line.quantity for line in lines})
            order.events.create(from_status="", to_status=Status.PENDING, actor=actor, note="Order placed.")
            order_placed.send(sender=self.model, order=order)
            transaction.on_commit(ORDERS_PLACED.labels(order.payment_method).inc, using=self.db)
            if order.payment_method == PaymentMethod.CASH:
                order.transition_to(Status.CONFIRMED, note="Cash order: confirmed at once.")
        return order


def _replay(order, request_fingerprint: str):
    if order.request_fingerprint != request_fingerprint:
        raise IdempotencyKeyReused()
    return order


def _orderable_products(lines: list[Line]) -> dict:
    """Return the lines' products by id; refuse empty orders, repeated, unknown or inactive products."""
    if not lines:
        raise InvalidOrder({"items": ["An order needs at least one line."]})
    repeated = sorted(product for product, count in Counter(line.product for line in lines).items() if count > 1)
    if repeated:
        message = "Product {} appears on more than one line; order it once with the total quantity."
        raise InvalidOrder({"items": [message.format(pk) for pk in repeated]})
    if any(line.quantity < 1 for line in lines):
        raise InvalidOrder({"items": ["Every quantity must be at least 1."]})
    wanted = [line.product for line in lines]
    products = Product.objects.active().only("pk", "name", "sku", "price").in_bulk(wanted)
    missing = [pk for pk in wanted if pk not in products]
    if missing:
        raise InvalidOrder({"items": [f"Product {pk} is not available." for pk in missing]})
    return products


def _check_prices(lines: list[Line], products: dict) -> None:
    """Refuse the order if any price the client saw is no longer the price."""
    changed = [
        {"product": line.product, "seen": str(line.unit_price), "current": str(products[line.product].price)}
        for line in lines
        if line.unit_price is not None and line.unit_price != products[line.product].price
    ]
    if changed:
        raise PriceChanged(changed)


def _check_amount_fits(model, subtotal: Decimal) -> None:
    """Refuse an order whose subtotal the money columns cannot hold; its total and each line are at most that."""
    column = model._meta.get_field("subtotal")
    largest = Decimal(10) ** (column.max_digits - column.decimal_places) - Decimal(10) ** -column.decimal_places
    if subtotal > largest:
        message = f"The order comes to {subtotal}; one order can come to at most {largest}: split it up."
        raise InvalidOrder({"items": [message]})


def _shipping_snapshot(customer, delivery_method: str, address_id: int | None) -> dict | None:
    """Copy the customer's address for home delivery, so later edits never change the order."""
    if delivery_method != DeliveryMethod.HOME_DELIVERY:
        return None
    if address_id is None:
        raise InvalidOrder({"shipping_address": ["Home delivery needs a shipping address."]})
    address = customer.addresses.filter(pk=address_id).first()
    if address is None:
        raise InvalidOrder({"shipping_address": [f"Address {address_id} is not one of this customer's."]})
    fields = ["label", "line1", "line2", "city", "postal_code"]
    return {**{field: getattr(address, field) for field in fields}, "country": address.country.code}


def _related(model, field: str):
    """Return the model at the other end of `model.field`."""
    return model._meta.get_field(field).related_model


class DiscountCodeQuerySet(ActivatableQuerySet):
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


OrderManager = models.Manager.from_queryset(OrderQuerySet)
DiscountCodeManager = models.Manager.from_queryset(DiscountCodeQuerySet)
