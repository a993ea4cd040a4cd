"""Demo orders for `seed_demo`: discount codes, and orders in every status with their payments and invoices.

Every order goes through the real rules, through the factories: `Order.objects.place` takes
the stock and the code use and writes the history; `Order.transition_to` moves it along the
status machine (giving stock back on cancellation or a failed payment); billing's receivers
open payments, issue invoices and credit notes. Only the gateway is played: `CardOrderFactory`
records each payment's attempts and outcome through `billing.payments`, as the worker does,
and pays refunds out through `billing.factories.pay_out`. Some delivered orders come back:
a few units returned to stock, or the whole order refunded (`Refund.objects.issue`).
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db.models import Count
from django.db.models.functions import Lower

from billing.factories import CardOrderFactory, pay_out
from billing.models import CreditNote, Invoice, Payment, Refund
from catalog.models import Product
from config.management.commands import _demo_data as data
from config.management.commands._demo_clock import Calendar
from customers.models import Address, Customer
from orders.factories import DiscountCodeFactory, OrderFactory
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


@dataclass(frozen=True)
class Plan:
    """Where a demo order ends, how far a cancelled one got first, and how it is paid and delivered."""

    status: str
    cancelled_from: str | None
    payment_method: str
    delivery_method: str


class DemoOrders:
    """Seeds discount codes and orders with the command's random generator, reporting to its output."""

    def __init__(self, rng, stdout, calendar: Calendar) -> None:
        self.rng = rng
        self.stdout = stdout
        self.calendar = calendar

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
        """Have customers place `count` orders of products in stock and move each to a planned status.

        Per-row work through the real rules, hence the modest default. Card orders left pending
        or processing wait for the worker like any stuck order: with one running, reconciliation
        charges them.
        """
        homes = {home.customer_id: home for home in Address.objects.filter(is_default=True).only("customer_id")}
        if not customers:  # no new customers: the ones already here shop
            customers = list(Customer.objects.select_related("user").order_by("pk"))
        customers = [customer for customer in customers if customer.pk in homes]
        stock = dict(Product.objects.in_stock().order_by("pk").values_list("pk", "stock"))
        if count and not (customers and stock):
            self.stdout.write("orders: none (no customers with an address, or nothing in stock)")
        if not (count and customers and stock):
            return
        on_shelf = list(stock)
        uses_left = {
            code.code: None if code.max_uses is None else code.max_uses - code.times_used
            for code in DiscountCode.objects.usable().order_by("code")
        }
        for number in range(1, count + 1):
            lines = self.pick_lines(stock, on_shelf)
            if not lines:
                self.stdout.write(f"orders: only {number - 1:,} possible (everything sold out)")
                break
            plan, customer = self.plan_order(), self.rng.choice(customers)
            code = self.pick_code(plan, uses_left) if self.rng.random() < DISCOUNTED_SHARE else None
            self.seed_order(plan, customer, lines, code, homes[customer.pk], staff)
            if number % PROGRESS_EVERY == 0 or number == count:
                self.stdout.write(f"orders: {number:,}/{count:,}")

    def plan_order(self) -> Plan:
        """Draw where an order ends; pending, processing and failed payments need a card, shipping a home."""
        status = self.weighted(data.ORDER_OUTCOMES)
        cancelled_from = self.weighted(data.CANCELLED_FROM) if status == Status.CANCELLED else None
        reached = cancelled_from or status
        needs_card = reached in (Status.PENDING, Status.PAYMENT_PROCESSING, Status.PAYMENT_FAILED)
        card = needs_card or self.rng.random() < CARD_SHARE
        delivery = DeliveryMethod.HOME_DELIVERY if reached == Status.SHIPPED else self.weighted(data.DELIVERY_METHODS)
        return Plan(status, cancelled_from, PaymentMethod.CARD if card else PaymentMethod.CASH, delivery)

    def pick_lines(self, stock: dict[int, int], on_shelf: list[int]) -> list[Line]:
        """Return one to four lines of different products in stock, taking their units off `stock`."""
        lines = []
        for product in self.rng.sample(on_shelf, min(self.weighted(data.LINES_PER_ORDER), len(on_shelf))):
            quantity = min(self.weighted(data.QUANTITIES), stock[product])
            stock[product] -= quantity
            if not stock[product]:
                on_shelf.remove(product)
            lines.append(Line(product=product, quantity=quantity))
        return lines

    def pick_code(self, plan: Plan, uses_left: dict[str, int | None]) -> str | None:
        """Return a usable code for this order and count its use; a code nearly used up only for an order keeping it."""
        scarce = [code for code, left in uses_left.items() if left is not None and 0 < left <= SCARCE_USES]
        plenty = [code for code, left in uses_left.items() if left is None or left > SCARCE_USES]
        if scarce and plan.status not in RELEASES_STOCK:
            code = scarce[0]
        elif plenty:
            code = self.rng.choice(plenty)
        else:
            return None
        if uses_left[code] is not None:
            uses_left[code] -= 1
        return code

    def seed_order(self, plan: Plan, customer: Customer, lines: list[Line], code, home: Address, staff) -> None:
        """Have the customer place one order and walk it to its planned status; staff move it along."""
        cancels = plan.cancelled_from in CUSTOMER_CANCELLABLE and self.rng.random() < CUSTOMER_CANCELS_SHARE
        card = plan.payment_method == PaymentMethod.CARD
        order = (CardOrderFactory if card else OrderFactory)(
            customer=customer,
            lines=lines,
            delivery_method=plan.delivery_method,
            address=home if plan.delivery_method == DeliveryMethod.HOME_DELIVERY else None,
            discount_code=code,
            actor=customer.user,
            status=plan.status,
            cancelled_from=plan.cancelled_from,
            moved_by=staff,
            cancelled_by=customer.user if cancels else staff,
            **(self.gateway_answers(plan) if card else {}),
        )
        if order.status == Status.DELIVERED:
            self.maybe_refund(order, staff)

    def maybe_refund(self, order: Order, staff) -> None:
        """Now and then, refund a delivered order: some units returned to stock, or all of it; pay card refunds out."""
        roll = self.rng.random()
        if roll < REFUNDED_IN_FULL_SHARE:
            refund = Refund.objects.issue(order, reason=self.rng.choice(data.FULL_REFUND_REASONS), actor=staff)
        elif roll < REFUNDED_IN_FULL_SHARE + RETURNED_SHARE:
            item = self.rng.choice(list(order.items.all()))
            units = {item.pk: self.rng.randint(1, item.quantity)}
            reason = self.rng.choice(data.RETURN_REASONS)
            refund = Refund.objects.issue(order, units=units, restock=True, reason=reason, actor=staff)
        else:
            return
        if refund.status == Refund.Status.PENDING:
            pay_out(refund)

    def gateway_answers(self, plan: Plan) -> dict:
        """Draw how the played gateway answers: an outage first or not, then a capture, or a decline or more outages."""
        if plan.status == Status.PAYMENT_PROCESSING:
            return {"outages": int(self.rng.random() < WAITING_AFTER_OUTAGE_SHARE)}
        declined = self.rng.random() < DECLINED_SHARE
        return {"outages": int(self.rng.random() < OUTAGE_FIRST_SHARE), "declined": declined}

    def weighted(self, weights: dict):
        """Return one key of `weights`, drawn in proportion to its value."""
        return self.rng.choices(list(weights), list(weights.values()))[0]


def orders_summary() -> str:
    """Return a line counting the orders in each status, their payments, refunds, invoices and discount codes."""
    statuses = dict(Order.objects.order_by().values_list("status").annotate(count=Count("pk")))
    each = ", ".join(f"{statuses[status]:,} {status}" for status in Status.values if status in statuses)
    return (
        f"Orders: {sum(statuses.values()):,} ({each or 'none'}). Payments: {Payment.objects.count():,}, "
        f"refunds: {Refund.objects.count():,}, invoices: {Invoice.objects.count():,}, "
        f"credit notes: {CreditNote.objects.count():,}, discount codes: {DiscountCode.objects.count():,}."
    )
