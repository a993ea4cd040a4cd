"""Charging card orders: the steps the payment worker runs, each safe to run twice.

1. `start_payment` moves a pending card order to payment_processing and commits, so a
   lost worker leaves a visible, reconcilable state.
2. `attempt_charge` makes one gateway call through the circuit breaker, holding no
   transaction or row lock while it waits: it claims the attempt in one short transaction
   (`claim_attempt`), calls the gateway, and records the outcome in another, which checks
   under the locks that the claim is still its own and the order still awaits payment
   (`record_charge`). Then the order is confirmed or failed, or a retry is asked for. The
   gateway idempotency key makes a repeated charge return the first capture, so a worker
   killed mid-call and re-run by reconciliation, or two workers racing, capture once.

`capture`, `fail` and `refund` record the outcomes: the worker, the demo seeding and the
billing factories all settle a payment through them, never by writing its status.
"""

import logging
import random
import time
from dataclasses import dataclass
from datetime import timedelta

import pybreaker
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from billing.breaker import get_breaker, seconds_until_half_open
from billing.gateway import Charge, GatewayUnavailable, get_gateway
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
    """Make one charge attempt for the order's payment, unless another worker settled it or is charging it."""
    breaker = get_breaker()
    wait = seconds_until_half_open(breaker)
    if wait > 0:
        return Next(retry_in=wait, counts_as_attempt=False)  # breaker open: wait, spend no attempt

    payment = claim_attempt(
        Payment.objects.filter(order_id=order_id), Payment.Status.PROCESSING, OrderStatus.PAYMENT_PROCESSING
    )
    if payment is None:
        return DONE
    number, started = payment.attempt_count, time.monotonic()
    try:
        charge = breaker.call(
            get_gateway().charge,
            amount=payment.amount,
            currency=settings.SHOP_CURRENCY,
            idempotency_key=payment.idempotency_key,
        )
    except pybreaker.CircuitBreakerError:  # opened by another worker since we looked: no call was made
        release_attempt(payment, number)
        return Next(retry_in=max(1.0, seconds_until_half_open(breaker)), counts_as_attempt=False)
    except GatewayUnavailable as outage:
        return record_charge_outage(payment, number, started, outage)
    except Exception:
        release_attempt(payment, number)
        raise
    record_charge(payment, number, started, charge)
    return DONE


def claim_attempt(payments: QuerySet, status: str, order_status: str | None = None) -> Payment | None:
    """Take the payment's next attempt number in a short transaction and return it, its number in `attempt_count`.

    Return None when the payment (or its order) is no longer in `status` (`order_status`), or
    when another worker's claim is in flight: that worker records the outcome. A claim whose
    outcome was never recorded for PAYMENT_STUCK_AFTER_SECONDS (its worker died during the
    call) is taken over with the same number; the idempotency key makes the repeated call
    return the first answer.
    """
    with transaction.atomic():
        payment = payments.select_for_update(of=("self",)).select_related("order").first()
        if payment is None or payment.status != status:
            return None
        if order_status is not None and payment.order.status != order_status:
            return None
        if _in_flight(payment):
            abandoned_before = timezone.now() - timedelta(seconds=settings.PAYMENT_STUCK_AFTER_SECONDS)
            if payment.updated_at > abandoned_before:
                return None
            logger.warning("Payment %s: taking over attempt %s, abandoned.", payment.pk, payment.attempt_count)
        else:
            payment.attempt_count += 1
        payment.save(update_fields=["attempt_count", "updated_at"])
        return payment


def _in_flight(payment: Payment) -> bool:
    """Return whether the payment's last claimed attempt has no recorded outcome yet."""
    return payment.attempt_count > 0 and not payment.attempts.filter(number=payment.attempt_count).exists()


def release_attempt(payment: Payment, number: int) -> None:
    """Give back a claimed attempt that made no gateway call, so the next claim takes its number."""
    Payment.objects.filter(pk=payment.pk, attempt_count=number).exclude(attempts__number=number).update(
        attempt_count=number - 1
    )


def _still_claimed(payment: Payment, number: int, status: str) -> bool:
    """Lock the payment; return whether it is still in `status` with attempt `number` claimed and unrecorded.

    False when another worker took the claim over and recorded it, or settled the payment:
    then this worker's outcome is the same gateway answer, recorded already.
    """
    locked = Payment.objects.select_for_update().values_list("status", "attempt_count").get(pk=payment.pk)
    if locked == (status, number) and not payment.attempts.filter(number=number).exists():
        return True
    logger.info("Payment %s: attempt %s was recorded by another worker.", payment.pk, number)
    return False


def _order_awaits_payment(payment: Payment) -> bool:
    """Lock the payment's order; return whether it is still payment_processing, logging when it is not."""
    status = Order.objects.select_for_update().values_list("status", flat=True).get(pk=payment.order_id)
    if status == OrderStatus.PAYMENT_PROCESSING:
        return True
    logger.error(
        "Payment %s: its order %s is %s, no longer payment_processing; the attempt is recorded, nothing settled.",
        payment.pk,
        payment.order_id,
        status,
    )
    return False


def record_charge(payment: Payment, number: int, started: float, charge: Charge) -> None:
    """Record the gateway's answer to attempt `number` and capture or fail the payment, once."""
    with transaction.atomic():
        if not _still_claimed(payment, number, Payment.Status.PROCESSING):
            return
        awaited = _order_awaits_payment(payment)
        if charge.captured:
            record_attempt(payment, number, PaymentAttempt.Outcome.SUCCEEDED, started)
            if awaited:
                capture(payment, charge.reference)
            else:  # money was taken for an order that moved on: keep what its refund needs
                payment.gateway_reference = charge.reference
                payment.save(update_fields=["gateway_reference", "updated_at"])
        else:
            record_attempt(payment, number, PaymentAttempt.Outcome.DECLINED, started, error=charge.decline_reason)
            if awaited:
                fail(payment, charge.decline_reason)


def record_charge_outage(payment: Payment, number: int, started: float, outage: GatewayUnavailable) -> Next:
    """Record an outage on attempt `number`; fail the payment once the attempts run out, else ask for a retry."""
    with transaction.atomic():
        if not _still_claimed(payment, number, Payment.Status.PROCESSING):
            return DONE
        awaited = _order_awaits_payment(payment)
        record_attempt(payment, number, PaymentAttempt.Outcome.OUTAGE, started, error=str(outage))
        if not awaited:
            return DONE
        if number >= settings.PAYMENT_MAX_ATTEMPTS:
            fail(payment, f"Gateway unavailable after {number} attempts: {outage}")
            return DONE
    return Next(retry_in=backoff(number))


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
    """Lock the payment's row (the recording worker holds it already) and refuse to settle it from any other status."""
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
    payment = claim_attempt(Payment.objects.filter(pk=payment_id), Payment.Status.SUCCEEDED)
    if payment is None:
        return DONE
    number, started = payment.attempt_count, time.monotonic()
    try:
        reference = breaker.call(
            get_gateway().refund,
            reference=payment.gateway_reference,
            amount=payment.amount,
            idempotency_key=f"{payment.idempotency_key}-refund",
        )
    except (GatewayUnavailable, pybreaker.CircuitBreakerError) as outage:
        release_attempt(payment, number)
        logger.warning("Refund of payment %s postponed: %s", payment.pk, outage)
        return Next(retry_in=max(backoff(1), seconds_until_half_open(breaker)), counts_as_attempt=False)
    except Exception:
        release_attempt(payment, number)
        raise
    with transaction.atomic():
        if not _still_claimed(payment, number, Payment.Status.SUCCEEDED):
            return DONE
        record_attempt(payment, number, PaymentAttempt.Outcome.REFUNDED, started)
        refund(payment)
    logger.info("Refunded payment %s (%s).", payment.pk, reference)
    return DONE
