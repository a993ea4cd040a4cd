"""The payment worker's steps (SPEC §4 billing), called directly: charge, retry, breaker, refund, reconcile, email."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from unittest import mock

import pybreaker
import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from billing.breaker import get_breaker
from billing.factories import CardOrderFactory
from billing.gateway import MockGateway, get_gateway
from billing.models import CreditNote, Invoice, Payment, PaymentAttempt, Refund
from billing.payments import (
    DONE,
    Next,
    attempt_charge,
    backoff,
    capture,
    claim_attempt,
    collect_cash,
    fail,
    process_payment,
    process_refund,
    start_payment,
)
from billing.tasks import _again, charge_order, messages_held_back, reconcile_payments, send_order_email
from billing.tasks import refund_payment as refund_payment_task
from catalog.factories import ProductFactory
from orders.factories import OrderFactory
from orders.models import DiscountCode, Order
from orders.status import Status
from tests.utils import race_n, requires_postgresql, reset_breaker, stock_of

pytestmark = pytest.mark.django_db

ALWAYS_CAPTURES = {"decline_rate": 0, "outage_rate": 0, "latency_ms": 0}
ALWAYS_DECLINES = {"decline_rate": 1, "outage_rate": 0, "latency_ms": 0}
ALWAYS_DOWN = {"decline_rate": 0, "outage_rate": 1, "latency_ms": 0}
PRODUCT = {"price": Decimal("12.50")}  # the conftest's product at this price: two cost 25.00


def configure(settings, **values) -> None:
    """Change payment settings for this test; the breaker is rebuilt so it reads them."""
    for name, value in values.items():
        setattr(settings, name, value)
    get_breaker.cache_clear()


def status_of(order) -> str:
    return Order.objects.values_list("status", flat=True).get(pk=order.pk)


def outcomes(order) -> list[tuple[int, str]]:
    return list(PaymentAttempt.objects.filter(payment__order=order).values_list("number", "outcome"))


class WatchedGateway(MockGateway):
    """The mock gateway, running `during_call` (a test sets it) as each charge or refund starts."""

    during_call = staticmethod(lambda: None)

    def charge(self, **kwargs):
        type(self).during_call()
        return super().charge(**kwargs)

    def refund(self, **kwargs):
        type(self).during_call()
        return super().refund(**kwargs)


@pytest.fixture
def watched_gateway(settings, monkeypatch):
    """Charge through WatchedGateway; return a setter for what runs during each gateway call."""
    settings.PAYMENT_GATEWAY = f"{__name__}.WatchedGateway"

    def during_call(action) -> None:
        monkeypatch.setattr(WatchedGateway, "during_call", staticmethod(action))

    return during_call


@pytest.fixture(autouse=True)
def gateway_up(settings):
    """Start every test with a gateway that always captures at once and a fresh, closed breaker."""
    configure(settings, PAYMENT_GATEWAY_OPTIONS=ALWAYS_CAPTURES)
    reset_breaker()
    yield
    reset_breaker()


class TestCharging:
    def test_a_captured_charge_confirms_the_order_and_issues_its_invoice(self, customer, product):
        order = CardOrderFactory(customer=customer, lines=[(product, 2)])
        assert status_of(order) == Status.PENDING

        assert process_payment(order.pk) == DONE

        order.refresh_from_db()
        payment = order.payment
        assert order.status == Status.CONFIRMED
        assert payment.status == Payment.Status.SUCCEEDED
        assert payment.gateway_reference.startswith("mock_ch_")
        assert (payment.amount, payment.attempt_count, payment.last_error) == (Decimal("25.00"), 1, "")
        attempt = payment.attempts.get()
        assert (attempt.number, attempt.outcome, attempt.error) == (1, PaymentAttempt.Outcome.SUCCEEDED, "")
        assert attempt.duration_ms >= 0
        assert Invoice.objects.get(order=order).total == Decimal("25.00")
        assert list(order.events.values_list("from_status", "to_status", "actor")) == [
            ("", Status.PENDING, None),
            (Status.PENDING, Status.PAYMENT_PROCESSING, None),
            (Status.PAYMENT_PROCESSING, Status.CONFIRMED, None),
        ]
        assert stock_of(product) == 8
        assert MockGateway.captures(payment.idempotency_key) == 1

    def test_a_declined_card_fails_the_payment_at_once_and_gives_back_stock_and_code(self, settings, customer, product):
        configure(settings, PAYMENT_GATEWAY_OPTIONS=ALWAYS_DECLINES)
        code = DiscountCode.objects.create(code="SPRING10", kind=DiscountCode.Kind.PERCENT, value=10, max_uses=5)
        order = CardOrderFactory(customer=customer, lines=[(product, 2)], discount_code="spring10")
        code.refresh_from_db()
        assert (code.times_used, stock_of(product)) == (1, 8)

        assert process_payment(order.pk) == DONE

        order.refresh_from_db()
        payment = order.payment
        assert order.status == Status.PAYMENT_FAILED
        assert not order.holds_stock
        assert (payment.status, payment.last_error) == (Payment.Status.FAILED, "Card declined by the issuer.")
        assert outcomes(order) == [(1, PaymentAttempt.Outcome.DECLINED)]
        assert stock_of(product) == 10
        code.refresh_from_db()
        assert code.times_used == 0
        assert not Invoice.objects.filter(order=order).exists()
        assert MockGateway.captures(payment.idempotency_key) == 0

    def test_outages_are_retried_with_backoff_until_the_attempts_run_out(self, settings, customer, product):
        configure(settings, PAYMENT_GATEWAY_OPTIONS=ALWAYS_DOWN, PAYMENT_MAX_ATTEMPTS=3)
        order = CardOrderFactory(customer=customer, lines=[(product, 2)])

        steps = [process_payment(order.pk) for _ in range(3)]

        assert [step.retry_in is not None and step.retry_in > 0 for step in steps] == [True, True, False]
        assert all(step.counts_as_attempt for step in steps)
        assert steps[2] == DONE
        assert outcomes(order) == [(n, PaymentAttempt.Outcome.OUTAGE) for n in (1, 2, 3)]
        payment = Payment.objects.get(order=order)
        assert payment.status == Payment.Status.FAILED
        assert payment.attempt_count == 3
        assert payment.last_error.startswith("Gateway unavailable after 3 attempts")
        assert status_of(order) == Status.PAYMENT_FAILED
        assert stock_of(product) == 10
        assert get_breaker().current_state == pybreaker.STATE_CLOSED  # 3 outages are under the 5 that open it

    def test_a_retry_that_succeeds_confirms_the_order_with_the_earlier_outages_on_record(
        self, settings, customer, product
    ):
        configure(settings, PAYMENT_GATEWAY_OPTIONS=ALWAYS_DOWN, PAYMENT_MAX_ATTEMPTS=3)
        order = CardOrderFactory(customer=customer, lines=[(product, 2)])
        assert process_payment(order.pk).retry_in > 0

        configure(settings, PAYMENT_GATEWAY_OPTIONS=ALWAYS_CAPTURES)
        assert process_payment(order.pk) == DONE

        assert status_of(order) == Status.CONFIRMED
        assert outcomes(order) == [(1, PaymentAttempt.Outcome.OUTAGE), (2, PaymentAttempt.Outcome.SUCCEEDED)]
        assert Payment.objects.get(order=order).last_error == ""


class TestBackoff:
    @pytest.mark.parametrize("attempt", [1, 2, 3, 4, 5, 8, 20])
    def test_backoff_grows_exponentially_up_to_its_cap_with_jitter(self, settings, attempt):
        configure(settings, PAYMENT_RETRY_BASE_SECONDS=2.0, PAYMENT_RETRY_MAX_SECONDS=60.0)
        ceiling = min(60.0, 2.0 * 2 ** (attempt - 1))

        samples = [backoff(attempt) for _ in range(200)]

        assert all(ceiling / 2 <= sample <= ceiling for sample in samples)
        assert len(set(samples)) > 1  # jittered: retries of many orders spread out

    def test_backoff_ceilings_double_until_the_cap(self, settings):
        configure(settings, PAYMENT_RETRY_BASE_SECONDS=1.0, PAYMENT_RETRY_MAX_SECONDS=10.0)

        highest = [max(backoff(attempt) for _ in range(200)) for attempt in (1, 2, 3, 4, 5)]

        assert highest[0] <= 1.0 < highest[1] <= 2.0 < highest[2] <= 4.0 < highest[3] <= 8.0 < highest[4] <= 10.0


class TestIdempotency:
    def test_processing_a_confirmed_order_again_changes_nothing(self, customer, product):
        order = CardOrderFactory(customer=customer, lines=[(product, 2)])
        process_payment(order.pk)
        payment = Payment.objects.get(order=order)

        assert process_payment(order.pk) == DONE
        assert attempt_charge(order.pk) == DONE

        assert outcomes(order) == [(1, PaymentAttempt.Outcome.SUCCEEDED)]
        assert Payment.objects.get(order=order).updated_at == payment.updated_at
        assert order.events.count() == 3
        assert Invoice.objects.filter(order=order).count() == 1
        assert MockGateway.captures(payment.idempotency_key) == 1

    def test_a_charge_captured_before_the_worker_died_is_not_captured_again(self, customer, product):
        order = CardOrderFactory(customer=customer, lines=[(product, 2)])
        payment = start_payment(order.pk)
        # The dead worker's call: the gateway captured, the worker never committed its result.
        first = get_gateway().charge(
            amount=payment.amount, currency=django_settings.SHOP_CURRENCY, idempotency_key=payment.idempotency_key
        )
        assert first.captured
        assert status_of(order) == Status.PAYMENT_PROCESSING

        assert process_payment(order.pk) == DONE

        payment.refresh_from_db()
        assert status_of(order) == Status.CONFIRMED
        assert payment.status == Payment.Status.SUCCEEDED
        assert payment.gateway_reference == first.reference
        assert outcomes(order) == [(1, PaymentAttempt.Outcome.SUCCEEDED)]
        assert MockGateway.captures(payment.idempotency_key) == 1

    def test_a_charge_re_run_after_its_commit_was_lost_captures_once(self, customer, product):
        order = CardOrderFactory(customer=customer, lines=[(product, 2)])
        process_payment(order.pk)
        payment = Payment.objects.get(order=order)
        reference = payment.gateway_reference
        # As if the confirmation had rolled back: the payment and the order are processing again.
        Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.PROCESSING, gateway_reference="")
        Order.objects.filter(pk=order.pk).update(status=Status.PAYMENT_PROCESSING)

        assert attempt_charge(order.pk) == DONE

        payment.refresh_from_db()
        assert payment.status == Payment.Status.SUCCEEDED
        assert payment.gateway_reference == reference
        assert status_of(order) == Status.CONFIRMED
        assert MockGateway.captures(payment.idempotency_key) == 1
        assert Invoice.objects.filter(order=order).count() == 1


class TestClaimAndRecord:
    """The gateway is called with no transaction open: an attempt is claimed, then its outcome recorded."""

    def test_a_second_worker_leaves_a_claimed_attempt_to_the_worker_calling_the_gateway(
        self, customer, product, watched_gateway
    ):
        order = CardOrderFactory(customer=customer, lines=[(product, 2)])
        calls, meanwhile = [], []

        def second_worker():
            calls.append(1)
            if len(calls) == 1:
                meanwhile.append(process_payment(order.pk))

        watched_gateway(second_worker)

        assert process_payment(order.pk) == DONE

        assert meanwhile == [DONE]
        assert len(calls) == 1  # the second worker did not call the gateway
        assert status_of(order) == Status.CONFIRMED
        assert outcomes(order) == [(1, PaymentAttempt.Outcome.SUCCEEDED)]
        assert Payment.objects.get(order=order).attempt_count == 1

    def test_an_abandoned_claim_is_taken_over_and_the_late_outcome_is_a_no_op(
        self, settings, customer, product, watched_gateway
    ):
        settings.PAYMENT_STUCK_AFTER_SECONDS = 0  # every claim counts as abandoned at once
        order = CardOrderFactory(customer=customer, lines=[(product, 2)])
        calls = []

        def taken_over():
            calls.append(1)
            if len(calls) == 1:  # while the first worker waits for the gateway, another finishes the payment
                assert process_payment(order.pk) == DONE
                assert status_of(order) == Status.CONFIRMED

        watched_gateway(taken_over)

        assert process_payment(order.pk) == DONE  # the first worker's outcome: recorded already, not an error

        payment = Payment.objects.get(order=order)
        assert len(calls) == 2
        assert (payment.status, payment.attempt_count) == (Payment.Status.SUCCEEDED, 1)
        assert outcomes(order) == [(1, PaymentAttempt.Outcome.SUCCEEDED)]  # the same attempt, taken over
        assert MockGateway.captures(payment.idempotency_key) == 1
        assert Invoice.objects.filter(order=order).count() == 1
        assert order.events.filter(to_status=Status.CONFIRMED).count() == 1

    def test_a_capture_answered_after_a_staff_cancellation_is_refunded_in_full(
        self, customer, product, staff_user, watched_gateway
    ):
        order = CardOrderFactory(customer=customer, lines=[(product, 2)])
        watched_gateway(lambda: Order.objects.get(pk=order.pk).cancel(actor=staff_user))

        step = process_payment(order.pk)
        watched_gateway(lambda: None)

        payment = Payment.objects.get(order=order)
        refund = Refund.objects.get(payment=payment)
        assert step == Next(refund=refund.pk)  # the task pays it out
        assert status_of(order) == Status.CANCELLED
        assert (payment.status, refund.amount, refund.status) == (Payment.Status.SUCCEEDED, payment.amount, "pending")
        assert payment.gateway_reference.startswith("mock_ch_")
        assert not Invoice.objects.filter(order=order).exists()  # never confirmed, so nothing to credit
        assert stock_of(product) == 10  # the cancellation gave the stock back, once

        assert process_refund(refund.pk) == Next(paid_out=True)
        assert Payment.objects.get(pk=payment.pk).status == Payment.Status.REFUNDED
        assert outcomes(order) == [(1, PaymentAttempt.Outcome.SUCCEEDED), (2, PaymentAttempt.Outcome.REFUNDED)]
        assert process_payment(order.pk) == DONE

    def test_a_decline_answered_after_a_staff_cancellation_leaves_the_payment_cancelled(
        self, settings, customer, product, staff_user, watched_gateway
    ):
        configure(settings, PAYMENT_GATEWAY_OPTIONS=ALWAYS_DECLINES)
        order = CardOrderFactory(customer=customer, lines=[(product, 2)])
        watched_gateway(lambda: Order.objects.get(pk=order.pk).cancel(actor=staff_user))

        assert process_payment(order.pk) == DONE

        payment = Payment.objects.get(order=order)
        assert payment.status == Payment.Status.CANCELLED
        assert outcomes(order) == [(1, PaymentAttempt.Outcome.DECLINED)]
        assert not Refund.objects.exists()
        assert status_of(order) == Status.CANCELLED  # not payment_failed: the cancellation came first

    def test_a_breaker_that_opens_before_the_call_gives_the_attempt_back(
        self, settings, customer, product, monkeypatch
    ):
        configure(settings, PAYMENT_BREAKER_RESET_SECONDS=60)
        order = CardOrderFactory(customer=customer, lines=[(product, 2)])
        start_payment(order.pk)
        get_breaker().open()
        # Another worker opened it after this one looked.
        monkeypatch.setattr("billing.payments.seconds_until_half_open", lambda breaker: 0.0)

        step = attempt_charge(order.pk)

        assert step.retry_in >= 1 and not step.counts_as_attempt
        assert Payment.objects.get(order=order).attempt_count == 0
        assert outcomes(order) == []
        monkeypatch.undo()
        get_breaker().close()
        assert attempt_charge(order.pk) == DONE
        assert outcomes(order) == [(1, PaymentAttempt.Outcome.SUCCEEDED)]


class TestBreaker:
    def test_the_breaker_opens_after_consecutive_outages_and_orders_wait_without_spending_attempts(
        self, settings, customer, product
    ):
        configure(
            settings,
            PAYMENT_GATEWAY_OPTIONS=ALWAYS_DOWN,
            PAYMENT_MAX_ATTEMPTS=10,
            PAYMENT_BREAKER_FAIL_MAX=5,
            # 2 s, not 1: on Redis pybreaker stores opened_at in whole seconds, so a 1 s
            # timeout could already be over by the time the next call looks.
            PAYMENT_BREAKER_RESET_SECONDS=2,
        )
        first, second = (
            CardOrderFactory(customer=customer, lines=[(product, 1)]),
            CardOrderFactory(customer=customer, lines=[(product, 1)]),
        )

        for order in (first, first, first, second):
            assert process_payment(order.pk).counts_as_attempt
            assert get_breaker().current_state == pybreaker.STATE_CLOSED
        assert process_payment(second.pk).retry_in > 0  # the fifth consecutive outage: recorded, then it opens
        assert get_breaker().current_state == pybreaker.STATE_OPEN
        assert len(outcomes(first)) + len(outcomes(second)) == 5

        waiting = process_payment(first.pk)

        assert waiting.retry_in > 0
        assert not waiting.counts_as_attempt
        assert waiting.retry_in <= 2
        assert outcomes(first) == [(n, PaymentAttempt.Outcome.OUTAGE) for n in (1, 2, 3)]
        assert status_of(first) == Status.PAYMENT_PROCESSING

        # Half-open after the timeout: a successful trial call closes it.
        configure(settings, PAYMENT_GATEWAY_OPTIONS=ALWAYS_CAPTURES)
        time.sleep(2.1)
        assert process_payment(first.pk) == DONE
        assert get_breaker().current_state == pybreaker.STATE_CLOSED
        assert status_of(first) == Status.CONFIRMED
        assert outcomes(first)[-1] == (4, PaymentAttempt.Outcome.SUCCEEDED)

        assert process_payment(second.pk) == DONE
        assert status_of(second) == Status.CONFIRMED

    def test_a_failed_trial_call_opens_the_breaker_again(self, settings, customer, product):
        configure(
            settings, PAYMENT_GATEWAY_OPTIONS=ALWAYS_DOWN, PAYMENT_MAX_ATTEMPTS=10, PAYMENT_BREAKER_RESET_SECONDS=60
        )
        order = CardOrderFactory(customer=customer, lines=[(product, 2)])
        get_breaker().open()
        get_breaker().reset_timeout = 0  # the timeout is over: the next call is the trial

        assert process_payment(order.pk).counts_as_attempt

        assert get_breaker().current_state == pybreaker.STATE_OPEN
        assert outcomes(order) == [(1, PaymentAttempt.Outcome.OUTAGE)]

    def test_declines_never_open_the_breaker(self, settings, customer, product):
        configure(settings, PAYMENT_GATEWAY_OPTIONS=ALWAYS_DECLINES, PAYMENT_BREAKER_FAIL_MAX=2)
        orders = [CardOrderFactory(customer=customer, lines=[(product, 1)]) for _ in range(4)]

        for order in orders:
            process_payment(order.pk)

        assert get_breaker().current_state == pybreaker.STATE_CLOSED
        assert [status_of(order) for order in orders] == [Status.PAYMENT_FAILED] * 4


class TestStartPayment:
    def test_start_payment_leaves_cash_orders_alone(self, customer, product):
        order = OrderFactory(customer=customer, lines=[(product, 1)])

        assert start_payment(order.pk) is None
        assert process_payment(order.pk) == DONE

        assert status_of(order) == Status.CONFIRMED
        payment = Payment.objects.get(order=order)
        assert (payment.method, payment.status, payment.attempt_count) == ("cash", Payment.Status.PENDING, 0)

    def test_start_payment_leaves_cancelled_orders_alone(self, customer, product):
        order = CardOrderFactory(customer=customer, lines=[(product, 2)])
        order.cancel(actor=customer.user)

        assert start_payment(order.pk) is None
        assert process_payment(order.pk) == DONE

        assert status_of(order) == Status.CANCELLED
        assert Payment.objects.get(order=order).status == Payment.Status.CANCELLED  # issue 14: not left pending forever
        assert not PaymentAttempt.objects.exists()

    def test_start_payment_twice_returns_the_same_payment(self, customer, product):
        order = CardOrderFactory(customer=customer, lines=[(product, 2)])

        first = start_payment(order.pk)
        second = start_payment(order.pk)

        assert first.pk == second.pk
        assert second.status == Payment.Status.PROCESSING
        assert Payment.objects.filter(order=order).count() == 1
        assert order.events.filter(to_status=Status.PAYMENT_PROCESSING).count() == 1
        assert status_of(order) == Status.PAYMENT_PROCESSING


class TestSettling:
    def test_a_payment_is_captured_once_and_then_neither_captured_nor_failed_again(self, customer, product):
        payment = start_payment(CardOrderFactory(customer=customer, lines=[(product, 2)]).pk)

        capture(payment, "mock_ch_first")

        for settle in (lambda: capture(payment, "mock_ch_second"), lambda: fail(payment, "Too late.")):
            with pytest.raises(ValueError, match="settled already"):
                settle()
        payment.refresh_from_db()
        assert (payment.status, payment.gateway_reference) == (Payment.Status.SUCCEEDED, "mock_ch_first")
        assert status_of(payment.order) == Status.CONFIRMED

    def test_cash_is_collected_once_on_delivery(self, customer, product):
        order = OrderFactory(customer=customer, lines=[(product, 2)], status=Status.DELIVERED)
        payment = Payment.objects.get(order=order)

        assert (payment.method, payment.status) == ("cash", Payment.Status.SUCCEEDED)
        with pytest.raises(ValueError, match="settled already"):
            collect_cash(payment)


class TestHoldingMessagesBack:
    def test_no_charge_is_queued_for_an_order_placed_while_messages_are_held_back(
        self, customer, product, django_capture_on_commit_callbacks
    ):
        with (
            mock.patch.object(charge_order, "delay") as enqueue,
            django_capture_on_commit_callbacks(execute=True),
        ):
            with messages_held_back():
                CardOrderFactory(customer=customer, lines=[(product, 1)])
            sent = CardOrderFactory(customer=customer, lines=[(product, 1)])

        enqueue.assert_called_once_with(sent.pk)

    def test_no_refund_or_email_is_queued_while_messages_are_held_back(
        self, customer, product, staff_user, django_capture_on_commit_callbacks
    ):
        with (
            mock.patch.object(refund_payment_task, "delay") as refund_sent,
            mock.patch.object(send_order_email, "delay") as email_sent,
            django_capture_on_commit_callbacks(execute=True),
            messages_held_back(),
        ):
            CardOrderFactory(
                customer=customer,
                lines=[(product, 1)],
                status=Status.CANCELLED,
                cancelled_from=Status.CONFIRMED,
                cancelled_by=staff_user,
                refunded=False,
            )

        refund_sent.assert_not_called()
        email_sent.assert_not_called()


class TestCancelledBeforeTheCharge:
    def test_cancelling_a_pending_card_order_cancels_its_payment_and_the_worker_leaves_it(
        self, customer, product, django_capture_on_commit_callbacks
    ):
        order = CardOrderFactory(customer=customer, lines=[(product, 2)])
        with (
            mock.patch.object(refund_payment_task, "delay") as refund_sent,
            django_capture_on_commit_callbacks(execute=True),
        ):
            order.cancel(actor=customer.user)

        assert process_payment(order.pk) == DONE

        payment = Payment.objects.get(order=order)
        assert payment.status == Payment.Status.CANCELLED
        assert payment.attempts.count() == 0
        assert status_of(order) == Status.CANCELLED
        refund_sent.assert_not_called()
        assert not Payment.objects.filter(status__in=Payment.AWAITING_GATEWAY).exists()

    def test_reconciliation_leaves_a_cancelled_payment_alone(self, settings, customer, product):
        settings.PAYMENT_STUCK_AFTER_SECONDS = 0
        order = CardOrderFactory(customer=customer, lines=[(product, 1)])
        order.cancel(actor=customer.user)

        with mock.patch.object(charge_order, "delay") as charge_sent:
            assert reconcile_payments() == 0

        charge_sent.assert_not_called()
        assert Payment.objects.get(order=order).status == Payment.Status.CANCELLED


class TestRefund:
    @pytest.fixture
    def cancelled(self, customer, product, staff_user, django_capture_on_commit_callbacks):
        """A captured card order, then cancelled by staff; return its refund and the mock that enqueued it."""
        order = CardOrderFactory(customer=customer, lines=[(product, 2)])
        process_payment(order.pk)
        with (
            mock.patch.object(refund_payment_task, "delay") as enqueue,
            django_capture_on_commit_callbacks(execute=True),
        ):
            Order.objects.get(pk=order.pk).cancel(actor=staff_user, note="Out of stock after all.")
        return Refund.objects.select_related("payment__order").get(payment__order=order), enqueue

    def test_cancelling_a_captured_order_refunds_it_in_full_with_a_credit_note(self, cancelled, product, staff_user):
        refund, enqueue = cancelled

        enqueue.assert_called_once_with(refund.pk)
        order = refund.payment.order
        assert status_of(order) == Status.CANCELLED
        assert (refund.amount, refund.status, refund.actor) == (Decimal("25.00"), "pending", staff_user)
        assert stock_of(product) == 10  # given back by the cancellation, not again by the refund
        note = CreditNote.objects.get(invoice__order=order)
        assert (note.refund, note.amount, note.number) == (refund, Decimal("25.00"), f"CN-{note.year}-000001")
        assert order.events.filter(note__startswith="Refund of 25.00 USD").count() == 1

    def test_a_paid_out_refund_marks_the_payment_refunded_and_records_the_attempt(self, cancelled):
        refund, _ = cancelled

        assert process_refund(refund.pk) == Next(paid_out=True)

        payment = Payment.objects.get(pk=refund.payment_id)
        assert payment.status == Payment.Status.REFUNDED
        assert outcomes(payment.order) == [(1, PaymentAttempt.Outcome.SUCCEEDED), (2, PaymentAttempt.Outcome.REFUNDED)]
        assert payment.attempts.get(number=2).error == ""  # a refund is not an error
        assert Refund.objects.get(pk=refund.pk).gateway_reference.startswith("mock_re_")

    def test_paying_out_twice_pays_out_once(self, cancelled):
        refund, _ = cancelled

        process_refund(refund.pk)
        assert process_refund(refund.pk) == DONE

        assert PaymentAttempt.objects.filter(outcome=PaymentAttempt.Outcome.REFUNDED).count() == 1
        assert Payment.objects.get(pk=refund.payment_id).status == Payment.Status.REFUNDED

    def test_a_refund_during_an_outage_asks_for_a_retry_and_keeps_the_payment_captured(self, settings, cancelled):
        refund, _ = cancelled
        configure(settings, PAYMENT_GATEWAY_OPTIONS=ALWAYS_DOWN)

        step = process_refund(refund.pk)

        assert step.retry_in > 0
        assert Payment.objects.get(pk=refund.payment_id).status == Payment.Status.SUCCEEDED
        assert outcomes(refund.payment.order) == [(1, PaymentAttempt.Outcome.SUCCEEDED), (2, "outage")]
        assert Refund.objects.get(pk=refund.pk).status == Refund.Status.PENDING

        configure(settings, PAYMENT_GATEWAY_OPTIONS=ALWAYS_CAPTURES)
        assert process_refund(refund.pk) == Next(paid_out=True)
        assert Payment.objects.get(pk=refund.payment_id).status == Payment.Status.REFUNDED

    def test_in_eager_mode_a_refund_postponed_by_an_outage_is_retried_by_reconciliation(
        self, settings, customer, product, staff_user, eager, django_capture_on_commit_callbacks
    ):
        """The embedded default has no worker to honour a countdown, so reconciliation must pick the refund up."""
        settings.PAYMENT_STUCK_AFTER_SECONDS = 300
        order = CardOrderFactory(customer=customer, lines=[(product, 2)])
        process_payment(order.pk)
        configure(settings, PAYMENT_GATEWAY_OPTIONS=ALWAYS_DOWN)
        with django_capture_on_commit_callbacks(execute=True):  # the refund task runs inline, and meets the outage
            Order.objects.get(pk=order.pk).cancel(actor=staff_user)
        payment = Payment.objects.get(order=order)
        assert payment.status == Payment.Status.SUCCEEDED
        configure(settings, PAYMENT_GATEWAY_OPTIONS=ALWAYS_CAPTURES)
        Refund.objects.filter(payment=payment).update(updated_at=timezone.now() - timedelta(hours=1))

        reconcile_payments()

        assert Payment.objects.get(pk=payment.pk).status == Payment.Status.REFUNDED

    def test_the_refund_task_reschedules_itself_during_an_outage(self, settings, cancelled):
        refund, _ = cancelled
        configure(settings, PAYMENT_GATEWAY_OPTIONS=ALWAYS_DOWN)

        with mock.patch.object(refund_payment_task, "apply_async") as schedule:
            refund_payment_task(refund.pk)

        schedule.assert_called_once()
        assert schedule.call_args.args == ((refund.pk,),)
        assert schedule.call_args.kwargs["countdown"] > 0


class TestAbandonedChargeOfACancelledOrder:
    """A worker died during its gateway call, and staff cancelled the order before anyone recorded the answer."""

    @pytest.fixture
    def abandoned(self, settings, customer, product, staff_user):
        settings.PAYMENT_STUCK_AFTER_SECONDS = 300
        order = CardOrderFactory(customer=customer, lines=[(product, 2)])
        payment = start_payment(order.pk)
        claimed = claim_attempt(Payment.objects.filter(pk=payment.pk), Payment.Status.PROCESSING)
        assert claimed.attempt_count == 1  # ...the call goes out, and the worker dies
        Order.objects.get(pk=order.pk).cancel(actor=staff_user)
        return payment

    def stale(self, payment) -> None:
        Payment.objects.filter(pk=payment.pk).update(updated_at=timezone.now() - timedelta(hours=1))

    def test_a_capture_the_gateway_made_is_found_recorded_and_refunded(self, abandoned, eager):
        get_gateway().charge(amount=abandoned.amount, currency="USD", idempotency_key=abandoned.idempotency_key)
        assert reconcile_payments() == 0  # not abandoned yet: its worker may still answer
        self.stale(abandoned)

        assert reconcile_payments() == 1

        abandoned.refresh_from_db()
        assert abandoned.status == Payment.Status.REFUNDED
        assert outcomes(abandoned.order) == [
            (1, PaymentAttempt.Outcome.SUCCEEDED),
            (2, PaymentAttempt.Outcome.REFUNDED),
        ]
        assert MockGateway.captures(abandoned.idempotency_key) == 1  # asked, not charged again
        assert reconcile_payments() == 0

    def test_a_charge_the_gateway_never_saw_closes_the_claim_and_charges_nothing(self, abandoned, eager):
        self.stale(abandoned)

        assert reconcile_payments() == 1

        abandoned.refresh_from_db()
        assert abandoned.status == Payment.Status.CANCELLED
        assert outcomes(abandoned.order) == [(1, PaymentAttempt.Outcome.DECLINED)]
        assert "never received" in abandoned.attempts.get().error
        assert MockGateway.captures(abandoned.idempotency_key) == 0
        assert reconcile_payments() == 0


class TestReconciliation:
    @pytest.fixture
    def orders(self, customer, product):
        """One order in each state reconciliation must tell apart, all but `recent` stale for an hour."""
        stuck_pending = CardOrderFactory(customer=customer, lines=[(product, 1)])
        stuck_processing = CardOrderFactory(customer=customer, lines=[(product, 1)])
        start_payment(stuck_processing.pk)
        confirmed = CardOrderFactory(customer=customer, lines=[(product, 1)])
        process_payment(confirmed.pk)
        cash = OrderFactory(customer=customer, lines=[(product, 1)])
        Order.objects.filter(pk=cash.pk).update(status=Status.PENDING)  # even a cash order left pending is not ours
        recent = CardOrderFactory(customer=customer, lines=[(product, 1)])
        stale = [stuck_pending.pk, stuck_processing.pk, confirmed.pk, cash.pk]
        Order.objects.filter(pk__in=stale).update(updated_at=timezone.now() - timedelta(hours=1))
        return {"stuck": {stuck_pending.pk, stuck_processing.pk}, "recent": recent.pk}

    def test_reconciliation_re_queues_exactly_the_stuck_card_orders(self, settings, orders):
        settings.PAYMENT_STUCK_AFTER_SECONDS = 300

        with mock.patch.object(charge_order, "delay") as enqueue:
            count = reconcile_payments()

        assert count == 2
        assert {call.args[0] for call in enqueue.call_args_list} == orders["stuck"]
        assert enqueue.call_count == 2

    def test_the_command_re_queues_them_and_says_how_many(self, settings, orders):
        settings.PAYMENT_STUCK_AFTER_SECONDS = 300
        out = StringIO()

        with mock.patch.object(charge_order, "delay") as enqueue:
            call_command("reconcile_payments", stdout=out)

        assert out.getvalue().strip() == "Re-queued 2 stuck payment(s) and refund(s)."
        assert {call.args[0] for call in enqueue.call_args_list} == orders["stuck"]

    def test_with_no_timeout_every_unsettled_card_order_is_re_queued(self, settings, orders):
        settings.PAYMENT_STUCK_AFTER_SECONDS = 0

        with mock.patch.object(charge_order, "delay") as enqueue:
            assert reconcile_payments() == 3

        assert {call.args[0] for call in enqueue.call_args_list} == orders["stuck"] | {orders["recent"]}

    def test_nothing_stuck_re_queues_nothing(self, customer, product):
        process_payment(CardOrderFactory(customer=customer, lines=[(product, 2)]).pk)
        out = StringIO()

        with mock.patch.object(charge_order, "delay") as enqueue:
            call_command("reconcile_payments", stdout=out)

        enqueue.assert_not_called()
        assert out.getvalue().strip() == "Re-queued 0 stuck payment(s) and refund(s)."

    def test_a_re_queued_order_is_charged_once(self, customer, product):
        order = CardOrderFactory(customer=customer, lines=[(product, 2)])
        Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - timedelta(hours=1))

        with mock.patch.object(charge_order, "delay", side_effect=lambda pk: charge_order(pk)):
            assert reconcile_payments() == 1
            assert reconcile_payments() == 0

        assert status_of(order) == Status.CONFIRMED
        assert outcomes(order) == [(1, PaymentAttempt.Outcome.SUCCEEDED)]


class TestTaskLayer:
    @pytest.mark.usefixtures("not_eager")
    def test_with_a_worker_every_wait_is_scheduled_with_its_countdown(self):
        task = mock.Mock()

        _again(task, (7,), Next(retry_in=1.5))
        _again(task, (7,), Next(retry_in=30.0, counts_as_attempt=False))
        _again(task, (7,), DONE)

        assert task.apply_async.call_args_list == [
            mock.call((7,), countdown=1.5),
            mock.call((7,), countdown=30.0),
        ]

    @pytest.mark.usefixtures("eager")
    def test_in_eager_mode_breaker_waits_are_left_to_reconciliation(self):
        task = mock.Mock()

        _again(task, (7,), Next(retry_in=30.0, counts_as_attempt=False))
        _again(task, (7,), DONE)
        task.apply_async.assert_not_called()

        _again(task, (7,), Next(retry_in=1.5))  # an outage retry still runs
        task.apply_async.assert_called_once_with((7,), countdown=1.5)

    @pytest.mark.usefixtures("not_eager")
    def test_the_charge_task_schedules_an_outage_retry_with_backoff(self, settings, customer, product):
        configure(settings, PAYMENT_GATEWAY_OPTIONS=ALWAYS_DOWN, PAYMENT_RETRY_BASE_SECONDS=4.0)
        order = CardOrderFactory(customer=customer, lines=[(product, 2)])

        with mock.patch.object(charge_order, "apply_async") as schedule:
            charge_order(order.pk)

        schedule.assert_called_once()
        assert schedule.call_args.args == ((order.pk,),)
        assert 2.0 <= schedule.call_args.kwargs["countdown"] <= 4.0

    @pytest.mark.usefixtures("not_eager")
    def test_the_charge_task_waits_for_an_open_breaker_with_a_countdown(self, settings, customer, product):
        configure(settings, PAYMENT_BREAKER_RESET_SECONDS=60)
        order = CardOrderFactory(customer=customer, lines=[(product, 2)])
        get_breaker().open()

        with mock.patch.object(charge_order, "apply_async") as schedule:
            charge_order(order.pk)

        schedule.assert_called_once()
        assert 0 < schedule.call_args.kwargs["countdown"] <= 60
        assert outcomes(order) == []
        assert status_of(order) == Status.PAYMENT_PROCESSING

    @pytest.mark.usefixtures("eager")
    def test_in_eager_mode_the_charge_task_does_not_loop_on_an_open_breaker(self, settings, customer, product):
        configure(settings, PAYMENT_BREAKER_RESET_SECONDS=60)
        order = CardOrderFactory(customer=customer, lines=[(product, 2)])
        get_breaker().open()

        with mock.patch.object(charge_order, "apply_async") as schedule:
            charge_order(order.pk)

        schedule.assert_not_called()
        assert status_of(order) == Status.PAYMENT_PROCESSING  # reconciliation picks it up later

    @pytest.mark.usefixtures("not_eager")
    def test_the_charge_task_schedules_nothing_once_settled(self, customer, product):
        order = CardOrderFactory(customer=customer, lines=[(product, 2)])

        with mock.patch.object(charge_order, "apply_async") as schedule:
            charge_order(order.pk)

        schedule.assert_not_called()
        assert status_of(order) == Status.CONFIRMED


class TestEmails:
    def test_the_confirmation_email_names_the_order_and_lists_its_items(self, customer, product, mailoutbox):
        order = CardOrderFactory(customer=customer, lines=[(product, 2)])
        process_payment(order.pk)

        send_order_email(order.pk, "confirmed")

        assert len(mailoutbox) == 1
        email = mailoutbox[0]
        assert email.to == [customer.email]
        assert email.subject == f"{django_settings.SHOP_NAME}: order {order.number} is confirmed"
        html = email.alternatives[0].content
        for body in (email.body, html):
            assert order.number in body
            assert product.name in body
            assert product.variants.get().sku in body
            assert "25.00" in body

    def test_the_payment_failure_email_names_the_order_and_lists_its_items(
        self, settings, customer, product, mailoutbox
    ):
        configure(settings, PAYMENT_GATEWAY_OPTIONS=ALWAYS_DECLINES)
        order = CardOrderFactory(customer=customer, lines=[(product, 2)])
        process_payment(order.pk)

        send_order_email.apply(args=(order.pk, "payment_failed"))

        assert len(mailoutbox) == 1
        email = mailoutbox[0]
        assert email.to == [customer.email]
        assert email.subject == f"{django_settings.SHOP_NAME}: payment for order {order.number} failed"
        html = email.alternatives[0].content
        for body in (email.body, html):
            assert order.number in body
            assert product.name in body
            assert product.variants.get().sku in body
            assert "25.00" in body

    @pytest.mark.parametrize(
        ("options", "kind"), [(ALWAYS_CAPTURES, Status.CONFIRMED), (ALWAYS_DECLINES, Status.PAYMENT_FAILED)]
    )
    def test_the_outcome_email_is_enqueued_after_commit(
        self, settings, customer, product, django_capture_on_commit_callbacks, options, kind
    ):
        configure(settings, PAYMENT_GATEWAY_OPTIONS=options)
        order = CardOrderFactory(customer=customer, lines=[(product, 2)])

        with (
            mock.patch.object(send_order_email, "delay") as enqueue,
            django_capture_on_commit_callbacks(execute=True),
        ):
            process_payment(order.pk)
            assert not enqueue.called  # nothing leaves the process before the commit

        enqueue.assert_called_once_with(order.pk, kind)

    def test_no_email_is_enqueued_while_the_payment_is_being_retried(
        self, settings, customer, product, django_capture_on_commit_callbacks
    ):
        configure(settings, PAYMENT_GATEWAY_OPTIONS=ALWAYS_DOWN, PAYMENT_MAX_ATTEMPTS=3)
        order = CardOrderFactory(customer=customer, lines=[(product, 2)])

        with (
            mock.patch.object(send_order_email, "delay") as enqueue,
            django_capture_on_commit_callbacks(execute=True),
        ):
            process_payment(order.pk)

        enqueue.assert_not_called()


@requires_postgresql
@pytest.mark.django_db(transaction=True)
def test_workers_racing_on_one_order_charge_it_once(settings):
    configure(settings, PAYMENT_GATEWAY_OPTIONS={**ALWAYS_CAPTURES, "latency_ms": 50})
    product = ProductFactory(stock=10, price=Decimal("12.50"))
    with mock.patch.object(charge_order, "delay"), mock.patch.object(send_order_email, "delay"):
        order = CardOrderFactory(lines=[(product, 2)])
        start = threading.Barrier(5)

        def worker(_):
            start.wait()
            try:
                return process_payment(order.pk)
            finally:
                connection.close()

        with ThreadPoolExecutor(max_workers=5) as pool:
            steps = list(pool.map(worker, range(5)))

    assert steps == [DONE] * 5
    payment = Payment.objects.get(order=order)
    assert outcomes(order) == [(1, PaymentAttempt.Outcome.SUCCEEDED)]
    assert payment.status == Payment.Status.SUCCEEDED
    assert MockGateway.captures(payment.idempotency_key) == 1
    assert status_of(order) == Status.CONFIRMED
    assert Invoice.objects.filter(order=order).count() == 1
    assert order.events.filter(to_status=Status.PAYMENT_PROCESSING).count() == 1
    assert order.events.filter(to_status=Status.CONFIRMED).count() == 1


@requires_postgresql
@pytest.mark.django_db(transaction=True)
def test_workers_taking_over_each_others_claims_still_charge_once(settings):
    configure(settings, PAYMENT_GATEWAY_OPTIONS={**ALWAYS_CAPTURES, "latency_ms": 50})
    settings.PAYMENT_STUCK_AFTER_SECONDS = 0  # each worker finds the others' claims abandoned
    product = ProductFactory(stock=10, price=Decimal("12.50"))
    with mock.patch.object(charge_order, "delay"), mock.patch.object(send_order_email, "delay"):
        order = CardOrderFactory(lines=[(product, 2)])
        steps = race_n(5, lambda _: process_payment(order.pk))

    assert steps == [DONE] * 5
    payment = Payment.objects.get(order=order)
    assert (payment.status, payment.attempt_count) == (Payment.Status.SUCCEEDED, 1)
    assert outcomes(order) == [(1, PaymentAttempt.Outcome.SUCCEEDED)]
    assert MockGateway.captures(payment.idempotency_key) == 1
    assert Invoice.objects.filter(order=order).count() == 1
    assert order.events.filter(to_status=Status.CONFIRMED).count() == 1


@requires_postgresql
@pytest.mark.django_db(transaction=True)
class TestNoLockAcrossTheGateway:
    """While a worker waits for a slow gateway, the order and payment rows are free for anyone else."""

    LATENCY_MS = 1500

    def during_slow_call(self, settings, watched_gateway, run) -> tuple[object, float, bool]:
        """Start `run` in a thread; once its gateway call began, lock the order and payment rows without waiting.

        Return what `run` returned, the seconds the locks took, and whether `run` was still in the call then.
        """
        configure(settings, PAYMENT_GATEWAY_OPTIONS={**ALWAYS_CAPTURES, "latency_ms": self.LATENCY_MS})
        in_call = threading.Event()
        watched_gateway(in_call.set)
        with ThreadPoolExecutor(max_workers=1) as pool:
            worker = pool.submit(lambda: (run(), connection.close())[0])
            assert in_call.wait(5), "the worker never reached the gateway"
            started = time.monotonic()
            with transaction.atomic():
                order = Order.objects.select_for_update(nowait=True).get(pk=self.order.pk)
                Payment.objects.select_for_update(nowait=True).get(order=order)
                Order.objects.filter(pk=order.pk).update(updated_at=timezone.now())
            took = time.monotonic() - started
            still_calling = not worker.done()
            return worker.result(), took, still_calling

    def test_a_charge_holds_no_lock_while_the_gateway_answers(self, settings, watched_gateway):
        with mock.patch.object(charge_order, "delay"), mock.patch.object(send_order_email, "delay"):
            self.order = CardOrderFactory(lines=[(ProductFactory(stock=5), 1)])
            step, took, still_calling = self.during_slow_call(
                settings, watched_gateway, lambda: process_payment(self.order.pk)
            )

        assert still_calling
        assert took < 0.5
        assert step == DONE
        assert status_of(self.order) == Status.CONFIRMED
        assert outcomes(self.order) == [(1, PaymentAttempt.Outcome.SUCCEEDED)]

    def test_a_refund_holds_no_lock_while_the_gateway_answers(self, settings, watched_gateway, staff_user):
        with (
            mock.patch.object(charge_order, "delay"),
            mock.patch.object(send_order_email, "delay"),
            mock.patch.object(refund_payment_task, "delay"),
        ):
            self.order = CardOrderFactory(lines=[(ProductFactory(stock=5), 1)])
            process_payment(self.order.pk)
            Order.objects.get(pk=self.order.pk).cancel(actor=staff_user)
            payment = Payment.objects.get(order=self.order)
            refund = Refund.objects.get(payment=payment)
            step, took, still_calling = self.during_slow_call(
                settings, watched_gateway, lambda: process_refund(refund.pk)
            )

        assert still_calling
        assert took < 0.5
        assert step == Next(paid_out=True)
        assert Payment.objects.get(pk=payment.pk).status == Payment.Status.REFUNDED
        assert outcomes(self.order) == [(1, PaymentAttempt.Outcome.SUCCEEDED), (2, PaymentAttempt.Outcome.REFUNDED)]


@pytest.mark.django_db(transaction=True)
class TestBrokerOutageAfterCommit:
    """The order is committed before its task message is sent: a broker outage then must not turn into a 500."""

    def test_a_card_order_is_still_accepted_when_its_charge_cannot_be_enqueued(self, customer_client, product):
        with mock.patch.object(charge_order, "delay", side_effect=OperationalError("broker unreachable")):
            response = customer_client.post(
                "/api/v1/orders/",
                {
                    "items": [{"product": product.pk, "quantity": 2}],
                    "delivery_method": "pickup",
                    "payment_method": "card",
                },
                format="json",
            )

        assert response.status_code == 202  # committed: reconciliation charges it later
        assert Order.objects.get(pk=response.json()["id"]).status == Status.PENDING
        assert stock_of(product) == 8

    def test_a_cancellation_still_answers_when_its_refund_cannot_be_enqueued(self, staff_client, customer, product):
        with mock.patch.object(charge_order, "delay"), mock.patch.object(send_order_email, "delay"):
            order = CardOrderFactory(customer=customer, lines=[(product, 2)])
            process_payment(order.pk)

        with mock.patch.object(refund_payment_task, "delay", side_effect=OperationalError("broker unreachable")):
            response = staff_client.post(f"/api/v1/orders/{order.pk}/cancel/")

        assert response.status_code == 200
        assert status_of(order) == Status.CANCELLED
