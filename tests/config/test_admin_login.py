"""The admin login is throttled per client IP and per username (config/admin.py)."""

import logging

import pytest
from django.urls import reverse

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_ratelimit_clock")]

LOGIN = reverse("admin:login")


def attempt(client, username: str, password: str, ip: str = "198.51.100.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_guessing_a_password_is_stopped_per_username_even_before_the_right_one(client, settings, staff_user):
    settings.RATELIMIT_ADMIN_LOGIN_USERNAME = "5/m"

    wrong = [attempt(client, "staff", f"guess-{n}", ip=f"198.51.100.{n}") for n in range(5)]
    right = attempt(client, "staff", "staff-pass-123", ip="198.51.100.99")

    assert [response.status_code for response in wrong] == [200] * 5  # the form again, with its error
    assert right.status_code == 429
    assert "Too many login attempts" in right.content.decode()
    assert "_auth_user_id" not in client.session
    assert right["Retry-After"]


def test_guessing_from_one_address_is_stopped_across_usernames(client, settings, staff_user):
    settings.RATELIMIT_ADMIN_LOGIN = "3/m"

    for n in range(3):
        attempt(client, f"someone-{n}", "guess")
    refused = attempt(client, "staff", "staff-pass-123")
    elsewhere = attempt(client, "staff", "staff-pass-123", ip="203.0.113.5")

    assert refused.status_code == 429
    assert elsewhere.status_code == 302
    assert client.session["_auth_user_id"] == str(staff_user.pk)


def test_a_refused_attempt_is_logged_with_ip_and_username_but_not_the_password(client, settings, caplog):
    settings.RATELIMIT_ADMIN_LOGIN_USERNAME = "1/m"
    attempt(client, "staff", "first-secret")

    with caplog.at_level(logging.WARNING, logger="config.admin"):
        attempt(client, "staff", "second-secret")

    [record] = [record for record in caplog.records if record.name == "config.admin"]
    assert record.levelno == logging.WARNING
    assert "198.51.100.7" in record.getMessage()
    assert "'staff'" in record.getMessage()
    assert "secret" not in caplog.text


def test_usernames_count_together_in_any_case(client, settings):
    settings.RATELIMIT_ADMIN_LOGIN_USERNAME = "2/m"

    attempt(client, "Staff", "a", ip="198.51.100.1")
    attempt(client, "staff ", "b", ip="198.51.100.2")

    assert attempt(client, "STAFF", "c", ip="198.51.100.3").status_code == 429


def test_the_login_fails_open_when_the_cache_is_down(client, staff_user, redis_down, settings):
    settings.RATELIMIT_ADMIN_LOGIN = "1/m"

    attempt(client, "staff", "wrong")
    response = attempt(client, "staff", "staff-pass-123")

    assert response.status_code == 302
