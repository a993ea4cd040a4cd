"""Staff admin for orders (SPEC §8): follow orders and move them along the status machine; discount codes.

Orders sit above customers, so this module also gives the customer page its latest orders.
"""

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import ngettext

from common.admin import ReadOnlyAdmin, ViewOnlyMixin, activate, csv_export_action, deactivate
from customers.admin import CustomerAdmin
from customers.models import Customer
from orders.exceptions import InvalidTransition
from orders.models import DiscountCode, Order, OrderItem, OrderStatusEvent
from orders.status import Status

LATEST_ORDERS = 20


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
    inlines = [OrderItemInline, OrderStatusEventInline]  # billing adds the payment
    readonly_fields = [
        "number", "customer", "status", "delivery_method", "payment_method", "shipping_address",
        "subtotal", "discount_code", "discount", "total", "holds_stock", "idempotency_key",
        "created_at", "updated_at",
    ]  # fmt: skip
    fieldsets = [
        (None, {"fields": ["number", "customer", "status", "created_at", "updated_at"]}),
        ("Delivery and payment", {"fields": ["delivery_method", "shipping_address", "payment_method"]}),
        ("Money", {"fields": ["subtotal", "discount_code", "discount", "total"]}),
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


class LatestOrdersFormSet(forms.BaseInlineFormSet):
    def get_queryset(self):
        """Only the customer's latest orders: a regular's whole history would make a heavy page."""
        if not hasattr(self, "_latest"):
            self._latest = super().get_queryset()[:LATEST_ORDERS]
        return self._latest


class LatestOrderInline(ViewOnlyMixin, admin.TabularInline):
    """The customer's latest orders, newest first, each linking to its own page (where staff move it along)."""

    model = Order
    formset = LatestOrdersFormSet
    fields = ["order_number", "status", "total", "created_at"]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]
    extra = 0
    verbose_name_plural = f"orders (latest {LATEST_ORDERS})"

    @admin.display(description="number")
    def order_number(self, order: Order) -> str:
        return format_html('<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[order.pk]), order.number)


admin.site.unregister(Customer)


@admin.register(Customer)
class CustomerWithOrdersAdmin(CustomerAdmin):
    """The customers app's page, with the customer's latest orders below the addresses."""

    inlines = [*CustomerAdmin.inlines, LatestOrderInline]


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
    # Switching a code off and on keeps its times_used.
    actions = [activate, deactivate]

    @admin.display(description="used / max", ordering="times_used")
    def uses(self, code: DiscountCode) -> str:
        return f"{code.times_used} / {'∞' if code.max_uses is None else code.max_uses}"
