import django_filters

from customers.models import Address, Customer


class CustomerFilter(django_filters.FilterSet):
    email = django_filters.CharFilter(field_name="email", lookup_expr="iexact", label="Exact email, any letter case.")
    search = django_filters.CharFilter(method="filter_search", label="Words found in the first or last name or email.")

    class Meta:
        model = Customer
        fields = ["email", "search"]

    def filter_search(self, queryset, name, value):
        return queryset.search(value)


class AddressFilter(django_filters.FilterSet):
    class Meta:
        model = Address
        fields = ["customer", "country", "is_default"]
