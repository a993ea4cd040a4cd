from datetime import date, datetime, time, timedelta

from django.db import models
from django.utils import timezone


class MoneyField(models.DecimalField):
    """An amount of the store currency (SPEC §4): a Decimal of 12 digits, 2 after the point."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        """Describe itself to migrations as the DecimalField it is in the database: no migration to adopt it."""
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.DecimalField", args, kwargs


class ActivatableQuerySet(models.QuerySet):
    """Rows that staff switch on and off with `is_active` (products, categories, discount codes)."""

    def active(self):
        """Rows switched on."""
        return self.filter(is_active=True)

    def set_active(self, is_active: bool) -> int:
        """Switch these rows on or off through `update()` (so a model's own bulk rules run); return how many changed."""
        return self.exclude(is_active=is_active).update(is_active=is_active, updated_at=timezone.now())

    set_active.alters_data = True


class TimeStampedModel(models.Model):
    """Abstract base giving every model `created_at` and `updated_at`."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


def created_on(day: date) -> dict:
    """Return the `created_at` lookups for `day`, midnight to midnight in the current time zone.

    They are the very parameters of the admin's "Today" date filter, so a changelist link
    built from them shows that filter chosen.
    """
    start = timezone.make_aware(datetime.combine(day, time.min))
    return {"created_at__gte": start, "created_at__lt": start + timedelta(days=1)}
