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
from django.template.loader import render_to_string
from django.utils import timezone

from billing import documents, payments
from billing.models import Invoice, Payment
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


@shared_task(**PAYMENT_TASK)
def charge_order(order_id: int) -> None:
    """Charge a card order; retries outages with backoff, waits out an open breaker."""
    _again(charge_order, (order_id,), payments.process_payment(order_id))


@shared_task(**PAYMENT_TASK)
def refund_payment(payment_id: int) -> None:
    """Refund a cancelled order's captured payment."""
    step = payments.refund_payment(payment_id)
    if step.retry_in is not None and not _eager():
        refund_payment.apply_async((payment_id,), countdown=step.retry_in)


@shared_task(ignore_result=True)
def reconcile_payments() -> int:
    """Re-queue card orders stuck in pending or payment_processing, and refunds never made; return how many."""
    stuck_before = timezone.now() - timedelta(seconds=settings.PAYMENT_STUCK_AFTER_SECONDS)
    stuck = list(
        Order.objects.filter(
            payment_method=PaymentMethod.CARD,
            status__in=[Status.PENDING, Status.PAYMENT_PROCESSING],
            updated_at__lt=stuck_before,
        ).values_list("pk", flat=True)
    )
    unrefunded = list(
        Payment.objects.filter(
            status=Payment.Status.SUCCEEDED, order__status=Status.CANCELLED, order__updated_at__lt=stuck_before
        ).values_list("pk", flat=True)
    )
    for order_id in stuck:
        charge_order.delay(order_id)
    for payment_id in unrefunded:
        refund_payment.delay(payment_id)
    if stuck or unrefunded:
        logger.info(
            "Re-queued %d stuck card orders %s and %d refunds %s", len(stuck), stuck, len(unrefunded), unrefunded
        )
    return len(stuck) + len(unrefunded)


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
