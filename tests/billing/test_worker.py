"""The payment worker for real: a Celery worker thread consuming the Redis broker, against the test database."""

import logging
import random
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from functools import partial
from unittest import mock

import pybreaker
import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import setup_logging, task_postrun
from django.conf import settings as django_settings
from django.db import connections
from django.utils import timezone

from billing.breaker import get_breaker
from billing.factories import CardOrderFactory
from billing.gateway import MockGateway, get_gateway
from billing.models import CreditNote, Invoice, Payment, PaymentAttempt, Refund
from billing.payments import start_payment
from billing.tasks import charge_order, messages_held_back, reconcile_payments
from catalog.factories import ProductFactory
from config.celery import app
from orders.models import Order
from orders.status import Status
from tests.billing.test_payments import (
    ALWAYS_CAPTURES,
    ALWAYS_DOWN,
    PRODUCT,  # noqa: F401 (the conftest's product reads it)
    configure,
    outcomes,
    reset_breaker,
    status_of,
    stock_of,
)

pytestmark = [
    pytest.mark.skipif(not django_settings.REDIS_URL, reason="needs the Redis broker; CI runs it"),
    pytest.mark.django_db(transaction=True),
]

ORDERS = "/api/v1/orders/"


def wait_for(check, what: str, timeout: float = 20.0) -> None:
    """Poll `check` every 0.1 s until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for: {what}")
        time.sleep(0.1)


def keep_django_logging(**kwargs) -> None:
    """A setup_logging receiver: its presence stops Celery from replacing the test run's logging."""


def close_worker_connections(**kwargs) -> None:
    """Close the worker thread's database connection after each task, so none outlives the test database."""
    connections.close_all()


@pytest.fixture
def worker(transactional_db, settings):
    """Run a real Celery worker (solo pool, in a thread) on the broker in REDIS_URL, from an empty queue."""
    configure(
        settings,
        PAYMENT_GATEWAY_OPTIONS=ALWAYS_CAPTURES,
        PAYMENT_RETRY_BASE_SECONDS=0.05,
        PAYMENT_RETRY_MAX_SECONDS=0.2,
    )
    reset_breaker()
    assert app.conf.broker_url == django_settings.CELERY_BROKER_URL == django_settings.REDIS_URL
    assert not app.conf.task_always_eager
    app.control.purge()
    setup_logging.connect(keep_django_logging, dispatch_uid="tests.keep_django_logging")
    task_postrun.connect(close_worker_connections, dispatch_uid="tests.close_worker_connections")
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as running:
            yield running
    finally:
        task_postrun.disconnect(dispatch_uid="tests.close_worker_connections")
        setup_logging.disconnect(dispatch_uid="tests.keep_django_logging")
        logging.captureWarnings(False)
        app.control.purge()
        reset_breaker()


@pytest.mark.usefixtures("worker")
def test_a_card_order_placed_through_the_api_is_charged_by_the_worker(customer_client, customer, product, mailoutbox):
    response = customer_client.post(
        ORDERS,
        {"items": [{"product": product.pk, "quantity": 2}], "delivery_method": "pickup", "payment_method": "card"},
        format="json",
    )
    assert response.status_code == 202
    assert response.json()["status"] == Status.PENDING
    order = Order.objects.get(pk=response.json()["id"])

    wait_for(lambda: status_of(order) == Status.CONFIRMED, "the order to be confirmed")

    assert Invoice.objects.filter(order=order).exists()
    payments = customer_client.get(f"{ORDERS}{order.pk}/payments/")
    assert payments.status_code == 200
    [payment] = payments.json()
    assert payment["status"] == Payment.Status.SUCCEEDED
    assert payment["attempt_count"] == 1
    assert [(a["number"], a["outcome"]) for a in payment["attempts"]] == [(1, "succeeded")]
    wait_for(lambda: len(mailoutbox) == 1, "the confirmation email")
    assert order.number in mailoutbox[0].subject
    assert mailoutbox[0].to == [customer.email]


@pytest.mark.usefixtures("worker")
def test_a_gateway_that_stays_down_fails_the_order_after_the_set_attempts(settings, customer, product):
    configure(settings, PAYMENT_GATEWAY_OPTIONS=ALWAYS_DOWN, PAYMENT_MAX_ATTEMPTS=3, PAYMENT_BREAKER_FAIL_MAX=50)

    order = CardOrderFactory(customer=customer, lines=[(product, 2)])
    assert stock_of(product) == 8

    wait_for(lambda: status_of(order) == Status.PAYMENT_FAILED, "the order's payment to fail")

    assert outcomes(order) == [(n, PaymentAttempt.Outcome.OUTAGE) for n in (1, 2, 3)]
    payment = Payment.objects.get(order=order)
    assert (payment.status, payment.attempt_count) == (Payment.Status.FAILED, 3)
    assert stock_of(product) == 10
    time.sleep(0.5)  # no stray retry is still scheduled
    assert len(outcomes(order)) == 3


@pytest.mark.usefixtures("worker")
def test_orders_wait_for_an_open_breaker_and_are_charged_once_it_closes(settings, customer, product):
    configure(
        settings,
        PAYMENT_GATEWAY_OPTIONS=ALWAYS_DOWN,
        PAYMENT_MAX_ATTEMPTS=10,
        PAYMENT_BREAKER_FAIL_MAX=2,
        PAYMENT_BREAKER_RESET_SECONDS=2,
    )
    orders = [
        CardOrderFactory(customer=customer, lines=[(product, 1)]),
        CardOrderFactory(customer=customer, lines=[(product, 1)]),
    ]

    def attempts() -> int:
        return PaymentAttempt.objects.filter(payment__order__in=orders).count()

    # The breaker opens in Redis a moment before the attempt that opened it commits.
    wait_for(
        lambda: get_breaker().current_state == pybreaker.STATE_OPEN and attempts() == 2,
        "two outages to open the breaker",
    )
    configure(settings, PAYMENT_GATEWAY_OPTIONS=ALWAYS_CAPTURES)
    # Opened_at is kept in whole seconds: half-open comes 1-2 s after opening, so 0.5 s is safely open.
    time.sleep(0.5)
    assert get_breaker().current_state == pybreaker.STATE_OPEN
    assert attempts() == 2  # waiting orders spend no attempts
    assert [status_of(order) for order in orders] == [Status.PAYMENT_PROCESSING] * 2

    wait_for(
        lambda: all(status_of(order) == Status.CONFIRMED for order in orders), "both orders to confirm", timeout=10
    )

    assert get_breaker().current_state == pybreaker.STATE_CLOSED
    for order in orders:
        numbers = [number for number, _outcome in outcomes(order)]
        assert numbers == list(range(1, len(numbers) + 1))
        assert outcomes(order)[-1][1] == PaymentAttempt.Outcome.SUCCEEDED
    assert PaymentAttempt.objects.filter(outcome=PaymentAttempt.Outcome.OUTAGE).count() == 2
    assert Invoice.objects.filter(order__in=orders).count() == 2


@pytest.mark.usefixtures("worker")
def test_reconciliation_finishes_an_order_whose_worker_died_after_the_gateway_captured(customer, product):
    with mock.patch.object(charge_order, "delay") as lost:  # the charge message never reaches a worker
        order = CardOrderFactory(customer=customer, lines=[(product, 2)])
    lost.assert_called_once_with(order.pk)
    payment = start_payment(order.pk)
    captured = get_gateway().charge(
        amount=payment.amount, currency=django_settings.SHOP_CURRENCY, idempotency_key=payment.idempotency_key
    )
    assert captured.captured  # ...and the worker died here, before its commit
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    assert status_of(order) == Status.PAYMENT_PROCESSING

    reconcile_payments.delay()  # what celery beat sends every minute

    wait_for(lambda: status_of(order) == Status.CONFIRMED, "the reconciled order to be confirmed")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.gateway_reference == captured.reference
    assert MockGateway.captures(payment.idempotency_key) == 1
    assert outcomes(order) == [(1, PaymentAttempt.Outcome.SUCCEEDED)]
    assert Invoice.objects.filter(order=order).count() == 1
    assert stock_of(product) == 8


# --- Cancellations and refunds, settled by the worker ------------------------------------------------


def settled(payment_id: int) -> bool:
    """Whether the worker is done with the payment: no charge in flight, no capture left standing, no refund owed."""
    payment = Payment.objects.get(pk=payment_id)
    recorded = payment.attempts.count()
    if payment.attempt_count != recorded or payment.refunds.filter(status=Refund.Status.PENDING).exists():
        return False
    return payment.status in (Payment.Status.CANCELLED, Payment.Status.REFUNDED)


@pytest.mark.usefixtures("worker")
def test_a_card_order_cancelled_before_its_charge_is_never_sent_to_the_gateway(customer, product, staff_user):
    with mock.patch.object(charge_order, "delay") as held:  # the message waits in the queue...
        order = CardOrderFactory(customer=customer, lines=[(product, 2)])
    Order.objects.get(pk=order.pk).cancel(actor=staff_user)
    charge_order.delay(*held.call_args.args)  # ...and reaches the worker after the cancellation
    reconcile_payments.delay()

    time.sleep(1)  # the worker has had time to take both messages
    payment = Payment.objects.get(order=order)
    assert payment.status == Payment.Status.CANCELLED
    assert (payment.attempt_count, outcomes(order)) == (0, [])
    assert MockGateway.captures(payment.idempotency_key) == 0
    assert stock_of(product) == 10


@pytest.mark.usefixtures("worker")
def test_staff_cancelling_while_the_worker_charges_leaves_either_no_capture_or_a_refunded_one(
    settings, customer, staff_user
):
    """Race a staff cancellation against the real worker's charge, many times, at random moments."""
    configure(settings, PAYMENT_GATEWAY_OPTIONS={**ALWAYS_CAPTURES, "latency_ms": 30})
    rng = random.Random(14)
    outcomes_seen = Counter()
    for _ in range(24):
        product = ProductFactory(stock=10, price=Decimal("7.00"))
        order = CardOrderFactory(customer=customer, lines=[(product, 3)])
        time.sleep(rng.choice([0, rng.uniform(0, 0.06)]))  # before, during or after the charge

        Order.objects.get(pk=order.pk).cancel(actor=staff_user)

        payment = Payment.objects.get(order=order)
        wait_for(partial(settled, payment.pk), f"order {order.number} to settle")
        payment.refresh_from_db()
        captures = MockGateway.captures(payment.idempotency_key)
        refunded = sum(refund.amount for refund in payment.refunds.filter(status=Refund.Status.SUCCEEDED))
        if payment.status == Payment.Status.CANCELLED:
            assert (captures, refunded) == (0, 0)
            outcomes_seen["never captured"] += 1
        else:
            assert (payment.status, captures, refunded) == (Payment.Status.REFUNDED, 1, Decimal("21.00"))
            in_flight = payment.refunds.get().actor is None  # refunded by the worker that recorded the capture
            outcomes_seen["captured during the cancel" if in_flight else "captured, then cancelled"] += 1
        assert Order.objects.get(pk=order.pk).status == Status.CANCELLED
        assert stock_of(product) == 10
    # Typically half never captured, half captured during the cancel; the timing is the machine's, so the
    # split is not asserted (test_payments pins the in-flight path with a gateway that cancels mid-call).
    assert sum(outcomes_seen.values()) == 24, outcomes_seen


@pytest.mark.usefixtures("worker")
def test_a_partial_refund_with_restock_through_the_api_is_paid_out_by_the_worker(
    staff_client, customer, product, mailoutbox
):
    with messages_held_back():  # the factory plays the charge; the worker must not race it
        order = CardOrderFactory(customer=customer, lines=[(product, 3)], status=Status.DELIVERED)
    item = order.items.get()

    response = staff_client.post(
        f"{ORDERS}{order.pk}/refunds/",
        {"lines": [{"item": item.pk, "quantity": 1}], "restock": True, "reason": "Returned unopened."},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    refund = Refund.objects.get(pk=response.json()["id"])
    wait_for(lambda: Refund.objects.get(pk=refund.pk).status == Refund.Status.SUCCEEDED, "the refund to be paid out")
    payment = Payment.objects.get(order=order)
    assert payment.status == Payment.Status.PARTIALLY_REFUNDED
    assert outcomes(order)[-1] == (2, PaymentAttempt.Outcome.REFUNDED)
    assert stock_of(product) == 8  # 3 sold, 1 back on the shelf
    assert CreditNote.objects.get(refund=refund).amount == refund.amount
    wait_for(lambda: any("refund" in email.subject for email in mailoutbox), "the refund email")


@pytest.mark.usefixtures("worker")
def test_a_refund_while_the_gateway_is_down_is_paid_out_once_it_recovers(settings, staff_client, customer, product):
    with messages_held_back():  # the factory plays the charge; the worker must not race it
        order = CardOrderFactory(customer=customer, lines=[(product, 2)], status=Status.DELIVERED)
    configure(settings, PAYMENT_GATEWAY_OPTIONS=ALWAYS_DOWN, PAYMENT_BREAKER_FAIL_MAX=50)

    response = staff_client.post(f"{ORDERS}{order.pk}/refunds/", {"reason": "Arrived broken."}, format="json")

    assert response.status_code == 201
    refund_id = response.json()["id"]
    payment = Payment.objects.get(order=order)
    wait_for(lambda: payment.attempts.filter(outcome=PaymentAttempt.Outcome.OUTAGE).count() >= 2, "two outages")
    assert Refund.objects.get(pk=refund_id).status == Refund.Status.PENDING
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.SUCCEEDED

    configure(settings, PAYMENT_GATEWAY_OPTIONS=ALWAYS_CAPTURES)

    wait_for(lambda: Refund.objects.get(pk=refund_id).status == Refund.Status.SUCCEEDED, "the refund after recovery")
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.REFUNDED
    assert payment.attempts.filter(outcome=PaymentAttempt.Outcome.REFUNDED).count() == 1
