from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.filters import OrderingFilter


class RequestedFiltersBackend(DjangoFilterBackend):
    """django-filter, run only when the request names one of the filter set's filters.

    A request that names none filters nothing, yet building the filter set and validating its
    form cost about half a millisecond of CPU: a tenth of a customer's own order list. A
    parameter that starts with a filter's name counts as naming it (a range filter reads
    `price_min`), so the check can only err towards running the filters.
    """

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or not any(
            param.startswith(name) for param in request.query_params for name in filterset_class.base_filters
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)


class StableOrderingFilter(OrderingFilter):
    """Ordering that always ends on the primary key, so pages never repeat or skip rows."""

    def get_ordering(self, request, queryset, view):
        requested = super().get_ordering(request, queryset, view)
        ordering = list(requested or queryset.query.order_by or queryset.model._meta.ordering)
        if not {"pk", "-pk", "id", "-id"} & set(ordering):
            ordering.append("pk")
        return ordering
