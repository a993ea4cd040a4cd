"""Staff admin for billing (SPEC §8): payments and their attempts, refunds, invoices, credit notes; the order
page's money.

Payments, refunds, invoices and credit notes are records of what the rules did, so staff
read them here and never edit them. Staff act through the rules instead: the order page's
buttons lead to a refund page (some units of some lines, or everything left) and to a
confirmation before cancelling, and the order list's cancel and refund actions ask first
too, saying what happens to stock and money. Billing sits above orders, so this module
also gives the order page its money and adds its buttons (`workbench_buttons`).
"""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import F, Prefetch, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import ngettext

from billing.models import CreditNote, CreditNoteSequence, Invoice, InvoiceSequence, Payment, PaymentAttempt, Refund
from billing.tasks import hand_over
from common.admin import ReadOnlyAdmin, ViewOnlyMixin, badge, csv_export_action, money
from common.errors import DomainError
from common.formats import short_date, short_datetime
from orders.admin import READ_ONLY_TABLE, OrderAdmin, WorkbenchButton, order_status_badge, refusal_message
from orders.models import Order
from orders.status import PaymentMethod, Status

# The colour of each payment status, wherever staff see one (the payment list, the order page).
PAYMENT_STATUS_TONES = {
    Payment.Status.PENDING: "waiting",
    Payment.Status.PROCESSING: "waiting",
    Payment.Status.SUCCEEDED: "good",
    Payment.Status.FAILED: "bad",
    Payment.Status.CANCELLED: "neutral",
    Payment.Status.PARTIALLY_REFUNDED: "active",
    Payment.Status.REFUNDED: "neutral",
}

# A refund's status as staff read it on the order page.
REFUND_PROGRESS = {Refund.Status.PENDING: "waiting for the gateway", Refund.Status.SUCCEEDED: "paid out"}


def payment_status_badge(payment: Payment) -> str:
    """Return a payment's status as a coloured badge with its label."""
    return badge(payment.get_status_display(), PAYMENT_STATUS_TONES.get(payment.status, "neutral"))


def method_label(code: str) -> str:
    """Return "Card" or "Cash" for a payment method code (payments and invoices keep the code, without choices)."""
    return PaymentMethod(code).label if code in PaymentMethod.values else code


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
    list_display = [
        "order",
        "order_status",
        "payment_method",
        "amount_paid",
        "status_badge",
        "attempts",
        "created",
    ]  # the gateway reference is on the payment's page, and searchable
    list_filter = ["status", PaymentByMethodFilter, "created_at"]
    list_select_related = ["order"]
    search_fields = ["order__number", "order__customer__email", "gateway_reference"]
    search_help_text = "Search by order number, customer email or gateway reference."
    fields = [
        "order", "amount", "method", "status", "gateway_reference", "attempt_count", "last_error",
        "created_at", "updated_at",
    ]  # fmt: skip
    inlines = [PaymentAttemptInline]

    @admin.display(description="order status", ordering="order__status")
    def order_status(self, payment: Payment) -> str:
        return order_status_badge(payment.order.status)

    @admin.display(description="method", ordering="method")
    def payment_method(self, payment: Payment) -> str:
        return method_label(payment.method)

    @admin.display(description="amount", ordering="amount")
    def amount_paid(self, payment: Payment) -> str:
        return money(payment.amount)

    @admin.display(description="status", ordering="status")
    def status_badge(self, payment: Payment) -> str:
        return payment_status_badge(payment)

    @admin.display(description="attempts", ordering="attempt_count")
    def attempts(self, payment: Payment) -> int:
        return payment.attempt_count

    @admin.display(description="created", ordering="created_at")
    def created(self, payment: Payment) -> str:
        return format_html(
            '<span title="{}">{}</span>', short_datetime(payment.created_at), short_date(payment.created_at)
        )


@admin.register(PaymentAttempt)
class PaymentAttemptAdmin(ReadOnlyAdmin):
    list_display = ["payment", "number", "outcome", "duration_ms", "created_at"]
    list_filter = ["outcome", "created_at"]
    list_select_related = ["payment__order"]  # a payment names itself by its order
    search_fields = ["payment__order__number", "payment__gateway_reference"]


def document_links(document, kind: str) -> str:
    """Return links to a document's printable page and its PDF (`kind`: invoice, credit-note), each in a new tab."""
    return format_html(
        '<a href="{}" target="_blank" rel="noopener">Print ↗</a>'
        ' · <a href="{}" target="_blank" rel="noopener">PDF ↗</a>',
        reverse(f"{kind}-print", args=[document.pk]),
        reverse(f"{kind}-pdf", args=[document.pk]),
    )


INVOICE_STATE_TONES = {
    Invoice.State.UNPAID: "waiting",
    Invoice.State.PAID: "good",
    Invoice.State.PARTIALLY_REFUNDED: "active",
    Invoice.State.REFUNDED: "neutral",
    Invoice.State.CANCELLED: "bad",
}


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    change_list_template = "admin/one_line_change_list.html"
    list_display = ["number", "order", "total_amount", "state", "issued", "print_link"]  # method: a filter
    list_filter = [PaymentMethodFilter, "issued_at"]
    list_select_related = ["order"]
    search_fields = ["number", "order__number", "order__customer__email"]
    search_help_text = "Search by invoice number, order number or customer email."
    fields = [
        "number", "order", "issued_at", "payment_method", "subtotal", "discount", "total", "state", "credit_notes",
        "print_link",
    ]  # fmt: skip
    readonly_fields = ["state", "credit_notes", "print_link"]
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

    def get_queryset(self, request):
        return super().get_queryset(request).with_state()

    @admin.display(description="total", ordering="total")
    def total_amount(self, invoice: Invoice) -> str:
        return money(invoice.total)

    @admin.display(description="issued", ordering="issued_at")
    def issued(self, invoice: Invoice) -> str:
        return format_html(
            '<span title="{}">{}</span>', short_datetime(invoice.issued_at), short_date(invoice.issued_at)
        )

    @admin.display(description="state")
    def state(self, invoice: Invoice) -> str:
        return badge(invoice.state_label, INVOICE_STATE_TONES[invoice.state])

    @admin.display(description="credit notes")
    def credit_notes(self, invoice: Invoice) -> str:
        return credit_note_links(invoice.credit_notes.all()) or "None"

    @admin.display(description="printable")
    def print_link(self, invoice: Invoice) -> str:
        """Link the printable page and the PDF; the API serves them to staff signed in to the admin (the session)."""
        return document_links(invoice, "invoice")


def credit_note_links(notes) -> str:
    """Link each credit note's admin page, with its amount."""
    return format_html_join(
        ", ",
        '<a href="{}">{}</a> (-{})',
        (
            (reverse("admin:billing_creditnote_change", args=[note.pk]), note.number, money(note.amount))
            for note in notes
        ),
    )


@admin.register(InvoiceSequence)
class InvoiceSequenceAdmin(ReadOnlyAdmin):
    list_display = ["year", "last_number"]


@admin.register(CreditNoteSequence)
class CreditNoteSequenceAdmin(ReadOnlyAdmin):
    list_display = ["year", "last_number"]


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyAdmin):
    change_list_template = "admin/one_line_change_list.html"
    list_display = ["number", "invoice", "order", "amount_credited", "issued", "print_link"]
    list_filter = ["issued_at"]
    list_select_related = ["invoice__order"]
    search_fields = ["number", "invoice__number", "invoice__order__number", "invoice__order__customer__email"]
    search_help_text = "Search by credit note number, invoice number, order number or customer email."
    fields = ["number", "invoice", "order", "refund", "issued_at", "amount", "reason", "credited_lines", "print_link"]
    readonly_fields = ["order", "credited_lines", "print_link"]

    @admin.display(description="amount", ordering="amount")
    def amount_credited(self, note: CreditNote) -> str:
        return money(note.amount)

    @admin.display(description="issued", ordering="issued_at")
    def issued(self, note: CreditNote) -> str:
        return format_html('<span title="{}">{}</span>', short_datetime(note.issued_at), short_date(note.issued_at))

    @admin.display(description="order", ordering="invoice__order__number")
    def order(self, note: CreditNote) -> str:
        order = note.invoice.order
        return format_html('<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[order.pk]), order.number)

    @admin.display(description="lines")
    def credited_lines(self, note: CreditNote) -> str:
        lines = ((line["quantity"], line["product_name"], line["sku"], line["amount"]) for line in note.lines)
        return format_html_join("", "<div>{} x {} ({}): -{}</div>", lines) or "The rest of the invoice"

    @admin.display(description="printable")
    def print_link(self, note: CreditNote) -> str:
        return document_links(note, "credit-note")


class RefundLineInline(ViewOnlyMixin, admin.TabularInline):
    model = Refund.lines.rel.related_model
    fields = ["item", "quantity", "amount"]
    readonly_fields = fields
    extra = 0


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "order", "amount", "status", "restock", "actor", "created_at"]
    list_filter = ["status", "restock", "created_at"]
    list_select_related = ["payment__order", "actor"]
    search_fields = ["payment__order__number", "payment__order__customer__email", "gateway_reference"]
    search_help_text = "Search by order number, customer email or gateway reference."
    fields = [
        "payment", "amount", "status", "reason", "restock", "actor", "gateway_reference", "attempt_count",
        "last_error", "created_at", "updated_at",
    ]  # fmt: skip
    inlines = [RefundLineInline]

    @admin.display(description="order", ordering="payment__order__number")
    def order(self, refund: Refund) -> str:
        return refund.payment.order.number


class PaymentInline(ViewOnlyMixin, admin.TabularInline):
    model = Payment
    template = READ_ONLY_TABLE
    fields = ["payment_link", "status_badge", "amount_paid", "attempts", "gateway_reference", "last_error"]
    readonly_fields = fields
    extra = 0

    @admin.display(description="payment")
    def payment_link(self, payment: Payment) -> str:
        """Link the payment's page, where every gateway attempt is listed."""
        url = reverse("admin:billing_payment_change", args=[payment.pk])
        return format_html(
            '<a href="{}" title="Every gateway attempt">{} payment →</a>', url, method_label(payment.method)
        )

    @admin.display(description="status")
    def status_badge(self, payment: Payment) -> str:
        return payment_status_badge(payment)

    @admin.display(description="amount")
    def amount_paid(self, payment: Payment) -> str:
        return money(payment.amount)

    @admin.display(description="attempts")
    def attempts(self, payment: Payment) -> int:
        return payment.attempt_count


def refundable(order: Order) -> Decimal:
    """Return what came in on the order and has not gone back yet: what refunds may still give back."""
    payment = getattr(order, "payment", None)
    if payment is None or payment.status not in Payment.CAPTURED:
        return Decimal(0)
    return payment.amount - sum((refund.amount for refund in payment.refunds.all()), Decimal(0))


def money_on_cancel(order: Order) -> str:
    """Say what cancelling the order does to its money, as the cancellation's rules will do it."""
    payment = getattr(order, "payment", None)
    if payment is None or payment.status in (Payment.Status.CANCELLED, Payment.Status.FAILED):
        return "No money has come in: nothing to refund."
    if payment.status in Payment.AWAITING_GATEWAY:
        if payment.method == PaymentMethod.CASH:
            return "No cash collected yet: nothing to refund; the invoice is credited in full."
        return "The card has not been charged: the payment is cancelled (a charge in flight is refunded if it lands)."
    left = refundable(order)
    if not left:
        return "Refunded in full already."
    how = "to the card, through the gateway" if payment.method == PaymentMethod.CARD else "in cash"
    return f"{money(left)} refunded {how}, with a credit note."


def stock_on_cancel(order: Order) -> str:
    """Say how many units a cancellation puts back on the shelf."""
    if not order.holds_stock:
        return "No stock held."
    held = order.items.aggregate(units=Sum(F("quantity") - F("quantity_returned")))["units"] or 0
    return ngettext("%d unit back into stock.", "%d units back into stock.", held) % held


def confirm_orders(modeladmin, request, orders, *, action: str, title: str, button: str, rows, back_url: str = ""):
    """Render the confirmation page of an order action: one row per order, saying what will happen.

    `rows` are (order, stock, money) sentences. The page posts back to where it was asked
    from (the order list's action, or one order's cancel page) and leads back to `back_url`
    (default: the order list).
    """
    return TemplateResponse(
        request,
        "admin/billing/confirm_orders.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "opts": modeladmin.model._meta,
            "orders": orders,
            "rows": [
                {
                    "order": order,
                    "customer": order.customer.full_name,
                    "status": order_status_badge(order.status),
                    "total": money(order.total),
                    "stock": stock,
                    "money": money_sentence,
                }
                for order, stock, money_sentence in rows
            ],
            "action": action,
            "button": button,
            "back_url": back_url,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        },
    )


def cancel_each(modeladmin, request, orders, note: str) -> list[Order]:
    """Cancel each order through its rules (stock back, money settled), say each refusal, return those cancelled."""
    cancelled = []
    for order in orders:
        try:
            order.cancel(actor=request.user, note=note or "Cancelled in the admin.")
            cancelled.append(order)
        except DomainError as refusal:
            modeladmin.message_user(request, refusal_message(order, refusal), level=messages.WARNING)
    return cancelled


@admin.action(description="Cancel selected orders…", permissions=["change"])
def cancel_orders(modeladmin, request, queryset):
    """Cancel the selected orders after a page that says what happens to each one's stock and money."""
    orders = list(queryset.select_related("customer", "payment").order_by("pk"))
    if request.POST.get("confirmed") != "yes":
        rows = [(order, stock_on_cancel(order), money_on_cancel(order)) for order in orders]
        return confirm_orders(
            modeladmin, request, orders, action="cancel_orders", title="Cancel these orders?",
            button="Yes, cancel them", rows=rows,
        )  # fmt: skip
    cancelled = len(cancel_each(modeladmin, request, orders, request.POST.get("note", "").strip()[:500]))
    if cancelled:
        modeladmin.message_user(request, ngettext("%d order cancelled.", "%d orders cancelled.", cancelled) % cancelled)
    return None


@admin.action(description="Refund selected orders in full…", permissions=["refund"])
def refund_orders(modeladmin, request, queryset):
    """Refund everything not refunded yet of the selected orders, after a page that says how much each."""
    orders = list(queryset.select_related("customer", "payment").order_by("pk"))
    if request.POST.get("confirmed") != "yes":
        rows = [
            (order, "No stock change (use the order's refund page to return units).", money_on_refund(order))
            for order in orders
        ]
        return confirm_orders(
            modeladmin, request, orders, action="refund_orders", title="Refund these orders in full?",
            button="Yes, refund them", rows=rows,
        )  # fmt: skip
    reason = request.POST.get("note", "").strip()[:500]
    refunded = 0
    for order in orders:
        try:
            hand_over(Refund.objects.issue(order, reason=reason, actor=request.user))
            refunded += 1
        except DomainError as refusal:
            modeladmin.message_user(request, refusal_message(order, refusal), level=messages.WARNING)
    if refunded:
        modeladmin.message_user(request, ngettext("%d order refunded.", "%d orders refunded.", refunded) % refunded)
    return None


def money_on_refund(order: Order) -> str:
    payment = getattr(order, "payment", None)
    if payment is None or payment.status not in Payment.CAPTURED:
        return "Nothing has been paid yet: it will be refused."
    left = refundable(order)
    if not left:
        return "Refunded in full already: it will be refused."
    how = "to the card, through the gateway" if payment.method == PaymentMethod.CARD else "in cash"
    return f"{money(left)} refunded {how}, with a credit note."


class RefundForm(forms.Form):
    """The units to refund of each line (at most those not refunded yet), whether they go back to stock, and why."""

    restock = forms.BooleanField(required=False, label="Put the returned units back into stock")
    reason = forms.CharField(max_length=500, required=False)

    def __init__(self, *args, lines, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            self.fields[f"item_{line.pk}"] = forms.IntegerField(
                required=False,
                min_value=0,
                max_value=line.refundable,
                initial=0,
                label=f"{line.product_name} ({line.sku})",
            )

    def units(self) -> dict[int, int]:
        return {
            line.pk: self.cleaned_data[f"item_{line.pk}"] for line in self.lines if self.cleaned_data[f"item_{line.pk}"]
        }

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not self.units():
            raise forms.ValidationError("Choose at least one unit to refund.")
        return cleaned


def credit_note_line(note: CreditNote) -> str:
    """Say a credit note on its order's page: its number (linking its page), amount, and printable links."""
    url = reverse("admin:billing_creditnote_change", args=[note.pk])
    return format_html(
        '<a href="{}">{}</a> -{} · {}', url, note.number, money(note.amount), document_links(note, "credit-note")
    )


def refund_line(refund: Refund) -> str:
    """Say a refund on its order's page: amount (linking it), progress, reason, restock, credit note, who, when."""
    note = getattr(refund, "credit_note", None)
    return format_html(
        '<a href="{}">{}</a>, {} · {}{}{} · by {}, {}',
        reverse("admin:billing_refund_change", args=[refund.pk]),
        money(refund.amount),
        REFUND_PROGRESS.get(refund.status, refund.get_status_display()),
        refund.reason or "no reason given",
        " · returned to stock" if refund.restock else "",
        format_html(' · <a href="{}">{}</a>', reverse("admin:billing_creditnote_change", args=[note.pk]), note.number)
        if note is not None
        else "",
        refund.actor.get_username() if refund.actor_id else "system",
        short_datetime(refund.created_at),
    )


admin.site.unregister(Order)


@admin.register(Order)
class BilledOrderAdmin(OrderAdmin):
    """The orders app's page, with the order's payment, refunds, invoice and credit notes, and a refund page.

    Its buttons are the orders app's, with cancelling through a page that says what happens
    to the stock and the money first, and a refund button while money is left to give back.
    """

    inlines = [*OrderAdmin.inlines, PaymentInline]
    readonly_fields = [*OrderAdmin.readonly_fields, "invoice_link", "credit_notes", "refunds"]
    fieldsets = [
        (name, {**options, "fields": [*options["fields"], "invoice_link", "credit_notes", "refunds"]})
        if name == "Money"
        else (name, options)
        for name, options in OrderAdmin.fieldsets
    ]
    page_select_related = [*OrderAdmin.page_select_related, "payment"]
    page_prefetch_related = [
        *OrderAdmin.page_prefetch_related,
        Prefetch("invoice", queryset=Invoice.objects.with_state()),
        Prefetch("invoice__credit_notes", queryset=CreditNote.objects.order_by("issued_at", "id")),
        Prefetch("payment__refunds", queryset=Refund.objects.select_related("credit_note", "actor").order_by("pk")),
    ]
    actions = [
        *(action for action in OrderAdmin.actions if getattr(action, "__name__", "") != "mark_cancelled"),
        cancel_orders,
        refund_orders,
    ]

    def has_refund_permission(self, request) -> bool:
        return request.user.has_perm("billing.add_refund")

    def get_urls(self):
        refund = self.admin_site.admin_view(self.refund_view)
        cancel = self.admin_site.admin_view(self.cancel_view)
        return [
            path("<int:order_id>/refund/", refund, name="orders_order_refund"),
            path("<int:order_id>/cancel/", cancel, name="orders_order_cancel"),
            *super().get_urls(),
        ]

    def workbench_buttons(self, request, order: Order) -> list[WorkbenchButton]:
        """The orders app's buttons, cancelling through its confirmation page, and a refund button if money is left."""
        buttons = [
            WorkbenchButton(
                "Cancel order…",
                url=reverse("admin:orders_order_cancel", args=[order.pk]),
                title="See what happens to the stock and the money, then confirm",
                danger=True,
            )
            if button.status == Status.CANCELLED
            else button
            for button in super().workbench_buttons(request, order)
        ]
        if self.has_refund_permission(request) and refundable(order):
            buttons.append(
                WorkbenchButton(
                    "Refund or return items…",
                    url=reverse("admin:orders_order_refund", args=[order.pk]),
                    title=f"{money(refundable(order))} can still be refunded",
                )
            )
        return buttons

    @admin.display(description="invoice")
    def invoice_link(self, order: Order) -> str:
        invoice = getattr(order, "invoice", None)
        if invoice is None:
            return "Issued when the order is confirmed."
        return format_html(
            '<a href="{}">{}</a> ({}) · {}',
            reverse("admin:billing_invoice_change", args=[invoice.pk]),
            invoice.number,
            invoice.state_label,
            document_links(invoice, "invoice"),
        )

    @admin.display(description="credit notes")
    def credit_notes(self, order: Order) -> str:
        invoice = getattr(order, "invoice", None)
        notes = invoice.credit_notes.all() if invoice is not None else []
        return format_html_join("", "<div>{}</div>", ((credit_note_line(note),) for note in notes)) or "None"

    @admin.display(description="refunds")
    def refunds(self, order: Order) -> str:
        payment = getattr(order, "payment", None)
        refunds = payment.refunds.all() if payment is not None else []
        return format_html_join("", "<div>{}</div>", ((refund_line(refund),) for refund in refunds)) or "None"

    def cancel_view(self, request, order_id: int):
        """Cancel one order after the page that says what happens to its stock and money (the list action's page)."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        order = get_object_or_404(Order.objects.select_related("customer", "payment"), pk=order_id)
        back = reverse("admin:orders_order_change", args=[order.pk])
        if request.method == "POST" and request.POST.get("confirmed") == "yes":
            if cancel_each(self, request, [order], request.POST.get("note", "").strip()[:500]):
                self.message_user(request, f"{order.number} is now Cancelled.")
            return redirect(back)
        return confirm_orders(
            self, request, [order], action="cancel_orders", title=f"Cancel order {order.number}?",
            button="Yes, cancel it", rows=[(order, stock_on_cancel(order), money_on_cancel(order))], back_url=back,
        )  # fmt: skip

    def refund_view(self, request, order_id: int):
        """Refund some units of some lines, optionally back into stock, through Refund.objects.issue."""
        if not self.has_refund_permission(request):
            raise PermissionDenied
        order = get_object_or_404(Order.objects.select_related("customer", "payment"), pk=order_id)
        lines = list(
            order.items.annotate(refunded=Coalesce(Sum("refund_lines__quantity"), 0)).annotate(
                refundable=F("quantity") - F("refunded")
            )
        )
        form = RefundForm(request.POST if request.method == "POST" else None, lines=lines)
        if request.method == "POST" and form.is_valid():
            try:
                refund = Refund.objects.issue(
                    order,
                    units=form.units(),
                    restock=form.cleaned_data["restock"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except DomainError as refusal:
                form.add_error(None, refusal.detail)
            else:
                hand_over(refund)
                done = "paid out" if refund.status == Refund.Status.SUCCEEDED else "sent to the gateway"
                self.message_user(request, f"Refunded {money(refund.amount)} ({done}).")
                return redirect("admin:orders_order_change", order.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Refund or return items of order {order.number}",
            "opts": self.opts,
            "original": order,
            "order": order,
            "form": form,
            "rows": [(line, form[f"item_{line.pk}"]) for line in lines],
            "money": money_on_refund(order),
            "status": order_status_badge(order.status),
            "total": money(order.total),
        }
        return TemplateResponse(request, "admin/billing/refund_order.html", context)
