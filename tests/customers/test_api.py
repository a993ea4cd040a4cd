"""Customers and addresses through the REST API (SPEC §5): profiles, staff management, addresses, query counts."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from conftest import bearer_client
from customers.factories import PASSWORD, AddressFactory, CustomerFactory
from customers.models import Address, Customer
from orders.factories import OrderFactory
from orders.status import DeliveryMethod
from tests.utils import assert_error, assert_validation_error, result_ids

pytestmark = pytest.mark.django_db

User = get_user_model()

ME_URL = "/api/v1/customers/me/"
CUSTOMERS_URL = "/api/v1/customers/"
ADDRESSES_URL = "/api/v1/addresses/"
TOKEN_URL = "/api/v1/auth/token/"
REGISTER_URL = "/api/v1/auth/register/"

CUSTOMER_FIELDS = {"id", "email", "email_verified", "first_name", "last_name", "phone", "created_at", "updated_at"}
ADDRESS_FIELDS = {
    "id", "customer", "label", "line1", "line2", "city", "postal_code", "country", "is_default",
    "created_at", "updated_at",
}  # fmt: skip


def customer_url(pk: int) -> str:
    return f"{CUSTOMERS_URL}{pk}/"


def address_url(pk: int) -> str:
    return f"{ADDRESSES_URL}{pk}/"


def can_log_in(email: str, password: str) -> bool:
    return APIClient().post(TOKEN_URL, {"email": email, "password": password}, format="json").status_code == 200


def fresh_staff_client(staff_user) -> APIClient:
    """Return a client for a newly loaded staff user, so no permission cache carries over between requests."""
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=staff_user.pk))
    return client


def address_payload(**overrides) -> dict:
    address = {"label": "Home", "line1": "12 Analytical Row", "city": "London", "postal_code": "N1", "country": "GB"}
    return {**address, **overrides}


# --- /customers/me/ -------------------------------------------------------------------------


class TestMe:
    def test_a_customer_reads_their_own_profile(self, customer_client, customer):
        response = customer_client.get(ME_URL)

        assert response.status_code == 200
        body = response.json()
        assert set(body) == CUSTOMER_FIELDS
        assert (body["id"], body["email"], body["phone"]) == (customer.pk, customer.email, str(customer.phone))

    def test_a_customer_edits_names_and_the_phone_is_normalised_to_e164(self, customer_client, customer):
        response = customer_client.patch(
            ME_URL, {"first_name": "Ada", "last_name": "Lovelace", "phone": "+1 (415) 555-0199"}, format="json"
        )

        assert response.status_code == 200, response.content
        assert (response.json()["first_name"], response.json()["phone"]) == ("Ada", "+14155550199")
        customer.refresh_from_db()
        assert (customer.first_name, customer.last_name, str(customer.phone)) == ("Ada", "Lovelace", "+14155550199")
        user = User.objects.get(pk=customer.user_id)
        assert (user.first_name, user.last_name) == ("Ada", "Lovelace")

    def test_a_customer_can_clear_their_phone(self, customer_client, customer):
        response = customer_client.patch(ME_URL, {"phone": ""}, format="json")

        assert response.status_code == 200, response.content
        assert response.json()["phone"] == ""

    @pytest.mark.parametrize("phone", ["555", "+1 415 555", "not a phone", "4155550199"])
    def test_a_phone_not_in_e164_is_refused(self, customer_client, customer, phone):
        before = str(customer.phone)

        assert_validation_error(customer_client.patch(ME_URL, {"phone": phone}, format="json"), "phone")
        customer.refresh_from_db()
        assert str(customer.phone) == before

    def test_changing_to_an_email_taken_in_another_case_is_refused(self, customer_client, customer):
        CustomerFactory(email="taken@example.com")
        before = customer.email

        response = customer_client.patch(ME_URL, {"email": "TAKEN@Example.com"}, format="json")

        assert_validation_error(response, "email")
        customer.refresh_from_db()
        assert customer.email == before

    def test_changing_to_a_staff_members_email_is_refused(self, customer_client, customer, staff_user):
        before = customer.email

        response = customer_client.patch(ME_URL, {"email": "STAFF@example.com"}, format="json")

        assert_validation_error(response, "email")
        customer.refresh_from_db()
        assert customer.email == before
        assert User.objects.get(pk=customer.user_id).email == before
        assert can_log_in("staff@example.com", "staff-pass-123")

    def test_a_customer_may_change_the_case_of_their_own_email(self, customer_client, customer):
        response = customer_client.patch(ME_URL, {"email": customer.email.upper()}, format="json")

        assert response.status_code == 200, response.content
        assert response.json()["email"] == customer.email.upper()

    def test_an_email_change_moves_the_login_to_the_new_email(self, customer_client, customer):
        old = customer.email

        response = customer_client.patch(ME_URL, {"email": "ada.new@example.com"}, format="json")

        assert response.status_code == 200, response.content
        assert User.objects.get(pk=customer.user_id).email == "ada.new@example.com"
        assert can_log_in("ADA.NEW@example.com", PASSWORD)
        assert not can_log_in(old, PASSWORD)

    def test_an_email_given_up_can_be_registered_by_someone_else(self, customer_client, customer, api_client):
        old = customer.email
        assert customer_client.patch(ME_URL, {"email": "ada.new@example.com"}, format="json").status_code == 200

        response = api_client.post(
            REGISTER_URL,
            {"email": old, "password": "analytical-engine-1843", "first_name": "Grace", "last_name": "Hopper"},
            format="json",
        )

        assert response.status_code == 201, response.content

    def test_read_only_fields_are_ignored(self, customer_client, customer):
        response = customer_client.patch(ME_URL, {"id": 999, "created_at": "2000-01-01T00:00:00Z"}, format="json")

        assert response.status_code == 200
        assert response.json()["id"] == customer.pk

    def test_staff_edit_refuses_a_staff_members_email(self, staff_client, staff_user, customer):
        response = staff_client.patch(customer_url(customer.pk), {"email": "STAFF@example.com"}, format="json")

        assert_validation_error(response, "email")
        assert can_log_in("staff@example.com", "staff-pass-123")

    def test_put_is_not_allowed(self, customer_client):
        assert_error(customer_client.put(ME_URL, {}, format="json"), 405, "method_not_allowed")

    @pytest.mark.parametrize("method", ["get", "patch"])
    def test_a_staff_only_account_has_no_profile(self, staff_client, method):
        assert_error(getattr(staff_client, method)(ME_URL, {}, format="json"), 404, "not_found")

    def test_reading_me_costs_one_query(self, customer, django_assert_num_queries):
        client = bearer_client(customer.user)

        with django_assert_num_queries(1):
            # 1. the token's user (loaded lazily), its customer profile joined
            response = client.get(ME_URL)

        assert response.status_code == 200


# --- Staff manage customers --------------------------------------------------------------------


class TestStaffCustomers:
    def test_staff_filter_by_exact_email_in_any_case(self, staff_client):
        ada = CustomerFactory(email="ada@example.com")
        CustomerFactory(email="ada@example.org")
        CustomerFactory(email="ada@example.com.au")

        assert result_ids(staff_client.get(CUSTOMERS_URL, {"email": "ADA@Example.COM"})) == [ada.pk]
        assert result_ids(staff_client.get(CUSTOMERS_URL, {"email": "ada@example"})) == []

    def test_staff_search_by_name(self, staff_client):
        ada = CustomerFactory(first_name="Ada", last_name="Lovelace")
        byron = CustomerFactory(first_name="Ada", last_name="Byron")
        CustomerFactory(first_name="Grace", last_name="Hopper")

        assert set(result_ids(staff_client.get(CUSTOMERS_URL, {"search": "ada"}))) == {ada.pk, byron.pk}
        assert result_ids(staff_client.get(CUSTOMERS_URL, {"search": "ada love"})) == [ada.pk]
        assert result_ids(staff_client.get(CUSTOMERS_URL, {"search": "LOVELACE"})) == [ada.pk]

    def test_the_list_is_ordered_by_name_and_can_be_ordered_by_email(self, staff_client):
        b = CustomerFactory(first_name="Zed", last_name="Brown", email="a@example.com")
        a = CustomerFactory(first_name="Amy", last_name="Adams", email="z@example.com")

        assert result_ids(staff_client.get(CUSTOMERS_URL)) == [a.pk, b.pk]
        assert result_ids(staff_client.get(CUSTOMERS_URL, {"ordering": "email"})) == [b.pk, a.pk]

    def test_the_list_is_paginated(self, staff_client):
        CustomerFactory.create_batch(25)

        first = staff_client.get(CUSTOMERS_URL)
        last = staff_client.get(CUSTOMERS_URL, {"page": 2})
        small = staff_client.get(CUSTOMERS_URL, {"page_size": 5})

        assert set(first.json()) == {"count", "next", "previous", "results"}
        assert (first.json()["count"], len(first.json()["results"]), first.json()["previous"]) == (25, 20, None)
        assert "page=2" in first.json()["next"]
        assert (len(last.json()["results"]), last.json()["next"]) == (5, None)
        assert set(last.json()["results"][0]) == CUSTOMER_FIELDS
        assert len(small.json()["results"]) == 5

    @pytest.mark.parametrize("rows", [3, 30])
    def test_listing_costs_the_same_queries_for_3_or_30_customers(self, staff_user, django_assert_num_queries, rows):
        CustomerFactory.create_batch(rows)
        client = fresh_staff_client(staff_user)

        with django_assert_num_queries(3):
            # 1. the staff user's own permissions   2. their groups' permissions
            # 3. the page of customers (not full: no COUNT)
            response = client.get(CUSTOMERS_URL, {"page_size": 100})

        assert len(response.json()["results"]) == rows

    def test_reading_one_customer_costs_three_queries(self, staff_user, customer, django_assert_num_queries):
        client = fresh_staff_client(staff_user)

        with django_assert_num_queries(3):
            # 1-2. the staff user's permissions (own, groups)   3. the customer
            response = client.get(customer_url(customer.pk))

        assert response.json()["id"] == customer.pk

    def test_staff_create_a_customer_with_a_password_who_can_then_log_in(self, staff_client):
        response = staff_client.post(
            CUSTOMERS_URL,
            {
                "email": "Grace@Example.com",
                "first_name": "Grace",
                "last_name": "Hopper",
                "phone": "+1 202 555 0143",
                "password": "cobol-compiler-1959",
            },
            format="json",
        )

        assert response.status_code == 201, response.content
        body = response.json()
        assert set(body) == CUSTOMER_FIELDS  # never the password
        assert (body["email"], body["phone"]) == ("Grace@Example.com", "+12025550143")
        customer = Customer.objects.select_related("user").get(pk=body["id"])
        assert (customer.user.email, customer.user.is_staff) == ("Grace@Example.com", False)
        assert can_log_in("grace@example.com", "cobol-compiler-1959")

    def test_staff_create_a_customer_without_a_password_who_cannot_log_in_yet(self, staff_client):
        response = staff_client.post(
            CUSTOMERS_URL, {"email": "grace@example.com", "first_name": "Grace", "last_name": "Hopper"}, format="json"
        )

        assert response.status_code == 201, response.content
        user = Customer.objects.get(pk=response.json()["id"]).user
        assert not user.has_usable_password()
        assert not can_log_in("grace@example.com", "")
        assert not can_log_in("grace@example.com", "anything-at-all-42")

    def test_staff_create_refuses_an_email_taken_in_another_case(self, staff_client):
        CustomerFactory(email="grace@example.com")

        response = staff_client.post(
            CUSTOMERS_URL, {"email": "GRACE@example.com", "first_name": "G", "last_name": "H"}, format="json"
        )

        assert_validation_error(response, "email")
        assert Customer.objects.count() == 1

    def test_staff_create_refuses_a_staff_members_email(self, staff_client, staff_user):
        users = User.objects.count()

        response = staff_client.post(
            CUSTOMERS_URL, {"email": "Staff@Example.com", "first_name": "G", "last_name": "H"}, format="json"
        )

        assert_validation_error(response, "email")
        assert not Customer.objects.exists()
        assert User.objects.count() == users

    def test_staff_create_refuses_a_weak_password_and_creates_nothing(self, staff_client):
        users = User.objects.count()

        response = staff_client.post(
            CUSTOMERS_URL,
            {"email": "grace@example.com", "first_name": "Grace", "last_name": "Hopper", "password": "password"},
            format="json",
        )

        assert_validation_error(response, "password")
        assert not Customer.objects.exists()
        assert User.objects.count() == users

    def test_staff_edit_a_customer_and_the_login_follows(self, staff_client, customer):
        response = staff_client.patch(
            customer_url(customer.pk), {"email": "renamed@example.com", "last_name": "Renamed"}, format="json"
        )

        assert response.status_code == 200, response.content
        user = User.objects.get(pk=customer.user_id)
        assert (user.email, user.last_name) == ("renamed@example.com", "Renamed")
        assert can_log_in("renamed@example.com", PASSWORD)

    def test_staff_edit_refuses_another_customers_email(self, staff_client, customer, other_customer):
        response = staff_client.patch(customer_url(customer.pk), {"email": other_customer.email.upper()}, format="json")

        assert_validation_error(response, "email")

    def test_put_is_not_allowed(self, staff_client, customer):
        response = staff_client.put(
            customer_url(customer.pk), {"email": customer.email, "first_name": "A", "last_name": "B"}, format="json"
        )

        assert_error(response, 405, "method_not_allowed")

    def test_staff_delete_removes_the_login_and_the_addresses(self, staff_client, customer, other_customer):
        AddressFactory.create_batch(2, customer=customer)
        kept = AddressFactory(customer=other_customer)

        response = staff_client.delete(customer_url(customer.pk))

        assert response.status_code == 204
        assert not Customer.objects.filter(pk=customer.pk).exists()
        assert not User.objects.filter(pk=customer.user_id).exists()
        assert list(Address.objects.all()) == [kept]
        assert not can_log_in(customer.email, PASSWORD)

    def test_staff_cannot_delete_a_customer_with_orders(self, staff_client, customer):
        AddressFactory(customer=customer)
        OrderFactory(customer=customer, payment_method="card")

        response = staff_client.delete(customer_url(customer.pk))

        body = assert_error(response, 409, "conflict")
        assert body["blocked_by"] == {"orders": 1}
        assert Customer.objects.filter(pk=customer.pk).exists()
        assert User.objects.filter(pk=customer.user_id).exists()
        assert customer.addresses.count() == 1
        assert can_log_in(customer.email, PASSWORD)

    def test_an_unknown_customer_is_404(self, staff_client):
        assert_error(staff_client.get(customer_url(999_999)), 404, "not_found")


# --- Addresses -----------------------------------------------------------------------------------


class TestCustomerAddresses:
    @pytest.mark.parametrize("country", [{}, [], {"code": "US"}, 7])
    def test_a_country_that_is_not_a_code_is_a_400_not_a_stored_blank(self, customer_client, customer, country):
        response = customer_client.post(ADDRESSES_URL, address_payload(country=country), format="json")

        assert_validation_error(response, "country")
        assert not customer.addresses.exists()

    def test_a_customer_creates_an_address_for_themselves_whatever_the_body_says(
        self, customer_client, customer, other_customer
    ):
        response = customer_client.post(ADDRESSES_URL, address_payload(customer=other_customer.pk), format="json")

        assert response.status_code == 201, response.content
        body = response.json()
        assert set(body) == ADDRESS_FIELDS
        assert body["customer"] == customer.pk
        assert Address.objects.get(pk=body["id"]).customer == customer
        assert not other_customer.addresses.exists()

    def test_a_customer_lists_only_their_own_addresses(self, customer_client, customer, other_customer):
        mine = AddressFactory.create_batch(2, customer=customer)
        AddressFactory(customer=other_customer)

        assert result_ids(customer_client.get(ADDRESSES_URL)) == [address.pk for address in mine]
        assert result_ids(customer_client.get(ADDRESSES_URL, {"customer": other_customer.pk})) == []

    def test_the_default_address_is_listed_first(self, customer_client, customer):
        first = AddressFactory(customer=customer)
        default = AddressFactory(customer=customer, is_default=True)

        assert result_ids(customer_client.get(ADDRESSES_URL)) == [default.pk, first.pk]

    def test_a_customer_updates_their_address(self, customer_client, customer):
        address = AddressFactory(customer=customer, city="Leeds")

        patched = customer_client.patch(address_url(address.pk), {"city": "York"}, format="json")
        put = customer_client.put(address_url(address.pk), address_payload(line2="Flat 2"), format="json")

        assert patched.status_code == 200, patched.content
        assert patched.json()["city"] == "York"
        assert put.status_code == 200, put.content
        address.refresh_from_db()
        assert (address.city, address.line2, address.customer_id) == ("London", "Flat 2", customer.pk)

    def test_a_customer_cannot_move_their_address_to_someone_else(self, customer_client, customer, other_customer):
        address = AddressFactory(customer=customer)

        response = customer_client.patch(address_url(address.pk), {"customer": other_customer.pk}, format="json")

        assert response.status_code == 200
        address.refresh_from_db()
        assert address.customer_id == customer.pk

    def test_a_customer_deletes_their_address(self, customer_client, customer):
        address = AddressFactory(customer=customer)

        assert customer_client.delete(address_url(address.pk)).status_code == 204
        assert not Address.objects.filter(pk=address.pk).exists()
        assert Customer.objects.filter(pk=customer.pk).exists()

    def test_a_customer_with_orders_can_still_delete_their_addresses(self, customer_client, customer):
        address = AddressFactory(customer=customer)
        order = OrderFactory(
            customer=customer, payment_method="card", delivery_method=DeliveryMethod.HOME_DELIVERY, address=address
        )

        assert customer_client.delete(address_url(address.pk)).status_code == 204
        order.refresh_from_db()
        assert order.shipping_address["line1"] == address.line1  # the order keeps its snapshot

    @pytest.mark.parametrize("country", ["XX", "", "Britain", "G"])
    def test_a_country_that_is_not_iso_alpha_2_is_refused(self, customer_client, country):
        response = customer_client.post(ADDRESSES_URL, address_payload(country=country), format="json")

        assert_validation_error(response, "country")
        assert not Address.objects.exists()

    def test_a_lower_case_country_code_is_accepted_and_returned_in_upper_case(self, customer_client):
        response = customer_client.post(ADDRESSES_URL, address_payload(country="gb"), format="json")

        assert response.status_code == 201, response.content
        assert response.json()["country"] == "GB"
        assert Address.objects.get().country.code == "GB"

    def test_required_fields_are_named(self, customer_client):
        response = customer_client.post(ADDRESSES_URL, {}, format="json")

        body = assert_validation_error(response, "line1", "city", "postal_code", "country")
        assert not {"label", "line2", "is_default", "customer"} & set(body["errors"])

    def test_creating_a_default_address_clears_the_previous_default(self, customer_client, customer):
        old = AddressFactory(customer=customer, is_default=True)

        response = customer_client.post(ADDRESSES_URL, address_payload(is_default=True), format="json")

        assert response.status_code == 201, response.content
        old.refresh_from_db()
        assert not old.is_default
        assert list(customer.addresses.filter(is_default=True).values_list("pk", flat=True)) == [response.json()["id"]]

    def test_making_an_address_the_default_clears_the_previous_one(self, customer_client, customer, other_customer):
        old = AddressFactory(customer=customer, is_default=True)
        work = AddressFactory(customer=customer)
        others_default = AddressFactory(customer=other_customer, is_default=True)

        response = customer_client.patch(address_url(work.pk), {"is_default": True}, format="json")

        assert response.status_code == 200, response.content
        assert list(customer.addresses.filter(is_default=True)) == [work]
        old.refresh_from_db()
        others_default.refresh_from_db()
        assert (old.is_default, others_default.is_default) == (False, True)

    def test_an_account_without_a_customer_profile_cannot_add_an_address(self, plain_user):
        response = bearer_client(plain_user).post(ADDRESSES_URL, address_payload(), format="json")

        assert_error(response, 404, "not_found")
        assert not Address.objects.exists()

    @pytest.mark.parametrize("rows", [3, 30])
    def test_listing_costs_the_same_queries_for_3_or_30_addresses(self, customer, django_assert_num_queries, rows):
        AddressFactory.create_batch(rows, customer=customer)
        AddressFactory(customer=CustomerFactory())
        client = bearer_client(customer.user)

        with django_assert_num_queries(2):
            # 1. the token's user (loaded lazily)   2. the page (not full: no COUNT)
            response = client.get(ADDRESSES_URL, {"page_size": 100})

        assert len(response.json()["results"]) == rows


class TestStaffAddresses:
    def test_staff_list_every_address_and_filter_by_customer(self, staff_client, customer, other_customer):
        mine = AddressFactory(customer=customer)
        theirs = AddressFactory(customer=other_customer)

        assert set(result_ids(staff_client.get(ADDRESSES_URL))) == {mine.pk, theirs.pk}
        assert result_ids(staff_client.get(ADDRESSES_URL, {"customer": other_customer.pk})) == [theirs.pk]

    def test_staff_create_an_address_for_a_customer(self, staff_client, customer):
        response = staff_client.post(ADDRESSES_URL, address_payload(customer=customer.pk), format="json")

        assert response.status_code == 201, response.content
        assert response.json()["customer"] == customer.pk
        assert customer.addresses.count() == 1

    @pytest.mark.parametrize("customer_id", [None, 999_999])
    def test_staff_must_name_an_existing_customer(self, staff_client, customer_id):
        payload = address_payload() if customer_id is None else address_payload(customer=customer_id)

        assert_validation_error(staff_client.post(ADDRESSES_URL, payload, format="json"), "customer")
        assert not Address.objects.exists()

    def test_staff_making_a_default_clears_that_customers_previous_default(self, staff_client, customer):
        old = AddressFactory(customer=customer, is_default=True)

        response = staff_client.post(
            ADDRESSES_URL, address_payload(customer=customer.pk, is_default=True), format="json"
        )

        assert response.status_code == 201, response.content
        old.refresh_from_db()
        assert not old.is_default

    def test_staff_making_an_existing_address_the_default_clears_the_previous_one(self, staff_client, customer):
        old = AddressFactory(customer=customer, is_default=True)
        work = AddressFactory(customer=customer)

        response = staff_client.patch(address_url(work.pk), {"is_default": True}, format="json")

        assert response.status_code == 200, response.content
        assert list(customer.addresses.filter(is_default=True)) == [work]
        old.refresh_from_db()
        assert not old.is_default

    @pytest.mark.parametrize("rows", [3, 30])
    def test_listing_costs_the_same_queries_for_3_or_30_addresses(self, staff_user, django_assert_num_queries, rows):
        AddressFactory.create_batch(rows)
        client = fresh_staff_client(staff_user)

        with django_assert_num_queries(3):
            # 1-2. the staff user's permissions (own, groups)   3. the page (not full: no COUNT)
            response = client.get(ADDRESSES_URL, {"page_size": 100})

        assert len(response.json()["results"]) == rows
