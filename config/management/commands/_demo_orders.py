"""Demo orders for `seed_demo`: discount codes, and orders in every status with their payments and invoices.

Every order goes through the real rules, through the factories: `OrderFactory` places it
(`Order.objects.place` takes the stock and the code use and writes the history);
`Order.transition_to` and `cancel` move it along the status machine (giving stock back on
cancellation or a failed payment); billing's receivers open payments, issue invoices and
credit notes. Only the gateway is played: `billing.factories.settle_payment` records each
payment's attempts and outcome through `billing.payments`, as the worker does, and
`pay_out` pays refunds out. Some delivered orders come back: a few units returned to stock,
or the whole order refunded (`Refund.objects.issue`).

Orders are placed over the last 90 days (`_demo_clock.order_moments`). Each one is walked a
step at a time, each step some time after the one before (`_demo_data.STEP_SECONDS`), all
orders' steps in the order of their moments, and `Backdating` dates each step at its moment.
How far an order has got is how far its steps have come by now: today's orders are still
being paid for, prepared or shipped, last week's are on their way or delivered.
"""

import heapq
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Max
from django.db.models.functions import Lower
from django.utils import timezone

from billing.factories import CardOrderFactory, pay_out, settle_payment
from billing.models import CreditNote, Invoice, Payment, Refund
from catalog.models import Extra, Variant
from config.management.commands import _demo_data as data
from config.management.commands._demo_clock import Backdating, Calendar, order_moments
from customers.models import Address, Customer
from orders.factories import DiscountCodeFactory, OrderFactory, route
from orders.managers import Line
from orders.models import DiscountCode, Order
from orders.status import CUSTOMER_CANCELLABLE, RELEASES_STOCK, DeliveryMethod, PaymentMethod, Status

CARD_SHARE = 0.65
DISCOUNTED_SHARE = 0.2
SCARCE_USES = 10  # a code with this few uses left goes only to orders that keep it, so USEDUP ends used up
OUTAGE_FIRST_SHARE = 0.15  # card payments answered on the second call, after an outage
WAITING_AFTER_OUTAGE_SHARE = 0.5  # payments still processing that already met an outage
DECLINED_SHARE = 0.6  # failed payments declined by the issuer; the others ran out of attempts in an outage
CUSTOMER_CANCELS_SHARE = 0.6  # cancellations made by the customer, while they still may
RETURNED_SHARE = 0.1  # delivered orders that come back in part (units returned to stock) ...
REFUNDED_IN_FULL_SHARE = 0.03  # ... or are refunded in full
PROGRESS_EVERY = 250
WITH_EXTRAS_SHARE = 0.6  # lines of a product offering extras that add some (a pizza with extra cheese)
EXTRAS_PER_LINE = {1: 60, 2: 30, 3: 10}  # how many different extras such a line adds: weight


@dataclass(frozen=True)
class Plan:
    """Where a demo order would end given time, how it is paid and delivered, and how the gateway answers it.

    An order in flight (IN_FLIGHT) ends where it is caught, its `status` now.
    `comes_back` is "returned", "refunded" or None for a delivered order.
    """

    status: str
    cancelled_from: str | None
    cancelled_by_customer: bool
    payment_method: str
    delivery_method: str
    outages: int
    declined: bool
    comes_back: str | None


@dataclass
class Shelves:
    """What the demo orders may still take: each variant's units left, the variants of each product with units
    left, the products with any (`on_shelf`), and the extras each product offers (id, most per line)."""

    stock: dict[int, int]
    variants: dict[int, list[int]]
    on_shelf: list[int]
    extras: dict[int, list[tuple[int, int]]]

    @classmethod
    def now(cls) -> "Shelves":
        """Read the orderable variants in stock and the extras on offer, in id order."""
        stock, variants = {}, {}
        rows = Variant.objects.orderable().filter(stock__gt=0).order_by("pk").values_list("pk", "product_id", "stock")
        for pk, product_id, units in rows:
            stock[pk] = units
            variants.setdefault(product_id, []).append(pk)
        extras = {}
        offered = Extra.objects.filter(is_active=True, product_id__in=variants).order_by("product_id", "position", "pk")
        for product_id, pk, most in offered.values_list("product_id", "pk", "max_per_line"):
            extras.setdefault(product_id, []).append((pk, most))
        return cls(stock, variants, sorted(variants), extras)

    def take(self, variant: int, product: int, quantity: int) -> None:
        """Take `quantity` units of a variant off the shelves."""
        self.stock[variant] -= quantity
        if not self.stock[variant]:
            self.variants[product].remove(variant)
            if not self.variants[product]:
                self.on_shelf.remove(product)


@dataclass(frozen=True)
class Basket:
    """Who places a demo order, where it goes if delivered, and what is in it."""

    customer: Customer
    home: Address
    lines: list[Line]
    code: str | None


class DemoOrders:
    """Seeds discount codes and orders with the command's random generator, reporting to its output."""

    def __init__(self, rng, stdout, calendar: Calendar) -> None:
        self.rng = rng
        self.stdout = stdout
        self.calendar = calendar
        self.backdating = Backdating()

    def seed_discount_codes(self) -> None:
        """Add the demo's discount codes that no code (in any letter case) has yet, created when they start."""
        taken = set(DiscountCode.objects.values_list(Lower("code"), flat=True))
        now = self.calendar.now
        codes = DiscountCode.objects.bulk_create(
            DiscountCodeFactory.build(
                code=demo.code,
                kind=demo.kind,
                value=Decimal(demo.value),
                max_uses=demo.max_uses,
                valid_from=now + timedelta(days=demo.starts),
                valid_until=None if demo.ends is None else now + timedelta(days=demo.ends),
                is_active=demo.is_active,
            )
            for demo in data.DISCOUNT_CODES
            if demo.code.lower() not in taken
        )
        for code in codes:
            code.created_at = code.updated_at = min(code.valid_from, now)
        DiscountCode._base_manager.bulk_update(codes, ["created_at", "updated_at"])
        self.stdout.write(f"discount codes: {DiscountCode.objects.count():,}")

    def seed_orders(self, count: int, customers: list[Customer], staff) -> None:
        """Have customers place `count` orders of variants in stock over the last days (some lines with extras), and
        walk each as far as it has got by now.

        Per-row work through the real rules, hence the modest default. Card orders left pending
        or processing wait for the worker like any stuck order: with one running, reconciliation
        charges them.
        """
        homes = {home.customer_id: home for home in Address.objects.filter(is_default=True).only("customer_id")}
        if not customers:  # no new customers: the ones already here shop
            customers = list(Customer.objects.select_related("user").order_by("created_at", "pk"))
        customers = sorted((customer for customer in customers if customer.pk in homes), key=lambda c: c.created_at)
        shelves = Shelves.now()
        if count and not (customers and shelves.on_shelf):
            self.stdout.write("orders: none (no customers with an address, or nothing in stock)")
        if not (count and customers and shelves.on_shelf):
            return
        since = self.first_moment()
        schedule = self.schedule(count, since)
        if not schedule:
            self.stdout.write(f"orders: none (the shop's latest order or document is from {since:%Y-%m-%d %H:%M})")
            return
        codes = {code.code: code for code in DiscountCode.objects.usable().order_by("code")}
        uses_left = {
            name: None if code.max_uses is None else code.max_uses - code.times_used for name, code in codes.items()
        }
        joined = [customer.created_at for customer in customers]
        walks = []
        for number, (placed_at, caught) in enumerate(schedule, 1):
            lines = self.pick_lines(shelves)
            if not lines:
                self.stdout.write(f"orders: only {number - 1:,} possible (everything sold out)")
                break
            plan = self.plan_order(caught)
            # Only customers who had signed up by then; anyone, if none had.
            customer = customers[self.rng.randrange(max(1, bisect_right(joined, placed_at)))]
            code = None
            if self.rng.random() < DISCOUNTED_SHARE:
                valid = {name: left for name, left in uses_left.items() if codes[name].valid_from <= placed_at}
                code = self.pick_code(plan, valid, uses_left)
            basket = Basket(customer, homes[customer.pk], lines, code)
            walks.append(OrderWalk(self, number, placed_at, plan, basket, staff))
        self.walk(walks)

    def first_moment(self) -> datetime:
        """Return when the first new order may be placed: at the start of the order days, or after the shop's
        latest order and document, so invoice and credit note numbers keep increasing with their issue times."""
        latest = [
            Order.objects.aggregate(latest=Max("created_at"))["latest"],
            Invoice.objects.aggregate(latest=Max("issued_at"))["latest"],
            CreditNote.objects.aggregate(latest=Max("issued_at"))["latest"],
        ]
        return max([self.calendar.orders_from, *(moment for moment in latest if moment is not None)])

    def schedule(self, count: int, since: datetime) -> list[tuple[datetime, str | None]]:
        """Return when each order is placed, oldest first, with the status it is caught at if it is one of the
        orders in flight (IN_FLIGHT); the others follow the shop's daily rhythm."""
        now = self.calendar.now
        caught = [
            (now - timedelta(minutes=self.rng.uniform(low, high)), status) for status, low, high in data.IN_FLIGHT
        ]
        caught = [(moment, status) for moment, status in caught[:count] if moment >= since]
        moments = order_moments(self.rng, count - len(caught), since, now)
        return sorted([*((moment, None) for moment in moments), *caught], key=lambda placed: placed[0])

    def plan_order(self, caught: str | None) -> Plan:
        """Draw where an order would end and how; pending, processing and failed payments need a card, shipping
        a home."""
        rng = self.rng
        status = caught or self.weighted(data.ORDER_FATES)
        cancelled_from = self.weighted(data.CANCELLED_FROM) if status == Status.CANCELLED else None
        reached = cancelled_from or status
        needs_card = reached in (Status.PENDING, Status.PAYMENT_PROCESSING, Status.PAYMENT_FAILED)
        card = needs_card or rng.random() < CARD_SHARE
        by_customer = cancelled_from in CUSTOMER_CANCELLABLE and rng.random() < CUSTOMER_CANCELS_SHARE
        outages, declined = self.gateway_answers(status) if card else (0, False)
        comes_back = None
        if status == Status.DELIVERED:
            roll = rng.random()
            if roll < REFUNDED_IN_FULL_SHARE:
                comes_back = "refunded"
            elif roll < REFUNDED_IN_FULL_SHARE + RETURNED_SHARE:
                comes_back = "returned"
        delivery = DeliveryMethod.HOME_DELIVERY if status == Status.SHIPPED else self.weighted(data.DELIVERY_METHODS)
        return Plan(
            status=status,
            cancelled_from=cancelled_from,
            cancelled_by_customer=by_customer,
            payment_method=PaymentMethod.CARD if card else PaymentMethod.CASH,
            delivery_method=delivery,
            outages=outages,
            declined=declined,
            comes_back=comes_back,
        )

    def gateway_answers(self, status: str) -> tuple[int, bool]:
        """Draw how the played gateway answers: how many outages before its answer, and whether it declines."""
        rng = self.rng
        if status == Status.PAYMENT_PROCESSING:
            return int(rng.random() < WAITING_AFTER_OUTAGE_SHARE), False
        if status == Status.PAYMENT_FAILED and rng.random() >= DECLINED_SHARE:
            return settings.PAYMENT_MAX_ATTEMPTS - 1, False  # the last attempt's outage fails it
        return int(rng.random() < OUTAGE_FIRST_SHARE), status == Status.PAYMENT_FAILED

    def pick_lines(self, shelves: Shelves) -> list[Line]:
        """Return one to four lines of variants of different products in stock, taking their units off `shelves`;
        some lines of products offering extras add a few."""
        lines = []
        for product in self.rng.sample(
            shelves.on_shelf, min(self.weighted(data.LINES_PER_ORDER), len(shelves.on_shelf))
        ):
            variant = self.rng.choice(shelves.variants[product])
            quantity = min(self.weighted(data.QUANTITIES), shelves.stock[variant])
            shelves.take(variant, product, quantity)
            extras = self.pick_extras(shelves.extras.get(product, []))
            lines.append(Line(variant=variant, quantity=quantity, extras=extras))
        return lines

    def pick_extras(self, offered: list[tuple[int, int]]) -> tuple[int, ...]:
        """Return the extras one line adds, an extra's id once per time it is added: (7, 7, 9) is a double and
        a single."""
        if not offered or self.rng.random() >= WITH_EXTRAS_SHARE:
            return ()
        chosen = sorted(self.rng.sample(offered, min(self.weighted(EXTRAS_PER_LINE), len(offered))))
        return tuple(pk for pk, most in chosen for _ in range(self.rng.randint(1, min(most, 2))))

    def pick_code(self, plan: Plan, valid: dict[str, int | None], uses_left: dict[str, int | None]) -> str | None:
        """Return a code of `valid` for this order and count its use; a code nearly used up only for an order keeping
        it."""
        scarce = [code for code, left in valid.items() if left is not None and 0 < left <= SCARCE_USES]
        plenty = [code for code, left in valid.items() if left is None or left > SCARCE_USES]
        if scarce and plan.status not in RELEASES_STOCK:
            code = scarce[0]
        elif plenty:
            code = self.rng.choice(plenty)
        else:
            return None
        if uses_left[code] is not None:
            uses_left[code] -= 1
        return code

    def walk(self, walks: list["OrderWalk"]) -> None:
        """Take every order's steps in the order of their moments, each dated at its moment, up to now."""
        now, placed = self.calendar.now, 0
        queue = [(walk.next_at, walk.number, walk) for walk in walks]
        heapq.heapify(queue)
        while queue:
            moment, number, walk = heapq.heappop(queue)
            since = timezone.now()
            placing = walk.order is None
            goes_on = walk.advance()
            self.backdating.backdate(walk.order, since, moment)
            if goes_on and walk.next_at <= now:
                heapq.heappush(queue, (walk.next_at, number, walk))
            if placing:
                placed += 1
                if placed % PROGRESS_EVERY == 0 or placed == len(walks):
                    self.stdout.write(f"orders: {placed:,}/{len(walks):,}")
        self.backdating.flush()

    def later(self, moment: datetime, step: str) -> datetime:
        """Return the moment a step of this kind comes after `moment` (STEP_SECONDS)."""
        low, high = data.STEP_SECONDS[step]
        return moment + timedelta(seconds=self.rng.uniform(low, high))

    def weighted(self, weights: dict):
        """Return one key of `weights`, drawn in proportion to its value."""
        return self.rng.choices(list(weights), list(weights.values()))[0]


class OrderWalk:
    """One demo order's way through the rules, a step at a time: `next_at` is the moment of its next step."""

    def __init__(self, orders: DemoOrders, number: int, placed_at: datetime, plan: Plan, basket: Basket, staff):
        self.orders, self.number, self.plan, self.basket, self.staff = orders, number, plan, basket, staff
        self.order: Order | None = None
        self.steps = self.take_steps(placed_at)
        self.next_at = next(self.steps)

    def advance(self) -> bool:
        """Take the step due at `next_at`; return whether another follows."""
        try:
            self.next_at = next(self.steps)
        except StopIteration:
            return False
        return True

    def take_steps(self, placed_at: datetime) -> Iterator[datetime]:
        """Yield the moment of each step, then take it: place the order, then move it along its route."""
        plan, orders, basket, staff = self.plan, self.orders, self.basket, self.staff
        yield placed_at
        card = plan.payment_method == PaymentMethod.CARD
        order = self.order = (CardOrderFactory if card else OrderFactory)(
            customer=basket.customer,
            lines=basket.lines,
            delivery_method=plan.delivery_method,
            address=basket.home if plan.delivery_method == DeliveryMethod.HOME_DELIVERY else None,
            discount_code=basket.code,
            actor=basket.customer.user,
        )
        moment, previous = placed_at, order.status
        for status in route(order, plan.status, plan.cancelled_from):
            if status == Status.PAYMENT_PROCESSING:
                moment = orders.later(moment, "payment starts")
                yield moment
                settle_payment(order, status, outages=0, declined=False)
                for _ in range(plan.outages):
                    moment = orders.later(moment, "gateway retried")
                    yield moment
                    settle_payment(order, status, outages=1, declined=False)
            elif card and status in (Status.CONFIRMED, Status.PAYMENT_FAILED):
                moment = orders.later(moment, "gateway retried" if plan.outages else "gateway answers")
                yield moment
                settle_payment(order, status, outages=0, declined=plan.declined)
                order.refresh_from_db()  # the payment moved it through its own copy
            elif status == Status.CANCELLED:
                moment = orders.later(moment, f"cancelled when {previous}")
                yield moment
                self.cancel()
                yield from self.pay_out(moment)
            else:
                after = "delivered" if previous == Status.SHIPPED else "collected"
                moment = orders.later(moment, after if status == Status.DELIVERED else status)
                yield moment
                order.transition_to(status, actor=staff)
            previous = status
        if plan.comes_back:
            moment = orders.later(moment, "refunded")
            yield moment
            self.refund()
            yield from self.pay_out(moment)

    def cancel(self) -> None:
        """Cancel the order, as the customer while they still may or else as staff, with a note saying why."""
        actor = self.basket.customer.user if self.plan.cancelled_by_customer else self.staff
        note = self.orders.rng.choice(data.CANCEL_NOTES["customer" if self.plan.cancelled_by_customer else "staff"])
        if actor is None:
            self.order.transition_to(Status.CANCELLED, note=note)
        else:
            self.order.cancel(actor=actor, note=note)

    def refund(self) -> None:
        """Refund the delivered order: some units returned to stock, or all of it."""
        rng, order, staff = self.orders.rng, self.order, self.staff
        if self.plan.comes_back == "refunded":
            Refund.objects.issue(order, reason=rng.choice(data.FULL_REFUND_REASONS), actor=staff)
            return
        item = rng.choice(list(order.items.all()))
        units = {item.pk: rng.randint(1, item.quantity)}
        reason = rng.choice(data.RETURN_REASONS)
        Refund.objects.issue(order, units=units, restock=True, reason=reason, actor=staff)

    def pay_out(self, moment: datetime) -> Iterator[datetime]:
        """Pay out the order's card refunds a little later, as the worker does (a cash refund is paid at once).

        Never later than now: a refund waits for the worker only for seconds.
        """
        pending = list(Refund.objects.filter(payment__order=self.order, status=Refund.Status.PENDING))
        if pending:
            yield min(self.orders.later(moment, "paid out"), self.orders.calendar.now)
            for refund in pending:
                pay_out(refund)


def orders_summary() -> str:
    """Return a line counting the orders in each status, their payments, refunds, invoices and discount codes."""
    statuses = dict(Order.objects.order_by().values_list("status").annotate(count=Count("pk")))
    each = ", ".join(f"{statuses[status]:,} {status}" for status in Status.values if status in statuses)
    return (
        f"Orders: {sum(statuses.values()):,} ({each or 'none'}). Payments: {Payment.objects.count():,}, "
        f"refunds: {Refund.objects.count():,}, invoices: {Invoice.objects.count():,}, "
        f"credit notes: {CreditNote.objects.count():,}, discount codes: {DiscountCode.objects.count():,}."
    )
