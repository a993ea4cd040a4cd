"""Test run: the embedded default, or PostgreSQL + Redis when DATABASE_URL / REDIS_URL are set."""

import os
import tempfile
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import CACHES, CELERY_BROKER_URL, REDIS_URL

DEBUG = False
SECRET_KEY = "test-only-secret-key-not-for-production-use-0123456789"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = tempfile.mkdtemp(prefix="shopkeep-test-media-")
STATIC_ROOT = tempfile.mkdtemp(prefix="shopkeep-test-static-")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Tests drive the payment worker themselves (or start a real one against Redis): card
# orders stay pending after placement, on every backend.
CELERY_TASK_ALWAYS_EAGER = False


# --- Parallel runs (pytest -n N): a Redis database per xdist worker ---------
# Tests flush the Redis database and use it as the Celery broker, so worker gwK takes
# the database K above REDIS_URL's (redis://host:6379/10: gw0 uses 10, gw1 11). The
# environment is left as it is: a subprocess on these settings inherits REDIS_URL and
# PYTEST_XDIST_WORKER and so moves to the same database. The test databases need nothing
# here: pytest-django names them test_<name>_gwK.
def redis_url_for_worker(url: str, worker: str) -> str:
    """Return `url` moved up by the xdist worker's number ("gw1": one database up)."""
    parts = urlsplit(url)
    database = int(parts.path.strip("/") or 0) + int(worker.removeprefix("gw"))
    if database > 15:
        message = f"xdist worker {worker} on {url} needs Redis database {database}: start from a lower one"
        raise ImproperlyConfigured(message)
    return urlunsplit(parts._replace(path=f"/{database}"))


XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if XDIST_WORKER and REDIS_URL:
    if CELERY_BROKER_URL.startswith("redis"):
        CELERY_BROKER_URL = redis_url_for_worker(CELERY_BROKER_URL, XDIST_WORKER)
    REDIS_URL = CACHES["default"]["LOCATION"] = redis_url_for_worker(REDIS_URL, XDIST_WORKER)
