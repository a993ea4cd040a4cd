"""Billing's reactions to orders, through orders' own signals: open, cancel or refund the payment, invoice, email.

Anything leaving the process (a task message, an email) goes through
`billing.tasks.send_after_commit`: it waits for the commit, a broker hiccup then cannot
turn a committed order into a 500, and the demo seeding can hold it back.
"""

from django.utils import timezone

from billing.models import Invoice, Payment
from billing.tasks import charge_order, refund_payment, send_after_commit, send_order_email
from orders.signals import order_placed, order_status_changed
from orders.status import PaymentMethod, Status


def open_card_payment(sender, order, **kwargs) -> None:
    """Open a pending payment for a new card order and hand it to the payment worker after commit."""
    if order.payment_method != PaymentMethod.CARD:
        return
    Payment.objects.create(order=order, amount=order.total, method=order.payment_method)
    send_after_commit(charge_order, order.pk)


def issue_invoice_on_confirmation(sender, order, previous, **kwargs) -> None:
    """Issue the invoice in the transaction that confirms the order: if it fails, the confirmation fails too."""
    if order.status == Status.CONFIRMED:
        Invoice.objects.issue_for(order)


def settle_payment_on_cancellation(sender, order, previous, **kwargs) -> None:
    """Settle the payment of a cancelled order: cancel it if it was never charged, refund it (after commit) if captured.

    Only a pending order can be cancelled before its charge, and its payment is still
    pending: the worker claims only processing payments, so a cancelled one is left alone.
    """
    if order.status != Status.CANCELLED:
        return
    Payment.objects.filter(order=order, status=Payment.Status.PENDING).update(
        status=Payment.Status.CANCELLED, updated_at=timezone.now()
    )
    payment_id = (
        Payment.objects.filter(order=order, status=Payment.Status.SUCCEEDED).values_list("pk", flat=True).first()
    )
    if payment_id is not None:
        send_after_commit(refund_payment, payment_id)


def email_customer_on_outcome(sender, order, previous, **kwargs) -> None:
    """Email the customer when their order is confirmed or its payment failed (after commit)."""
    if order.status in (Status.CONFIRMED, Status.PAYMENT_FAILED):
        send_after_commit(send_order_email, order.pk, order.status)


def connect_receivers() -> None:
    order_placed.connect(open_card_payment, dispatch_uid="billing.open_card_payment")
    order_status_changed.connect(issue_invoice_on_confirmation, dispatch_uid="billing.issue_invoice")
    order_status_changed.connect(settle_payment_on_cancellation, dispatch_uid="billing.settle_payment_on_cancellation")
    order_status_changed.connect(email_customer_on_outcome, dispatch_uid="billing.email_customer")
