"""Customers and addresses at the model layer (SPEC §4): registration, the email key, the default address."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from catalog.factories import ProductFactory
from customers.factories import PASSWORD, AddressFactory, CustomerFactory, UserFactory
from customers.managers import EMAIL_TAKEN
from customers.models import Address, Customer
from orders.managers import Line
from orders.models import Order
from orders.status import DeliveryMethod, PaymentMethod
from tests.utils import race_n, requires_postgresql

User = get_user_model()

GOOD_PASSWORD = "analytical-engine-1843"


def register(**overrides) -> Customer:
    fields = {
        "email": "ada@example.com",
        "password": GOOD_PASSWORD,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "phone": "+442071838750",
    }
    return Customer.objects.register(**{**fields, **overrides})


def defaults_of(customer: Customer) -> list[int]:
    return list(Address.objects.filter(customer=customer, is_default=True).values_list("pk", flat=True))


@pytest.mark.django_db
class TestRegister:
    def test_register_creates_the_login_user_and_the_customer_together(self):
        customer = register(email=" Ada@Example.com ")

        customer = Customer.objects.select_related("user").get(pk=customer.pk)
        assert customer.email == "Ada@Example.com"  # kept as typed, trimmed
        assert (customer.first_name, customer.last_name, str(customer.phone)) == ("Ada", "Lovelace", "+442071838750")
        user = customer.user
        assert user.username == "ada@example.com"
        assert (user.email, user.first_name, user.last_name) == ("Ada@Example.com", "Ada", "Lovelace")
        assert user.check_password(GOOD_PASSWORD)
        assert not user.is_staff
        assert not user.is_superuser

    @pytest.mark.parametrize(
        "password",
        [
            pytest.param("sh0rt-x", id="too-short"),
            pytest.param("password123", id="common"),
            pytest.param("40817263549", id="all-digits"),
            pytest.param("lovelace12", id="like-the-last-name"),
        ],
    )
    def test_register_refuses_a_weak_password_and_leaves_no_rows(self, password):
        with pytest.raises(ValidationError) as refused:
            register(password=password)

        assert refused.value.messages
        assert not User.objects.exists()
        assert not Customer.objects.exists()

    def test_register_without_a_password_makes_an_account_that_cannot_log_in(self):
        customer = register(password=None)

        customer.user.refresh_from_db()
        assert not customer.user.has_usable_password()

    def test_register_with_a_taken_email_in_another_case_leaves_no_rows(self):
        CustomerFactory(email="ada@example.com")
        users = User.objects.count()

        with pytest.raises(ValidationError) as refused:
            register(email="ADA@example.COM")

        assert refused.value.message_dict == {"email": [EMAIL_TAKEN]}
        assert User.objects.count() == users
        assert Customer.objects.count() == 1

    @pytest.mark.parametrize("spelling", ["boss@example.com", "BOSS@Example.com"])
    def test_register_refuses_a_staff_members_email_in_any_case(self, spelling):
        boss = User.objects.create_user(username="boss", email="Boss@example.com", password="x", is_staff=True)

        with pytest.raises(ValidationError) as refused:
            register(email=spelling)

        assert refused.value.message_dict == {"email": [EMAIL_TAKEN]}
        assert list(User.objects.all()) == [boss]
        assert not Customer.objects.exists()


@pytest.mark.django_db
class TestEmailKey:
    def test_database_refuses_the_same_email_in_another_case(self):
        CustomerFactory(email="ada@example.com")
        someone_else = UserFactory(email="someone@example.com")

        with pytest.raises(IntegrityError), transaction.atomic():
            Customer.objects.create(user=someone_else, email="ADA@Example.com", first_name="A", last_name="L")

        assert Customer.objects.count() == 1

    def test_database_refuses_a_second_login_with_the_same_email_in_another_case(self):
        User.objects.create_user(username="boss", email="boss@example.com", is_staff=True)

        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.create_user(username="boss@example.com", email="BOSS@Example.com")

        assert User.objects.count() == 1

    def test_logins_without_an_email_do_not_collide(self):
        User.objects.create_user(username="first")
        User.objects.create_user(username="second")

        assert User.objects.filter(email="").count() == 2

    def test_clean_refuses_a_staff_members_email_and_allows_the_customers_own(self):
        User.objects.create_user(username="boss", email="boss@example.com", is_staff=True)
        customer = CustomerFactory(email="ada@example.com")

        customer.email = "ADA@example.com"
        customer.full_clean()
        customer.email = "Boss@Example.com"
        with pytest.raises(ValidationError) as refused:
            customer.full_clean()

        assert refused.value.message_dict["email"] == [EMAIL_TAKEN]

    def test_with_email_matches_in_any_case_and_ignores_surrounding_spaces(self):
        ada = CustomerFactory(email="Ada@Example.com")
        CustomerFactory(email="ada@example.org")

        assert list(Customer.objects.with_email("  aDA@exAMPLE.com ")) == [ada]

    def test_an_email_given_up_by_one_customer_can_be_registered_by_another(self):
        # Registration derives the login username from the email; changing the email must
        # not leave the old one blocked by the username the customer no longer uses.
        first = CustomerFactory(email="ada@example.com")
        first.email = "ada.lovelace@example.com"
        first.save()

        with transaction.atomic():
            second = register(email="Ada@example.com")

        assert Customer.objects.with_email("ada@example.com").get() == second


@pytest.mark.django_db
class TestProfileSync:
    def test_saving_the_customer_copies_email_and_names_to_the_login_user(self):
        customer = CustomerFactory(email="old@example.com", first_name="Old", last_name="Name")

        customer.email = "new@example.com"
        customer.first_name = "Ada"
        customer.last_name = "Lovelace"
        customer.save()

        user = User.objects.get(pk=customer.user_id)
        assert (user.email, user.first_name, user.last_name) == ("new@example.com", "Ada", "Lovelace")

    def test_saving_one_customer_leaves_other_users_alone(self):
        customer, other = CustomerFactory(), CustomerFactory(email="other@example.com", first_name="Grace")

        customer.first_name = "Changed"
        customer.save()

        user = User.objects.get(pk=other.user_id)
        assert (user.email, user.first_name) == ("other@example.com", "Grace")

    def test_the_factory_customer_logs_in_with_the_factory_password(self):
        customer = CustomerFactory()

        assert User.objects.get(pk=customer.user_id).check_password(PASSWORD)


@pytest.mark.django_db
class TestCloseAccount:
    def test_close_account_deletes_the_user_the_customer_and_their_addresses(self):
        customer = CustomerFactory()
        AddressFactory.create_batch(2, customer=customer)
        other = AddressFactory()

        customer.close_account()

        assert not User.objects.filter(pk=customer.user_id).exists()
        assert not Customer.objects.filter(pk=customer.pk).exists()
        assert list(Address.objects.all()) == [other]
        assert Customer.objects.filter(pk=other.customer_id).exists()

    def test_close_account_refuses_a_customer_with_orders_and_deletes_nothing(self):
        customer = CustomerFactory()
        AddressFactory(customer=customer)
        Order.objects.place(
            customer=customer,
            lines=[Line(product=ProductFactory(stock=5).pk, quantity=1)],
            delivery_method=DeliveryMethod.PICKUP,
            payment_method=PaymentMethod.CARD,
        )

        with pytest.raises(ProtectedError), transaction.atomic():
            customer.close_account()

        assert User.objects.filter(pk=customer.user_id).exists()
        assert customer.addresses.count() == 1


@pytest.mark.django_db
class TestSearch:
    @pytest.fixture
    def people(self):
        return {
            "ada": CustomerFactory(first_name="Ada", last_name="Lovelace", email="ada@engines.org"),
            "byron": CustomerFactory(first_name="Ada", last_name="Byron", email="countess@example.com"),
            "grace": CustomerFactory(first_name="Grace", last_name="Hopper", email="grace@navy.mil"),
        }

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            pytest.param("ada", {"ada", "byron"}, id="first-name"),
            pytest.param("HOPPER", {"grace"}, id="last-name-any-case"),
            pytest.param("love", {"ada"}, id="part-of-a-name"),
            pytest.param("navy.mil", {"grace"}, id="email"),
            pytest.param("ada byron", {"byron"}, id="every-word-must-match"),
            pytest.param("ada  engines", {"ada"}, id="name-and-email-words"),
            pytest.param("nobody", set(), id="no-match"),
            pytest.param("", {"ada", "byron", "grace"}, id="empty-matches-all"),
        ],
    )
    def test_search_matches_names_and_email_words(self, people, text, expected):
        names = {customer.pk: name for name, customer in people.items()}

        found = {names[pk] for pk in Customer.objects.search(text).values_list("pk", flat=True)}

        assert found == expected


@pytest.mark.django_db
class TestFormatChecks:
    """The form rules hold at the database too: a raw write cannot store a malformed value."""

    def test_model_validation_refuses_a_phone_not_in_e164_and_a_non_iso_country(self):
        customer = CustomerFactory.build(phone="555", user=UserFactory(email="unsaved@example.com"))
        address = AddressFactory.build(customer=CustomerFactory(), country="XX")

        with pytest.raises(ValidationError) as phone:
            customer.full_clean()
        with pytest.raises(ValidationError) as country:
            address.full_clean()

        assert set(phone.value.message_dict) == {"phone"}
        assert set(country.value.message_dict) == {"country"}

    def test_database_refuses_a_phone_not_in_e164(self):
        customer = CustomerFactory()

        with pytest.raises(IntegrityError), transaction.atomic():
            Customer.objects.filter(pk=customer.pk).update(phone="555")

    def test_database_refuses_a_country_that_is_not_an_upper_case_alpha_2_code(self):
        address = AddressFactory(country="US")

        with pytest.raises(IntegrityError), transaction.atomic():
            Address.objects.filter(pk=address.pk).update(country="u1")


@pytest.mark.django_db
class TestDefaultAddress:
    def test_a_new_default_clears_the_old_one(self):
        customer = CustomerFactory()
        old = AddressFactory(customer=customer, is_default=True)

        new = AddressFactory(customer=customer, is_default=True)

        assert defaults_of(customer) == [new.pk]
        old.refresh_from_db()
        assert not old.is_default

    def test_making_an_existing_address_the_default_clears_the_old_one(self):
        customer = CustomerFactory()
        old = AddressFactory(customer=customer, is_default=True)
        work = AddressFactory(customer=customer, label="Work")

        work.is_default = True
        work.save()

        assert defaults_of(customer) == [work.pk]
        assert Address.objects.filter(customer=customer).count() == 2
        assert Address.objects.get(pk=old.pk).is_default is False

    def test_other_customers_defaults_are_untouched(self):
        customer, other = CustomerFactory(), CustomerFactory()
        others_default = AddressFactory(customer=other, is_default=True)
        AddressFactory(customer=customer, is_default=True)

        AddressFactory(customer=customer, is_default=True)

        assert defaults_of(other) == [others_default.pk]

    def test_saving_a_non_default_address_keeps_the_default(self):
        customer = CustomerFactory()
        default = AddressFactory(customer=customer, is_default=True)

        AddressFactory(customer=customer, is_default=False)

        assert defaults_of(customer) == [default.pk]

    def test_saving_the_default_again_keeps_it_the_default(self):
        default = AddressFactory(is_default=True)

        default.city = "Elsewhere"
        default.save()

        assert defaults_of(default.customer) == [default.pk]

    def test_database_refuses_two_defaults_for_one_customer(self):
        customer = CustomerFactory()
        AddressFactory(customer=customer, is_default=True)
        second = AddressFactory(customer=customer)

        with pytest.raises(IntegrityError), transaction.atomic():
            Address.objects.filter(pk=second.pk).update(is_default=True)

        assert len(defaults_of(customer)) == 1

    def test_database_allows_many_non_defaults_and_one_default_per_customer(self):
        customer, other = CustomerFactory(), CustomerFactory()
        mine = AddressFactory.create_batch(3, customer=customer)
        theirs = AddressFactory.create_batch(2, customer=other)

        Address.objects.filter(pk__in=[mine[0].pk, theirs[0].pk]).update(is_default=True)

        assert Address.objects.filter(is_default=True).count() == 2
        assert Address.objects.filter(is_default=False).count() == 3


@requires_postgresql
@pytest.mark.django_db(transaction=True)
class TestDefaultAddressUnderConcurrency:
    def test_racing_new_defaults_all_save_and_leave_exactly_one(self):
        customer = CustomerFactory()
        AddressFactory(customer=customer, is_default=True)

        def save_default(i):
            address = Address(
                customer_id=customer.pk, line1=f"{i} Race St", city="Leeds", postal_code="LS1", country="GB"
            )
            address.is_default = True
            try:
                address.save()
            except IntegrityError as collided:
                return collided
            return address.pk

        outcomes = race_n(10, save_default)

        assert [outcome for outcome in outcomes if isinstance(outcome, Exception)] == []
        assert Address.objects.filter(customer=customer).count() == 11
        defaults = defaults_of(customer)
        assert len(defaults) == 1
        assert defaults[0] in outcomes
