"""factory-boy factories for the catalog, used by the tests and by `seed_demo`."""

from decimal import Decimal

import factory
from django.utils.text import slugify

from catalog.models import Category, Product, Review


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.LazyAttribute(lambda category: slugify(category.name))
    description = factory.Faker("sentence")
    is_active = True


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:06d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.LazyAttribute(lambda product: slugify(f"{product.name}-{product.sku}"))
    description = factory.Faker("paragraph", nb_sentences=2)
    category = factory.SubFactory(CategoryFactory)
    price = factory.Faker(
        "pydecimal", left_digits=3, right_digits=2, min_value=Decimal("1.00"), max_value=Decimal("999.99")
    )
    stock = factory.Faker("random_int", min=0, max=200)
    is_active = True


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    product = factory.SubFactory(ProductFactory)
    customer = factory.SubFactory("customers.factories.CustomerFactory")
    rating = factory.Faker("random_int", min=1, max=5)
    comment = factory.Faker("sentence")
