import django_filters

from catalog.models import Category, Product

# Price bounds are limited like the price column, so no value reaches the database that it cannot compare.
PRICE_DIGITS = {
    "max_digits": Product._meta.get_field("price").max_digits,
    "decimal_places": Product._meta.get_field("price").decimal_places,
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
    min_price = django_filters.NumberFilter(
        field_name="price", lookup_expr="gte", **PRICE_DIGITS, label="Lowest price, e.g. 10.00."
    )
    max_price = django_filters.NumberFilter(
        field_name="price", lookup_expr="lte", **PRICE_DIGITS, label="Highest price, e.g. 49.99."
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
        return queryset.filter(stock__gt=0) if value else queryset.filter(stock=0)
