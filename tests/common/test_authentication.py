"""LazyJWTAuthentication: a token whose user is gone fails as a 401, whichever renderer answers."""

import pytest

from conftest import bearer_client
from customers.factories import CustomerFactory
from tests.utils import assert_error

pytestmark = pytest.mark.django_db

PAGES = ["/api/v1/products/", "/api/v1/categories/", "/api/v1/customers/me/", "/api/v1/orders/"]


def gone_users_client(how: str):
    customer = CustomerFactory()
    client = bearer_client(customer.user)
    if how == "deleted":
        customer.user.delete()
    else:
        customer.user.is_active = False
        customer.user.save()
    return client


@pytest.mark.parametrize("how", ["deleted", "deactivated"])
@pytest.mark.parametrize("path", PAGES)
def test_the_browsable_api_answers_401_not_500_for_a_gone_users_token(how, path):
    client = gone_users_client(how)

    as_html = client.get(path, HTTP_ACCEPT="text/html")
    as_format = client.get(path, {"format": "api"})

    for response in (as_html, as_format):
        assert response.status_code == 401, response.content[:300]
        assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("how", ["deleted", "deactivated"])
def test_json_answers_the_401_error_body_for_a_gone_users_token(how):
    client = gone_users_client(how)

    response = client.get("/api/v1/customers/me/")

    assert response.status_code == 401
    assert_error(response, 401, "authentication_failed")


def test_the_users_customer_profile_comes_in_the_same_query(django_assert_num_queries):
    customer = CustomerFactory()
    client = bearer_client(customer.user)

    # 1. the token's user, its customer profile joined (GET /customers/me/ reads both)
    with django_assert_num_queries(1):
        response = client.get("/api/v1/customers/me/")

    assert response.json()["email"] == customer.email


def test_a_staff_user_without_a_customer_profile_is_still_authenticated(staff_user):
    response = bearer_client(staff_user).get("/api/v1/customers/me/")

    assert response.status_code == 404  # not_a_customer: the join found no profile
