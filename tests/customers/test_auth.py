"""Registration and JWT login by email (SPEC §5 auth), for customers and staff."""

import base64
import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from catalog.factories import ProductFactory
from conftest import bearer_client
from customers.api.serializers import token_for
from customers.factories import PASSWORD, CustomerFactory
from customers.models import Customer
from tests.utils import assert_error, assert_validation_error

pytestmark = pytest.mark.django_db

User = get_user_model()

REGISTER_URL = "/api/v1/auth/register/"
TOKEN_URL = "/api/v1/auth/token/"
REFRESH_URL = "/api/v1/auth/token/refresh/"
ME_URL = "/api/v1/customers/me/"

GOOD_PASSWORD = "analytical-engine-1843"


def registration(**overrides) -> dict:
    payload = {
        "email": "ada@example.com",
        "password": GOOD_PASSWORD,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "phone": "+442071838750",
    }
    return {key: value for key, value in {**payload, **overrides}.items() if value is not None}


def obtain(client, email: str, password: str):
    return client.post(TOKEN_URL, {"email": email, "password": password}, format="json")


def with_bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


# --- Registration ----------------------------------------------------------------


def test_register_creates_the_customer_and_returns_tokens_that_work(api_client):
    response = api_client.post(REGISTER_URL, registration(), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"customer", "tokens"}
    assert body["customer"]["email"] == "ada@example.com"
    assert body["customer"]["phone"] == "+442071838750"
    assert "password" not in body["customer"]
    assert set(body["tokens"]) == {"access", "refresh"}
    customer = Customer.objects.select_related("user").get(pk=body["customer"]["id"])
    assert customer.user.check_password(GOOD_PASSWORD)
    assert AccessToken(body["tokens"]["access"])["user_id"] == str(customer.user_id)

    me = with_bearer(body["tokens"]["access"]).get(ME_URL)

    assert me.status_code == 200
    assert me.json()["id"] == customer.pk


def test_register_ignores_a_stale_bearer_header(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    response = api_client.post(REGISTER_URL, registration(), format="json")

    assert response.status_code == 201, response.content


def test_register_refuses_an_email_taken_in_another_case(api_client):
    CustomerFactory(email="ada@example.com")

    response = api_client.post(REGISTER_URL, registration(email="ADA@Example.COM"), format="json")

    assert_validation_error(response, "email")
    assert Customer.objects.count() == 1
    assert User.objects.count() == 1


@pytest.mark.parametrize("spelling", ["staff@example.com", "STAFF@Example.COM", " Staff@example.com "])
def test_register_refuses_a_staff_members_email_and_the_staff_login_still_works(api_client, staff_user, spelling):
    response = api_client.post(REGISTER_URL, registration(email=spelling), format="json")

    assert_validation_error(response, "email")
    assert not Customer.objects.exists()
    assert User.objects.count() == 1
    staff_login = obtain(api_client, "staff@example.com", "staff-pass-123")
    assert staff_login.status_code == 200, staff_login.content
    assert AccessToken(staff_login.json()["access"])["user_id"] == str(staff_user.pk)


def test_register_refuses_an_email_that_is_another_accounts_username(api_client, django_user_model):
    django_user_model.objects.create_user(username="ada@example.com", password=PASSWORD, is_staff=True)

    response = api_client.post(REGISTER_URL, registration(), format="json")

    assert_validation_error(response, "email")
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    "password",
    [
        pytest.param("sh0rt-x", id="too-short"),
        pytest.param("password123", id="common"),
        pytest.param("40817263549", id="all-digits"),
        pytest.param("lovelace12", id="like-the-last-name"),
    ],
)
def test_register_refuses_a_weak_password_and_creates_nothing(api_client, password):
    response = api_client.post(REGISTER_URL, registration(password=password), format="json")

    body = assert_validation_error(response, "password")
    assert set(body["errors"]) == {"password"}
    assert not User.objects.exists()
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"email": "not-an-email"}, "email", id="invalid-email"),
        pytest.param({"phone": "555"}, "phone", id="phone-not-e164"),
        pytest.param({"phone": "+1 415 555"}, "phone", id="phone-too-short"),
        pytest.param({"first_name": ""}, "first_name", id="blank-first-name"),
        pytest.param({"email": None}, "email", id="missing-email"),
        pytest.param({"password": None}, "password", id="missing-password"),
        pytest.param({"last_name": None}, "last_name", id="missing-last-name"),
    ],
)
def test_register_refuses_bad_input_field_by_field(api_client, overrides, field):
    response = api_client.post(REGISTER_URL, registration(**overrides), format="json")

    assert_validation_error(response, field)
    assert not User.objects.exists()


def test_register_with_an_empty_body_names_every_required_field(api_client):
    response = api_client.post(REGISTER_URL, {}, format="json")

    body = assert_validation_error(response, "email", "password", "first_name", "last_name")
    assert "phone" not in body["errors"]


def test_register_normalises_the_phone_to_e164(api_client):
    response = api_client.post(REGISTER_URL, registration(phone="+44 20 7183 8750"), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["customer"]["phone"] == "+442071838750"


# --- Tokens by email ------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["ada@example.com", "ADA@EXAMPLE.COM", "Ada@Example.com", " ada@example.com "])
def test_token_by_email_in_any_case(api_client, spelling):
    customer = CustomerFactory(email="ada@example.com")

    response = obtain(api_client, spelling, PASSWORD)

    assert response.status_code == 200, response.content
    tokens = response.json()
    assert AccessToken(tokens["access"])["user_id"] == str(customer.user_id)
    assert with_bearer(tokens["access"]).get(ME_URL).json()["id"] == customer.pk


def test_wrong_password_and_unknown_email_get_the_same_answer(api_client, customer):
    wrong_password = obtain(api_client, customer.email, "not-the-password")
    unknown_email = obtain(api_client, "nobody@example.com", PASSWORD)

    assert_error(wrong_password, 401, "no_active_account")
    assert_error(unknown_email, 401, "no_active_account")
    assert wrong_password.json() == unknown_email.json()  # no account enumeration


def test_an_inactive_customer_cannot_obtain_a_token(api_client, customer):
    User.objects.filter(pk=customer.user_id).update(is_active=False)

    assert_error(obtain(api_client, customer.email, PASSWORD), 401, "no_active_account")


def test_a_plain_user_without_a_customer_profile_cannot_obtain_a_token_by_email(api_client, django_user_model):
    django_user_model.objects.create_user(username="shopper", email="shopper@example.com", password=PASSWORD)

    assert_error(obtain(api_client, "shopper@example.com", PASSWORD), 401, "no_active_account")


def test_token_needs_both_email_and_password(api_client):
    response = api_client.post(TOKEN_URL, {}, format="json")

    assert_validation_error(response, "email", "password")


def test_a_customer_token_says_not_staff(api_client, customer):
    tokens = obtain(api_client, customer.email, PASSWORD).json()

    assert AccessToken(tokens["access"])["is_staff"] is False


def test_staff_obtain_a_token_by_email_that_carries_the_staff_claim(api_client, staff_user):
    response = obtain(api_client, "STAFF@example.com", "staff-pass-123")

    assert response.status_code == 200, response.content
    access = AccessToken(response.json()["access"])
    assert access["is_staff"] is True
    assert access["user_id"] == str(staff_user.pk)


def test_a_staff_token_can_write_the_catalog(api_client, staff_user):
    access = obtain(api_client, staff_user.email, "staff-pass-123").json()["access"]

    response = with_bearer(access).post("/api/v1/categories/", {"name": "Lamps", "slug": "lamps"}, format="json")

    assert response.status_code == 201, response.content


def test_a_staff_token_can_list_customers(api_client, staff_user, customer):
    access = obtain(api_client, staff_user.email, "staff-pass-123").json()["access"]

    response = with_bearer(access).get("/api/v1/customers/")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [customer.pk]


def test_a_non_staff_user_sharing_a_staff_email_does_not_log_in_by_it(api_client, django_user_model):
    django_user_model.objects.create_user(username="lurker", email="boss@example.com", password=PASSWORD)

    assert_error(obtain(api_client, "boss@example.com", PASSWORD), 401, "no_active_account")


# --- Refresh ------------------------------------------------------------------------------


def test_refresh_returns_a_new_access_token_that_works(api_client, customer):
    tokens = obtain(api_client, customer.email, PASSWORD).json()

    response = api_client.post(REFRESH_URL, {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 200, response.content
    access = response.json()["access"]
    assert access != tokens["access"]
    assert AccessToken(access)["is_staff"] is False  # the claims carry over
    assert with_bearer(access).get(ME_URL).json()["id"] == customer.pk


def expired_refresh(user) -> str:
    token = token_for(user)
    token.set_exp(lifetime=-timedelta(seconds=1))
    return str(token)


def forged(token: str, **claims) -> str:
    """Return `token` with its payload changed and its signature kept."""
    header, payload, signature = token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    payload = base64.urlsafe_b64encode(json.dumps({**decoded, **claims}).encode()).rstrip(b"=").decode()
    return f"{header}.{payload}.{signature}"


@pytest.mark.parametrize("kind", ["garbage", "expired", "access-token", "forged"])
def test_a_bad_refresh_token_is_401_token_not_valid(api_client, customer, other_customer, kind):
    token = token_for(customer.user)
    refresh = {
        "garbage": lambda: "not-a-token",
        "expired": lambda: expired_refresh(customer.user),
        "access-token": lambda: str(token.access_token),
        "forged": lambda: forged(str(token), user_id=str(other_customer.user_id)),
    }[kind]()

    response = api_client.post(REFRESH_URL, {"refresh": refresh}, format="json")

    assert_error(response, 401, "token_not_valid")


def test_a_forged_access_token_is_401(customer, other_customer):
    access = forged(str(token_for(customer.user).access_token), user_id=str(other_customer.user_id), is_staff=True)

    assert_error(with_bearer(access).get(ME_URL), 401, "token_not_valid")


def test_refresh_for_a_deactivated_user_is_refused(api_client, customer):
    refresh = str(token_for(customer.user))
    User.objects.filter(pk=customer.user_id).update(is_active=False)

    response = api_client.post(REFRESH_URL, {"refresh": refresh}, format="json")

    assert_error(response, 401, "no_active_account")


def test_refresh_for_a_deleted_user_is_refused_not_a_500(api_client, customer):
    refresh = str(token_for(customer.user))
    customer.close_account()
    api_client.raise_request_exception = False  # show the status the client would get

    response = api_client.post(REFRESH_URL, {"refresh": refresh}, format="json")

    assert_error(response, 401, "no_active_account")


def test_refresh_needs_a_token(api_client):
    assert_validation_error(api_client.post(REFRESH_URL, {}, format="json"), "refresh")


# --- Lifetimes --------------------------------------------------------------------------


def test_token_lifetimes_follow_the_settings(api_client, customer):
    tokens = obtain(api_client, customer.email, PASSWORD).json()
    access, refresh = AccessToken(tokens["access"]), RefreshToken(tokens["refresh"])

    assert access["exp"] - access["iat"] == settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()
    assert refresh["exp"] - refresh["iat"] == settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"].total_seconds()


def test_token_lifetimes_come_from_the_environment():
    # simplejwt binds each token class's lifetime when it is imported (its setting_changed
    # reload replaces only its own module global), so overriding SIMPLE_JWT inside this
    # process proves nothing; a fresh interpreter reads JWT_ACCESS_MINUTES / JWT_REFRESH_DAYS.
    code = (
        "import django; django.setup();"
        "from rest_framework_simplejwt.tokens import AccessToken, RefreshToken;"
        "a, r = AccessToken(), RefreshToken();"
        "print(a['exp'] - a['iat'], r['exp'] - r['iat'])"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "JWT_ACCESS_MINUTES": "1",
        "JWT_REFRESH_DAYS": "2",
    }

    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["60", str(2 * 24 * 3600)]


# --- Tokens whose user changed ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", ME_URL),
        ("get", "/api/v1/addresses/"),
        ("post", "/api/v1/addresses/"),
        ("post", "/api/v1/categories/"),
    ],
)
def test_a_token_whose_user_was_deleted_is_401_not_500(customer, method, url):
    client = bearer_client(customer.user)
    customer.close_account()
    client.raise_request_exception = False

    response = getattr(client, method)(url)

    body = assert_error(response, 401, "authentication_failed")
    assert body["detail"] == "User not found"


def test_a_token_whose_user_was_deactivated_is_401(customer):
    client = bearer_client(customer.user)
    User.objects.filter(pk=customer.user_id).update(is_active=False)

    body = assert_error(client.get(ME_URL), 401, "authentication_failed")
    assert body["detail"] == "User is inactive"


def test_a_malformed_bearer_token_is_401_token_not_valid(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    assert_error(api_client.get(ME_URL), 401, "token_not_valid")


def test_no_credentials_is_401_not_authenticated_with_a_bearer_challenge(api_client):
    response = api_client.get(ME_URL)

    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


# --- Staff keep the admin session ------------------------------------------------------------


def test_the_admin_still_works_for_staff(admin_client):
    assert admin_client.get("/admin/").status_code == 200


def test_staff_log_in_to_the_admin_with_their_username_and_use_the_api_by_session(client, staff_user, customer):
    login = client.post("/admin/login/?next=/admin/", {"username": "staff", "password": "staff-pass-123"})

    assert login.status_code == 302
    assert login["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    listed = client.get("/api/v1/customers/", headers={"accept": "application/json"})
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [customer.pk]


def test_a_customer_cannot_log_in_to_the_admin(client, customer):
    client.post("/admin/login/?next=/admin/", {"username": customer.user.username, "password": PASSWORD})

    assert client.get("/admin/").status_code == 302  # back to the login page


# --- The lazy JWT user ------------------------------------------------------------------------


def test_a_bearer_customer_reading_the_cached_product_list_runs_no_sql(customer, django_assert_num_queries):
    ProductFactory.create_batch(2)
    client = bearer_client(customer.user)
    assert client.get("/api/v1/products/")["X-Cache"] == "MISS"

    with django_assert_num_queries(0):
        hit = client.get("/api/v1/products/")

    assert hit.status_code == 200
    assert hit["X-Cache"] == "HIT"
    assert hit.json()["count"] == 2
