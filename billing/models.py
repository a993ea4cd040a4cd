from django.db import models
from django.db.models import Q
from django.utils import timezone

from billing.managers import InvoiceManager, InvoiceSequenceManager
from common.models import MoneyField, TimeStampedModel


class Payment(TimeStampedModel):
    """The card payment of an order: its state at the gateway and how many attempts it took."""

    class Status(models.TextChoices):
        PENDING = "pending"
        PROCESSING = "processing"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        REFUNDED = "refunded"
        CANCELLED = "cancelled"  # its order was cancelled before the charge: never sent to the gateway

    # Statuses the gateway has yet to settle: not charged yet, or being charged.
    AWAITING_GATEWAY = (Status.PENDING, Status.PROCESSING)

    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="payment")
    amount = MoneyField()
    method = models.CharField(max_length=10)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    gateway_reference = models.CharField(max_length=100, blank=True)
    attempt_count = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_non_negative")]
        indexes = [models.Index(fields=["status", "-created_at"], name="payment_status_created_idx")]

    def __str__(self) -> str:
        return f"{self.order} {self.amount} {self.status}"

    @property
    def idempotency_key(self) -> str:
        """The key the gateway sees for every charge of this payment: a retry can never capture twice."""
        return f"shopkeep-payment-{self.pk}"


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
        return f"#{self.number} {self.outcome}"


class InvoiceSequence(models.Model):
    """The last invoice number used in a year; its row lock makes numbers gap-free under concurrency."""

    year = models.PositiveIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    objects = InvoiceSequenceManager()

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


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

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="invoice_sequence_unique_per_year"),
        ]

    def __str__(self) -> str:
        return self.number
