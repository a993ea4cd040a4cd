"""The variant pages: where stock moves, through the stock rules only.

The restock action adds units through `Variant.objects.release`, and a variant's page
adjusts its stock by a number of units through `Variant.objects.adjust_stock`; neither
writes a count a form read earlier.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.translation import ngettext

from catalog.admin.lists import CategoryTreeFilter, LowStockChangeList, StockLevelFilter
from catalog.admin.products import price_help, price_label
from catalog.exceptions import InsufficientStock, StockLimitExceeded
from catalog.managers import LOW_STOCK_ORDER
from catalog.models import Category, OptionValue, Variant
from common.admin import activate, csv_export_action, deactivate, money


class VariantStockLevelFilter(StockLevelFilter):
    def at_or_below(self, queryset, threshold: int | None):
        return queryset.active().low_stock(threshold)


class VariantCategoryFilter(CategoryTreeFilter):
    """Variants of products in a category or any category below it."""

    title = "category of the product"

    def in_category(self, queryset, category_id: int):
        return queryset.filter(product__category_id__in=Category.objects.descendant_ids(category_id))


class RestockForm(forms.Form):
    units = forms.IntegerField(
        label="Units to add to each variant", min_value=1, max_value=Variant.MAX_STOCK, initial=1
    )


@admin.action(description="Restock selected variants…", permissions=["change"])
def restock(modeladmin, request, queryset):
    """Add the same number of units to each selected variant, after a page asking how many.

    Through `Variant.objects.release`, all or nothing: when a variant would pass MAX_STOCK,
    the page asks again, naming each such variant, and no stock moves.
    """
    variants = list(queryset.select_related("product").order_by("pk"))
    form = RestockForm(request.POST if request.POST.get("apply") else None)
    if form.is_valid():
        units = form.cleaned_data["units"]
        try:
            Variant.objects.release({variant.pk: units for variant in variants})
        except StockLimitExceeded as over:
            refused = {line["variant"] for line in over.facts["lines"]}
            for variant in variants:
                if variant.pk in refused:
                    form.add_error(
                        "units",
                        f"{variant.sku} ({variant.product.name}) has {variant.stock:,} units, and a variant holds "
                        f"at most {Variant.MAX_STOCK:,}.",
                    )
            form.add_error(None, "Nothing was restocked. Add fewer units, or leave out the variants named below.")
        else:
            unit_words = ngettext("%(units)s unit", "%(units)s units", units) % {"units": f"{units:,}"}
            variant_words = ngettext("%d variant", "%d variants", len(variants)) % len(variants)
            modeladmin.message_user(request, f"Added {unit_words} to {variant_words}.", level=messages.SUCCESS)
            return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Restock variants",
        "opts": modeladmin.model._meta,
        "variants": variants,
        "form": form,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/catalog/variant/restock.html", context)


class VariantAddForm(forms.ModelForm):
    """A variant added to a product here: its option values typed as "Size: M, Colour: Navy"."""

    stock = forms.IntegerField(label="Initial stock", min_value=0, max_value=Variant.MAX_STOCK, initial=0)
    options = forms.CharField(
        label="options",
        required=False,
        max_length=1000,
        help_text="One value of each of the product's options: Size: M, Colour: Navy. "
        "Empty for a product without options.",
    )

    class Meta:
        model = Variant
        fields = ["product", "sku", "options", "price", "stock", "is_active", "position"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["price"].label, self.fields["price"].help_text = price_label(), price_help()
        self.values: list[OptionValue] = []

    def clean(self):
        """Find the option values by name (`option_values_named`) and refuse a combination another variant has."""
        cleaned = super().clean()
        product = cleaned.get("product")
        if product is None or "options" in self.errors:
            return cleaned
        named = {}
        for part in filter(None, (part.strip() for part in cleaned.get("options", "").split(","))):
            name, _colon, value = part.partition(":")
            named[name.strip()] = value.strip()
        try:
            self.values = product.option_values_named(named)
        except ValidationError as refused:
            self.add_error("options", refused.message_dict["options"])
            return cleaned
        chosen = {value.pk for value in self.values}
        for variant in product.variants.prefetch_related("option_values"):
            if {value.pk for value in variant.option_values.all()} == chosen:
                self.add_error("options" if chosen else None, f"{variant.sku} already has these options.")
        return cleaned


class VariantChangeForm(forms.ModelForm):
    """Change an existing variant; stock moves by a number of units, never by writing a count."""

    adjust_stock_by = forms.IntegerField(
        required=False,
        label="Adjust stock by",
        min_value=-Variant.MAX_STOCK,
        max_value=Variant.MAX_STOCK,
        help_text="Units to add (positive) or remove (negative). Leave blank to keep the stock as it is.",
    )

    class Meta:
        model = Variant
        fields = ["sku", "price", "is_active", "position"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "price" in self.fields:
            self.fields["price"].label, self.fields["price"].help_text = price_label(), price_help()

    def clean_adjust_stock_by(self) -> int:
        """Refuse early what would take stock below zero or past the most; the conditional update has the final word."""
        delta = self.cleaned_data["adjust_stock_by"] or 0
        if self.instance.stock + delta < 0:
            raise forms.ValidationError(
                f"Only {self.instance.stock:,} in stock; cannot remove {-delta:,}.", code="insufficient_stock"
            )
        if self.instance.stock + delta > Variant.MAX_STOCK:
            raise forms.ValidationError(
                f"A variant holds at most {Variant.MAX_STOCK:,} units; it has {self.instance.stock:,}.",
                code="stock_limit_exceeded",
            )
        return delta


@admin.register(Variant)
class VariantAdmin(admin.ModelAdmin):
    list_display = ["sku", "product_name", "options", "price_with_currency", "stock", "is_active"]
    list_filter = ["is_active", VariantStockLevelFilter, VariantCategoryFilter]
    list_select_related = ["product"]
    search_fields = ["sku", "product__name"]
    search_help_text = "Search by SKU or product name."
    autocomplete_fields = ["product"]
    show_full_result_count = False
    actions = [restock, activate, deactivate, "export_csv"]
    low_stock_order = LOW_STOCK_ORDER

    def get_changelist(self, request, **kwargs):
        return LowStockChangeList

    def get_queryset(self, request):
        """Each variant with its option values and their options: one more query for the page."""
        values = OptionValue.objects.select_related("option")
        return super().get_queryset(request).prefetch_related(Prefetch("option_values", queryset=values))

    def get_ordering(self, request):
        if StockLevelFilter.is_chosen(request.GET):
            return self.low_stock_order
        return super().get_ordering(request)

    @admin.display(description="product", ordering="product__name")
    def product_name(self, variant: Variant) -> str:
        return format_html('<span title="{}">{}</span>', variant.product.name, variant.product.name)

    @admin.display(description="options")
    def options(self, variant: Variant) -> str:
        return format_html('<span title="{}">{}</span>', variant.title, variant.title or "-")

    @admin.display(description="price", ordering="price")
    def price_with_currency(self, variant: Variant) -> str:
        return money(variant.price)

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = VariantAddForm if obj is None else VariantChangeForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["product", "sku", "options", "price", "stock", "is_active", "position"]})]
        stock = ["stock"]
        # Only staff who may change the variant can adjust its stock.
        if self.has_change_permission(request, obj):
            stock.append("adjust_stock_by")
        return [
            (None, {"fields": ["product", "sku", "options", "price", "is_active", "position"]}),
            ("Stock", {"fields": stock}),
            ("History", {"fields": ["created_at", "updated_at"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["product", "options", "stock", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        """Save; a new variant then takes its option values, and a changed one's stock moves by the adjustment."""
        super().save_model(request, obj, form, change)
        if not change:
            obj.set_option_values(form.values)
            return
        delta = form.cleaned_data.get("adjust_stock_by")
        if not delta:
            return
        try:
            Variant.objects.adjust_stock(obj.pk, delta)
        except (InsufficientStock, StockLimitExceeded) as refused:
            # Stock moved between the form's check and the update (an order came in).
            messages.error(request, f"Stock was not adjusted. {refused.detail}")

    export_csv = csv_export_action(
        "variants",
        {
            "sku": "sku",
            "product": "product__name",
            "price": "price",
            "stock": "stock",
            "is_active": "is_active",
        },
    )
