from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q, Sum
from django.utils import timezone

from billing.managers import (
    CreditNoteManager,
    InvoiceManager,
    PaymentManager,
    RefundManager,
    YearSequenceManager,
)
from common.models import MoneyField, TimeStampedModel


class Payment(TimeStampedModel):
    """The payment of an order: a card charge through the gateway, or cash collected on delivery.

    Money that goes back is a Refund row; the refunds of a payment add up to at most its
    amount (RefundQuerySet.issue).
    """

    class Status(models.TextChoices):
        PENDING = "pending"  # card: not charged yet; cash: not collected yet
        PROCESSING = "processing"
        SUCCEEDED = "succeeded"  # card: captured; cash: collected
        FAILED = "failed"
        CANCELLED = "cancelled"  # its order was cancelled before the money came in
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
        REFUNDED = "refunded"

    # Card statuses the gateway has yet to settle: not charged yet, or being charged.
    AWAITING_GATEWAY = (Status.PENDING, Status.PROCESSING)
    # The money came in: refunds may give (some of) it back.
    CAPTURED = (Status.SUCCEEDED, Status.PARTIALLY_REFUNDED, Status.REFUNDED)

    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="payment")
    amount = MoneyField()
    method = models.CharField(max_length=10)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    gateway_reference = models.CharField(max_length=100, blank=True)
    attempt_count = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    objects = PaymentManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_non_negative")]
        indexes = [models.Index(fields=["status", "-created_at"], name="payment_status_created_idx")]

    def __str__(self) -> str:
        return f"{self.method.capitalize()} payment of {self.order}: {self.get_status_display()}"

    @property
    def idempotency_key(self) -> str:
        """The key the gateway sees for every charge of this payment: a retry can never capture twice."""
        return f"shopkeep-payment-{self.pk}"

    def settle_refunds(self) -> None:
        """Set the status from the refunds paid out: refunded once they add up to the amount, else partially."""
        paid_out = self.refunds.filter(status=Refund.Status.SUCCEEDED).aggregate(total=Sum("amount"))["total"] or 0
        if paid_out >= self.amount:
            self.status = self.Status.REFUNDED
        elif paid_out > 0:
            self.status = self.Status.PARTIALLY_REFUNDED
        self.save(update_fields=["status", "updated_at"])

    settle_refunds.alters_data = True


class PaymentAttempt(models.Model):
    """One call to the gateway: the audit trail of retries."""

    class Outcome(models.TextChoices):
        SUCCEEDED = "succeeded"
        DECLINED = "declined"
        OUTAGE = "outage"
        REFUNDED = "refunded"

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["payment", "number"]
        constraints = [
            models.UniqueConstraint(fields=["payment", "number"], name="payment_attempt_number_unique"),
        ]

    def __str__(self) -> str:
        return f"Attempt {self.number}: {self.get_outcome_display()}"


class YearSequence(models.Model):
    """The last number a kind of document used in a year; its row lock makes numbers gap-free under concurrency."""

    year = models.PositiveIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    objects = YearSequenceManager()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class InvoiceSequence(YearSequence):
    pass


class CreditNoteSequence(YearSequence):
    pass


class Invoice(TimeStampedModel):
    """The bill for a confirmed order; numbered INV-<year>-<000042>, gap-free per year."""

    number = models.CharField(max_length=20, unique=True, editable=False)
    year = models.PositiveIntegerField(editable=False)
    sequence = models.PositiveIntegerField(editable=False)
    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="invoice")
    issued_at = models.DateTimeField(default=timezone.now, editable=False)
    subtotal = MoneyField(editable=False)
    discount = MoneyField(editable=False)
    total = MoneyField(editable=False)
    payment_method = models.CharField(max_length=10, editable=False)

    objects = InvoiceManager()

    class State(models.TextChoices):
        UNPAID = "unpaid"  # cash not collected yet
        PAID = "paid"
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
        REFUNDED = "refunded"
        CANCELLED = "cancelled"  # credited in full before any money came in

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="invoice_sequence_unique_per_year"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def state(self) -> str:
        """Paid, partially refunded, refunded, unpaid or cancelled: from its credit notes and its order's payment.

        Reads the annotations of `Invoice.objects.with_state()` when present (lists), else queries.
        """
        if hasattr(self, "credited"):
            credited, payment_status = self.credited, self.payment_status
        else:
            credited = self.credit_notes.aggregate(total=Sum("amount"))["total"] or 0
            payment_status = Payment.objects.filter(order_id=self.order_id).values_list("status", flat=True).first()
        paid = payment_status in Payment.CAPTURED
        if credited and credited >= self.total:
            return self.State.REFUNDED if paid else self.State.CANCELLED
        if credited:
            return self.State.PARTIALLY_REFUNDED
        return self.State.PAID if paid else self.State.UNPAID

    @property
    def state_label(self) -> str:
        return self.State(self.state).label


class Refund(TimeStampedModel):
    """Money given back on a payment: a whole order or some units of some lines.

    Issued by RefundQuerySet.issue (never above what the payment took in and has not given
    back yet); a card refund goes through the worker, the gateway and the breaker
    (payments.process_refund), a cash refund is paid out at once.
    """

    class Status(models.TextChoices):
        PENDING = "pending"  # waiting for the gateway
        SUCCEEDED = "succeeded"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = MoneyField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=500, blank=True)
    restock = models.BooleanField(default=False, help_text="Whether the returned units went back into stock.")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who refunded; empty for the system (a charge captured after its order was cancelled).",
    )
    gateway_reference = models.CharField(max_length=100, blank=True)
    attempt_count = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    idempotency_key = models.CharField(max_length=255, blank=True, editable=False)
    request_fingerprint = models.CharField(max_length=64, blank=True, editable=False)

    objects = RefundManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="refund_amount_non_negative"),
            models.UniqueConstraint(
                fields=["payment", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="refund_idempotency_key_unique_per_payment",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="refund_status_created_idx")]

    def __str__(self) -> str:
        return f"Refund of {self.amount} on {self.payment.order}"

    @property
    def gateway_idempotency_key(self) -> str:
        """The key the gateway sees for every attempt of this refund: a retry never pays out twice.

        Not `idempotency_key`, the client's key of the request that issued it.
        """
        return f"shopkeep-refund-{self.pk}"


class RefundLine(models.Model):
    """Units of one order line given back by a refund, and the money they were worth."""

    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey("orders.OrderItem", on_delete=models.PROTECT, related_name="refund_lines")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    amount = MoneyField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="refund_line_quantity_positive"),
            models.UniqueConstraint(fields=["refund", "item"], name="refund_line_one_per_item"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x item {self.item_id}"


class CreditNote(TimeStampedModel):
    """The correction of an invoice: numbered CN-<year>-<000001>, gap-free per year, never changed once issued.

    Issued with every refund of an invoiced order, and for the rest of the total when an
    invoiced order is cancelled (then without a refund if no money had come in).
    """

    number = models.CharField(max_length=20, unique=True, editable=False)
    year = models.PositiveIntegerField(editable=False)
    sequence = models.PositiveIntegerField(editable=False)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes", editable=False)
    refund = models.OneToOneField(
        Refund, null=True, blank=True, on_delete=models.PROTECT, related_name="credit_note", editable=False
    )
    issued_at = models.DateTimeField(default=timezone.now, editable=False)
    amount = MoneyField(editable=False)
    lines = models.JSONField(
        default=list, editable=False, help_text="The credited lines as issued: product, SKU, quantity, amount."
    )
    reason = models.CharField(max_length=500, blank=True, editable=False)

    objects = CreditNoteManager()

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="credit_note_sequence_unique_per_year"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="credit_note_amount_non_negative"),
        ]

    def __str__(self) -> str:
        return self.number
