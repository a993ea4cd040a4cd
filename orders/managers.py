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
from django.db.models import Count, F, Prefetch, Q, Sum, prefetch_related_objects
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from catalog.models import Extra, OptionValue, Variant
from common.models import ActivatableQuerySet, created_on
from orders.exceptions import IdempotencyKeyReused, InvalidDiscountCode, InvalidOrder, PriceChanged
from orders.metrics import ORDERS_PLACED
from orders.signals import order_placed
from orders.status import PURCHASED, DeliveryMethod, PaymentMethod, Status


@dataclass(frozen=True)
class Line:
    """One requested line: a variant (or a product sold in one variant), a quantity, the extras
    chosen (an extra's id once per unit of it: `(3, 3)` is a double), and optionally the unit
    price the client saw."""

    variant: int | None = None
    quantity: int = 1
    unit_price: Decimal | None = None
    extras: tuple[int, ...] = ()
    product: int | None = None


@dataclass(frozen=True)
class PricedLine:
    """A requested line resolved against the catalog: what it sells and what one unit costs."""

    line: Line
    variant: object  # catalog.Variant, with its product and option values
    extras: list[dict]  # [{"id", "name", "price", "quantity"}], priced now
    unit_price: Decimal

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.line.quantity

    def item_fields(self) -> dict:
        """Return the order line's fields: the sale, and a snapshot of what was sold."""
        variant = self.variant
        return {
            "variant_id": variant.pk,
            "product_id": variant.product_id,
            "product_name": variant.product.name,
            "sku": variant.sku,
            "options": variant.option_labels(),
            "extras": [{**extra, "price": str(extra["price"])} for extra in self.extras],
            "quantity": self.line.quantity,
            "unit_price": self.unit_price,
            "line_total": self.line_total,
        }


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
        key_is_new: bool = False,
    ):
        """Place an order in one transaction and return `(order, created)`.

        Validates the lines, checks the prices the client saw, redeems the discount code,
        takes the stock (all lines or none), computes the totals and writes the first history
        event, then sends `order_placed` inside the transaction (billing opens a card order's
        payment and queues its charge after commit). A cash order is confirmed at once; a
        card order stays pending for the payment worker.
        A repeated idempotency key returns the first order with `created=False`, or raises
        IdempotencyKeyReused if the request differed; racing repeats create one order.
        `key_is_new`: the caller has just found no order of this customer with the key (the
        view does, for the rate limit), so the lookup is skipped; a racing repeat still ends
        in the unique constraint and the replay below.
        """
        if idempotency_key and not key_is_new:
            earlier = self.filter(customer=customer, idempotency_key=idempotency_key).first()
            if earlier is not None:
                return _replay(earlier, request_fingerprint), False

        priced = _price_lines(lines)
        _check_prices(priced)
        shipping_address = _shipping_snapshot(customer, delivery_method, shipping_address_id)
        subtotal = sum((line.line_total for line in priced), Decimal("0.00"))
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
                lines=priced,
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

    def _create_with_holds(self, *, lines: list[PricedLine], actor, **fields):
        """Write the order, its lines, its holds (stock, code use) and first event, in one transaction.

        The order row goes in first: a racing request with the same idempotency key waits
        on it, then fails, before taking any stock or code use. Nothing here needs a
        savepoint: any failure rolls the whole placement back. A cash order is confirmed
        on the row just written (ours, unseen by others until commit: no lock to take or
        status to re-read), and its two history events go in one INSERT. The lines inserted
        stay on the order (`Order.loaded_items`) for the answer.
        """
        order_item = _related(self.model, "items")
        with transaction.atomic(using=self.db):
            order = self.create(**fields)
            if order.discount_code is not None:
                _related(self.model, "discount_code").objects.redeem(order.discount_code)
            order.prefetched_items = order_item.objects.bulk_create(
                [order_item(order=order, **line.item_fields()) for line in lines]
            )
            units = Counter()
            for line in lines:
                units[line.variant.pk] += line.line.quantity
            Variant.objects.reserve(units, savepoint=False)
            placed = order.events.model(
                order=order, from_status="", to_status=Status.PENDING, actor=actor, note="Order placed."
            )
            if order.payment_method != PaymentMethod.CASH:
                placed.save(force_insert=True)
            order_placed.send(sender=self.model, order=order)
            transaction.on_commit(ORDERS_PLACED.labels(order.payment_method).inc, using=self.db)
            if order.payment_method == PaymentMethod.CASH:
                order.move_locked(
                    order,
                    Status.CONFIRMED,
                    note="Cash order: confirmed at once.",
                    placing=True,
                    earlier_events=[placed],
                )
        return order


def _replay(order, request_fingerprint: str):
    if order.request_fingerprint != request_fingerprint:
        raise IdempotencyKeyReused()
    return order


def _price_lines(lines: list[Line]) -> list[PricedLine]:
    """Resolve each line's variant and extras and price one unit; refuse what cannot be ordered.

    Refused: an empty order, a quantity under 1, an unknown or inactive variant or product,
    a product named alone that comes in several variants, an extra not offered with the
    product or chosen more often than it allows, and two lines of the same variant with the
    same extras (one line with the total quantity says it). Three queries: the variants with
    their products, their option values, and the extras named.
    """
    if not lines:
        raise InvalidOrder({"items": ["An order needs at least one line."]})
    if any(line.quantity < 1 for line in lines):
        raise InvalidOrder({"items": ["Every quantity must be at least 1."]})
    variants = _orderable_variants(lines)
    extras = _offered_extras(lines)
    problems, priced, seen = [], [], set()
    for line, variant in zip(lines, variants, strict=True):
        if variant is None:
            problems.append(_unavailable(line))
            continue
        chosen = []
        for extra_id, count in sorted(Counter(line.extras).items()):
            extra = extras.get(extra_id)
            if extra is None or extra.product_id != variant.product_id:
                problems.append(f"Extra {extra_id} is not offered with {variant.product.name}.")
            elif count > extra.max_per_line:
                problems.append(f"{extra.name} can be added at most {extra.max_per_line} times to one line.")
            else:
                chosen.append({"id": extra.pk, "name": extra.name, "price": extra.price, "quantity": count})
        key = (variant.pk, tuple(sorted(line.extras)))
        if key in seen:
            problems.append(f"{variant.sku} appears on two lines with the same extras; order it once with the sum.")
        seen.add(key)
        unit_price = variant.price + sum((extra["price"] * extra["quantity"] for extra in chosen), Decimal("0.00"))
        priced.append(PricedLine(line=line, variant=variant, extras=chosen, unit_price=unit_price))
    if problems:
        raise InvalidOrder({"items": problems})
    return priced


def _orderable_variants(lines: list[Line]) -> list:
    """Return each line's orderable variant (None when it has none), its product and option values loaded."""
    variant_ids = [line.variant for line in lines if line.variant is not None]
    product_ids = [line.product for line in lines if line.variant is None and line.product is not None]
    found = list(
        Variant.objects.orderable()
        .filter(Q(pk__in=variant_ids) | Q(product_id__in=product_ids))
        .select_related("product")
        .only("pk", "sku", "price", "combination", "product_id", "product__name")
    )
    # Only variants with a combination have option values (Variant.option_labels): none
    # is read when no variant ordered has options.
    with_options = [variant for variant in found if variant.combination]
    values = Prefetch("option_values", queryset=OptionValue.objects.select_related("option"))
    prefetch_related_objects(with_options, values)
    by_id, by_product = {}, {}
    for variant in found:
        by_id[variant.pk] = variant
        by_product.setdefault(variant.product_id, []).append(variant)
    chosen = []
    for line in lines:
        if line.variant is not None:
            chosen.append(by_id.get(line.variant))
        else:
            candidates = by_product.get(line.product, [])
            chosen.append(candidates[0] if len(candidates) == 1 else None)
    return chosen


def _unavailable(line: Line) -> str:
    if line.variant is not None:
        return f"Variant {line.variant} is not available."
    if line.product is None:
        return "Every line needs a variant (or the product of a product sold in one variant)."
    variants = Variant.objects.orderable().filter(product_id=line.product).count()
    if variants > 1:
        return f"Product {line.product} comes in {variants} variants: name the variant."
    return f"Product {line.product} is not available."


def _offered_extras(lines: list[Line]) -> dict:
    """Return the active extras the lines name, by id (no query when none is named)."""
    wanted = {extra for line in lines for extra in line.extras}
    return Extra.objects.filter(is_active=True).in_bulk(wanted) if wanted else {}


def _check_prices(lines: list[PricedLine]) -> None:
    """Refuse the order if any unit price the client saw (variant and extras) is no longer the price."""
    changed = [
        {
            "variant": line.variant.pk,
            "product": line.variant.product_id,
            "sku": line.variant.sku,
            "seen": str(line.line.unit_price),
            "current": str(line.unit_price),
        }
        for line in lines
        if line.line.unit_price is not None and line.line.unit_price != line.unit_price
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
