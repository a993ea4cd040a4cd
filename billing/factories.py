"""factory-boy factories for billing, used by the tests and by `seed_demo`.

They play the gateway, not the worker's rules: a card order's payment is started by
`payments.start_payment`, every gateway call is recorded by `payments.record_attempt`, and
the outcome by `payments.capture`, `payments.fail` or `payments.record_refund`, as the worker does.
"""

import time
from functools import partial

import factory
import factory.random
from django.conf import settings

from billing import payments
from billing.models import Payment, PaymentAttempt, Refund
from orders.factories import OrderFactory
from orders.models import Order
from orders.status import PaymentMethod, Status

OUTAGE_ERROR = "The mock gateway is having an outage."
DECLINE_REASON = "Card declined by the issuer."
# How long the played gateway takes: an answer, or an outage's timeout.
ANSWER_MS = (80, 900)
OUTAGE_MS = (2_000, 5_000)


def call_gateway(payment: Payment, outcome: str, error: str = "") -> None:
    """Record one gateway call on the payment as the worker does, with a plausible duration."""
    low, high = OUTAGE_MS if outcome == PaymentAttempt.Outcome.OUTAGE else ANSWER_MS
    # record_attempt times the call from `started`: this one started that long ago.
    started = time.monotonic() - factory.random.randgen.randint(low, high) / 1000
    payments.record_attempt(payment, payment.attempt_count + 1, outcome, started, error=error)


def capture_reference() -> str:
    """Return a capture reference like the mock gateway's, from factory-boy's (seedable) random."""
    return f"mock_ch_{factory.random.randgen.getrandbits(64):016x}"


def settle_payment(order: Order, status: str, *, outages: int, declined: bool) -> None:
    """Take the card order's payment to `status`: started, captured or failed, after `outages` outages.

    A failure is the issuer's decline, or (`declined=False`) outages until the attempts run out.
    """
    if status == Status.PAYMENT_PROCESSING:
        payment = payments.start_payment(order.pk)
        for _ in range(outages):
            call_gateway(payment, PaymentAttempt.Outcome.OUTAGE, OUTAGE_ERROR)
        return
    payment = Payment.objects.select_related("order").get(order=order)
    if status == Status.CONFIRMED:
        call_gateway(payment, PaymentAttempt.Outcome.SUCCEEDED)
        payments.capture(payment, capture_reference())
    elif declined:
        call_gateway(payment, PaymentAttempt.Outcome.DECLINED, DECLINE_REASON)
        payments.fail(payment, DECLINE_REASON)
    else:
        while payment.attempt_count < settings.PAYMENT_MAX_ATTEMPTS:
            call_gateway(payment, PaymentAttempt.Outcome.OUTAGE, OUTAGE_ERROR)
        payments.fail(payment, f"Gateway unavailable after {payment.attempt_count} attempts: {OUTAGE_ERROR}")


def refund_if_cancelled(order: Order, create: bool, refunded: bool | None, **kwargs) -> None:
    """Pay out a cancelled order's refund, as the worker does after the commit (unless refunded=False)."""
    if refunded is False or order.status != Status.CANCELLED:
        return
    for refund in Refund.objects.filter(payment__order=order, status=Refund.Status.PENDING):
        pay_out(refund)


def pay_out(refund: Refund) -> None:
    """Play the gateway paying a card refund out, as `payments.process_refund` records it."""
    started = time.monotonic() - factory.random.randgen.randint(*ANSWER_MS) / 1000
    payments.record_refund(refund, f"mock_re_{factory.random.randgen.getrandbits(64):016x}", started)


class CardOrderFactory(OrderFactory):
    """A card order whose payment went as the gateway answered: `outages` first, then a capture or a decline.

    `CardOrderFactory(status=Status.PAYMENT_FAILED, declined=False)` ran out of attempts in
    an outage; a cancelled order's capture is refunded unless `refunded=False`.
    """

    class Meta:
        skip_postgeneration_save = True

    class Params:
        outages = 0
        declined = True

    payment_method = PaymentMethod.CARD
    settle_payment = factory.LazyAttribute(
        lambda order: partial(settle_payment, outages=order.outages, declined=order.declined)
    )
    refunded = factory.PostGeneration(refund_if_cancelled)


class RefundFactory(factory.django.DjangoModelFactory):
    """A refund issued through the rules (`Refund.objects.issue`), by default of a whole delivered cash order.

    `units` maps order item ids to quantities (None: everything not refunded yet); a card
    refund is paid out as the worker would unless `paid_out=False`.
    """

    class Meta:
        model = Refund

    order = factory.SubFactory(OrderFactory, status=Status.DELIVERED)
    units = None
    restock = False
    reason = "Returned."
    actor = None
    paid_out = True

    @classmethod
    def _create(cls, model_class, *, order, units, restock, reason, actor, paid_out):
        refund = model_class.objects.issue(order, units=units, restock=restock, reason=reason, actor=actor)
        if paid_out and refund.status == Refund.Status.PENDING:
            pay_out(refund)
            refund.refresh_from_db()
        return refund
