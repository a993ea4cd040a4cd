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

Staff may cancel an order while its charge is in flight. The cancellation and the
recording of the gateway's answer both lock the order and then the payment, so one waits
for the other: a charge answered after the cancellation is either declined (never
captured) or captured and then refunded in full (`record_charge`).

`capture`, `fail` and `record_refund` record the outcomes: the worker, the demo seeding and
the billing factories all settle a payment through them, never by writing its status.
Refunds are issued by `Refund.objects.issue`; `process_refund` pays a card refund out.
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
from billing.models import Payment, PaymentAttempt, Refund
from orders.models import Order
from orders.status import PaymentMethod
from orders.status import Status as OrderStatus

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Next:
    """What the worker does after a step: nothing more, or run again in `retry_in` seconds.

    `refund` names a refund the step issued (a capture that came back after its order was
    cancelled) for the worker to pay out; `paid_out` says this step paid a refund out, so
    the customer is told once.
    """

    retry_in: float | None = None
    counts_as_attempt: bool = True
    refund: int | None = None
    paid_out: bool = False


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
    refund = record_charge(payment, number, started, charge)
    return Next(refund=refund.pk) if refund is not None else DONE


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


def _still_claimed(payment: Payment, number: int) -> bool:
    """Lock the order, then the payment; return whether attempt `number` is still claimed and unrecorded.

    The payment is processing, or was cancelled with its order while the call was in
    flight. False when another worker took the claim over and recorded it, or settled the
    payment: then this worker's outcome is the same gateway answer, recorded already.
    The order's lock comes first, as for a cancellation, so the two take turns.
    """
    Order.objects.select_for_update().filter(pk=payment.order_id).values_list("pk").get()
    locked = Payment.objects.select_for_update().values_list("status", "attempt_count").get(pk=payment.pk)
    in_play = locked[0] in (Payment.Status.PROCESSING, Payment.Status.CANCELLED)
    if in_play and locked[1] == number and not payment.attempts.filter(number=number).exists():
        payment.status = locked[0]
        return True
    logger.info("Payment %s: attempt %s was recorded by another worker.", payment.pk, number)
    return False


def record_charge(payment: Payment, number: int, started: float, charge: Charge) -> Refund | None:
    """Record the gateway's answer to attempt `number` and capture or fail the payment, once.

    If the order was cancelled while the call was in flight, a decline leaves the payment
    cancelled, and a capture is recorded and refunded in full at once: the refund is
    returned for the worker to pay out.
    """
    with transaction.atomic():
        if not _still_claimed(payment, number):
            return None
        if charge.captured:
            record_attempt(payment, number, PaymentAttempt.Outcome.SUCCEEDED, started)
            if payment.status == Payment.Status.CANCELLED:
                return _refund_late_capture(payment, charge.reference)
            capture(payment, charge.reference)
        else:
            record_attempt(payment, number, PaymentAttempt.Outcome.DECLINED, started, error=charge.decline_reason)
            if payment.status == Payment.Status.PROCESSING:
                fail(payment, charge.decline_reason)
    return None


def _refund_late_capture(payment: Payment, reference: str) -> Refund:
    """Record a capture that came back after its order was cancelled, and refund it in full."""
    payment.status = Payment.Status.SUCCEEDED
    payment.gateway_reference = reference
    payment.save(update_fields=["status", "gateway_reference", "updated_at"])
    logger.warning("Payment %s: captured after its order was cancelled; refunding it.", payment.pk)
    return Refund.objects.issue(payment.order, reason="The charge went through after the order was cancelled.")


def settle_abandoned_charge(payment_id: int) -> Next:
    """Settle a charge whose worker died mid-call after its order was cancelled: ask the gateway what became of it.

    Nobody else will record that call (the payment is cancelled, so no worker claims it
    again), and calling again could charge a cancelled order: the gateway is asked by the
    charge's idempotency key instead. A capture is recorded and refunded in full; a decline,
    or a charge the gateway never saw, closes the claim.
    """
    abandoned_before = timezone.now() - timedelta(seconds=settings.PAYMENT_STUCK_AFTER_SECONDS)
    payment = Payment.objects.filter(pk=payment_id, status=Payment.Status.CANCELLED).first()
    if payment is None or not _in_flight(payment) or payment.updated_at > abandoned_before:
        return DONE
    number, started = payment.attempt_count, time.monotonic()
    try:
        charge = get_breaker().call(get_gateway().find_charge, idempotency_key=payment.idempotency_key)
    except (GatewayUnavailable, pybreaker.CircuitBreakerError) as outage:
        logger.warning(
            "Payment %s: could not ask the gateway about abandoned attempt %s: %s", payment.pk, number, outage
        )
        return DONE  # reconciliation asks again
    charge = charge or Charge(captured=False, decline_reason="The gateway never received this charge.")
    refund = record_charge(payment, number, started, charge)
    return Next(refund=refund.pk) if refund is not None else DONE


def record_charge_outage(payment: Payment, number: int, started: float, outage: GatewayUnavailable) -> Next:
    """Record an outage on attempt `number`; fail the payment once the attempts run out, else ask for a retry."""
    with transaction.atomic():
        if not _still_claimed(payment, number):
            return DONE
        record_attempt(payment, number, PaymentAttempt.Outcome.OUTAGE, started, error=str(outage))
        if payment.status == Payment.Status.CANCELLED:
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


def cancel(payment: Payment) -> None:
    """Cancel a payment whose order was cancelled before the money came in; the caller holds the order's lock.

    A charge still in flight is settled when its answer is recorded (record_charge).
    """
    with transaction.atomic():
        status = Payment.objects.select_for_update().values_list("status", flat=True).get(pk=payment.pk)
        if status not in (Payment.Status.PENDING, Payment.Status.PROCESSING):
            raise ValueError(f"Payment {payment.pk} is {status}: only money not taken yet can be cancelled.")
        payment.status = Payment.Status.CANCELLED
        payment.save(update_fields=["status", "updated_at"])


def collect_cash(payment: Payment) -> None:
    """Record the cash of a cash order as collected (on delivery)."""
    with transaction.atomic():
        _lock(payment, Payment.Status.PENDING)
        payment.status = Payment.Status.SUCCEEDED
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


def process_refund(refund_id: int) -> Next:
    """Pay a card refund out through the gateway and the breaker; safe to run twice.

    Every attempt carries the refund's idempotency key, so a repeat (a redelivered message,
    a racing worker) pays out once; no lock is held during the call. Outages are retried
    with backoff for as long as it takes: the money is owed.
    """
    breaker = get_breaker()
    wait = seconds_until_half_open(breaker)
    if wait > 0:
        return Next(retry_in=wait, counts_as_attempt=False)
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("payment").filter(pk=refund_id).first()
        if refund is None or refund.status != Refund.Status.PENDING:
            return DONE
        refund.attempt_count += 1
        refund.save(update_fields=["attempt_count", "updated_at"])
    started = time.monotonic()
    try:
        reference = breaker.call(
            get_gateway().refund,
            reference=refund.payment.gateway_reference,
            amount=refund.amount,
            idempotency_key=refund.gateway_idempotency_key,
        )
    except (GatewayUnavailable, pybreaker.CircuitBreakerError) as outage:
        _record_refund_attempt(refund, PaymentAttempt.Outcome.OUTAGE, started, error=str(outage) or "breaker open")
        logger.warning("Refund %s postponed: %s", refund.pk, outage)
        return Next(retry_in=max(backoff(refund.attempt_count), seconds_until_half_open(breaker)))
    if not record_refund(refund, reference, started):
        return DONE
    logger.info("Refund %s paid out (%s).", refund.pk, reference)
    return Next(paid_out=True)


def record_refund(refund: Refund, reference: str, started: float | None = None) -> bool:
    """Record the gateway's payout of a refund and settle its payment's status; return False if recorded already."""
    with transaction.atomic():
        status = Refund.objects.select_for_update().values_list("status", flat=True).get(pk=refund.pk)
        if status != Refund.Status.PENDING:
            return False
        refund.status = Refund.Status.SUCCEEDED
        refund.gateway_reference = reference
        refund.last_error = ""
        refund.save(update_fields=["status", "gateway_reference", "last_error", "updated_at"])
        if started is not None:
            _record_refund_attempt(refund, PaymentAttempt.Outcome.REFUNDED, started)
        Payment.objects.select_for_update().get(pk=refund.payment_id).settle_refunds()
    return True


def _record_refund_attempt(refund: Refund, outcome: str, started: float, error: str = "") -> None:
    """Write the payment's audit row for one refund call, numbered after the payment's other calls."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=refund.payment_id)
        number = payment.attempt_count + 1
        PaymentAttempt.objects.create(
            payment=payment,
            number=number,
            outcome=outcome,
            error=f"Refund {refund.pk}: {error}"[:500] if error else "",
            duration_ms=round((time.monotonic() - started) * 1000),
        )
        Payment.objects.filter(pk=payment.pk).update(attempt_count=number, updated_at=timezone.now())
        if error:
            Refund.objects.filter(pk=refund.pk).update(last_error=error[:500], updated_at=timezone.now())
