"""Staff admin for billing (SPEC §8): payments and their attempts, invoices; the order page's money.

Payments and invoices are records of what the worker and the status machine did, so
staff read them here and never edit them: a payment moves only through the worker, an
invoice is issued once on confirmation. Billing sits above orders, so this module also
gives the order page its payment and invoice.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from billing.models import Invoice, InvoiceSequence, Payment, PaymentAttempt
from common.admin import ReadOnlyAdmin, ViewOnlyMixin, csv_export_action
from orders.admin import OrderAdmin
from orders.models import Order
from orders.status import PaymentMethod


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


def document_links(invoice: Invoice) -> str:
    """Return links to the invoice's printable page and its PDF, each opening in a new tab."""
    return format_html(
        '<a href="{}" target="_blank" rel="noopener">Print ↗</a>'
        ' · <a href="{}" target="_blank" rel="noopener">PDF ↗</a>',
        reverse("invoice-print", args=[invoice.pk]),
        reverse("invoice-pdf", args=[invoice.pk]),
    )


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
        """Link the printable page and the PDF; the API serves them to staff signed in to the admin (the session)."""
        return document_links(invoice)


@admin.register(InvoiceSequence)
class InvoiceSequenceAdmin(ReadOnlyAdmin):
    list_display = ["year", "last_number"]


class PaymentInline(ViewOnlyMixin, admin.StackedInline):
    model = Payment
    fields = ["status", "amount", "attempt_count", "gateway_reference", "last_error", "payment_link"]
    readonly_fields = fields
    extra = 0

    @admin.display(description="attempts")
    def payment_link(self, payment: Payment) -> str:
        url = reverse("admin:billing_payment_change", args=[payment.pk])
        return format_html('<a href="{}">Every gateway attempt →</a>', url)


admin.site.unregister(Order)


@admin.register(Order)
class BilledOrderAdmin(OrderAdmin):
    """The orders app's page, with the order's payment and a link to its invoice."""

    inlines = [*OrderAdmin.inlines, PaymentInline]
    readonly_fields = [*OrderAdmin.readonly_fields, "invoice_link"]
    fieldsets = [
        (name, {**options, "fields": [*options["fields"], "invoice_link"]}) if name == "Money" else (name, options)
        for name, options in OrderAdmin.fieldsets
    ]

    @admin.display(description="invoice")
    def invoice_link(self, order: Order) -> str:
        invoice = Invoice.objects.filter(order=order).first()
        if invoice is None:
            return "Issued when the order is confirmed."
        return format_html("{} · {}", invoice.number, document_links(invoice))
