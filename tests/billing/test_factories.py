"""The card order factory: each status with the payment, attempts, invoice and stock the worker would leave."""

import pytest

from billing.factories import DECLINE_REASON, CardOrderFactory
from billing.models import Invoice, Payment, PaymentAttempt
from catalog.factories import ProductFactory
from orders.status import Status
from tests.utils import stock_of

pytestmark = pytest.mark.django_db

OUTAGE, SUCCEEDED, DECLINED, REFUNDED = (
    PaymentAttempt.Outcome.OUTAGE,
    PaymentAttempt.Outcome.SUCCEEDED,
    PaymentAttempt.Outcome.DECLINED,
    PaymentAttempt.Outcome.REFUNDED,
)


def outcomes(payment) -> list[str]:
    return list(payment.attempts.values_list("outcome", flat=True))


@pytest.mark.parametrize(
    ("status", "payment_status", "attempts", "invoiced", "stock"),
    [
        (Status.PENDING, Payment.Status.PENDING, [], False, 8),
        (Status.PAYMENT_PROCESSING, Payment.Status.PROCESSING, [], False, 8),
        (Status.CONFIRMED, Payment.Status.SUCCEEDED, [SUCCEEDED], True, 8),
        (Status.DELIVERED, Payment.Status.SUCCEEDED, [SUCCEEDED], True, 8),
        (Status.PAYMENT_FAILED, Payment.Status.FAILED, [DECLINED], False, 10),
    ],
)
def test_a_card_order_reaches_each_status_through_its_payment(status, payment_status, attempts, invoiced, stock):
    product = ProductFactory(stock=10)

    order = CardOrderFactory(lines=[(product, 2)], status=status)

    payment = Payment.objects.get(order=order)
    assert order.status == status
    assert (payment.status, payment.amount, outcomes(payment)) == (payment_status, order.total, attempts)
    assert payment.attempt_count == len(attempts)
    assert Invoice.objects.filter(order=order).exists() == invoiced
    assert stock_of(product) == stock
    assert order.events.first().to_status == Status.PENDING
    if invoiced:
        assert payment.gateway_reference.startswith("mock_ch_")
        assert order.events.filter(from_status=Status.PAYMENT_PROCESSING, to_status=Status.CONFIRMED).exists()


def test_a_declined_payment_records_the_issuers_reason():
    payment = CardOrderFactory(status=Status.PAYMENT_FAILED).payment

    assert payment.last_error == DECLINE_REASON


def test_outages_come_before_the_capture():
    payment = CardOrderFactory(status=Status.CONFIRMED, outages=1).payment

    assert outcomes(payment) == [OUTAGE, SUCCEEDED]
    assert payment.last_error == ""


def test_a_payment_not_declined_fails_once_the_outages_use_up_the_attempts(settings):
    settings.PAYMENT_MAX_ATTEMPTS = 3

    payment = CardOrderFactory(status=Status.PAYMENT_FAILED, declined=False).payment

    assert outcomes(payment) == [OUTAGE] * 3
    assert payment.last_error.startswith("Gateway unavailable after 3 attempts")


def test_a_cancelled_order_has_its_capture_refunded(staff_user):
    product = ProductFactory(stock=10)

    order = CardOrderFactory(
        lines=[(product, 2)], status=Status.CANCELLED, cancelled_from=Status.IN_PROGRESS, cancelled_by=staff_user
    )

    assert (order.payment.status, outcomes(order.payment)) == (Payment.Status.REFUNDED, [SUCCEEDED, REFUNDED])
    assert order.invoice is not None
    assert stock_of(product) == 10


def test_a_capture_can_be_left_unrefunded():
    order = CardOrderFactory(status=Status.CANCELLED, cancelled_from=Status.CONFIRMED, refunded=False)

    assert order.payment.status == Payment.Status.SUCCEEDED


def test_a_card_order_cancelled_before_payment_has_its_payment_cancelled():
    order = CardOrderFactory(status=Status.CANCELLED)

    assert (order.payment.status, outcomes(order.payment)) == (Payment.Status.CANCELLED, [])
