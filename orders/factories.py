"""factory-boy factories for orders and discount codes, used by the tests and by `seed_demo`.

An order is placed by `Order.objects.place` and moved by `transition_to` and `cancel`, so it
has the history, stock, code use (and, through billing's receivers, invoice) the real rules
give. A card order's payment is billing's: `billing.factories.CardOrderFactory` plays it.
"""

from decimal import Decimal

import factory

from catalog.factories import ProductFactory
from catalog.models import Product, Variant
from customers.factories import AddressFactory, CustomerFactory
from orders.managers import Line
from orders.models import DiscountCode, Order
from orders.status import CARD_PAYMENT_STEPS, DeliveryMethod, PaymentMethod, Status


class DiscountCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DiscountCode

    code = factory.Sequence(lambda n: f"SAVE{n}")
    kind = DiscountCode.Kind.PERCENT
    value = Decimal("10.00")


def route(order: Order, status: str, cancelled_from: str | None = None) -> list[str]:
    """Return the statuses from where placing left the order to `status`, along the status machine.

    A cancelled order is cancelled from `cancelled_from` (default: where placing left it).
    """
    if status == Status.PAYMENT_FAILED:
        return [Status.PAYMENT_PROCESSING, Status.PAYMENT_FAILED]
    way = [order.status]  # confirmed for cash, pending for card
    if order.status == Status.PENDING:
        way += [Status.PAYMENT_PROCESSING, Status.CONFIRMED]
    way.append(Status.IN_PROGRESS)
    if order.delivery_method == DeliveryMethod.HOME_DELIVERY:
        way.append(Status.SHIPPED)
    way.append(Status.DELIVERED)
    last = (cancelled_from or order.status) if status == Status.CANCELLED else status
    if last not in way:
        raise ValueError(f"A {order.payment_method} {order.delivery_method} order never reaches {last}.")
    way = way[1 : way.index(last) + 1]
    return [*way, Status.CANCELLED] if status == Status.CANCELLED else way


def line_of(sold: Product | Variant, quantity: int) -> Line:
    """Return the line ordering `quantity` of a variant, or of a product sold in one variant."""
    if isinstance(sold, Variant):
        return Line(variant=sold.pk, quantity=quantity)
    return Line(product=sold.pk, quantity=quantity)


class OrderFactory(factory.django.DjangoModelFactory):
    """An order of `lines` ((product or variant, quantity) pairs, or Lines), placed and then moved to `status`.

    `status` defaults to where placing leaves it (confirmed for cash, pending for card).
    `moved_by` moves it along (default: the system); `cancelled_by` cancels it with the
    customer's or staff's rights (default: `moved_by` does, through the status machine).
    """

    class Meta:
        model = Order

    customer = factory.SubFactory(CustomerFactory)
    lines = factory.LazyFunction(lambda: [(ProductFactory(stock=10), 1)])
    delivery_method = DeliveryMethod.PICKUP
    payment_method = PaymentMethod.CASH
    address = factory.Maybe(
        factory.LazyAttribute(lambda order: order.delivery_method == DeliveryMethod.HOME_DELIVERY),
        yes_declaration=factory.SubFactory(AddressFactory, customer=factory.SelfAttribute("..customer")),
        no_declaration=None,
    )
    discount_code = None
    actor = None
    idempotency_key = None
    request_fingerprint = ""
    status = None
    cancelled_from = None
    moved_by = None
    cancelled_by = None
    # Takes a card order through its payment to a status (billing.factories.CardOrderFactory sets it).
    settle_payment = None

    @classmethod
    def _create(cls, model_class, *, lines, address, discount_code, status, cancelled_from, **options):
        moved_by, cancelled_by = options.pop("moved_by"), options.pop("cancelled_by")
        settle_payment = options.pop("settle_payment")
        order, _created = model_class.objects.place(
            lines=[line if isinstance(line, Line) else line_of(*line) for line in lines],
            shipping_address_id=address.pk if address else None,
            discount_code=getattr(discount_code, "code", discount_code),
            **options,
        )
        for step in route(order, status, cancelled_from) if status else []:
            if order.payment_method == PaymentMethod.CARD and step in CARD_PAYMENT_STEPS:
                if settle_payment is None:
                    raise ValueError(f"A card order reaches {step} through its payment: use CardOrderFactory.")
                settle_payment(order, step)
            elif step == Status.CANCELLED and cancelled_by is not None:
                order.cancel(actor=cancelled_by, note="Cancelled.")
            else:
                order.transition_to(step, actor=moved_by)
        order.refresh_from_db()  # the payment steps moved it through their own copy
        return order
