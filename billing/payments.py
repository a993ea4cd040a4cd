"""Charging card orders: the steps the payment worker runs, each safe to run twice.

1. `start_payment` moves a pending card order to payment_processing and commits, so a
   lost worker leaves a visible, reconcilable state.
2. `attempt_charge` locks the payment row and makes one gateway call through the circuit
   breaker, recording a PaymentAttempt; then it confirms the order, fails it, or asks to be
   retried later. The gateway idempotency key makes a repeated charge return the first
   capture, so a worker killed mid-call and re-run by reconciliation charges once.

`capture`, `fail` and `refund` record the outcomes: the worker, the demo seeding and the
billing factories all settle a payment through them, never by writing its status.
"""

import logging
import random
import time
from dataclasses import dataclass

import pybreaker
from django.conf import settings
from django.db import transaction

from billing.breaker import get_breaker, seconds_until_half_open
from billing.gateway import GatewayUnavailable, get_gateway
from billing.models import Payment, PaymentAttempt
from orders.models import Order
from orders.status import PaymentMethod
from orders.status import Status as OrderStatus

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Next:
    """What the worker does after a step: nothing more, or run again in `retry_in` seconds."""

    retry_in: float | None = None
    counts_as_attempt: bool = True


DONE = Next()


def process_payment(order_id: int) -> Next:
    """Run the payment of a card order as far as it can go now."""
    if start_payment(order_id) is None:
        return DONE
    return attempt_charge(order_id)


def start_payment(order_id: int) -> Payment | None:
    """Move a card order to payment_processing; return its payment, or None if nothing is left to charge."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id, payment_method=PaymentMethod.CARD).first()
        if order is None or order.status not in (OrderStatus.PENDING, OrderStatus.PAYMENT_PROCESSING):
            return None
        payment, _ = Payment.objects.get_or_create(
            order=order, defaults={"amount": order.total, "method": order.payment_method}
        )
        if payment.status == Payment.Status.PENDING:
            payment.status = Payment.Status.PROCESSING
            payment.save(update_fields=["status", "updated_at"])
        if order.status == OrderStatus.PENDING:
            order.transition_to(OrderStatus.PAYMENT_PROCESSING, note="Payment started.")
        return payment


def attempt_charge(order_id: int) -> Next:
    """Make one charge attempt for the order's payment, unless another worker settled it already."""
    breaker = get_breaker()
    wait = seconds_until_half_open(breaker)
    if wait > 0:
        return Next(retry_in=wait, counts_as_attempt=False)  # breaker open: wait, spend no attempt

    with transaction.atomic():
        payment = Payment.objects.select_for_update().select_related("order").get(order_id=order_id)
        order = payment.order
        if payment.status != Payment.Status.PROCESSING or order.status != OrderStatus.PAYMENT_PROCESSING:
            return DONE
        number = payment.attempt_count + 1
        started = time.monotonic()
        try:
            charge = breaker.call(
                get_gateway().charge,
                amount=payment.amount,
                currency=settings.SHOP_CURRENCY,
                idempotency_key=payment.idempotency_key,
            )
        except pybreaker.CircuitBreakerError:
            return Next(retry_in=max(1.0, seconds_until_half_open(breaker)), counts_as_attempt=False)
        except GatewayUnavailable as outage:
            record_attempt(payment, number, PaymentAttempt.Outcome.OUTAGE, started, error=str(outage))
            if number >= settings.PAYMENT_MAX_ATTEMPTS:
                fail(payment, f"Gateway unavailable after {number} attempts: {outage}")
                return DONE
            return Next(retry_in=backoff(number))

        if charge.captured:
            record_attempt(payment, number, PaymentAttempt.Outcome.SUCCEEDED, started)
            capture(payment, charge.reference)
        else:
            record_attempt(payment, number, PaymentAttempt.Outcome.DECLINED, started, error=charge.decline_reason)
            fail(payment, charge.decline_reason)
    return DONE


def record_attempt(payment: Payment, number: int, outcome: str, started: float, error: str = "") -> None:
    """Write the attempt's audit row and count it on the payment."""
    PaymentAttempt.objects.create(
        payment=payment,
        number=number,
        outcome=outcome,
        error=error[:500],
        duration_ms=round((time.monotonic() - started) * 1000),
    )
    payment.attempt_count = number
    payment.last_error = error[:500]
    payment.save(update_fields=["attempt_count", "last_error", "updated_at"])


def capture(payment: Payment, reference: str) -> None:
    """Record the gateway's capture and confirm the order, which issues its invoice."""
    with transaction.atomic():
        _lock(payment, Payment.Status.PROCESSING)
        payment.status = Payment.Status.SUCCEEDED
        payment.gateway_reference = reference
        payment.save(update_fields=["status", "gateway_reference", "updated_at"])
        payment.order.transition_to(OrderStatus.CONFIRMED, note=f"Payment captured ({reference}).")


def fail(payment: Payment, reason: str) -> None:
    """Give up on the payment: the order becomes payment_failed, which gives its stock back."""
    with transaction.atomic():
        _lock(payment, Payment.Status.PROCESSING)
        payment.status = Payment.Status.FAILED
        payment.last_error = reason[:500]
        payment.save(update_fields=["status", "last_error", "updated_at"])
        payment.order.transition_to(OrderStatus.PAYMENT_FAILED, note=reason[:500])


def refund(payment: Payment) -> None:
    """Record the gateway's refund of the captured payment of a cancelled order."""
    with transaction.atomic():
        _lock(payment, Payment.Status.SUCCEEDED)
        payment.status = Payment.Status.REFUNDED
        payment.save(update_fields=["status", "updated_at"])


def _lock(payment: Payment, settled_from: str) -> None:
    """Lock the payment's row (the worker holds it already) and refuse to settle it from any other status."""
    status = Payment.objects.select_for_update().values_list("status", flat=True).get(pk=payment.pk)
    if status != settled_from:
        raise ValueError(f"Payment {payment.pk} is {status}, not {settled_from}: it was settled already.")


def backoff(attempt: int) -> float:
    """Seconds before retry `attempt + 1`: exponential, capped, with jitter so retries spread out."""
    ceiling = min(settings.PAYMENT_RETRY_MAX_SECONDS, settings.PAYMENT_RETRY_BASE_SECONDS * 2 ** (attempt - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def refund_payment(payment_id: int) -> Next:
    """Refund a captured payment whose order was cancelled; safe to run twice."""
    breaker = get_breaker()
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.status != Payment.Status.SUCCEEDED:
            return DONE
        number = payment.attempt_count + 1
        started = time.monotonic()
        try:
            reference = breaker.call(
                get_gateway().refund,
                reference=payment.gateway_reference,
                amount=payment.amount,
                idempotency_key=f"{payment.idempotency_key}-refund",
            )
        except (GatewayUnavailable, pybreaker.CircuitBreakerError) as outage:
            logger.warning("Refund of payment %s postponed: %s", payment.pk, outage)
            return Next(retry_in=max(backoff(1), seconds_until_half_open(breaker)), counts_as_attempt=False)
        record_attempt(payment, number, PaymentAttempt.Outcome.REFUNDED, started)
        logger.info("Refunded payment %s (%s).", payment.pk, reference)
        refund(payment)
    return DONE
