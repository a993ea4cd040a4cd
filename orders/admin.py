"""Staff admin for orders (SPEC §8): follow orders and move them along the status machine."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import ngettext

from billing.models import Invoice, Payment
from common.admin import ReadOnlyAdmin, ViewOnlyMixin, csv_export_action
from orders.exceptions import InvalidTransition
from orders.models import Order, OrderItem, OrderStatusEvent, Status


class OrderItemInline(ViewOnlyMixin, admin.TabularInline):
    model = OrderItem
    fields = ["product", "sku", "product_name", "quantity", "unit_price", "line_total"]
    readonly_fields = fields
    extra = 0


class OrderStatusEventInline(ViewOnlyMixin, admin.TabularInline):
    model = OrderStatusEvent
    fields = ["created_at", "from_status", "to_status", "actor", "note"]
    readonly_fields = fields
    extra = 0
    verbose_name_plural = "history"


class PaymentInline(ViewOnlyMixin, admin.StackedInline):
    model = Payment
    fields = ["status", "amount", "attempt_count", "gateway_reference", "last_error", "payment_link"]
    readonly_fields = fields
    extra = 0

    @admin.display(description="attempts")
    def payment_link(self, payment: Payment) -> str:
        url = reverse("admin:billing_payment_change", args=[payment.pk])
        return format_html('<a href="{}">Every gateway attempt →</a>', url)


def move_to(status: str, description: str):
    """Build an admin action that moves each selected order to `status` through the status machine."""

    def action(modeladmin, request, queryset):
        moved, refused = 0, []
        for order in queryset.order_by("pk"):
            try:
                if status == Status.CANCELLED:
                    order.cancel(actor=request.user, note="Cancelled in the admin.")
                else:
                    order.transition_to(status, actor=request.user, note="Changed in the admin.")
                moved += 1
            except InvalidTransition as refusal:
                refused.append(f"{order.number}: {refusal.detail}")
        if moved:
            modeladmin.message_user(request, ngettext("%d order moved.", "%d orders moved.", moved) % moved)
        for reason in refused:
            modeladmin.message_user(request, reason, level=messages.WARNING)

    action.__name__ = f"mark_{status}"
    action.short_description = description
    action.allowed_permissions = ("change",)
    return action


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "customer", "status", "total", "payment_method", "delivery_method", "created_at"]
    list_filter = ["status", "delivery_method", "payment_method", "created_at"]
    list_select_related = ["customer"]
    search_fields = ["number", "customer__email", "customer__last_name"]
    autocomplete_fields = ["customer"]
    show_full_result_count = False
    inlines = [OrderItemInline, OrderStatusEventInline, PaymentInline]
    readonly_fields = [
        "number", "customer", "status", "delivery_method", "payment_method", "shipping_address",
        "subtotal", "discount_code", "discount", "total", "invoice_link", "holds_stock", "idempotency_key",
        "created_at", "updated_at",
    ]  # fmt: skip
    fieldsets = [
        (None, {"fields": ["number", "customer", "status", "created_at", "updated_at"]}),
        ("Delivery and payment", {"fields": ["delivery_method", "shipping_address", "payment_method"]}),
        ("Money", {"fields": ["subtotal", "discount_code", "discount", "total", "invoice_link"]}),
        ("Internals", {"classes": ["collapse"], "fields": ["holds_stock", "idempotency_key"]}),
    ]
    actions = [
        move_to(Status.IN_PROGRESS, "Start preparing selected orders (in progress)"),
        move_to(Status.SHIPPED, "Mark selected orders shipped"),
        move_to(Status.DELIVERED, "Mark selected orders delivered"),
        move_to(Status.CANCELLED, "Cancel selected orders (stock is released)"),
        csv_export_action(
            "orders",
            {
                "number": "number",
                "customer_email": "customer__email",
                "status": "status",
                "delivery_method": "delivery_method",
                "payment_method": "payment_method",
                "subtotal": "subtotal",
                "discount": "discount",
                "total": "total",
                "created_at": "created_at",
            },
        ),
    ]

    @admin.display(description="invoice")
    def invoice_link(self, order: Order) -> str:
        invoice = Invoice.objects.filter(order=order).first()
        if invoice is None:
            return "Issued when the order is confirmed."
        return format_html(
            '{} · <a href="{}" target="_blank" rel="noopener">Print ↗</a>',
            invoice.number,
            reverse("invoice-print", args=[invoice.pk]),
        )

    def has_add_permission(self, request) -> bool:
        """Orders are placed through the API's rules (stock, prices), never typed in."""
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        """Orders are history: cancel them instead."""
        return False


@admin.register(OrderItem)
class OrderItemAdmin(ReadOnlyAdmin):
    list_display = ["order", "sku", "product_name", "quantity", "unit_price", "line_total"]
    list_select_related = ["order"]
    search_fields = ["order__number", "sku", "product_name"]


@admin.register(OrderStatusEvent)
class OrderStatusEventAdmin(ReadOnlyAdmin):
    list_display = ["order", "from_status", "to_status", "actor", "created_at"]
    list_filter = ["to_status", "created_at"]
    list_select_related = ["order", "actor"]
    search_fields = ["order__number"]
