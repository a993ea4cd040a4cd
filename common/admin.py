"""Admin helpers shared by the apps."""

import csv
from collections.abc import Callable, Iterable
from decimal import Decimal
from itertools import chain

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import model_ngettext
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.html import format_html


def spreadsheet_safe(value):
    """Quote text a spreadsheet would run as a formula (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return f"'{value}"
    return value


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def csv_response(name: str, header: list[str], rows: Iterable[Iterable]) -> StreamingHttpResponse:
    """Stream rows as a CSV download, so a large selection never sits in memory."""
    writer = csv.writer(_Echo())
    cells = (map(spreadsheet_safe, row) for row in rows)
    response = StreamingHttpResponse(map(writer.writerow, chain([header], cells)), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{name}-{timezone.now():%Y%m%d-%H%M%S}.csv"'
    return response


def csv_export_action(name: str, columns: dict[str, str]) -> Callable:
    """Build an admin action exporting the selected rows; `columns` maps header to a values() path."""

    def export_csv(modeladmin, request, queryset):
        rows = queryset.values_list(*columns.values()).iterator(chunk_size=2000)
        return csv_response(name, list(columns), rows)

    export_csv.short_description = "Export selected as CSV"
    export_csv.allowed_permissions = ("view",)
    return export_csv


class ViewOnlyMixin:
    """For rows only the shop's own rules write (lines, history, payments): staff look, never edit here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """A changelist and view page for staff who may view the rows; nobody adds, changes or deletes them."""

    show_full_result_count = False  # counting every row on each page view is slow at 100,000 rows


def switch_active(modeladmin, request, queryset, is_active: bool) -> None:
    """Switch the selected rows on or off through their queryset's `set_active` and say how many changed."""
    changed = queryset.set_active(is_active)
    verb = "activated" if is_active else "deactivated"
    modeladmin.message_user(request, f"{changed} {model_ngettext(modeladmin.opts, changed)} {verb}.")


@admin.action(description="Activate selected %(verbose_name_plural)s", permissions=["change"])
def activate(modeladmin, request, queryset) -> None:
    switch_active(modeladmin, request, queryset, True)


@admin.action(description="Deactivate selected %(verbose_name_plural)s", permissions=["change"])
def deactivate(modeladmin, request, queryset) -> None:
    switch_active(modeladmin, request, queryset, False)


def money(amount: Decimal | None) -> str:
    """Show an amount with the shop's currency, as staff read it: "1,234.50 USD"."""
    if amount is None:
        return "-"
    return f"{amount:,.2f} {settings.SHOP_CURRENCY}"


# Badge colours by tone; the admin's own palette variables where one fits, so dark mode reads too.
BADGE_TONES = {
    "neutral": ("#e8e8e8", "#333"),
    "waiting": ("#fff4d6", "#7a5200"),
    "active": ("#dbeafe", "#1e3a8a"),
    "good": ("#dcfce7", "#14532d"),
    "bad": ("#fee2e2", "#7f1d1d"),
}


def badge(label: str, tone: str = "neutral") -> str:
    """Return a coloured pill for a status label; `tone` is one of BADGE_TONES."""
    background, colour = BADGE_TONES[tone]
    return format_html(
        '<span class="shop-badge" style="background:{};color:{};padding:1px 8px;border-radius:10px;'
        'font-size:0.75rem;white-space:nowrap">{}</span>',
        background,
        colour,
        label,
    )
