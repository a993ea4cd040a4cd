from datetime import date, datetime, time, timedelta

from django.db import models
from django.utils import timezone


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
