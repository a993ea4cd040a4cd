"""The payment worker for real: a Celery worker thread consuming the Redis broker, against the test database."""

import logging
import time
from datetime import timedelta
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
from billing.models import Invoice, Payment, PaymentAttempt
from billing.payments import start_payment
from billing.tasks import charge_order, reconcile_payments
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
