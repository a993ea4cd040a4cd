"""Billing's reactions to orders, through orders' own signals: open, collect, cancel or refund the payment, invoice,
credit, email.

Anything leaving the process (a task message, an email) goes through
`billing.tasks.send_after_commit`: it waits for the commit, a broker hiccup then cannot
turn a committed order into a 500, and the demo seeding can hold it back.
"""

from billing import payments
from billing.models import CreditNote, Invoice, Payment, Refund
from billing.tasks import charge_order, hand_over, send_after_commit, send_order_email
from orders.signals import order_placed, order_status_changed
from orders.status import PaymentMethod, Status


def open_payment(sender, order, **kwargs) -> None:
    """Open the new order's pending payment; hand a card order to the payment worker after commit."""
    Payment.objects.create(order=order, amount=order.total, method=order.payment_method)
    if order.payment_method == PaymentMethod.CARD:
        send_after_commit(charge_order, order.pk)


def issue_invoice_on_confirmation(sender, order, previous, placing=False, **kwargs) -> None:
    """Issue the invoice in the transaction that confirms the order: if it fails, the confirmation fails too."""
    if order.status == Status.CONFIRMED:
        Invoice.objects.issue_for(order, new_order=placing)


def collect_cash_on_delivery(sender, order, previous, **kwargs) -> None:
    """Record a cash order's money as collected when it is delivered."""
    if order.status == Status.DELIVERED and order.payment_method == PaymentMethod.CASH:
        payment = Payment.objects.filter(order=order, status=Payment.Status.PENDING).first()
        if payment is not None:
            payments.collect_cash(payment)


def settle_payment_on_cancellation(sender, order, previous, actor=None, **kwargs) -> None:
    """Settle the money of a cancelled order, under its lock (held by the transition) and then its payment's.

    - Not taken yet (a card charge pending or in flight, cash not collected): the payment
      is cancelled; a charge in flight is refunded if it captures after all
      (payments.record_charge); an invoice already issued is credited in full.
    - Taken: everything not refunded yet is refunded, with its credit note; the worker
      pays it out after commit. The cancellation itself gives the stock back.
    """
    if order.status != Status.CANCELLED:
        return
    payment = Payment.objects.select_for_update().filter(order=order).first()
    if payment is None:
        return
    if payment.status in Payment.AWAITING_GATEWAY:
        payments.cancel(payment)
        invoice = Invoice.objects.filter(order=order).first()
        if invoice is not None:
            CreditNote.objects.credit_in_full(invoice, reason="Order cancelled.")
    elif payment.status in (Payment.Status.SUCCEEDED, Payment.Status.PARTIALLY_REFUNDED):
        hand_over(Refund.objects.issue(order, reason="Order cancelled.", actor=actor))


def email_customer_on_outcome(sender, order, previous, **kwargs) -> None:
    """Email the customer when their order is confirmed or its payment failed (after commit)."""
    if order.status in (Status.CONFIRMED, Status.PAYMENT_FAILED):
        send_after_commit(send_order_email, order.pk, order.status)


def connect_receivers() -> None:
    order_placed.connect(open_payment, dispatch_uid="billing.open_payment")
    order_status_changed.connect(issue_invoice_on_confirmation, dispatch_uid="billing.issue_invoice")
    order_status_changed.connect(collect_cash_on_delivery, dispatch_uid="billing.collect_cash_on_delivery")
    order_status_changed.connect(settle_payment_on_cancellation, dispatch_uid="billing.settle_payment_on_cancellation")
    order_status_changed.connect(email_customer_on_outcome, dispatch_uid="billing.email_customer")
