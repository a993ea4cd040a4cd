"""Staff admin for billing (SPEC §8): payments and their attempts, invoices, discount codes.

Payments and invoices are records of what the worker and the status machine did, so
staff read them here and never edit them: a payment moves only through the worker, an
invoice is issued once on confirmation. Discount codes are the one thing staff write.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import ngettext

from billing.models import DiscountCode, Invoice, InvoiceSequence, Payment, PaymentAttempt
from common.admin import ReadOnlyAdmin, ViewOnlyMixin, csv_export_action
from orders.models import PaymentMethod


class PaymentMethodFilter(admin.SimpleListFilter):
    """Card or cash, offered without a DISTINCT scan of the table (the column has no choices of its own)."""

    title = "payment method"
    parameter_name = "payment_method"

    def lookups(self, request, model_admin):
        return PaymentMethod.choices

    def queryset(self, request, queryset):
        if self.value() in PaymentMethod.values:
            return queryset.filter(**{self.parameter_name: self.value()})
        return queryset


class PaymentByMethodFilter(PaymentMethodFilter):
    parameter_name = "method"


class PaymentAttemptInline(ViewOnlyMixin, admin.TabularInline):
    model = PaymentAttempt
    fields = ["number", "outcome", "error", "duration_ms", "created_at"]
    readonly_fields = fields
    extra = 0


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["order", "amount", "status", "attempt_count", "gateway_reference", "created_at"]
    list_filter = ["status", PaymentByMethodFilter, "created_at"]
    list_select_related = ["order"]
    search_fields = ["order__number", "order__customer__email", "gateway_reference"]
    search_help_text = "Search by order number, customer email or gateway reference."
    fields = [
        "order", "amount", "method", "status", "gateway_reference", "attempt_count", "last_error",
        "created_at", "updated_at",
    ]  # fmt: skip
    inlines = [PaymentAttemptInline]


@admin.register(PaymentAttempt)
class PaymentAttemptAdmin(ReadOnlyAdmin):
    list_display = ["payment", "number", "outcome", "duration_ms", "created_at"]
    list_filter = ["outcome", "created_at"]
    list_select_related = ["payment__order"]  # a payment names itself by its order
    search_fields = ["payment__order__number", "payment__gateway_reference"]


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["number", "order", "total", "payment_method", "issued_at", "print_link"]
    list_filter = [PaymentMethodFilter, "issued_at"]
    list_select_related = ["order"]
    search_fields = ["number", "order__number", "order__customer__email"]
    search_help_text = "Search by invoice number, order number or customer email."
    fields = ["number", "order", "issued_at", "payment_method", "subtotal", "discount", "total", "print_link"]
    readonly_fields = ["print_link"]
    actions = [
        csv_export_action(
            "invoices",
            {
                "number": "number",
                "order_number": "order__number",
                "customer_email": "order__customer__email",
                "issued_at": "issued_at",
                "payment_method": "payment_method",
                "subtotal": "subtotal",
                "discount": "discount",
                "total": "total",
            },
        ),
    ]

    @admin.display(description="printable")
    def print_link(self, invoice: Invoice) -> str:
        """Link the printable page; the API serves it to staff signed in to the admin (the session)."""
        url = reverse("invoice-print", args=[invoice.pk])
        return format_html('<a href="{}" target="_blank" rel="noopener">Print ↗</a>', url)


@admin.register(InvoiceSequence)
class InvoiceSequenceAdmin(ReadOnlyAdmin):
    list_display = ["year", "last_number"]


@admin.register(DiscountCode)
class DiscountCodeAdmin(admin.ModelAdmin):
    show_full_result_count = False
    list_display = ["code", "kind", "value", "uses", "valid_from", "valid_until", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code"]
    readonly_fields = ["times_used", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["code", "kind", "value", "is_active"]}),
        ("Limits", {"fields": ["valid_from", "valid_until", "max_uses", "times_used"]}),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]
    actions = ["activate", "deactivate"]

    @admin.display(description="used / max", ordering="times_used")
    def uses(self, code: DiscountCode) -> str:
        return f"{code.times_used} / {'∞' if code.max_uses is None else code.max_uses}"

    @admin.action(description="Activate selected discount codes", permissions=["change"])
    def activate(self, request, queryset):
        self.set_active(request, queryset, True)

    @admin.action(description="Deactivate selected discount codes", permissions=["change"])
    def deactivate(self, request, queryset):
        self.set_active(request, queryset, False)

    def set_active(self, request, queryset, is_active: bool) -> None:
        """Switch codes on or off; times_used is left alone, so a code switched back on keeps its count."""
        changed = queryset.exclude(is_active=is_active).update(is_active=is_active, updated_at=timezone.now())
        verb = "activated" if is_active else "deactivated"
        self.message_user(request, ngettext("%d discount code %s.", "%d discount codes %s.", changed) % (changed, verb))
