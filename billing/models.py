from decimal import ROUND_HALF_UP, Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone

from billing.managers import DiscountCodeManager, InvoiceManager, InvoiceSequenceManager
from common.models import TimeStampedModel

MONEY = {"max_digits": 12, "decimal_places": 2}
CENT = Decimal("0.01")


class DiscountCode(TimeStampedModel):
    """A code that takes a percentage or a fixed amount off an order, a limited number of times."""

    class Kind(models.TextChoices):
        PERCENT = "percent"
        FIXED = "fixed"

    code = models.CharField(max_length=40, help_text="Unique in any letter case, e.g. WELCOME10.")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = models.DecimalField(
        **MONEY, validators=[MinValueValidator(CENT)], help_text="Percent off (1-100), or an amount off."
    )
    valid_from = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(null=True, blank=True)
    max_uses = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: unlimited.")
    times_used = models.PositiveIntegerField(default=0, editable=False)
    is_active = models.BooleanField(default=True)

    objects = DiscountCodeManager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(Lower("code"), name="discount_code_unique_ci"),
            models.CheckConstraint(condition=Q(value__gt=0), name="discount_value_positive"),
            models.CheckConstraint(
                condition=~Q(kind="percent") | Q(value__lte=100), name="discount_percent_at_most_100"
            ),
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(times_used__lte=F("max_uses")),
                name="discount_never_used_beyond_max",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def discount_for(self, subtotal: Decimal) -> Decimal:
        """Return the amount this code takes off `subtotal`, never more than the subtotal."""
        if self.kind == self.Kind.PERCENT:
            amount = (subtotal * self.value / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        else:
            amount = self.value
        return min(amount, subtotal)


class Payment(TimeStampedModel):
    """The card payment of an order: its state at the gateway and how many attempts it took."""

    class Status(models.TextChoices):
        PENDING = "pending"
        PROCESSING = "processing"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        REFUNDED = "refunded"

    # Statuses the gateway has yet to settle: not charged yet, or being charged.
    AWAITING_GATEWAY = (Status.PENDING, Status.PROCESSING)

    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="payment")
    amount = models.DecimalField(**MONEY)
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
    subtotal = models.DecimalField(**MONEY, editable=False)
    discount = models.DecimalField(**MONEY, editable=False)
    total = models.DecimalField(**MONEY, editable=False)
    payment_method = models.CharField(max_length=10, editable=False)

    objects = InvoiceManager()

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="invoice_sequence_unique_per_year"),
        ]

    def __str__(self) -> str:
        return self.number
