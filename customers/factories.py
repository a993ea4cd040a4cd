"""factory-boy factories for customers, used by the tests and by `seed_demo`."""

import factory
from django.contrib.auth import get_user_model

from customers.models import Address, Customer

PASSWORD = "customer-pass-123"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.LazyAttribute(lambda user: user.email.lower())
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    password = factory.django.Password(PASSWORD)


class CustomerFactory(factory.django.DjangoModelFactory):
    """A customer with a login whose password is `PASSWORD`."""

    class Meta:
        model = Customer

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    phone = factory.Sequence(lambda n: f"+1415555{n % 10000:04d}")
    user = factory.SubFactory(UserFactory, email=factory.SelfAttribute("..email"))


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    customer = factory.SubFactory(CustomerFactory)
    label = "Home"
    line1 = factory.Faker("street_address")
    city = factory.Faker("city")
    postal_code = factory.Faker("postcode")
    country = "US"
    is_default = False
