import django_filters
from django import forms
from drf_spectacular.utils import extend_schema_field

from catalog.models import Category, Product, Variant

# Price bounds are limited like the price column, so no value reaches the database that it cannot compare.
PRICE_DIGITS = {
    "max_digits": Variant._meta.get_field("price").max_digits,
    "decimal_places": Variant._meta.get_field("price").decimal_places,
}


class CategoryFilter(django_filters.FilterSet):
    class Meta:
        model = Category
        fields = ["parent", "slug", "is_active"]


class OptionValuesField(forms.Field):
    """Repeated `Name:Value` pairs, parsed to {"Name": ["Value", ...]}."""

    widget = forms.MultipleHiddenInput  # reads every value of a repeated query parameter

    def to_python(self, value) -> dict[str, list[str]]:
        wanted: dict[str, list[str]] = {}
        for pair in value or []:
            name, colon, option_value = pair.partition(":")
            if not colon or not name.strip() or not option_value.strip():
                # The input goes in as a parameter: django-filter formats the message with `%`.
                raise forms.ValidationError(
                    "Write each option as Name:Value, e.g. Size:M (not %(pair)r).", params={"pair": pair}
                )
            wanted.setdefault(name.strip(), []).append(option_value.strip())
        return wanted


OPTION_HELP = (
    "An option value as Name:Value, e.g. Size:M; repeat it. Values of one option are alternatives "
    "(option=Size:M&option=Size:L: M or L), different options all apply (and option=Colour:Navy): some "
    "active variant has them all. With in_stock=true, that variant has stock."
)


# Documented by hand: the schema generator cannot read a custom form field's type.
@extend_schema_field({"type": "array", "items": {"type": "string", "example": "Size:M"}, "description": OPTION_HELP})
class OptionValuesFilter(django_filters.Filter):
    field_class = OptionValuesField


class ProductFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search",
        label="Words to find. On PostgreSQL: ranked full-text search over name and SKUs, category names, "
        'option values and description, in web search syntax ("a phrase", -excluded, or), most relevant '
        "first unless `ordering` is given, with names close in spelling added when few products match. "
        "On SQLite: products containing every word in their name, a SKU or their description.",
    )
    option = OptionValuesFilter(method="filter_option", label=OPTION_HELP)
    category = django_filters.NumberFilter(
        method="filter_category", label="Category id; includes its sub-categories at any depth."
    )
    category_slug = django_filters.CharFilter(
        method="filter_category_slug", label="Category slug; includes its sub-categories at any depth."
    )
    # Over the product's price range (its active variants'): a product is kept when some
    # variant costs at least `min_price`, and some variant at most `max_price`.
    min_price = django_filters.NumberFilter(
        field_name="price_max",
        lookup_expr="gte",
        **PRICE_DIGITS,
        label="Lowest price, e.g. 10.00: products with a variant at this price or above.",
    )
    max_price = django_filters.NumberFilter(
        field_name="price_min",
        lookup_expr="lte",
        **PRICE_DIGITS,
        label="Highest price, e.g. 49.99: products with a variant at this price or below.",
    )
    in_stock = django_filters.BooleanFilter(
        method="filter_in_stock", label="Only products with stock (true), or only sold-out ones (false)."
    )

    class Meta:
        model = Product
        fields = ["category", "category_slug", "min_price", "max_price", "in_stock", "is_active", "option", "search"]

    def filter_search(self, queryset, name, value):
        """Products matching the words, most relevant first (ProductQuerySet.search)."""
        return queryset.search(value)

    def filter_option(self, queryset, name, value):
        """Products with an active variant having the option values asked for (in stock, with in_stock=true)."""
        if not value:
            return queryset
        return queryset.with_option_values(value, in_stock=self.form.cleaned_data.get("in_stock") is True)

    def filter_category(self, queryset, name, value):
        """Products in this category or any category below it."""
        return queryset.in_category(int(value))

    def filter_category_slug(self, queryset, name, value):
        """Products in the category with this slug or any category below it."""
        category_id = Category.objects.filter(slug=value).values_list("pk", flat=True).first()
        if category_id is None:
            return queryset.none()
        return queryset.in_category(category_id)

    def filter_in_stock(self, queryset, name, value):
        """Products with an active variant in stock (true), or with none (false)."""
        return queryset.filter(queryset.has_stock()) if value else queryset.exclude(queryset.has_stock())
