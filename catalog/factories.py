"""factory-boy factories for the catalog, used by the tests and by `seed_demo`."""

from decimal import Decimal

import factory
from django.utils.text import slugify

from catalog.models import Category, Extra, Product, ProductImage, Review, Variant


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.LazyAttribute(lambda category: slugify(category.name))
    description = factory.Faker("sentence")
    is_active = True


class ProductFactory(factory.django.DjangoModelFactory):
    """A product sold in one variant, whose `sku`, `price` and `stock` these name (as the API's simple products).

    `ProductFactory(variants=0)` makes the product alone, for a test that adds its variants itself.
    """

    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:06d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.LazyAttribute(lambda product: product_slug(product.name, product.sku))
    description = factory.Faker("paragraph", nb_sentences=2)
    category = factory.SubFactory(CategoryFactory)
    price = factory.Faker(
        "pydecimal", left_digits=3, right_digits=2, min_value=Decimal("1.00"), max_value=Decimal("999.99")
    )
    stock = factory.Faker("random_int", min=0, max=200)
    is_active = True
    variants = 1

    @classmethod
    def _create(cls, model_class, *args, sku, price, stock, variants, **kwargs):
        product = super()._create(model_class, *args, **kwargs)
        if variants:
            Variant.objects.create(product=product, sku=sku, price=price, stock=stock)
            product.refresh_from_db(fields=["price_min", "price_max"])
        return product

    @classmethod
    def _build(cls, model_class, *args, sku, price, stock, variants, **kwargs):
        return super()._build(model_class, *args, **kwargs)


class VariantFactory(factory.django.DjangoModelFactory):
    """A variant of an existing product (pass `product`, or one is made with no variant of its own)."""

    class Meta:
        model = Variant

    product = factory.SubFactory(ProductFactory, variants=0)
    sku = factory.Sequence(lambda n: f"VAR-{n:06d}")
    price = factory.Faker(
        "pydecimal", left_digits=3, right_digits=2, min_value=Decimal("1.00"), max_value=Decimal("999.99")
    )
    stock = factory.Faker("random_int", min=0, max=200)


class ExtraFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Extra

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Extra {n}")
    price = Decimal("1.50")
    max_per_line = 3


class ProductImageFactory(factory.django.DjangoModelFactory):
    """An image through the real write path (ProductImage.objects.add): checked, stored, with thumbnails."""

    class Meta:
        model = ProductImage

    product = factory.SubFactory(ProductFactory)
    image = factory.django.ImageField(filename="picture.png", format="PNG", width=320, height=240, color="teal")
    alt_text = factory.Faker("sentence", nb_words=4)
    position = None  # after the product's last image

    @classmethod
    def _create(cls, model_class, product, image, **kwargs):
        return model_class.objects.add(product, image, **kwargs)


def product_slug(name: str, sku: str) -> str:
    """Return the slug of a product made here: its name and its SKU, which keeps it unique."""
    return slugify(f"{name}-{sku}")


def unsaved_product(*, sku: str, **fields) -> Product:
    """Return an unsaved product with these fields, slugged as ProductFactory slugs one with `sku`, for bulk inserts.

    It is what `ProductFactory.build(**fields)` gives when every field is named, without
    factory-boy's per-object bookkeeping, which costs more than the insert itself when the
    demo adds products by the hundred thousand.
    """
    return Product(slug=product_slug(fields["name"], sku), **fields)


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    product = factory.SubFactory(ProductFactory)
    customer = factory.SubFactory("customers.factories.CustomerFactory")
    rating = factory.Faker("random_int", min=1, max=5)
    comment = factory.Faker("sentence")
