"""The Celery app: Redis broker from REDIS_URL, eager on the embedded default."""

import os

from celery import Celery
from celery.signals import before_task_publish, task_postrun, task_prerun

from common.request_id import (
    add_request_id_to_task,
    forget_request_id_after_task,
    restore_request_id_in_task,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("shopkeep")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

before_task_publish.connect(add_request_id_to_task, dispatch_uid="shopkeep.request_id.publish")
task_prerun.connect(restore_request_id_in_task, dispatch_uid="shopkeep.request_id.prerun")
task_postrun.connect(forget_request_id_after_task, dispatch_uid="shopkeep.request_id.postrun")
