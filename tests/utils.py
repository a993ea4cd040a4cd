"""Helpers for tests that need more than fixtures."""

import pytest
from django.conf import settings

ON_POSTGRESQL = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

requires_postgresql = pytest.mark.skipif(
    not ON_POSTGRESQL,
    reason="races need PostgreSQL row locks and concurrent connections; SQLite serialises writers",
)
