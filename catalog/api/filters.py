import django_filters

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


class ProductFilter(django_filters.FilterSet):
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
        fields = ["category", "category_slug", "min_price", "max_price", "in_stock", "is_active"]

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
