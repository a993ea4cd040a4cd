"""The Celery app: Redis broker from REDIS_URL, eager on the embedded default."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("shopkeep")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
