from rest_framework.filters import OrderingFilter


class StableOrderingFilter(OrderingFilter):
    """Ordering that always ends on the primary key, so pages never repeat or skip rows."""

    def get_ordering(self, request, queryset, view):
        requested = super().get_ordering(request, queryset, view)
        ordering = list(requested or queryset.query.order_by or queryset.model._meta.ordering)
        if not {"pk", "-pk", "id", "-id"} & set(ordering):
            ordering.append("pk")
        return ordering
