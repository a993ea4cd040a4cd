"""Staff admin for customers and addresses (SPEC §8): changelists, search, the address inline, closing accounts."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse
from django_countries.filters import CountryFilter

from catalog.factories import ProductFactory, ReviewFactory
from catalog.models import Product
from customers.admin import ONE_DEFAULT
from customers.factories import AddressFactory, CustomerFactory
from customers.managers import EMAIL_TAKEN
from customers.models import Address, Customer
from orders.factories import OrderFactory
from orders.models import Order
from tests.utils import change_url, changelist_url, listed

pytestmark = pytest.mark.django_db

User = get_user_model()


def delete_url(customer: Customer) -> str:
    return reverse("admin:customers_customer_delete", args=[customer.pk])


def change_form_data(customer: Customer, addresses: list[dict]) -> dict:
    """Return what the change form posts: the profile, the address inline's formset, and the
    management form of the (read-only) orders inline, which the browser posts too."""
    data = {
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "email": customer.email,
        "phone": str(customer.phone),
        "addresses-TOTAL_FORMS": len(addresses),
        "addresses-INITIAL_FORMS": sum(1 for address in addresses if address.get("id")),
        "addresses-MIN_NUM_FORMS": 0,
        "addresses-MAX_NUM_FORMS": 1000,
        "orders-TOTAL_FORMS": 0,
        "orders-INITIAL_FORMS": 0,
        "_save": "Save",
    }
    for number, address in enumerate(addresses):
        data |= {f"addresses-{number}-{field}": value for field, value in address.items()}
        data[f"addresses-{number}-customer"] = customer.pk or ""
    return data


def inline_row(address: Address, **overrides) -> dict:
    row = {
        "id": address.pk,
        "label": address.label,
        "line1": address.line1,
        "line2": address.line2,
        "city": address.city,
        "postal_code": address.postal_code,
        "country": str(address.country),
        "is_default": "on" if address.is_default else "",
    }
    return {**row, **overrides}


class TestCustomerChangelist:
    @pytest.mark.parametrize("count", [3, 30])
    def test_customer_changelist_query_count_does_not_grow_with_rows(
        self, admin_client, django_assert_num_queries, count
    ):
        for customer in CustomerFactory.create_batch(count):
            AddressFactory.create_batch(2, customer=customer)

        # 1 session, 2 user, 3 count of the filtered rows (no second, unfiltered count),
        # 4 the page with each customer's address count.
        with django_assert_num_queries(4):
            response = admin_client.get(changelist_url(Customer))

        assert response.status_code == 200
        assert [customer.address_count for customer in listed(response)] == [2] * count

    def test_customers_are_listed_by_last_name(self, admin_client):
        CustomerFactory(first_name="Zoe", last_name="Adams")
        CustomerFactory(first_name="Adam", last_name="Zimmer")

        response = admin_client.get(changelist_url(Customer), {"o": "1"})  # the name column, ascending

        assert [customer.last_name for customer in listed(response)] == ["Adams", "Zimmer"]

    def test_search_finds_a_customer_by_email(self, admin_client):
        wanted = CustomerFactory(email="ada@example.com")
        CustomerFactory(email="grace@example.com")

        response = admin_client.get(changelist_url(Customer), {"q": "ADA@example"})

        assert listed(response) == [wanted]

    def test_search_finds_a_customer_by_last_name(self, admin_client):
        wanted = CustomerFactory(last_name="Lovelace")
        CustomerFactory(last_name="Hopper")

        response = admin_client.get(changelist_url(Customer), {"q": "lovel"})

        assert listed(response) == [wanted]


class TestCustomerChangeForm:
    def test_change_page_shows_the_addresses_inline(self, admin_client):
        customer = CustomerFactory()
        AddressFactory(customer=customer, line1="12 Analytical Row", is_default=True)
        AddressFactory(customer=customer, line1="3 Engine Lane")

        response = admin_client.get(change_url(customer))

        assert response.status_code == 200
        inline = response.context["inline_admin_formsets"][0]
        assert [form.instance.line1 for form in inline.formset.forms] == ["12 Analytical Row", "3 Engine Lane"]
        assert "3 Engine Lane" in response.content.decode()

    def test_change_page_lists_the_customers_orders_newest_first_with_links(self, admin_client):
        customer = CustomerFactory()
        first, second = (
            OrderFactory(customer=customer, payment_method="card"),
            OrderFactory(customer=customer, payment_method="card"),
        )
        OrderFactory(payment_method="card")  # someone else's

        response = admin_client.get(change_url(customer))

        assert response.status_code == 200
        inline = next(
            formset for formset in response.context["inline_admin_formsets"] if formset.formset.model is Order
        )
        assert [form.instance for form in inline.formset.forms] == [second, first]
        page = response.content.decode()
        for order in (first, second):
            assert f'<a href="{reverse("admin:orders_order_change", args=[order.pk])}">{order.number}</a>' in page
        assert not inline.has_add_permission and not inline.has_delete_permission

    def test_the_orders_inline_shows_only_the_latest_orders(self, admin_client, monkeypatch):
        monkeypatch.setattr("orders.admin.LATEST_ORDERS", 2)
        customer = CustomerFactory()
        orders = [OrderFactory(customer=customer, payment_method="card") for _ in range(3)]

        response = admin_client.get(change_url(customer))

        inline = next(
            formset for formset in response.context["inline_admin_formsets"] if formset.formset.model is Order
        )
        assert [form.instance for form in inline.formset.forms] == orders[:0:-1]

    def test_change_page_shows_the_login_read_only_and_the_email_once(self, admin_client):
        customer = CustomerFactory(email="Ada@example.com")

        response = admin_client.get(change_url(customer))

        form = response.context["adminform"].form
        assert set(form.fields) == {"first_name", "last_name", "email", "phone"}
        assert "The customer signs in with this email." in form.fields["email"].help_text
        assert "login" in response.context["adminform"].readonly_fields
        page = response.content.decode()
        assert f'Active · <a href="{change_url(customer.user)}">open the login</a>' in page
        assert 'name="user"' not in page

    @pytest.mark.parametrize(
        ("is_active", "usable_password", "says"),
        [
            (False, True, "Inactive: cannot sign in"),
            (True, False, "Active, no password yet (the customer sets one through a password reset)"),
        ],
    )
    def test_the_login_says_whether_the_customer_can_sign_in(self, admin_client, is_active, usable_password, says):
        customer = CustomerFactory()
        user = customer.user
        user.is_active = is_active
        if not usable_password:
            user.set_unusable_password()
        user.save()

        response = admin_client.get(change_url(customer))

        assert f'{says} · <a href="{change_url(user)}">' in response.content.decode()

    def test_a_login_whose_username_differs_is_named(self, admin_client):
        customer = CustomerFactory(email="ada@example.com")
        User.objects.filter(pk=customer.user_id).update(username="ada-old")

        response = admin_client.get(change_url(customer))

        assert f'Active · username <a href="{change_url(customer.user)}">ada-old</a>' in response.content.decode()

    def test_adding_a_customer_registers_a_login_without_a_password(self, admin_client):
        data = change_form_data(Customer(first_name="Ada", last_name="Lovelace", email="Ada@example.com"), [])

        form = admin_client.get(reverse("admin:customers_customer_add")).context["adminform"].form
        response = admin_client.post(reverse("admin:customers_customer_add"), data)

        assert set(form.fields) == {"first_name", "last_name", "email", "phone"}
        assert response.status_code == 302
        customer = Customer.objects.get(email="Ada@example.com")
        assert (customer.user.username, customer.user.email) == ("ada@example.com", "Ada@example.com")
        assert not customer.user.has_usable_password()

    def test_adding_a_customer_with_an_address(self, admin_client):
        address = {"label": "Home", "line1": "12 Analytical Row", "line2": "", "city": "London"}
        address |= {"postal_code": "N1 9GU", "country": "GB", "is_default": "on"}
        data = change_form_data(Customer(first_name="Ada", last_name="Lovelace", email="ada@example.com"), [address])

        response = admin_client.post(reverse("admin:customers_customer_add"), data)

        assert response.status_code == 302
        customer = Customer.objects.get(email="ada@example.com")
        assert list(customer.addresses.values_list("line1", "is_default")) == [("12 Analytical Row", True)]

    def test_adding_a_customer_with_a_taken_email_is_a_form_error(self, admin_client, staff_user):
        data = change_form_data(Customer(first_name="Ada", last_name="Lovelace", email="STAFF@example.com"), [])

        response = admin_client.post(reverse("admin:customers_customer_add"), data)

        assert response.status_code == 200
        assert response.context["adminform"].form.errors["email"] == [EMAIL_TAKEN]
        assert not Customer.objects.exists()

    def test_saving_a_customer_with_orders_leaves_the_orders_alone(self, admin_client):
        order = OrderFactory(payment_method="card")
        customer = order.customer
        data = change_form_data(customer, []) | {"orders-TOTAL_FORMS": 1, "orders-INITIAL_FORMS": 1}

        response = admin_client.post(change_url(customer), data | {"orders-0-id": order.pk, "last_name": "Byron"})

        assert response.status_code == 302
        assert Customer.objects.get(pk=customer.pk).last_name == "Byron"
        assert Order.objects.get(pk=order.pk).status == order.status

    def test_saving_keeps_the_login_in_step_with_the_profile(self, admin_client):
        customer = CustomerFactory(email="old@example.com")

        response = admin_client.post(
            change_url(customer), change_form_data(customer, []) | {"email": "new@example.com", "last_name": "Byron"}
        )

        assert response.status_code == 302
        user = User.objects.get(pk=customer.user_id)
        assert (user.email, user.last_name) == ("new@example.com", "Byron")

    def test_saving_a_staff_members_email_is_a_form_error(self, admin_client, staff_user):
        customer = CustomerFactory(email="old@example.com")

        response = admin_client.post(
            change_url(customer), change_form_data(customer, []) | {"email": "STAFF@example.com"}
        )

        assert response.status_code == 200
        assert response.context["adminform"].form.errors["email"] == [EMAIL_TAKEN]
        assert User.objects.get(pk=customer.user_id).email == "old@example.com"

    def test_ticking_a_new_default_address_moves_the_default(self, admin_client):
        customer = CustomerFactory()
        home = AddressFactory(customer=customer, is_default=True)
        work = AddressFactory(customer=customer)

        response = admin_client.post(
            change_url(customer),
            change_form_data(customer, [inline_row(home, is_default=""), inline_row(work, is_default="on")]),
        )

        assert response.status_code == 302
        assert list(customer.addresses.filter(is_default=True)) == [work]

    def test_two_default_addresses_are_a_form_error(self, admin_client):
        customer = CustomerFactory()
        home = AddressFactory(customer=customer, is_default=True)
        work = AddressFactory(customer=customer)

        response = admin_client.post(
            change_url(customer), change_form_data(customer, [inline_row(home), inline_row(work, is_default="on")])
        )

        assert response.status_code == 200
        assert response.context["inline_admin_formsets"][0].formset.non_form_errors() == [ONE_DEFAULT]
        assert list(customer.addresses.filter(is_default=True)) == [home]


class TestClosingAccounts:
    def test_deleting_a_customer_closes_the_account(self, admin_client):
        customer = CustomerFactory()
        AddressFactory.create_batch(2, customer=customer)

        response = admin_client.post(delete_url(customer), {"post": "yes"})

        assert response.status_code == 302
        assert not Customer.objects.filter(pk=customer.pk).exists()
        assert not User.objects.filter(pk=customer.user_id).exists()
        assert not Address.objects.exists()

    def test_the_confirmation_page_lists_the_login_and_the_addresses(self, admin_client):
        customer = CustomerFactory(email="ada@example.com")
        AddressFactory(customer=customer, line1="12 Analytical Row")

        response = admin_client.get(delete_url(customer))

        assert response.status_code == 200
        page = response.content.decode()
        assert "ada@example.com" in page
        assert "12 Analytical Row" in page
        assert dict(response.context["model_count"]) == {"users": 1, "customers": 1, "addresses": 1}

    def test_staff_allowed_to_delete_customers_can_close_an_account_without_user_permissions(self, client, staff_user):
        assert not staff_user.has_perm("auth.delete_user")
        client.force_login(staff_user)
        customer = CustomerFactory()

        response = client.post(delete_url(customer), {"post": "yes"})

        assert response.status_code == 302
        assert not User.objects.filter(pk=customer.user_id).exists()

    def test_staff_without_the_delete_permission_cannot_close_an_account(self, client, staff_without_permissions):
        staff_without_permissions.user_permissions.set(Permission.objects.filter(codename="view_customer"))
        client.force_login(staff_without_permissions)
        customer = CustomerFactory()

        response = client.post(delete_url(customer), {"post": "yes"})

        assert response.status_code == 403
        assert Customer.objects.filter(pk=customer.pk).exists()

    def test_the_delete_action_closes_every_selected_account(self, admin_client):
        chosen, kept = CustomerFactory.create_batch(2), CustomerFactory()

        response = admin_client.post(
            changelist_url(Customer),
            {"action": "delete_selected", "_selected_action": [customer.pk for customer in chosen], "post": "yes"},
        )

        assert response.status_code == 302
        assert list(Customer.objects.all()) == [kept]
        assert not User.objects.filter(pk__in=[customer.user_id for customer in chosen]).exists()

    def test_closing_an_account_takes_its_reviews_out_of_the_rating(self, admin_client):
        product = ProductFactory()
        leaving, staying = CustomerFactory(), CustomerFactory()
        ReviewFactory(product=product, customer=leaving, rating=1)
        ReviewFactory(product=product, customer=staying, rating=5)

        admin_client.post(delete_url(leaving), {"post": "yes"})

        rating = Product.objects.values_list("rating_average", "rating_count").get(pk=product.pk)
        assert rating == (5, 1)

    def test_a_customer_with_orders_is_protected_and_keeps_the_login(self, admin_client):
        order = OrderFactory(payment_method="card")
        customer = order.customer

        response = admin_client.post(delete_url(customer), {"post": "yes"})

        # Django's refusal page; orders are never deleted, so it names the missing permission too.
        assert response.status_code == 200
        assert "Cannot delete customer" in response.content.decode()
        assert [order.number in blocker for blocker in response.context["protected"]] == [True]
        assert Customer.objects.filter(pk=customer.pk).exists()
        assert User.objects.filter(pk=customer.user_id).exists()

    def test_the_delete_action_refuses_a_selection_with_a_protected_customer(self, admin_client):
        ordered, other = OrderFactory(payment_method="card").customer, CustomerFactory()

        response = admin_client.post(
            changelist_url(Customer),
            {"action": "delete_selected", "_selected_action": [ordered.pk, other.pk], "post": "yes"},
        )

        assert response.status_code == 200
        assert "Cannot delete customers" in response.content.decode()
        assert len(response.context["protected"]) == 1
        assert Customer.objects.count() == 2


class TestAddressAdmin:
    @pytest.mark.parametrize("count", [3, 30])
    def test_address_changelist_query_count_does_not_grow_with_rows(
        self, admin_client, django_assert_num_queries, count
    ):
        AddressFactory.create_batch(count, country="DE")
        AddressFactory(country="FR")

        # 1 session, 2 user, 3 countries in use (country filter), 4 count of the
        # filtered rows, 5 the page with each customer.
        with django_assert_num_queries(5):
            response = admin_client.get(changelist_url(Address))

        assert response.status_code == 200
        assert len(listed(response)) == count + 1

    def test_country_filter_offers_only_countries_in_use(self, admin_client):
        AddressFactory(country="DE")
        french = AddressFactory(country="FR")

        response = admin_client.get(changelist_url(Address), {"country": "FR"})

        assert listed(response) == [french]
        country_filter = next(spec for spec in response.context["cl"].filter_specs if isinstance(spec, CountryFilter))
        offered = [choice["display"] for choice in country_filter.choices(response.context["cl"])]
        assert offered == ["All", "France", "Germany"]

    def test_search_finds_addresses_by_customer_email(self, admin_client):
        wanted = AddressFactory(customer=CustomerFactory(email="ada@example.com"))
        AddressFactory(customer=CustomerFactory(email="grace@example.com"))

        response = admin_client.get(changelist_url(Address), {"q": "ada@"})

        assert listed(response) == [wanted]

    def test_search_finds_addresses_by_postal_code(self, admin_client):
        wanted = AddressFactory(postal_code="SW1A 1AA")
        AddressFactory(postal_code="10115")

        response = admin_client.get(changelist_url(Address), {"q": "sw1a"})

        assert listed(response) == [wanted]


@pytest.mark.django_db
class TestUserChangeForm:
    """Django's user admin, with the one-email-one-account rule (customers/admin.py)."""

    def user_form_data(self, user, **changes) -> dict:
        data = {
            "username": user.username,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "is_active": "on",
            "is_staff": "on" if user.is_staff else "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "_save": "Save",
        }
        return {key: value for key, value in {**data, **changes}.items() if value != ""}

    def test_giving_a_staff_member_a_customers_email_is_a_form_error(self, admin_client, staff_user):
        CustomerFactory(email="ada@example.com")

        response = admin_client.post(change_url(staff_user), self.user_form_data(staff_user, email="ADA@example.com"))

        assert response.status_code == 200
        assert response.context["adminform"].form.errors["email"] == [EMAIL_TAKEN]
        assert User.objects.get(pk=staff_user.pk).email == "staff@example.com"

    def test_a_staff_member_may_change_the_case_of_their_own_email(self, admin_client, staff_user):
        response = admin_client.post(change_url(staff_user), self.user_form_data(staff_user, email="Staff@Example.com"))

        assert response.status_code == 302
        assert User.objects.get(pk=staff_user.pk).email == "Staff@example.com"  # Django lower-cases the domain
