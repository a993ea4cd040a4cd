"""Staff admin for orders (SPEC §8): follow orders and move them along the status machine; discount codes.

Orders sit above customers, so this module also gives the customer page its latest orders.
"""

from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import ngettext
from django_countries import countries

from common.admin import ReadOnlyAdmin, ViewOnlyMixin, activate, badge, csv_export_action, deactivate, money
from common.errors import DomainError
from common.formats import short_date, short_datetime
from customers.admin import CustomerAdmin
from customers.models import Customer
from orders.exceptions import InvalidTransition, next_steps, status_label
from orders.models import DiscountCode, Order, OrderItem, OrderStatusEvent
from orders.status import CARD_PAYMENT_STEPS, PaymentMethod, Status

LATEST_ORDERS = 20

# The colour of each order status, wherever staff see one (lists, the order page, the customer's orders).
ORDER_STATUS_TONES = {
    Status.PENDING: "waiting",
    Status.PAYMENT_PROCESSING: "waiting",
    Status.CONFIRMED: "active",
    Status.IN_PROGRESS: "active",
    Status.SHIPPED: "active",
    Status.DELIVERED: "good",
    Status.CANCELLED: "neutral",
    Status.PAYMENT_FAILED: "bad",
}

# What the order page's button that moves an order to each status says.
STEP_LABELS = {
    Status.CONFIRMED: "Confirm",
    Status.IN_PROGRESS: "Start preparing",
    Status.SHIPPED: "Mark shipped",
    Status.DELIVERED: "Mark delivered",
    Status.CANCELLED: "Cancel order",
}

# Inlines of rows staff only read: a plain table, without the editable inline's row headers.
READ_ONLY_TABLE = "admin/orders/readonly_tabular.html"


def order_status_badge(status: str) -> str:
    """Return an order status as a coloured badge with its label."""
    return badge(status_label(status), ORDER_STATUS_TONES.get(status, "neutral"))


def staff_steps(order: Order) -> list[str]:
    """Return the allowed next statuses staff move the order to by hand.

    A card order's way through its payment is the payment worker's: a button there would
    confirm an order nobody has paid for, or fail one whose charge may still land.
    """
    worker = CARD_PAYMENT_STEPS if order.payment_method == PaymentMethod.CARD else frozenset()
    return [status for status in order.allowed_transitions() if status not in worker]


def refusal_message(order: Order, refusal: DomainError) -> str:
    """Say why the rules refused a change of the order: "SK-... is Shipped: it can move to Delivered only."."""
    if isinstance(refusal, InvalidTransition):
        return f"{order.number} is {status_label(refusal.facts['status'])}: {next_steps(refusal.facts['allowed'])}."
    return f"{order.number}: {refusal.detail}"


def address_lines(snapshot: dict | None) -> list[str]:
    """Return an order's shipping address as staff write it on a parcel: lines, postal code and city, country."""
    if not snapshot:
        return []
    country = snapshot.get("country", "")
    lines = [
        snapshot.get("line1", ""),
        snapshot.get("line2", ""),
        " ".join(part for part in (snapshot.get("postal_code", ""), snapshot.get("city", "")) if part),
        countries.name(country) or country,
    ]
    return [line for line in lines if line]


@dataclass(frozen=True)
class WorkbenchButton:
    """A button of the order page: a next status (it submits the page's move form), or a link to a page of its own."""

    label: str
    status: str = ""
    url: str = ""
    title: str = ""
    danger: bool = False


class OrderItemInline(ViewOnlyMixin, admin.TabularInline):
    model = OrderItem
    template = READ_ONLY_TABLE
    fields = ["item", "sku", "quantity", "unit_price_amount", "line_total_amount", "returned"]
    readonly_fields = fields
    extra = 0
    verbose_name_plural = "lines"

    @admin.display(description="product")
    def item(self, line: OrderItem) -> str:
        """Name the product as it was ordered, linking its page as it is now."""
        url = reverse("admin:catalog_product_change", args=[line.product_id])
        return format_html('<a href="{}">{}</a>', url, line.product_name)

    @admin.display(description="unit price")
    def unit_price_amount(self, line: OrderItem) -> str:
        return money(line.unit_price)

    @admin.display(description="line total")
    def line_total_amount(self, line: OrderItem) -> str:
        return money(line.line_total)

    @admin.display(description="returned to stock")
    def returned(self, line: OrderItem) -> str:
        return str(line.quantity_returned) if line.quantity_returned else ""


class OrderStatusEventInline(ViewOnlyMixin, admin.TabularInline):
    model = OrderStatusEvent
    template = READ_ONLY_TABLE
    fields = ["entry"]
    readonly_fields = fields
    extra = 0
    verbose_name_plural = "history"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    @admin.display(description="what happened, by whom, when")
    def entry(self, event: OrderStatusEvent) -> str:
        return str(event)


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
                refused.append(refusal_message(order, refusal))
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
    """Orders as staff work them: a list that fits the screen, and a page per order with its next steps as buttons.

    Nothing on an order is typed in: the rules compute it. So an order's page is a view
    page (no Save), and staff act through buttons and actions that call the status machine.
    """

    list_display = ["number", "customer_name", "status_badge", "total_amount", "methods", "placed"]
    list_filter = ["status", "delivery_method", "payment_method", "created_at"]
    list_select_related = ["customer"]
    search_fields = ["number", "customer__email", "customer__last_name"]
    search_help_text = "Search by order number, customer email or last name."
    autocomplete_fields = ["customer"]
    show_full_result_count = False
    inlines = [OrderItemInline, OrderStatusEventInline]  # billing adds the payment
    readonly_fields = [
        "number", "customer_link", "created_at", "updated_at", "delivery_method", "address",
        "payment_method", "subtotal_amount", "discount_line", "total_amount", "holds_stock", "idempotency_key",
    ]  # fmt: skip
    # The status and the next steps head the page (templates/admin/orders/order/change_form.html).
    fieldsets = [
        (None, {"fields": ["number", "customer_link", ("created_at", "updated_at")]}),
        ("Delivery and payment", {"fields": [("delivery_method", "payment_method"), "address"]}),
        ("Money", {"fields": [("subtotal_amount", "discount_line", "total_amount")]}),
        ("Internals", {"classes": ["collapse"], "fields": ["holds_stock", "idempotency_key"]}),
    ]
    # Read with the order on its page, in the same query; billing adds the payment and its documents.
    page_select_related = ["customer", "discount_code"]
    page_prefetch_related = []
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

    def has_change_permission(self, request, obj=None) -> bool:
        """Staff with the change permission move orders along (buttons, actions); no order is edited as a form.

        Asked about one order, the answer is no, so Django renders its page as a view page:
        no Save buttons, and a POST to it is refused. Asked in general (obj None), it is the
        permission the actions, the status buttons and their views check.
        """
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        """Orders are history: cancel them instead."""
        return False

    def get_urls(self):
        move = self.admin_site.admin_view(self.move_view)
        return [path("<path:object_id>/move/", move, name="orders_order_move"), *super().get_urls()]

    def get_object(self, request, object_id: str, from_field=None):
        """Return the order of a page with what the page shows of it, in a fixed number of queries."""
        queryset = (
            self.get_queryset(request)
            .select_related(*self.page_select_related)
            .prefetch_related(*self.page_prefetch_related)
        )
        field = Order._meta.pk if from_field is None else Order._meta.get_field(from_field)
        try:
            return queryset.get(**{field.name: field.to_python(object_id)})
        except (Order.DoesNotExist, ValidationError, ValueError):
            return None

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            buttons = self.workbench_buttons(request, obj)
            context.update(
                title=f"Order {obj.number}",
                subtitle=None,
                status_badge=order_status_badge(obj.status),
                workbench_buttons=buttons,
                workbench_moves=any(button.status for button in buttons),
                workbench_idle=self.workbench_idle(request, obj),
                move_url=reverse("admin:orders_order_move", args=[obj.pk]),
            )
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def workbench_buttons(self, request, order: Order) -> list[WorkbenchButton]:
        """Return the buttons of the order's page: a button per next status staff may move it to.

        Billing extends the list (a confirmation page for cancelling, the refund page).
        """
        if not self.has_change_permission(request):
            return []
        return [
            WorkbenchButton(
                STEP_LABELS.get(status, status_label(status)),
                status=status,
                title=f"Move the order to {status_label(status)}",
                danger=status == Status.CANCELLED,
            )
            for status in staff_steps(order)
        ]

    def workbench_idle(self, request, order: Order) -> str:
        """Say why the order's page offers staff no button."""
        if not self.has_change_permission(request):
            return "you may look at orders, not move them."
        if not order.allowed_transitions():
            return "the order is final."
        return "the payment worker moves it on once the card payment is settled."

    def move_view(self, request, object_id: str):
        """Move one order to the status its page's button names, through the status machine; back to its page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        order = self.get_object(request, unquote(object_id))
        if order is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        status = request.POST.get("status", "")
        note = request.POST.get("note", "").strip()[:500] or "Changed in the admin."
        if status not in Status.values:
            self.message_user(request, "Choose a status to move the order to.", level=messages.ERROR)
        elif order.payment_method == PaymentMethod.CARD and status in CARD_PAYMENT_STEPS:
            self.message_user(
                request,
                f"{order.number}: the payment worker moves a card order through its payment, not a button.",
                level=messages.WARNING,
            )
        else:
            try:
                if status == Status.CANCELLED:
                    order.cancel(actor=request.user, note=note)
                else:
                    order.transition_to(status, actor=request.user, note=note)
            except DomainError as refusal:
                self.message_user(request, refusal_message(order, refusal), level=messages.WARNING)
            else:
                self.message_user(request, f"{order.number} is now {status_label(status)}.")
        return redirect("admin:orders_order_change", order.pk)

    @admin.display(description="customer", ordering="customer__last_name")
    def customer_name(self, order: Order) -> str:
        """The customer's name, cut short if long, with name and email on hover: "Name <email>" overflowed the list."""
        customer = order.customer
        return format_html(
            '<span title="{} &lt;{}&gt;">{}</span>', customer.full_name, customer.email, customer.full_name
        )

    @admin.display(description="customer")
    def customer_link(self, order: Order) -> str:
        url = reverse("admin:customers_customer_change", args=[order.customer_id])
        return format_html('<a href="{}">{}</a> · {}', url, order.customer.full_name, order.customer.email)

    @admin.display(description="status", ordering="status")
    def status_badge(self, order: Order) -> str:
        return order_status_badge(order.status)

    @admin.display(description="total", ordering="total")
    def total_amount(self, order: Order) -> str:
        return money(order.total)

    @admin.display(description="subtotal")
    def subtotal_amount(self, order: Order) -> str:
        return money(order.subtotal)

    @admin.display(description="discount")
    def discount_line(self, order: Order) -> str:
        if not order.discount:
            return "None"
        code = f" (code {order.discount_code.code})" if order.discount_code_id else ""
        return f"-{money(order.discount)}{code}"

    @admin.display(description="payment · delivery", ordering="delivery_method")
    def methods(self, order: Order) -> str:
        """Both methods in one column (SPEC §8's "method"): two columns pushed the list past a 1400 px screen."""
        return f"{order.get_payment_method_display()} · {order.get_delivery_method_display()}"

    @admin.display(description="placed", ordering="created_at")
    def placed(self, order: Order) -> str:
        """The day, with the time on hover: the list is newest first, so the day is what staff scan for."""
        return format_html('<span title="{}">{}</span>', short_datetime(order.created_at), short_date(order.created_at))

    @admin.display(description="shipping address")
    def address(self, order: Order) -> str:
        lines = address_lines(order.shipping_address)
        if not lines:
            return f"None: {order.get_delivery_method_display().lower()}."
        return format_html(
            "<address>{}</address>", format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines))
        )


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
    template = READ_ONLY_TABLE
    fields = ["order_number", "status_badge", "total_amount", "placed"]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]
    extra = 0
    verbose_name_plural = f"orders (latest {LATEST_ORDERS})"

    @admin.display(description="number")
    def order_number(self, order: Order) -> str:
        return format_html('<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[order.pk]), order.number)

    @admin.display(description="status")
    def status_badge(self, order: Order) -> str:
        return order_status_badge(order.status)

    @admin.display(description="total")
    def total_amount(self, order: Order) -> str:
        return money(order.total)

    @admin.display(description="placed")
    def placed(self, order: Order) -> str:
        return short_datetime(order.created_at)


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
