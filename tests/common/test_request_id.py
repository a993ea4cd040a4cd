import logging
from types import SimpleNamespace

import pytest
from django.core.exceptions import ImproperlyConfigured

from common.request_id import (
    TASK_HEADER,
    RequestIdFilter,
    RequestIdMiddleware,
    add_request_id_to_task,
    forget_request_id_after_task,
    request_id,
    restore_request_id_in_task,
)


def test_a_request_gets_an_id_and_returns_it(client):
    response = client.get("/health/live/")  # answered before the id middleware
    answered = client.get("/api/v1/nope/")

    assert "X-Request-ID" not in response
    assert len(answered["X-Request-ID"]) == 32


def test_a_trusted_proxys_well_formed_id_is_kept_and_a_hostile_one_replaced(client, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.0/8"]  # the test client's REMOTE_ADDR is 127.0.0.1

    kept = client.get("/api/v1/nope/", HTTP_X_REQUEST_ID="edge-7f3a.1")
    replaced = client.get("/api/v1/nope/", HTTP_X_REQUEST_ID="bad id\nwith newline")

    assert kept["X-Request-ID"] == "edge-7f3a.1"
    assert replaced["X-Request-ID"] != "bad id\nwith newline"
    assert len(replaced["X-Request-ID"]) == 32


def test_an_untrusted_callers_id_is_replaced(client, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]

    direct = client.get("/api/v1/nope/", HTTP_X_REQUEST_ID="edge-7f3a.1")
    via_proxy = client.get("/api/v1/nope/", HTTP_X_REQUEST_ID="edge-7f3a.1", REMOTE_ADDR="10.1.2.3")

    assert direct["X-Request-ID"] != "edge-7f3a.1"
    assert len(direct["X-Request-ID"]) == 32
    assert via_proxy["X-Request-ID"] == "edge-7f3a.1"


def test_log_records_carry_the_current_request_id():
    token = request_id.set("req-42")
    try:
        record = logging.LogRecord("shopkeep", logging.INFO, __file__, 1, "hello", None, None)
        RequestIdFilter().filter(record)
    finally:
        request_id.reset(token)

    assert record.request_id == "req-42"


def test_the_id_travels_from_the_publisher_into_the_task():
    headers = {}
    token = request_id.set("req-99")
    try:
        add_request_id_to_task(headers=headers)
    finally:
        request_id.reset(token)
    task = SimpleNamespace(request=SimpleNamespace(id="t-1", **{TASK_HEADER: headers[TASK_HEADER]}))

    restore_request_id_in_task(task=task)
    during = request_id.get()
    forget_request_id_after_task(task=task)

    assert during == "req-99"
    assert request_id.get() == "-"  # the worker's next task starts clean


def test_a_task_enqueued_outside_a_request_logs_under_its_own_id():
    headers = {}
    add_request_id_to_task(headers=headers)
    task = SimpleNamespace(request=SimpleNamespace(id="t-2"))

    restore_request_id_in_task(task=task)
    during = request_id.get()
    forget_request_id_after_task(task=task)

    assert headers == {}
    assert during == "task-t-2"


def test_an_eager_task_keeps_the_request_id_and_leaves_it_in_place():
    token = request_id.set("req-7")
    try:
        task = SimpleNamespace(request=SimpleNamespace(id="t-3"))
        restore_request_id_in_task(task=task)
        during = request_id.get()
        forget_request_id_after_task(task=task)
        after = request_id.get()
    finally:
        request_id.reset(token)

    assert (during, after) == ("req-7", "req-7")


def test_a_bad_trusted_proxy_entry_stops_the_app_at_startup(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "not-a-network"]

    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
        RequestIdMiddleware(lambda request: None)
