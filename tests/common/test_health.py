"""Liveness and readiness (SPEC §5), with each dependency taken down for real."""

import pytest
from django.db import connection
from django.db.utils import load_backend

from billing.breaker import get_breaker
from common import health
from config.celery import app as celery_app
from tests.utils import UNREACHABLE_REDIS_URL, breaker_redis_down, reset_breaker

READY = "/health/ready/"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def closed_breaker():
    reset_breaker()
    yield
    reset_breaker()


@pytest.fixture
def registered_checks(monkeypatch) -> dict:
    """Let a test register checks of its own; the apps' registrations are back afterwards."""
    checks = dict(health.REGISTERED_CHECKS)
    monkeypatch.setattr(health, "REGISTERED_CHECKS", checks)
    return checks


@pytest.fixture
def broker_down(monkeypatch):
    monkeypatch.setitem(celery_app.conf, "broker_url", UNREACHABLE_REDIS_URL)
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)


@pytest.fixture
def database_down(monkeypatch):
    """A real connection to a database that cannot be reached, in place of the default one."""
    dead = dict(connection.settings_dict)
    if connection.vendor == "postgresql":
        dead.update(HOST="127.0.0.1", PORT=1)
    else:
        dead.update(NAME="/nonexistent/directory/db.sqlite3")
    wrapper = load_backend(dead["ENGINE"]).DatabaseWrapper(dead, alias="unreachable")
    monkeypatch.setattr("common.health.connection", wrapper)
    yield
    wrapper.close()


def test_liveness_answers_whatever_the_host(client, settings):
    settings.ALLOWED_HOSTS = ["shop.example.com"]

    live = client.get("/health/live/", HTTP_HOST="127.0.0.1:8000")
    other = client.get("/api/v1/products/", HTTP_HOST="127.0.0.1:8000")

    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    assert other.status_code == 400  # every other path still validates the host


def test_liveness_does_not_look_at_the_database(client, database_down):
    assert client.get("/health/live/").status_code == 200


def test_ready_when_every_dependency_answers(client, monkeypatch):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)

    response = client.get(READY)

    body = response.json()
    assert (response.status_code, body["status"]) == (200, "ok")
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
        "payment_gateway": "ok",
    }
    assert body["checks"]["database"]["latency_ms"] >= 0
    assert body["checks"]["payment_gateway"]["breaker"] == "closed"
    assert response["Cache-Control"] == "no-store"


def test_the_platform_checks_come_first_timed_then_the_registered_ones_as_they_answer(client):
    checks = client.get(READY).json()["checks"]

    assert list(checks) == ["database", "cache", "broker", "payment_gateway"]
    assert all("latency_ms" in checks[name] for name in ("database", "cache", "broker"))
    assert checks["payment_gateway"] == {"status": "ok", "breaker": "closed"}


def test_a_registered_check_that_fails_is_down_and_only_degrades(client, registered_checks):
    def check_search_index() -> dict:
        raise ConnectionRefusedError

    health.register_check("search_index", check_search_index)

    response = client.get(READY)

    body = response.json()
    assert (response.status_code, body["status"]) == (200, "degraded")
    assert body["checks"]["search_index"] == {"status": "down", "error": "ConnectionRefusedError"}


def test_registering_a_check_again_changes_nothing_and_a_taken_name_is_refused(client, registered_checks):
    def check_search_index() -> dict:
        return {"status": "ok"}

    health.register_check("search_index", check_search_index)
    health.register_check("search_index", check_search_index)

    assert list(client.get(READY).json()["checks"])[-1:] == ["search_index"]
    with pytest.raises(ValueError, match="search_index"):
        health.register_check("search_index", lambda: {"status": "ok"})
    with pytest.raises(ValueError, match="database"):
        health.register_check("database", check_search_index)


def test_ready_answers_whatever_the_host(client, settings):
    settings.ALLOWED_HOSTS = ["shop.example.com"]

    assert client.get(READY, HTTP_HOST="10.0.3.7:8000").status_code == 200


def test_in_eager_mode_the_broker_is_skipped_not_down(client, monkeypatch):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)

    body = client.get(READY).json()

    assert body["checks"]["broker"]["status"] == "skipped"
    assert body["status"] == "ok"


def test_cache_down_is_degraded_not_unready(client, redis_down):
    response = client.get(READY)

    body = response.json()
    assert (response.status_code, body["status"]) == (200, "degraded")
    assert body["checks"]["cache"]["status"] == "down"
    assert body["checks"]["database"]["status"] == "ok"


def test_with_redis_down_the_payment_breaker_is_unknown_not_closed(client):
    with breaker_redis_down():
        response = client.get(READY)

    body = response.json()
    assert (response.status_code, body["status"]) == (200, "degraded")
    assert body["checks"]["cache"]["status"] == "down"
    assert body["checks"]["payment_gateway"] == {"status": "degraded", "breaker": "unknown"}


def test_broker_down_is_degraded_not_unready(client, broker_down):
    response = client.get(READY)

    body = response.json()
    assert (response.status_code, body["status"]) == (200, "degraded")
    assert body["checks"]["broker"]["status"] == "down"
    assert body["checks"]["broker"]["error"]


def test_an_open_breaker_is_degraded_and_says_when_it_retries(client, settings):
    settings.PAYMENT_BREAKER_RESET_SECONDS = 60
    reset_breaker()
    get_breaker().open()

    response = client.get(READY)

    check = response.json()["checks"]["payment_gateway"]
    assert (response.status_code, response.json()["status"]) == (200, "degraded")
    assert (check["status"], check["breaker"]) == ("degraded", "open")
    assert 0 < check["retry_in_seconds"] <= 60


def test_database_down_is_503(client, database_down):
    response = client.get(READY)

    body = response.json()
    assert (response.status_code, body["status"]) == (503, "down")
    assert body["checks"]["database"]["status"] == "down"
    assert body["checks"]["database"]["error"] == "OperationalError"
    assert body["checks"]["cache"]["status"] == "ok"  # the others are still reported
