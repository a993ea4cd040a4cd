"""Celery tasks: thin wrappers that call the billing functions and schedule what they ask for."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta

from celery import current_app, shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from billing import documents, payments
from billing.models import Invoice, Payment, Refund
from orders.models import Order
from orders.status import PaymentMethod, Status

logger = logging.getLogger(__name__)

# A payment message is acknowledged only after the task ran, and re-queued if the worker
# dies mid-task: at-least-once delivery, made safe by the idempotent steps.
PAYMENT_TASK = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


_held_back = ContextVar("billing_messages_held_back", default=False)


@contextmanager
def messages_held_back() -> Iterator[None]:
    """Send no charge, refund or email message queued inside: for a caller that settles payments itself (the demo)."""
    token = _held_back.set(True)
    try:
        yield
    finally:
        _held_back.reset(token)


def send_after_commit(task, *args) -> None:
    """Queue the task's message for when the transaction commits, unless messages are held back.

    `robust`: a broker hiccup after the commit must not fail the committed change
    (reconciliation picks up what was not handed over).
    """
    if not _held_back.get():
        transaction.on_commit(lambda: task.delay(*args), robust=True)


def _eager() -> bool:
    return bool(current_app.conf.task_always_eager)


def _again(task, args: tuple, step: payments.Next) -> None:
    """Schedule the task again if the step asks for it.

    In eager mode (the embedded default, no worker) a countdown cannot be honoured, so
    waits for the breaker are left to reconciliation instead of looping in-process.
    """
    if step.retry_in is None or (_eager() and not step.counts_as_attempt):
        return
    task.apply_async(args, countdown=step.retry_in)


def hand_over(refund: Refund) -> None:
    """After commit, send a card refund to the worker, or tell the customer about a refund paid out already (cash)."""
    if refund.status == Refund.Status.PENDING:
        send_after_commit(refund_payment, refund.pk)
    else:
        send_after_commit(send_refund_email, refund.pk)


@shared_task(**PAYMENT_TASK)
def charge_order(order_id: int) -> None:
    """Charge a card order; retries outages with backoff, waits out an open breaker."""
    step = payments.process_payment(order_id)
    if step.refund is not None:  # captured after its order was cancelled: pay it back
        refund_payment.delay(step.refund)
    _again(charge_order, (order_id,), step)


@shared_task(**PAYMENT_TASK)
def settle_abandoned_charge(payment_id: int) -> None:
    """Find out what became of a charge whose worker died after its order was cancelled; refund a capture."""
    step = payments.settle_abandoned_charge(payment_id)
    if step.refund is not None:
        refund_payment.delay(step.refund)


@shared_task(**PAYMENT_TASK)
def refund_payment(refund_id: int) -> None:
    """Pay a card refund out through the gateway; retries outages with backoff, waits out an open breaker."""
    step = payments.process_refund(refund_id)
    if step.paid_out:
        send_refund_email.delay(refund_id)
    if step.retry_in is not None and not _eager():
        refund_payment.apply_async((refund_id,), countdown=step.retry_in)


@shared_task(ignore_result=True)
def reconcile_payments() -> int:
    """Re-queue card orders stuck in pending or payment_processing, refunds not paid out, abandoned charges of
    cancelled orders; return how many."""
    stuck_before = timezone.now() - timedelta(seconds=settings.PAYMENT_STUCK_AFTER_SECONDS)
    stuck = list(
        Order.objects.filter(
            payment_method=PaymentMethod.CARD,
            status__in=[Status.PENDING, Status.PAYMENT_PROCESSING],
            updated_at__lt=stuck_before,
        ).values_list("pk", flat=True)
    )
    unrefunded = list(
        Refund.objects.filter(status=Refund.Status.PENDING, updated_at__lt=stuck_before).values_list("pk", flat=True)
    )
    # A cancelled payment whose last claimed attempt was never recorded: its worker died mid-call.
    abandoned = list(
        Payment.objects.filter(status=Payment.Status.CANCELLED, attempt_count__gt=0, updated_at__lt=stuck_before)
        .exclude(attempts__number=F("attempt_count"))
        .values_list("pk", flat=True)
    )
    for order_id in stuck:
        charge_order.delay(order_id)
    for refund_id in unrefunded:
        refund_payment.delay(refund_id)
    for payment_id in abandoned:
        settle_abandoned_charge.delay(payment_id)
    if stuck or unrefunded or abandoned:
        logger.info(
            "Re-queued %d stuck card orders %s, %d refunds %s and %d abandoned charges %s",
            len(stuck), stuck, len(unrefunded), unrefunded, len(abandoned), abandoned,
        )  # fmt: skip
    return len(stuck) + len(unrefunded) + len(abandoned)


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_order_email(order_id: int, kind: str) -> None:
    """Email the customer about their order: kind is `confirmed` (with the invoice's PDF) or `payment_failed`."""
    order = Order.objects.select_related("customer").prefetch_related("items").get(pk=order_id)
    context = {"order": order, "customer": order.customer, "shop_name": settings.SHOP_NAME}
    email = EmailMultiAlternatives(
        subject=render_to_string(f"emails/order_{kind}_subject.txt", context).strip(),
        body=render_to_string(f"emails/order_{kind}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[order.customer.email],
    )
    email.attach_alternative(render_to_string(f"emails/order_{kind}.html", context), "text/html")
    invoice = Invoice.objects.filter(order=order).first() if kind == Status.CONFIRMED else None
    if invoice is not None:
        invoice.order = order  # with its customer and lines already read
        try:
            pdf = documents.render_pdf(documents.INVOICE_TEMPLATE, documents.invoice_context(invoice))
        except Exception:
            # The confirmation matters more than its attachment: the invoice stays in the API.
            logger.exception("Invoice %s: PDF not rendered, the confirmation goes without it", invoice.number)
        else:
            email.attach(f"{invoice.number}.pdf", pdf, "application/pdf")
    email.send()


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_refund_email(refund_id: int) -> None:
    """Tell the customer that a refund is on its way back to them, with what it covers."""
    refund = Refund.objects.select_related("payment__order__customer", "credit_note").get(pk=refund_id)
    order = refund.payment.order
    context = {
        "refund": refund,
        "order": order,
        "customer": order.customer,
        "lines": refund.lines.select_related("item"),
        "shop_name": settings.SHOP_NAME,
        "currency": settings.SHOP_CURRENCY,
    }
    email = EmailMultiAlternatives(
        subject=render_to_string("emails/refund_issued_subject.txt", context).strip(),
        body=render_to_string("emails/refund_issued.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[order.customer.email],
    )
    email.attach_alternative(render_to_string("emails/refund_issued.html", context), "text/html")
    email.send()
