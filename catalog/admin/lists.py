"""What the product and variant changelists share: the stock level and category filters, thumbnails."""

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.utils.html import format_html

from catalog.models import Category, ProductImage


class StockLevelFilter(admin.SimpleListFilter):
    """Let staff find what needs restocking; the list then reads fewest units first (`low_stock_order`)."""

    title = "stock level"
    parameter_name = "stock_level"

    def lookups(self, request, model_admin):
        return [("low", f"Low (<= {settings.LOW_STOCK_THRESHOLD})"), ("sold_out", "Sold out (0)")]

    def queryset(self, request, queryset):
        if self.value() == "low":
            return self.at_or_below(queryset, None)
        if self.value() == "sold_out":
            return self.at_or_below(queryset, 0)
        return queryset

    def at_or_below(self, queryset, threshold: int | None):
        """Return the rows with an active variant at `threshold` units or fewer (None: the shop's threshold)."""
        return queryset.with_low_stock(threshold)

    @classmethod
    def is_chosen(cls, params) -> bool:
        """Return whether the changelist's query string picks a stock level."""
        return params.get(cls.parameter_name) in ("low", "sold_out")


class CategoryTreeFilter(admin.SimpleListFilter):
    """Products in a category or any category below it, as the API's `?category=` filter."""

    title = "category"
    parameter_name = "category"

    def lookups(self, request, model_admin):
        return [(str(pk), f"{'— ' * depth}{name}") for pk, name, depth in Category.objects.outline()]

    def queryset(self, request, queryset):
        if self.value() in dict(self.lookup_choices):
            return self.in_category(queryset, int(self.value()))
        return queryset

    def in_category(self, queryset, category_id: int):
        return queryset.in_category(category_id)


class LowStockChangeList(ChangeList):
    def get_ordering_field_columns(self):
        """Mark the columns of a low-stock list's sort (the admin's `low_stock_order`), not the model's default."""
        if ORDER_VAR in self.params or not StockLevelFilter.is_chosen(self.params):
            return super().get_ordering_field_columns()
        order = self.model_admin.low_stock_order
        return {index: "asc" for index, name in enumerate(self.list_display) if self.get_ordering_field(name) in order}


def thumbnail(image: ProductImage | None, size: str = "small", height: int = 40) -> str:
    """An image's small thumbnail as an <img> at `height` px, or a dash without one."""
    if image is None:
        return "-"
    return format_html(
        '<img src="{}" alt="{}" style="height:{}px;width:auto;border-radius:3px;vertical-align:middle">',
        image.thumbnail_urls()[size],
        image.alt_text,
        height,
    )
