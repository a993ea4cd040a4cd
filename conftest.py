"""Fixtures shared by every test: API clients, users, a clean cache, and the backend in use."""

import logging
import time
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Permission
from django.core.cache import cache
from rest_framework.test import APIClient

from catalog.factories import ProductFactory
from common.logs import RepeatFilter
from config.celery import app as celery_app
from customers.api.serializers import token_for
from customers.factories import CustomerFactory
from tests.utils import UNREACHABLE_REDIS_CACHE


@pytest.fixture(autouse=True)
def clean_cache():
    """Start every test with an empty cache (locmem, or the test Redis database)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def fresh_log_repeats():
    """Let every test see the first log line of each kind: the once-per-interval filter forgets what it saw.

    It reads django.conf.settings rather than taking pytest-django's `settings` fixture: that
    fixture, pulled into every test, would be restored last and so after other fixtures'
    teardowns that need a test's own settings undone (a Redis put back up, say).
    """
    for name in django_settings.REPEATING_LOGGERS:
        for log_filter in logging.getLogger(name).filters:
            if isinstance(log_filter, RepeatFilter):
                log_filter.reset()


@pytest.fixture
def frozen_ratelimit_clock(monkeypatch):
    """Stop the rate limits' clock, so that a window boundary cannot fall mid-test and reset a count."""
    now = time.time()
    monkeypatch.setattr("common.ratelimit.time", SimpleNamespace(time=lambda: now))


@pytest.fixture
def redis_down(settings):
    """Point the cache at a Redis that does not answer (a real django-redis client, a closed port)."""
    settings.CACHES = {"default": UNREACHABLE_REDIS_CACHE}


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def staff_user(django_user_model):
    """A staff user holding every shop permission, as an admin group would grant."""
    user = django_user_model.objects.create_user(
        username="staff", email="staff@example.com", password="staff-pass-123", is_staff=True
    )
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=["catalog", "customers", "orders", "billing"])
    )
    return user


@pytest.fixture
def staff_without_permissions(django_user_model):
    return django_user_model.objects.create_user(username="bare-staff", password="staff-pass-123", is_staff=True)


@pytest.fixture
def plain_user(django_user_model):
    return django_user_model.objects.create_user(username="shopper", password="shopper-pass-123")


@pytest.fixture
def product(request):
    """A teapot in stock, as most tests buy; a test module sets `PRODUCT = {...}` to change its fields."""
    teapot = {"name": "Teapot", "sku": "TEA-POT", "price": Decimal("19.99"), "stock": 10}
    return ProductFactory(**{**teapot, **getattr(request.module, "PRODUCT", {})})


@pytest.fixture
def customer():
    """A customer whose login password is customers.factories.PASSWORD."""
    return CustomerFactory()


@pytest.fixture
def other_customer():
    return CustomerFactory()


def bearer_client(user) -> APIClient:
    """Return an API client sending a real JWT bearer token for `user`."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user).access_token}")
    return client


@pytest.fixture
def customer_client(customer) -> APIClient:
    return bearer_client(customer.user)


@pytest.fixture
def other_customer_client(other_customer) -> APIClient:
    return bearer_client(other_customer.user)


@pytest.fixture
def staff_client(staff_user) -> APIClient:
    client = APIClient()
    client.force_authenticate(staff_user)
    return client


@pytest.fixture
def eager(monkeypatch):
    """Run as the embedded default does: Celery eager, no worker to honour a countdown."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


@pytest.fixture
def not_eager(monkeypatch):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
