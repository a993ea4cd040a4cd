from datetime import UTC, timedelta

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField

from orders.models import Order

# Real-world UTC offsets run from -12:00 to +14:00; PostgreSQL refuses some beyond them.
EARLIEST_OFFSET, LATEST_OFFSET = timedelta(hours=-12), timedelta(hours=14)


class UTCDateTimeField(IsoDateTimeField):
    """An ISO 8601 time with a real-world offset, handed on in UTC (so the database never sees the offset)."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        if not EARLIEST_OFFSET <= moment.utcoffset() <= LATEST_OFFSET:
            raise forms.ValidationError("The UTC offset must be between -12:00 and +14:00.", code="invalid")
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError("Enter a time between the years 1 and 9999 in UTC.", code="invalid") from None


class UTCDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCDateTimeField


class OrderFilter(django_filters.FilterSet):
    created_after = UTCDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label="Created at or after this time (ISO 8601)."
    )
    created_before = UTCDateTimeFilter(
        field_name="created_at", lookup_expr="lt", label="Created before this time (ISO 8601)."
    )

    class Meta:
        model = Order
        fields = ["status", "customer", "delivery_method", "payment_method", "created_after", "created_before"]
