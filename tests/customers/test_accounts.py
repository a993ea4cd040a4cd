"""Account flows through the API (SPEC §5 auth): password reset and change, log out, email verification,
closing one's own account, staff login by username. Mail lands in the locmem outbox; links are read from it."""

import logging
import os
import re
import subprocess
import sys
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core import mail
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from billing.models import Invoice
from catalog.factories import ProductFactory
from conftest import bearer_client
from customers.exceptions import InvalidLink
from customers.factories import PASSWORD, AddressFactory, CustomerFactory
from customers.models import Address, Customer
from customers.tokens import email_verification_token, encode_uid, password_reset_token, token_for
from orders.factories import OrderFactory
from orders.models import Order
from orders.status import DeliveryMethod
from tests.utils import (
    assert_error,
    assert_validation_error,
    change_url,
    changelist_url,
    free_port,
    listed,
    race_n,
    requires_postgresql,
)

pytestmark = pytest.mark.django_db

User = get_user_model()

REGISTER_URL = "/api/v1/auth/register/"
TOKEN_URL = "/api/v1/auth/token/"
REFRESH_URL = "/api/v1/auth/token/refresh/"
LOGOUT_URL = "/api/v1/auth/logout/"
LOGOUT_ALL_URL = "/api/v1/auth/logout-all/"
RESET_URL = "/api/v1/auth/password/reset/"
RESET_CONFIRM_URL = "/api/v1/auth/password/reset/confirm/"
CHANGE_URL = "/api/v1/auth/password/change/"
VERIFY_URL = "/api/v1/auth/email/verify/"
RESEND_URL = "/api/v1/auth/email/verify/resend/"
ME_URL = "/api/v1/customers/me/"

NEW_PASSWORD = "difference-engine-1822"
RESET_ANSWER = {"detail": "If an account has this email, a link to choose a new password is on its way to it."}


@pytest.fixture
def sending(eager, django_capture_on_commit_callbacks):
    """Return a caller that makes a request and runs what it queued for after commit (eager: the mail goes out)."""

    def call(request):
        with django_capture_on_commit_callbacks(execute=True):
            return request()

    return call


def link_params(message, page: str) -> dict[str, str]:
    """Return the uid and token of the storefront link in an email's text (and check its HTML has the same link)."""
    match = re.search(rf"{re.escape(django_settings.STOREFRONT_URL)}/{page}\?\S+", message.body)
    assert match, message.body
    html = message.alternatives[0][0]
    assert match.group(0).replace("&", "&amp;") in html
    query = parse_qs(urlsplit(match.group(0)).query)
    return {"uid": query["uid"][0], "token": query["token"][0]}


def obtain(email: str, password: str):
    return APIClient().post(TOKEN_URL, {"email": email, "password": password}, format="json")


def refresh_with(refresh: str):
    return APIClient().post(REFRESH_URL, {"refresh": refresh}, format="json")


def with_bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def request_reset(sending, email: str):
    return sending(lambda: APIClient().post(RESET_URL, {"email": email}, format="json"))


def reset_link(sending, customer) -> dict[str, str]:
    mail.outbox.clear()
    assert request_reset(sending, customer.email).status_code == 202
    (message,) = mail.outbox
    return link_params(message, "reset-password")


def confirm(link: dict, password: str = NEW_PASSWORD):
    return APIClient().post(RESET_CONFIRM_URL, {**link, "password": password}, format="json")


# --- Password reset --------------------------------------------------------------------------------


def test_password_reset_end_to_end_sets_the_password_and_ends_every_session(sending, customer):
    session = obtain(customer.email, PASSWORD).json()

    response = request_reset(sending, customer.email.upper())

    assert (response.status_code, response.json()) == (202, RESET_ANSWER)
    (message,) = mail.outbox
    assert message.to == [customer.email]
    assert message.subject == f"{django_settings.SHOP_NAME}: choose a new password"
    assert message.from_email == django_settings.DEFAULT_FROM_EMAIL
    link = link_params(message, "reset-password")

    done = confirm(link)

    assert done.status_code == 204, done.content
    assert obtain(customer.email, NEW_PASSWORD).status_code == 200
    assert_error(obtain(customer.email, PASSWORD), 401, "no_active_account")
    assert_error(refresh_with(session["refresh"]), 401, "token_not_valid")  # the old session is over


def test_a_reset_link_works_once(sending, customer):
    link = reset_link(sending, customer)
    assert confirm(link).status_code == 204

    again = confirm(link, "yet-another-password-77")

    assert_error(again, 400, "invalid_token")
    assert obtain(customer.email, NEW_PASSWORD).status_code == 200


def test_a_reset_link_expires_after_password_reset_timeout(sending, customer, settings, monkeypatch):
    settings.PASSWORD_RESET_TIMEOUT = 3600
    link = reset_link(sending, customer)
    now = password_reset_token._now()
    # The clock the token generator reads, moved the way Django's own token tests move it.
    monkeypatch.setattr(password_reset_token, "_now", lambda: now + timedelta(seconds=3600 + 1))

    assert_error(confirm(link), 400, "invalid_token")

    monkeypatch.setattr(password_reset_token, "_now", lambda: now + timedelta(seconds=3600 - 1))
    assert confirm(link).status_code == 204


def test_a_reset_request_answers_the_same_and_does_the_same_work_for_any_email(
    api_client, customer, django_assert_num_queries, django_capture_on_commit_callbacks, eager
):
    """No account enumeration, by answer or by timing.

    The request itself looks up nothing (no query at all): it queues the email for a task,
    which looks the account up in the worker. Both requests therefore do the same work:
    validate the address, count the rate limits in the cache, queue one message.
    """
    answers, queued = [], []
    for email in (customer.email, "nobody@example.com"):
        with django_capture_on_commit_callbacks(execute=False) as callbacks, django_assert_num_queries(0):
            response = api_client.post(RESET_URL, {"email": email}, format="json")
        answers.append((response.status_code, response.json()))
        queued.append(callbacks)

    assert answers[0] == answers[1] == (202, RESET_ANSWER)
    assert [len(callbacks) for callbacks in queued] == [1, 1]
    for callbacks in queued:  # now let the "worker" run them: only the real account gets mail
        callbacks[0]()
    assert [message.to for message in mail.outbox] == [[customer.email]]


def test_a_deactivated_customer_gets_the_same_answer_and_no_mail_and_cannot_confirm(sending, customer):
    link = reset_link(sending, customer)
    User.objects.filter(pk=customer.user_id).update(is_active=False)
    mail.outbox.clear()

    response = request_reset(sending, customer.email)

    assert (response.status_code, response.json()) == (202, RESET_ANSWER)
    assert mail.outbox == []
    assert_error(confirm(link), 400, "invalid_token")


def test_staff_are_not_sent_storefront_reset_links(sending, staff_user):
    response = request_reset(sending, staff_user.email)

    assert (response.status_code, response.json()) == (202, RESET_ANSWER)
    assert mail.outbox == []


def test_a_weak_new_password_is_refused_and_the_link_still_works(sending, customer):
    link = reset_link(sending, customer)

    body = assert_validation_error(confirm(link, "password"), "password")

    assert set(body["errors"]) == {"password"}
    assert obtain(customer.email, PASSWORD).status_code == 200
    assert confirm(link).status_code == 204


@pytest.mark.parametrize(
    "link",
    [
        pytest.param({"uid": "not base64!", "token": "x"}, id="uid-not-base64"),
        pytest.param({"uid": "YWJj", "token": "x"}, id="uid-not-a-number"),
        pytest.param({"uid": "_w", "token": "x"}, id="uid-not-utf8"),
        pytest.param({"uid": "OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "token": "x"}, id="uid-too-big"),
        pytest.param({"uid": "OTk5OTk5", "token": "abc-def"}, id="unknown-user"),
        pytest.param({"token": "abc-def"}, id="own-uid-wrong-token"),
        pytest.param({"token": "zzzz-zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"}, id="own-uid-malformed-token"),
    ],
)
def test_a_bad_link_is_400_invalid_token_never_a_500(customer, link):
    link = {"uid": encode_uid(customer.user), **link}
    client = APIClient()
    client.raise_request_exception = False

    assert_error(confirm(link), 400, "invalid_token")
    assert_error(client.post(VERIFY_URL, link, format="json"), 400, "invalid_token")


def test_a_link_needs_its_uid_and_token(api_client):
    assert_validation_error(api_client.post(RESET_CONFIRM_URL, {}, format="json"), "uid", "token", "password")
    assert_validation_error(api_client.post(VERIFY_URL, {"uid": 5, "token": ["x"]}, format="json"), "token")


def test_a_reset_request_needs_a_valid_email(api_client):
    assert_validation_error(api_client.post(RESET_URL, {"email": "not-an-email"}, format="json"), "email")
    assert_validation_error(api_client.post(RESET_URL, ["ada@example.com"], format="json"), "non_field_errors")


def test_a_mail_server_that_is_down_does_not_fail_the_request(sending, customer, settings, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 1

    with caplog.at_level(logging.ERROR):
        response = request_reset(sending, customer.email)

    assert (response.status_code, response.json()) == (202, RESET_ANSWER)
    assert any("on_commit" in record.getMessage() for record in caplog.records)


# --- The two kinds of token do not mix ----------------------------------------------------------------


def test_a_verification_token_cannot_reset_a_password(customer):
    link = {"uid": encode_uid(customer.user), "token": email_verification_token.make_token(customer.user)}

    assert_error(confirm(link), 400, "invalid_token")
    assert obtain(customer.email, PASSWORD).status_code == 200


def test_a_reset_token_cannot_verify_an_email(customer):
    link = {"uid": encode_uid(customer.user), "token": password_reset_token.make_token(customer.user)}

    assert_error(APIClient().post(VERIFY_URL, link, format="json"), 400, "invalid_token")
    customer.refresh_from_db()
    assert customer.email_verified is False


# --- Password change -------------------------------------------------------------------------------


def test_password_change_returns_a_fresh_session_and_ends_the_others(customer):
    other_session = obtain(customer.email, PASSWORD).json()
    this_session = obtain(customer.email, PASSWORD).json()

    response = with_bearer(this_session["access"]).post(
        CHANGE_URL, {"old_password": PASSWORD, "password": NEW_PASSWORD}, format="json"
    )

    assert response.status_code == 200, response.content
    fresh = response.json()
    assert set(fresh) == {"access", "refresh"}
    assert with_bearer(fresh["access"]).get(ME_URL).status_code == 200
    assert refresh_with(fresh["refresh"]).status_code == 200
    for old in (other_session, this_session):
        assert_error(refresh_with(old["refresh"]), 401, "token_not_valid")
    assert obtain(customer.email, NEW_PASSWORD).status_code == 200
    assert_error(obtain(customer.email, PASSWORD), 401, "no_active_account")


def test_password_change_needs_the_right_old_password(customer_client, customer):
    response = customer_client.post(CHANGE_URL, {"old_password": "guess-1234", "password": NEW_PASSWORD}, format="json")

    body = assert_validation_error(response, "old_password")
    assert set(body["errors"]) == {"old_password"}
    assert obtain(customer.email, PASSWORD).status_code == 200


def test_password_change_applies_the_password_validators(customer_client, customer):
    response = customer_client.post(CHANGE_URL, {"old_password": PASSWORD, "password": "12345678"}, format="json")

    assert_validation_error(response, "password")
    assert obtain(customer.email, PASSWORD).status_code == 200


def test_password_change_needs_both_passwords_and_a_login(customer_client, api_client):
    assert_validation_error(customer_client.post(CHANGE_URL, {}, format="json"), "old_password", "password")
    assert_error(api_client.post(CHANGE_URL, {}, format="json"), 401, "not_authenticated")


# --- Log out -------------------------------------------------------------------------------------------


def test_logout_revokes_that_refresh_token_only(customer):
    leaving, staying = obtain(customer.email, PASSWORD).json(), obtain(customer.email, PASSWORD).json()

    response = APIClient().post(LOGOUT_URL, {"refresh": leaving["refresh"]}, format="json")

    assert response.status_code == 204, response.content
    assert_error(refresh_with(leaving["refresh"]), 401, "token_not_valid")
    assert refresh_with(staying["refresh"]).status_code == 200
    # Logging out twice, or with anything but a live refresh token, is a 401.
    assert_error(APIClient().post(LOGOUT_URL, {"refresh": leaving["refresh"]}, format="json"), 401, "token_not_valid")
    assert_error(APIClient().post(LOGOUT_URL, {"refresh": leaving["access"]}, format="json"), 401, "token_not_valid")
    assert_error(APIClient().post(LOGOUT_URL, {"refresh": "garbage"}, format="json"), 401, "token_not_valid")
    assert_validation_error(APIClient().post(LOGOUT_URL, {}, format="json"), "refresh")


def test_logout_all_revokes_every_refresh_token_of_the_user_only(customer, other_customer):
    sessions = [obtain(customer.email, PASSWORD).json() for _ in range(2)]
    registered_session = str(token_for(customer.user))
    someone_else = obtain(other_customer.email, PASSWORD).json()

    response = with_bearer(sessions[0]["access"]).post(LOGOUT_ALL_URL)

    assert response.status_code == 204, response.content
    for refresh in [*(session["refresh"] for session in sessions), registered_session]:
        assert_error(refresh_with(refresh), 401, "token_not_valid")
    assert refresh_with(someone_else["refresh"]).status_code == 200
    assert obtain(customer.email, PASSWORD).status_code == 200  # signing in again works


def test_logout_all_needs_a_login(api_client):
    assert_error(api_client.post(LOGOUT_ALL_URL), 401, "not_authenticated")


def test_tokens_from_login_and_registration_are_recorded_so_they_can_be_revoked(api_client, customer):
    login = obtain(customer.email, PASSWORD).json()
    registered = api_client.post(
        REGISTER_URL,
        {"email": "grace@example.com", "password": NEW_PASSWORD, "first_name": "Grace", "last_name": "Hopper"},
        format="json",
    ).json()

    for refresh, user_id in ((login["refresh"], customer.user_id), (registered["tokens"]["refresh"], None)):
        recorded = OutstandingToken.objects.get(jti=RefreshToken(refresh)["jti"])
        assert recorded.user_id == (user_id or User.objects.get(email="grace@example.com").pk)


# --- Email verification --------------------------------------------------------------------------------


def test_registration_sends_a_verification_link_that_verifies_once(sending, api_client):
    registered = sending(
        lambda: api_client.post(
            REGISTER_URL,
            {"email": "Grace@Example.com", "password": NEW_PASSWORD, "first_name": "Grace", "last_name": "Hopper"},
            format="json",
        )
    )
    assert registered.status_code == 201, registered.content
    assert registered.json()["customer"]["email_verified"] is False
    (message,) = mail.outbox
    assert message.to == ["Grace@Example.com"]
    assert message.subject == f"{django_settings.SHOP_NAME}: confirm your email address"
    link = link_params(message, "verify-email")

    response = APIClient().post(VERIFY_URL, link, format="json")

    assert response.status_code == 204, response.content
    me = with_bearer(registered.json()["tokens"]["access"]).get(ME_URL).json()
    assert me["email_verified"] is True
    assert_error(APIClient().post(VERIFY_URL, link, format="json"), 400, "invalid_token")


def test_changing_the_email_unverifies_it_and_sends_a_link_to_the_new_one(sending, customer, customer_client):
    Customer.objects.filter(pk=customer.pk).update(email_verified=True)
    old_link = {"uid": encode_uid(customer.user), "token": email_verification_token.make_token(customer.user)}

    response = sending(lambda: customer_client.patch(ME_URL, {"email": "new@example.com"}, format="json"))

    assert response.status_code == 200, response.content
    assert response.json()["email_verified"] is False
    (message,) = mail.outbox
    assert message.to == ["new@example.com"]
    assert_error(APIClient().post(VERIFY_URL, old_link, format="json"), 400, "invalid_token")
    assert APIClient().post(VERIFY_URL, link_params(message, "verify-email"), format="json").status_code == 204
    assert customer_client.get(ME_URL).json()["email_verified"] is True


def test_changing_only_the_letter_case_or_other_fields_keeps_the_email_verified(sending, customer, customer_client):
    Customer.objects.filter(pk=customer.pk).update(email_verified=True)

    sending(lambda: customer_client.patch(ME_URL, {"email": customer.email.upper()}, format="json"))
    response = sending(lambda: customer_client.patch(ME_URL, {"first_name": "Ada"}, format="json"))

    assert response.json()["email_verified"] is True
    assert mail.outbox == []


def test_email_verified_is_read_only_for_the_customer_and_for_staff(customer_client, staff_client, customer):
    assert customer_client.patch(ME_URL, {"email_verified": True}, format="json").json()["email_verified"] is False
    staff_view = staff_client.patch(f"/api/v1/customers/{customer.pk}/", {"email_verified": True}, format="json")

    assert staff_view.json()["email_verified"] is False
    assert staff_client.get("/api/v1/customers/").json()["results"][0]["email_verified"] is False


def test_a_customer_asks_for_a_new_verification_link(sending, customer, customer_client):
    assert sending(lambda: customer_client.post(RESEND_URL)).status_code == 204
    (message,) = mail.outbox
    assert APIClient().post(VERIFY_URL, link_params(message, "verify-email"), format="json").status_code == 204

    assert sending(lambda: customer_client.post(RESEND_URL)).status_code == 204
    assert len(mail.outbox) == 1  # verified already: nothing more to send


def test_staff_see_and_filter_the_verified_flag_in_the_admin(admin_client):
    verified, unverified = CustomerFactory(), CustomerFactory()
    Customer.objects.filter(pk=verified.pk).update(email_verified=True)

    page = admin_client.get(changelist_url(Customer), {"email_verified__exact": "1"})

    assert page.status_code == 200
    assert [customer.pk for customer in listed(page)] == [verified.pk]
    assert "verified" in page.context["cl"].list_display
    assert '<img src="/static/admin/img/icon-yes.svg" alt="True">' in page.text  # the verified mark
    form = admin_client.get(change_url(unverified))
    assert "email_verified" not in form.context["adminform"].form.fields  # shown, read-only


# --- Closing one's own account -------------------------------------------------------------------------


def test_deleting_me_anonymises_the_customer_and_keeps_orders_and_invoices(customer, customer_client):
    address = AddressFactory(customer=customer, line1="12 Analytical Row")
    order = OrderFactory(
        customer=customer,
        lines=[(ProductFactory(stock=5), 1)],
        delivery_method=DeliveryMethod.HOME_DELIVERY,
        address=address,
    )
    snapshot = Order.objects.get(pk=order.pk).shipping_address
    assert snapshot["line1"] == "12 Analytical Row"
    invoice_number = Invoice.objects.get(order=order).number

    response = customer_client.delete(ME_URL)

    assert response.status_code == 204, response.content
    customer.refresh_from_db()
    assert (customer.first_name, customer.last_name, str(customer.phone)) == ("Deleted", "customer", "")
    assert customer.email == f"deleted-{customer.pk}@deleted.invalid"
    assert not Address.objects.filter(pk=address.pk).exists()
    user = User.objects.get(pk=customer.user_id)
    assert (user.is_active, user.has_usable_password(), user.email) == (False, False, "")
    assert user.username == customer.email
    order = Order.objects.get(pk=order.pk)
    assert (order.customer_id, order.shipping_address) == (customer.pk, snapshot)
    assert Invoice.objects.get(order=order).number == invoice_number


def test_after_deleting_me_no_token_works_and_the_email_can_register_again(customer):
    email = customer.email
    session = obtain(email, PASSWORD).json()
    access_client = with_bearer(session["access"])

    assert access_client.delete(ME_URL).status_code == 204

    assert_error(access_client.get(ME_URL), 401, "authentication_failed")  # the login is inactive
    assert_error(refresh_with(session["refresh"]), 401, "token_not_valid")
    assert_error(obtain(email, PASSWORD), 401, "no_active_account")
    again = APIClient().post(
        REGISTER_URL,
        {"email": email.upper(), "password": NEW_PASSWORD, "first_name": "Back", "last_name": "Again"},
        format="json",
    )
    assert again.status_code == 201, again.content
    assert obtain(email, NEW_PASSWORD).status_code == 200


def test_a_staff_account_has_no_profile_to_delete(staff_client):
    assert_error(staff_client.delete(ME_URL), 404, "not_found")


def test_staff_delete_of_a_customer_with_orders_is_still_refused(staff_client, customer):
    OrderFactory(customer=customer)

    assert_error(staff_client.delete(f"/api/v1/customers/{customer.pk}/"), 409, "conflict")


# --- Staff log in with their email or username ---------------------------------------------------------


@pytest.mark.parametrize("login", ["staff", "staff@example.com", "STAFF@example.com"])
def test_staff_obtain_a_token_with_their_username_or_email(staff_user, login):
    response = obtain(login, "staff-pass-123")

    assert response.status_code == 200, response.content
    assert bearer_client(staff_user).get("/api/v1/customers/").status_code == 200


def test_a_username_logs_in_staff_only(plain_user, customer):
    assert_error(obtain("shopper", "shopper-pass-123"), 401, "no_active_account")
    assert_error(obtain("Staff", "staff-pass-123"), 401, "no_active_account")  # usernames keep their case


# --- Rate limits ------------------------------------------------------------------------------------


def test_reset_requests_are_limited_per_email_in_any_case_from_any_ip(settings, frozen_ratelimit_clock):
    settings.RATELIMIT_PASSWORD_RESET_EMAIL = "2/h"
    client = APIClient()
    for n, spelling in enumerate(["ada@example.com", "ADA@example.com"]):
        response = client.post(RESET_URL, {"email": spelling}, format="json", REMOTE_ADDR=f"10.0.0.{n}")
        assert response.status_code == 202

    refused = client.post(RESET_URL, {"email": " Ada@Example.com "}, format="json", REMOTE_ADDR="10.0.0.9")

    assert_error(refused, 429, "rate_limited")
    assert int(refused["Retry-After"]) > 0
    other = client.post(RESET_URL, {"email": "grace@example.com"}, format="json", REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 202


@pytest.mark.parametrize(
    "url", [LOGOUT_URL, LOGOUT_ALL_URL, RESET_URL, RESET_CONFIRM_URL, CHANGE_URL, VERIFY_URL, RESEND_URL]
)
def test_every_account_endpoint_is_limited_per_ip(settings, frozen_ratelimit_clock, customer, url):
    settings.RATELIMIT_AUTH = "2/m"
    client = bearer_client(customer.user)
    for _ in range(2):
        assert client.post(url, {}, format="json").status_code != 429

    refused = client.post(url, {}, format="json")

    assert_error(refused, 429, "rate_limited")
    assert int(refused["Retry-After"]) > 0
    assert refused["X-RateLimit-Limit"] == "2"


# --- Email settings come from the environment -------------------------------------------------------


@pytest.mark.parametrize("mode", ["development", "production"])
def test_the_email_backend_and_file_path_come_from_the_environment(mode, tmp_path):
    code = "from django.conf import settings; print(settings.EMAIL_BACKEND, settings.EMAIL_FILE_PATH)"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": f"config.settings.{mode}",
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "shop.example.com",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path),
    }

    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=django_settings.BASE_DIR, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.core.mail.backends.filebased.EmailBackend", str(tmp_path)]


# --- One link, used twice at once -------------------------------------------------------------------


@requires_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_reset_link_used_twice_at_once_sets_one_password():
    customer = CustomerFactory()
    link = {"uid": encode_uid(customer.user), "token": password_reset_token.make_token(customer.user)}
    passwords = [f"racing-password-{i}-xq" for i in range(4)]

    def use(i):
        try:
            Customer.objects.reset_password(**link, password=passwords[i])
        except InvalidLink:
            return "refused"
        return passwords[i]

    outcomes = race_n(4, use)

    (winner,) = [outcome for outcome in outcomes if outcome != "refused"]
    assert User.objects.get(pk=customer.user_id).check_password(winner)
