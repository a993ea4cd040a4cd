"""Test run: the embedded default, or PostgreSQL + Redis when DATABASE_URL / REDIS_URL are set."""

import tempfile

from .base import *  # noqa: F403

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
