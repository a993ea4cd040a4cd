import re
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO
from itertools import pairwise
from types import SimpleNamespace
from unittest import mock
from urllib.parse import urlsplit

import phonenumbers
import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Avg, Count, F, Min, Sum
from django.urls import reverse
from django.utils import timezone

from billing import tasks
from billing.models import CreditNote, Invoice, InvoiceSequence, Payment, PaymentAttempt, Refund, RefundLine
from catalog.cache import CATEGORIES
from catalog.factories import ProductFactory
from catalog.images import thumbnail_names
from catalog.models import Category, Extra, OptionValue, Product, ProductImage, ProductOption, Review, Variant
from common.caching import version_key
from config.management.commands._demo_catalog import slots
from config.management.commands._demo_clock import Backdating
from config.management.commands._demo_images import seed_pictures
from config.management.commands._demo_shelves import DEPARTMENTS, Kind
from config.management.commands.seed_demo import Command as SeedDemo
from customers.factories import PASSWORD, CustomerFactory
from customers.models import Address, Customer
from orders.factories import OrderFactory
from orders.managers import Line
from orders.models import DiscountCode, Order, OrderItem, OrderStatusEvent
from orders.status import PURCHASED, RELEASES_STOCK, TRANSITIONS, DeliveryMethod, PaymentMethod, Status
from tests.utils import requires_postgresql

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    """Run seed_demo; with no orders unless asked, since most tests are about the rest and orders are per-row work."""
    if "--orders" not in args:
        args = (*args, "--orders", "0")
    if "--pictures" not in args:  # drawing and thumbnailing pictures is slow; their own test asks for some
        args = (*args, "--pictures", "0")
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def last_saturday_evening() -> datetime:
    """Return the latest Saturday 19:30 UTC before now: a shop clock that makes seeded orders independent of the
    hour the tests run at (how far each order has got depends on it), yet recent enough for the discount codes."""
    now = timezone.now().astimezone(UTC)
    evening = now.replace(hour=19, minute=30, second=0, microsecond=0) - timedelta(days=(now.weekday() - 5) % 7)
    return evening if evening <= now else evening - timedelta(days=7)


def shop_clock_at(moment: datetime):
    """Seed the shop as if at `moment`: the time its orders are placed up to (the rules keep the real clock)."""
    return mock.patch.object(SeedDemo, "shop_time", return_value=moment)


def catalog_snapshot() -> list[tuple]:
    variants = Variant.objects.order_by("sku").values_list(
        "sku", "product__name", "product__slug", "product__description", "product__category__name",
        "product__is_active", "price", "stock", "is_active", "position",
    )  # fmt: skip
    values = Variant.objects.order_by("sku", "option_values__option__position").values_list(
        "sku", "option_values__option__name", "option_values__value"
    )
    extras = Extra.objects.order_by("product__slug", "position").values_list(
        "product__slug", "name", "price", "max_per_line"
    )
    return [*variants, *values, *extras]


def test_seed_demo_builds_a_category_tree_and_products_on_its_leaves():
    output = seed("--products", "300", "--seed", "7")

    assert 20 <= Category.objects.count() <= 50
    assert Category.objects.filter(parent__parent__isnull=False).exists(), "the tree has three levels"
    assert Product.objects.count() == 300
    assert not Product.objects.filter(category__children__isnull=False).exists(), "products sit on leaves"
    assert len(set(Product.objects.values_list("slug", flat=True))) == 300
    assert "products: 300/300" in output


def test_seeded_stock_is_never_negative_and_some_variants_are_sold_out_low_or_hidden(settings):
    seed("--products", "300", "--seed", "7")

    assert not Variant.objects.filter(stock__lt=0).exists()
    assert Variant.objects.filter(stock=0).exists()
    assert Variant.objects.filter(stock__gt=0).low_stock(settings.LOW_STOCK_THRESHOLD).exists()
    assert Variant.objects.filter(stock__gt=settings.LOW_STOCK_THRESHOLD).count() > 0.8 * Variant.objects.count()
    assert Product.objects.filter(is_active=False).exists()
    assert Product.objects.in_stock().count() > 250
    assert all(price.as_tuple().exponent == -2 for price in Variant.objects.values_list("price", flat=True))


def test_the_same_seed_gives_the_same_catalog():
    seed("--products", "50", "--seed", "42", "--flush")
    first = catalog_snapshot()
    first_categories = list(Category.objects.values_list("name", "description", "parent__name"))

    seed("--products", "50", "--seed", "42", "--flush")

    assert catalog_snapshot() == first
    assert list(Category.objects.values_list("name", "description", "parent__name")) == first_categories
    seed("--products", "50", "--seed", "43", "--flush")
    assert catalog_snapshot() != first


def kinds() -> dict[str, Kind]:
    """Return each leaf category's name -> the kind of products on it."""
    found = {}

    def walk(aisles: dict) -> None:
        for name, contents in aisles.items():
            if isinstance(contents, Kind):
                found[name] = contents
            else:
                walk(contents)

    for department in DEPARTMENTS.values():
        walk(department.aisles)
    return found


def test_prices_fit_each_kind_of_product_and_end_like_shop_prices():
    seed("--products", "600", "--seed", "7")
    leaves = kinds()

    variants = Variant.objects.select_related("product__category").prefetch_related("option_values__option")
    for variant in variants:
        product, kind = variant.product, leaves[variant.product.category.name]
        noun = max((noun for noun in kind.nouns if noun in product.name), key=len)
        low, high = kind.nouns[noun]
        surcharges = {option.name: option.surcharges for option in kind.options}
        extra = sum(surcharges[value.option.name].get(value.value, 0) for value in variant.option_values.all())
        assert low <= variant.price - extra <= high, (product.name, variant.title, variant.price)
        assert str(variant.price).endswith((".99", ".95", ".00")), (product.name, variant.price)
    for product in Product.objects.prefetch_related("variants"):
        prices = [variant.price for variant in product.variants.all() if variant.is_active]
        assert (product.price_min, product.price_max) == (min(prices), max(prices)), product
    laptops = Variant.objects.filter(product__category__name="Laptops").values_list("price", flat=True)
    assert laptops and min(laptops) >= 599
    pizzas = Variant.objects.filter(product__category__name="Pizzas")
    assert max(pizzas.filter(option_values__value="Regular").values_list("price", flat=True)) < 18
    assert max(pizzas.filter(option_values__value="Large").values_list("price", flat=True)) < 22, "a large adds 4.00"
    xxl = Variant.objects.filter(option_values__value="XXL").select_related("product").first()
    if xxl is not None:
        assert xxl.price == xxl.product.price_max == xxl.product.price_min + 3


@requires_postgresql
def test_seeded_products_sold_in_options_are_found_by_their_values():
    seed("--products", "200", "--seed", "7")
    colour = OptionValue.objects.filter(option__name="Colour").select_related("option__product").first()
    vector = Product.objects.values_list("search_vector", flat=True).get(pk=colour.option.product_id)

    # Option values are the vector's weight C (their SKUs, weight A, hold them too).
    assert re.search(r"[0-9]+C\b", vector), vector
    assert Product.objects.search(colour.value).filter(pk=colour.option.product_id).exists()


def test_clothes_come_in_sizes_and_colours_each_a_variant_with_its_own_sku_and_stock():
    seed("--products", "400", "--seed", "7")

    shirts = Product.objects.filter(category__name__in=["Men's Clothing", "Women's Clothing"])
    assert shirts.count() > 10
    for product in shirts.prefetch_related("options__values", "variants__option_values__option"):
        options = list(product.options.all())
        assert [option.name for option in options] == ["Size", "Colour"], product
        sizes, colours = ([value.value for value in option.values.all()] for option in options)
        assert len(sizes) == 4 and 2 <= len(colours) <= 3, product
        assert sizes == [size for size in ("XS", "S", "M", "L", "XL", "XXL") if size in sizes], "in size order"
        variants = list(product.variants.all())
        assert len(variants) == len(sizes) * len(colours), product
        assert {tuple(label["value"] for label in variant.option_labels()) for variant in variants} == {
            (size, colour) for size in sizes for colour in colours
        }
        assert len({variant.combination for variant in variants}) == len(variants)
        first = variants[0].sku[:11]
        assert re.fullmatch(r"CLO-[0-9]{7}", first), variants[0].sku
        for variant in variants:
            size, colour = (label["value"] for label in variant.option_labels())
            assert variant.sku == f"{first}-{size}-{colour.upper().replace(' ', '-')}"
        assert len({variant.stock for variant in variants}) > 1, "stock is per variant"
        if "Comes in " in product.description:
            assert all(colour.lower() in product.description for colour in colours), "it names the product's colours"
    shoes = Product.objects.filter(category__name="Shoes").prefetch_related("variants", "options")
    assert shoes and all(len(shoe.variants.all()) == 6 for shoe in shoes)
    assert all([option.name for option in shoe.options.all()] == ["Size"] for shoe in shoes)


def test_most_products_are_simple_sold_in_one_variant_without_options():
    seed("--products", "400", "--seed", "7")

    variants = dict(Product.objects.annotate(count=Count("variants")).values_list("pk", "count"))
    with_options = set(ProductOption.objects.values_list("product", flat=True))
    simple = [pk for pk, count in variants.items() if count == 1]
    assert len(simple) > 0.75 * len(variants)
    assert all(variants[pk] > 1 for pk in with_options) and not with_options & set(simple)
    laptop = Product.objects.filter(category__name="Laptops").first()
    assert laptop.only_variant is not None and laptop.only_variant.combination == ""
    assert re.fullmatch(r"ELE-[0-9]{7}", laptop.only_variant.sku)


def test_food_offers_extras_a_line_may_add_up_to_a_limit():
    seed("--products", "400", "--seed", "7")

    pizzas = Product.objects.filter(category__name="Pizzas").prefetch_related("extras", "variants")
    assert pizzas
    for pizza in pizzas:
        extras = {extra.name: extra for extra in pizza.extras.all()}
        assert len(extras) >= 3, pizza
        assert [variant.title for variant in pizza.variants.all()] == ["Size Regular", "Size Large"]
    cheese = Extra.objects.filter(name="Extra cheese").first()
    assert (cheese.price, cheese.max_per_line) == (Decimal("1.50"), 3)
    assert set(Extra.objects.values_list("product__category__name", flat=True)) == {"Pizzas", "Coffee & Tea"}
    assert not Extra.objects.filter(price__lte=0).exists()


def test_descriptions_are_written_for_each_product_from_its_kind():
    seed("--products", "600", "--seed", "7")

    descriptions = list(Product.objects.values_list("name", "category__name", "description"))
    texts = [description for _, _, description in descriptions]
    assert len(set(texts)) >= 0.99 * len(texts), "descriptions vary"
    for description in texts:
        assert not re.search(r"lorem|ipsum|\{|\}", description, re.IGNORECASE), description
        sentences = re.findall(r"[^.!?”]+[.!?”)]", description)
        assert len(sentences) >= 3, description
        assert description[0].isupper(), description
    laptop = next(description for _, category, description in descriptions if category == "Laptops")
    assert any(word in laptop for word in ("display", "processor", "battery", "Weighs", "keyboard")), laptop


def test_every_sentence_of_every_kind_has_its_slots_filled():
    for department in DEPARTMENTS.values():

        def check(aisles: dict, department=department) -> None:
            for contents in aisles.values():
                if not isinstance(contents, Kind):
                    check(contents)
                    continue
                known = {"name", "brand", *({"use"} if contents.uses else set())}
                fills = {**department.fills, **contents.fills}
                for sentence in (*department.leads, *contents.details, *department.closings):
                    assert set(slots(sentence)) <= known | set(fills), sentence
                assert all(low < high for low, high in contents.nouns.values())

        check(department.aisles)


def people_snapshot() -> list[tuple]:
    customers = Customer.objects.order_by("email").values_list("email", "first_name", "last_name", "phone")
    addresses = Address.objects.order_by("customer__email", "label").values_list(
        "customer__email", "label", "line1", "line2", "city", "postal_code", "country", "is_default"
    )
    reviews = Review.objects.order_by("customer__email", "product__slug").values_list(
        "customer__email", "product__slug", "rating", "comment"
    )
    return [*customers, *addresses, *reviews]


def test_the_same_seed_gives_the_same_customers_addresses_and_reviews():
    seed("--products", "40", "--customers", "20", "--reviews", "60", "--seed", "42", "--flush")
    first = people_snapshot()

    seed("--products", "40", "--customers", "20", "--reviews", "60", "--seed", "42", "--flush")

    assert people_snapshot() == first
    seed("--products", "40", "--customers", "20", "--reviews", "60", "--seed", "43", "--flush")
    assert people_snapshot() != first


class TestSeededCustomers:
    def test_each_customer_has_a_login_and_one_to_three_addresses_exactly_one_of_them_default(self):
        output = seed("--products", "20", "--customers", "60", "--reviews", "0", "--seed", "7")

        assert Customer.objects.count() == 60
        assert "customers: 60/60" in output
        per_customer = Customer.objects.annotate(
            addresses_count=Count("addresses"), defaults=Count("addresses__is_default")
        )
        assert {customer.addresses_count for customer in per_customer} <= {1, 2, 3}
        assert Address.objects.filter(is_default=True).count() == 60
        assert not Customer.objects.exclude(addresses__is_default=True).exists()
        logins = get_user_model().objects.filter(customer__isnull=False)
        assert logins.count() == 60
        assert not logins.filter(is_staff=True).exists()
        for customer in Customer.objects.select_related("user"):
            assert (customer.user.username, customer.user.email) == (customer.email.lower(), customer.email)
            assert (customer.user.first_name, customer.user.last_name) == (customer.first_name, customer.last_name)

    def test_emails_are_unique_and_phones_are_valid_numbers_of_the_customers_country(self):
        seed("--products", "0", "--customers", "300", "--reviews", "0", "--seed", "7")

        emails = [email.lower() for email in Customer.objects.values_list("email", flat=True)]
        assert len(set(emails)) == 300
        for phone, country in Customer.objects.values_list("phone", "addresses__country").filter(
            addresses__is_default=True
        ):
            number = phonenumbers.parse(str(phone))
            assert phonenumbers.is_valid_number(number), phone
            assert phonenumbers.region_code_for_number(number) == country, (phone, country)

    def test_addresses_spread_over_several_countries_with_plausible_postal_codes(self):
        seed("--products", "0", "--customers", "300", "--reviews", "0", "--seed", "7")

        countries = Counter(Address.objects.values_list("country", flat=True))
        assert set(countries) == {"US", "GB", "DE", "FR", "CA"}
        assert countries.most_common(1)[0][0] == "US"
        postcode_shapes = {"US": r"^[0-9]{5}$", "DE": r"^[0-9]{5}$", "FR": r"^[0-9]{5}$"}
        postcode_shapes |= {"GB": r"^[A-Z]{1,2}[0-9]{1,2} [0-9][A-Z]{2}$", "CA": r"^[A-Z][0-9][A-Z] [0-9][A-Z][0-9]$"}
        for country, shape in postcode_shapes.items():
            assert not Address.objects.filter(country=country).exclude(postal_code__regex=shape).exists(), country
        assert not Address.objects.filter(line1__contains="\n").exists()

    def test_seeded_customers_can_log_in_with_the_printed_password(self, api_client):
        output = seed("--products", "0", "--customers", "3", "--reviews", "0", "--seed", "7")
        customer = Customer.objects.order_by("pk").first()

        assert f"Customer login: {customer.email} / {PASSWORD}" in output
        response = api_client.post("/api/v1/auth/token/", {"email": customer.email, "password": PASSWORD})
        assert response.status_code == 200, response.content
        assert response.json()["access"]

    def test_customers_signed_up_over_the_shops_life_and_reviewed_since(self):
        now = last_saturday_evening()
        with shop_clock_at(now):
            seed("--products", "60", "--customers", "60", "--reviews", "200", "--seed", "7")

        for customer in Customer.objects.annotate(reviewed=Min("reviews__created_at")).select_related("user"):
            assert customer.created_at == customer.updated_at == customer.user.date_joined < now
            assert customer.reviewed is None or customer.created_at < customer.reviewed <= now
            assert set(customer.addresses.values_list("created_at", flat=True)) == {customer.created_at}
        joined = Customer.objects.values_list("created_at", flat=True)
        assert any(moment < now - timedelta(days=90) for moment in joined), "long-standing customers"
        assert any(moment > now - timedelta(days=80) for moment in joined), "and new ones"
        reviewed = Review.objects.values_list("created_at", flat=True)
        assert max(reviewed) - min(reviewed) > timedelta(days=90)
        assert not Category.objects.filter(created_at__gt=now - timedelta(days=365)).exists()

    def test_a_second_run_adds_customers_without_clashing_with_existing_emails(self):
        seed("--products", "0", "--customers", "40", "--reviews", "0", "--seed", "7")

        seed("--products", "0", "--customers", "40", "--reviews", "0", "--seed", "7")

        assert Customer.objects.count() == 80
        assert len({email.lower() for email in Customer.objects.values_list("email", flat=True)}) == 80


class TestSeededReviews:
    def test_reviews_are_unique_per_customer_and_product_and_only_on_active_products(self):
        output = seed("--products", "60", "--customers", "30", "--reviews", "400", "--seed", "7")

        assert Review.objects.count() == 400
        assert "reviews: 400/400" in output
        pairs = list(Review.objects.values_list("customer", "product"))
        assert len(set(pairs)) == 400
        assert not Review.objects.filter(product__is_active=False).exists()

    def test_ratings_lean_positive(self):
        seed("--products", "60", "--customers", "30", "--reviews", "400", "--seed", "7")

        ratings = Counter(Review.objects.values_list("rating", flat=True))
        assert set(ratings) <= {1, 2, 3, 4, 5}
        assert ratings[5] > ratings[4] > ratings[3]
        assert ratings[4] + ratings[5] > 0.6 * 400

    def test_each_product_shows_the_count_and_average_of_its_reviews(self):
        seed("--products", "60", "--customers", "30", "--reviews", "400", "--seed", "7")

        expected = {
            row["pk"]: row
            for row in Product.objects.values("pk").annotate(count=Count("reviews"), mean=Avg("reviews__rating"))
        }
        for pk, average, count in Product.objects.values_list("pk", "rating_average", "rating_count"):
            assert count == expected[pk]["count"]
            mean = Decimal(str(expected[pk]["mean"] or 0))
            assert abs(average - mean) <= Decimal("0.005"), (pk, average, mean)
        assert Product.objects.filter(rating_count__gt=1).exists()

    def test_reviews_are_capped_at_one_per_customer_and_active_product(self):
        output = seed("--products", "10", "--customers", "3", "--reviews", "1000", "--seed", "7")

        possible = 3 * Product.objects.active().count()
        assert Review.objects.count() == possible
        assert f"reviews: only {possible:,} possible" in output


def test_if_empty_leaves_a_catalog_with_products_alone():
    existing = ProductFactory()

    output = seed("--products", "20", "--if-empty")

    assert list(Product.objects.all()) == [existing]
    assert "nothing seeded" in output
    assert "Staff login: admin / admin" in output  # make run prints the login on every start


def test_if_empty_seeds_an_empty_catalog():
    seed("--products", "20", "--if-empty")

    assert Product.objects.count() == 20


def test_flush_replaces_the_catalog_and_invalidates_the_cache(django_capture_on_commit_callbacks):
    old = ProductFactory()
    cache.set(version_key(CATEGORIES), "before")

    with django_capture_on_commit_callbacks(execute=True):
        seed("--products", "20", "--flush")

    assert not Product.objects.filter(pk=old.pk).exists()
    assert not Category.objects.filter(pk=old.category_id).exists()
    assert Product.objects.count() == 20
    assert cache.get(version_key(CATEGORIES)) not in (None, "before")


def test_flush_removes_customers_and_their_logins_but_keeps_staff_and_other_users(django_user_model):
    seed("--products", "20", "--customers", "10", "--reviews", "30")
    staff_customer = CustomerFactory(user__is_staff=True)  # staff who also shops here keeps the login
    plain = django_user_model.objects.create_user(username="not-a-customer", password="plain-pass-123")

    output = seed("--products", "5", "--customers", "2", "--reviews", "3", "--flush")

    assert "Flushed the orders and billing, the catalog, the customers and their logins." in output
    assert Customer.objects.count() == 2
    assert Review.objects.count() == 3
    assert Address.objects.filter(customer__in=Customer.objects.all()).count() == Address.objects.count()
    users = django_user_model.objects
    assert set(users.values_list("username", flat=True)) == {
        "admin",
        staff_customer.user.username,
        plain.username,
        *Customer.objects.values_list("user__username", flat=True),
    }
    assert users.get(username="admin").check_password("admin")
    assert "Staff login: admin (password unchanged)" in output


def test_a_second_run_without_flush_adds_products_under_new_skus():
    seed("--products", "30")
    categories = Category.objects.count()

    seed("--products", "30")

    assert Product.objects.count() == 60
    assert Category.objects.count() == categories


def test_staff_login_is_created_once_as_a_superuser():
    first = seed("--products", "0")
    second = seed("--products", "0")

    staff = get_user_model().objects.get(username="admin")
    assert staff.is_superuser and staff.is_staff
    assert staff.check_password("admin")
    assert "Staff login: admin / admin at http://127.0.0.1:8000/admin/" in first
    assert "Staff login: admin (password unchanged)" in second


def test_the_printed_staff_login_signs_in_to_the_admin_and_to_the_api(client, api_client):
    lines = seed("--products", "0").splitlines()

    admin_line = next(line for line in lines if line.startswith("Staff login: "))
    token_line = next(line for line in lines if line.startswith("Staff API token: "))
    username, password = re.fullmatch(r"Staff login: (\S+) / (\S+) at \S+", admin_line).groups()
    email, api_password, url = re.fullmatch(r"Staff API token: (\S+) / (\S+) at POST (\S+)", token_line).groups()
    signed_in = client.post(reverse("admin:login"), {"username": username, "password": password})
    tokens = api_client.post(urlsplit(url).path, {"email": email, "password": api_password}, format="json")

    assert signed_in.status_code == 302, "the admin took the login"
    assert client.get(reverse("admin:index")).status_code == 200
    assert tokens.status_code == 200, tokens.content
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.json()['access']}")
    assert api_client.get("/api/v1/customers/").status_code == 200  # a staff-only list


def test_an_existing_admin_keeps_its_password(django_user_model):
    django_user_model.objects.create_user(username="admin", password="not-the-demo-one")

    seed("--products", "0")

    assert django_user_model.objects.get(username="admin").check_password("not-the-demo-one")


def test_the_printed_login_uses_the_configured_admin_path(settings):
    settings.DJANGO_ADMIN_URL = "back-office/"

    assert "at http://127.0.0.1:8000/back-office/" in seed("--products", "0")


@pytest.mark.parametrize(
    "args",
    [["--products", "-1"], ["--customers", "-1"], ["--reviews", "-1"], ["--orders", "-1"], ["--flush", "--if-empty"]],
)
def test_nonsense_options_are_refused(args):
    with pytest.raises(CommandError):
        seed(*args)


SHOP = ["--products", "80", "--customers", "40", "--reviews", "100", "--seed", "11", "--flush"]
DEMO_CODES = {"WELCOME10", "SPRING5", "LOYAL15", "USEDUP", "EXPIRED20", "PAUSED25"}


@pytest.fixture(scope="class")
def seeded_orders(django_db_setup, django_db_blocker):
    """Seed one shop with 300 orders for the whole class (each test reads it), rolled back afterwards.

    Also returns each product's stock as seeded, before any order took some (the same seed
    with no orders gives the same catalog), and the shop's clock.
    """
    now = last_saturday_evening()
    with django_db_blocker.unblock(), transaction.atomic(), shop_clock_at(now):
        seed(*SHOP, "--orders", "0")
        seeded_stock = dict(Variant.objects.values_list("sku", "stock"))
        output = seed(*SHOP, "--orders", "300")
        yield SimpleNamespace(stock=seeded_stock, output=output, now=now)
        transaction.set_rollback(True)


@pytest.mark.usefixtures("seeded_orders")
class TestSeededOrders:
    def test_orders_end_in_every_status_most_of_them_delivered(self, seeded_orders):
        statuses = Counter(Order.objects.values_list("status", flat=True))

        assert sum(statuses.values()) == 300
        assert set(statuses) == set(Status.values)
        assert statuses.most_common(1)[0][0] == Status.DELIVERED
        assert "orders: 300/300" in seeded_orders.output
        assert f"Orders: 300 ({statuses[Status.PENDING]} pending, " in seeded_orders.output

    def test_every_status_change_went_through_the_status_machine(self):
        for order in Order.objects.prefetch_related("events"):
            # Entries that change no status (refunds, returns) are history, not steps of the machine.
            steps = [
                (event.from_status, event.to_status)
                for event in order.events.all()
                if event.from_status != event.to_status
            ]
            assert steps[0] == ("", Status.PENDING), order
            for step in steps[1:]:
                assert TRANSITIONS[step](order), (order, step)
            assert all(before[1] == after[0] for before, after in pairwise(steps)), order
            assert steps[-1][1] == order.status

    def test_payment_and_delivery_methods_are_mixed_and_home_delivery_goes_to_the_default_address(self):
        combinations = set(Order.objects.values_list("payment_method", "delivery_method"))
        assert combinations == {
            (paid, delivered) for paid in PaymentMethod.values for delivered in DeliveryMethod.values
        }
        for order in Order.objects.select_related("customer"):
            if order.delivery_method == DeliveryMethod.HOME_DELIVERY:
                home = order.customer.addresses.get(is_default=True)
                assert (order.shipping_address["line1"], order.shipping_address["city"]) == (home.line1, home.city)
            else:
                assert order.shipping_address is None
        lines = Counter(Order.objects.annotate(lines=Count("items")).values_list("lines", flat=True))
        assert set(lines) == {1, 2, 3, 4}
        assert lines[1] > lines[4]

    def test_stock_left_plus_stock_held_by_orders_is_the_stock_seeded(self, seeded_orders):
        held = Counter()
        held_lines = OrderItem.objects.filter(order__holds_stock=True).annotate(
            held=F("quantity") - F("quantity_returned")
        )
        for sku, quantity in held_lines.values_list("variant__sku", "held"):
            held[sku] += quantity

        stock = dict(Variant.objects.values_list("sku", "stock"))

        assert stock.keys() == seeded_orders.stock.keys()
        for sku, left in stock.items():
            assert left >= 0, sku
            assert left + held[sku] == seeded_orders.stock[sku], sku
        # Cancelled orders and failed payments gave their units back; every other order holds them.
        assert set(Order.objects.filter(holds_stock=False).values_list("status", flat=True)) == RELEASES_STOCK
        assert not Order.objects.filter(status__in=RELEASES_STOCK, holds_stock=True).exists()

    def test_lines_name_variants_and_some_add_extras_priced_into_the_unit_price(self):
        items = list(OrderItem.objects.select_related("variant__product"))
        extras = {extra.pk: extra for extra in Extra.objects.all()}

        assert all(item.variant_id and item.product_id == item.variant.product_id for item in items)
        assert all(item.sku == item.variant.sku for item in items)
        assert any(item.options for item in items), "some lines are of a size or colour"
        assert all(item.options == item.variant.option_labels() for item in items if item.options)
        with_extras = [item for item in items if item.extras]
        assert with_extras, "some food lines add extras"
        for item in with_extras:
            added = Decimal("0.00")
            for chosen in item.extras:
                extra = extras[chosen["id"]]
                assert extra.product_id == item.product_id
                assert (chosen["name"], Decimal(chosen["price"])) == (extra.name, extra.price)
                assert 1 <= chosen["quantity"] <= extra.max_per_line
                added += extra.price * chosen["quantity"]
            assert item.unit_price == item.variant.price + added, item
        assert all(item.unit_price == item.variant.price for item in items if not item.extras)
        products_per_order = Counter(OrderItem.objects.values_list("order", "product"))
        assert max(products_per_order.values()) == 1, "each line of an order is a different product"

    def test_orders_confirmed_at_some_point_have_their_invoice_numbered_without_gaps(self):
        confirmed_once = set(
            OrderStatusEvent.objects.filter(to_status=Status.CONFIRMED).values_list("order", flat=True)
        )
        purchased = set(Order.objects.filter(status__in=PURCHASED).values_list("pk", flat=True))

        invoices = list(Invoice.objects.select_related("order"))

        assert {invoice.order_id for invoice in invoices} == confirmed_once
        assert purchased <= confirmed_once
        for invoice in invoices:
            assert (invoice.subtotal, invoice.discount, invoice.total) == (
                invoice.order.subtotal,
                invoice.order.discount,
                invoice.order.total,
            )
        assert sorted(invoice.sequence for invoice in invoices) == list(range(1, len(invoices) + 1))

    def test_every_order_carries_the_payment_and_attempts_the_worker_would_have_written(self):
        assert Payment.objects.count() == Order.objects.count()
        outcomes = PaymentAttempt.Outcome
        payments = Payment.objects.select_related("order").prefetch_related("attempts", "refunds")
        for payment in payments:
            order, attempts = payment.order, [attempt.outcome for attempt in payment.attempts.all()]
            paid_out = [refund for refund in payment.refunds.all() if refund.status == Refund.Status.SUCCEEDED]
            assert (payment.amount, payment.method) == (order.total, order.payment_method)
            assert payment.attempt_count == len(attempts)
            if order.payment_method == PaymentMethod.CASH:
                assert attempts == []
                if order.status == Status.DELIVERED:
                    assert payment.status in Payment.CAPTURED
                elif order.status == Status.CANCELLED:
                    assert payment.status == Payment.Status.CANCELLED
                else:
                    assert payment.status == Payment.Status.PENDING  # collected on delivery
                continue
            charges, refunds = attempts[: len(attempts) - len(paid_out)], attempts[len(attempts) - len(paid_out) :]
            assert refunds == [outcomes.REFUNDED] * len(paid_out)
            if order.status in PURCHASED:
                assert payment.status in Payment.CAPTURED
                assert charges in ([outcomes.SUCCEEDED], [outcomes.OUTAGE, outcomes.SUCCEEDED])
                assert payment.gateway_reference.startswith("mock_ch_")
            elif order.status == Status.PAYMENT_FAILED:
                assert payment.status == Payment.Status.FAILED
                assert charges[-1] in (outcomes.DECLINED, outcomes.OUTAGE) and payment.last_error
            elif order.status == Status.PAYMENT_PROCESSING:
                assert payment.status == Payment.Status.PROCESSING
                assert set(charges) <= {outcomes.OUTAGE}
            elif payment.gateway_reference:  # cancelled after the capture: refunded
                assert payment.status == Payment.Status.REFUNDED and paid_out
            elif order.status == Status.CANCELLED:  # cancelled before the worker came
                assert (payment.status, attempts) == (Payment.Status.CANCELLED, [])
            else:
                assert (payment.status, attempts) == (Payment.Status.PENDING, [])
        statuses = set(Payment.objects.values_list("status", flat=True))
        assert statuses == set(Payment.Status.values)
        assert Payment.objects.filter(status=Payment.Status.SUCCEEDED, attempt_count=2).exists()
        assert PaymentAttempt.objects.filter(outcome=outcomes.DECLINED).exists()

    def test_refunds_add_up_within_their_payments_and_invoiced_ones_have_credit_notes(self):
        refunds = Refund.objects.select_related("payment__order__invoice", "credit_note").prefetch_related("lines")
        assert refunds.filter(restock=True).exists() and refunds.filter(restock=False).exists()
        assert refunds.filter(payment__method=PaymentMethod.CASH).exists()
        for refund in refunds:
            assert refund.status == Refund.Status.SUCCEEDED  # paid out
            assert sum(line.amount for line in refund.lines.all()) == refund.amount
            assert refund.credit_note.amount == refund.amount
            assert refund.credit_note.invoice == refund.payment.order.invoice
        for payment in Payment.objects.filter(status__in=Payment.CAPTURED).prefetch_related("refunds"):
            refunded = sum(refund.amount for refund in payment.refunds.all())
            assert refunded <= payment.amount
            if payment.status == Payment.Status.REFUNDED:
                assert refunded == payment.amount
        returned = OrderItem.objects.filter(quantity_returned__gt=0)
        restocked = RefundLine.objects.filter(refund__restock=True).aggregate(units=Sum("quantity"))["units"]
        assert returned.aggregate(units=Sum("quantity_returned"))["units"] == restocked
        notes = CreditNote.objects.order_by("sequence")
        assert [note.sequence for note in notes] == list(range(1, notes.count() + 1))

    def test_discount_codes_count_exactly_the_orders_still_holding_them(self):
        codes = {code.code: code for code in DiscountCode.objects.all()}
        holding = Counter(
            Order.objects.filter(holds_stock=True, discount_code__isnull=False).values_list(
                "discount_code__code", flat=True
            )
        )

        assert set(codes) == DEMO_CODES
        assert {name: code.times_used for name, code in codes.items()} == {name: holding[name] for name in codes}
        assert codes["USEDUP"].times_used == codes["USEDUP"].max_uses
        assert codes["EXPIRED20"].times_used == codes["PAUSED25"].times_used == 0
        assert set(DiscountCode.objects.usable().values_list("code", flat=True)) == {"WELCOME10", "SPRING5", "LOYAL15"}
        for order in Order.objects.all():
            assert order.total == order.subtotal - order.discount
            assert (order.discount > 0) == (order.discount_code_id is not None)

    def test_orders_spread_over_the_last_90_days_more_of_them_lately_and_in_the_evening(self, seeded_orders):
        now = seeded_orders.now
        placed = sorted(Order.objects.values_list("created_at", flat=True))
        first_day = now.date() - timedelta(days=89)

        assert placed[0].date() >= first_day
        assert placed[-1] <= now, "no order in the future"
        days = Counter(moment.date() for moment in placed)
        assert len(days) > 60, "most days have orders"
        assert 0 < days[now.date()] < 0.05 * len(placed), "a plausible share today"
        first_month = sum(count for day, count in days.items() if day < first_day + timedelta(days=30))
        last_month = sum(count for day, count in days.items() if day > now.date() - timedelta(days=30))
        assert last_month > first_month, "the shop grows"
        hours = Counter(moment.hour for moment in placed)
        assert sum(hours[hour] for hour in range(18, 22)) > 2 * sum(hours[hour] for hour in range(6))

    def test_how_far_an_order_has_got_fits_its_age(self, seeded_orders):
        now = seeded_orders.now
        ages = [(now - placed, status) for placed, status in Order.objects.values_list("created_at", "status")]

        placed_today = {status for age, status in ages if age < now - now.replace(hour=0, minute=0)}
        assert Status.DELIVERED not in placed_today
        assert {Status.PENDING, Status.PAYMENT_PROCESSING, Status.CONFIRMED} <= placed_today
        waiting = {Status.PENDING, Status.PAYMENT_PROCESSING}
        assert not [age for age, status in ages if status in waiting and age > timedelta(hours=1)]
        assert not [age for age, status in ages if status == Status.CONFIRMED and age > timedelta(days=1)]
        final = {Status.DELIVERED, Status.CANCELLED, Status.PAYMENT_FAILED}
        assert {status for age, status in ages if age > timedelta(days=7)} == final

    def test_each_order_is_dated_step_by_step_in_the_order_things_happened(self, seeded_orders):
        orders = Order.objects.prefetch_related("events", "payment__attempts", "payment__refunds")
        for order in orders.select_related("payment", "invoice"):
            events = list(order.events.all())
            moments = [event.created_at for event in events]
            assert moments == sorted(moments) and len(set(moments)) == len(moments), order
            assert order.created_at <= moments[0] < order.created_at + timedelta(seconds=1), order
            changes = [event.created_at for event in events if event.from_status != event.to_status]
            assert abs(order.updated_at - changes[-1]) < timedelta(seconds=1), order
            assert moments[-1] <= seeded_orders.now, order
            payment = order.payment
            assert order.created_at <= payment.created_at < order.created_at + timedelta(seconds=1), order
            assert payment.created_at <= payment.updated_at <= seeded_orders.now, order
            attempts = [attempt.created_at for attempt in payment.attempts.all()]
            assert attempts == sorted(attempts) and all(moment > order.created_at for moment in attempts), order
            confirmed = [event.created_at for event in events if event.to_status == Status.CONFIRMED]
            if confirmed:
                assert abs(order.invoice.issued_at - confirmed[0]) < timedelta(seconds=1), order
            delivered = [event.created_at for event in events if event.to_status == Status.DELIVERED]
            for refund in payment.refunds.all():
                assert refund.created_at > (delivered or changes)[-1] - timedelta(seconds=1), order
                assert refund.credit_note.issued_at >= refund.created_at, order
        gaps = [
            changes[1] - changes[0]
            for changes in (
                [
                    event.created_at
                    for event in order.events.all()
                    if event.to_status in (Status.CONFIRMED, Status.IN_PROGRESS)
                ]
                for order in Order.objects.filter(status=Status.DELIVERED).prefetch_related("events")
            )
        ]
        assert min(gaps) >= timedelta(hours=1), "staff start on an order hours after it is confirmed, not at once"

    def test_invoices_and_credit_notes_are_numbered_in_the_order_they_were_issued(self):
        for model, prefix in ((Invoice, "INV"), (CreditNote, "CN")):
            documents = list(model.objects.order_by("sequence"))
            assert documents, model
            assert [document.pk for document in documents] == [
                document.pk for document in sorted(documents, key=lambda document: document.issued_at)
            ], model
            for number, document in enumerate(documents, 1):
                year = document.issued_at.astimezone(UTC).year
                assert (document.year, document.sequence) == (year, number), document
                assert document.number == f"{prefix}-{year}-{number:06d}"
        for refund in Refund.objects.select_related("credit_note", "payment__order__invoice"):
            assert refund.credit_note.issued_at > refund.payment.order.invoice.issued_at

    def test_customers_had_signed_up_before_they_ordered(self):
        customers = Customer.objects.annotate(first=Min("orders__created_at")).filter(first__isnull=False)
        assert customers.exists()
        for customer in customers:
            assert customer.created_at < customer.first, customer

    def test_orders_used_discount_codes_while_they_were_valid(self):
        for order in Order.objects.filter(discount_code__isnull=False).select_related("discount_code"):
            code = order.discount_code
            assert code.created_at <= code.valid_from <= order.created_at, order
            assert code.valid_until is None or order.created_at < code.valid_until, order


def orders_snapshot() -> list[tuple]:
    """The seeded orders in the order they were placed; their numbers are random by design."""
    return [
        (
            order.status,
            order.total,
            order.payment_method,
            order.delivery_method,
            order.discount_code.code if order.discount_code else None,
            tuple(
                (item.sku, item.quantity, tuple(extra["name"] for extra in item.extras)) for item in order.items.all()
            ),
        )
        for order in Order.objects.order_by("pk").select_related("discount_code").prefetch_related("items")
    ]


def test_the_same_seed_gives_the_same_orders():
    shop = ["--products", "40", "--customers", "15", "--reviews", "0", "--orders", "60", "--flush"]
    with shop_clock_at(last_saturday_evening()):
        seed(*shop, "--seed", "42")
        first, placed = orders_snapshot(), list(Order.objects.order_by("pk").values_list("created_at", flat=True))

        seed(*shop, "--seed", "42")

        assert orders_snapshot() == first
        assert Counter((status, total) for status, total, *_ in first) == Counter(
            Order.objects.values_list("status", "total")
        )
        # Placed at the same moments, give or take how long the rules took to write the order.
        again = Order.objects.order_by("pk").values_list("created_at", flat=True)
        assert all(abs(one - other) < timedelta(seconds=1) for one, other in zip(placed, again, strict=True))
        seed(*shop, "--seed", "43")
        assert orders_snapshot() != first


def test_seeding_sends_no_charge_refund_or_email(django_capture_on_commit_callbacks):
    """The factories play the gateway; a queued charge would pay a made-up order twice."""
    with ExitStack() as patches:
        sends = [
            patches.enter_context(mock.patch.object(task, method))
            for task in (tasks.charge_order, tasks.refund_payment, tasks.send_order_email)
            for method in ("delay", "apply_async")
        ]
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            seed("--products", "40", "--customers", "15", "--reviews", "0", "--orders", "60", "--seed", "5")

    assert callbacks, "the commit ran its callbacks"
    for send in sends:
        send.assert_not_called()
    assert mail.outbox == []
    assert Payment.objects.filter(status=Payment.Status.SUCCEEDED).exists()


def test_flush_removes_orders_and_billing_too():
    seed("--products", "30", "--customers", "10", "--reviews", "0", "--orders", "40", "--seed", "3")
    assert Payment.objects.exists() and Invoice.objects.exists() and PaymentAttempt.objects.exists()

    output = seed("--products", "5", "--customers", "2", "--reviews", "0", "--orders", "0", "--flush")

    assert "Flushed the orders and billing, the catalog, the customers and their logins." in output
    for model in (Order, OrderItem, OrderStatusEvent, Payment, PaymentAttempt, Invoice, InvoiceSequence):
        assert not model.objects.exists(), model
    assert set(DiscountCode.objects.values_list("code", flat=True)) == DEMO_CODES  # fresh, unused
    assert not DiscountCode.objects.filter(times_used__gt=0).exists()
    assert "Orders: 0 (none)." in output


def test_without_discount_codes_orders_are_placed_at_full_price():
    seed("--products", "30", "--customers", "10", "--reviews", "0", "--orders", "30", "--no-discount-codes")

    assert not DiscountCode.objects.exists()
    assert Order.objects.count() == 30
    assert not Order.objects.filter(discount__gt=0).exists()


def test_a_run_without_new_customers_has_the_existing_ones_order():
    seed("--products", "30", "--customers", "10", "--reviews", "0", "--orders", "0", "--seed", "3")
    customers = set(Customer.objects.values_list("pk", flat=True))

    output = seed("--products", "0", "--customers", "0", "--reviews", "0", "--orders", "20", "--seed", "3")

    assert Order.objects.count() == 20
    assert set(Order.objects.values_list("customer", flat=True)) <= customers
    assert set(DiscountCode.objects.values_list("code", flat=True)) == DEMO_CODES, "codes are not added twice"
    assert "orders: 20/20" in output


def test_the_default_run_seeds_a_small_shop_with_orders():
    call_command("seed_demo", "--if-empty", stdout=StringIO())  # what `make run` does

    assert (Product.objects.count(), Customer.objects.count(), Order.objects.count()) == (200, 50, 100)
    assert DiscountCode.objects.count() == len(DEMO_CODES)


def test_orders_need_customers_and_stock():
    output = seed("--products", "0", "--customers", "0", "--orders", "10")

    assert not Order.objects.exists()
    assert "orders: none" in output


def one_unit() -> Line:
    """Return a line of one unit of a new product's variant."""
    return Line(variant=ProductFactory(stock=10).only_variant.pk, quantity=1)


def test_a_document_backdated_into_another_year_is_numbered_in_that_year():
    OrderFactory(lines=[one_unit()])  # a cash order: confirmed, so invoiced, this year
    this_year = timezone.now().astimezone(UTC).year
    since = timezone.now()
    order = OrderFactory(lines=[one_unit()])
    new_year_eve = datetime(this_year - 1, 12, 31, 23, 30, tzinfo=UTC)
    backdating = Backdating()

    backdating.backdate(order, since, new_year_eve)
    backdating.flush()

    invoice = Invoice.objects.get(order=order)
    assert (invoice.number, invoice.year, invoice.sequence) == (f"INV-{this_year - 1}-000001", this_year - 1, 1)
    assert new_year_eve <= invoice.issued_at < new_year_eve + timedelta(seconds=1)
    assert InvoiceSequence.objects.get(year=this_year).last_number == 1, "the number taken this year was given back"
    assert InvoiceSequence.objects.get(year=this_year - 1).last_number == 1
    order.refresh_from_db()
    assert new_year_eve <= order.created_at < new_year_eve + timedelta(seconds=1)
    assert all(
        new_year_eve <= event.created_at < invoice.issued_at + timedelta(seconds=1) for event in order.events.all()
    )


def test_seeded_products_have_generated_pictures_with_thumbnails(db):
    call_command("seed_demo", "--products", "5", "--customers", "0", "--reviews", "0", "--orders", "0",
                 "--pictures", "3", "--seed", "7", stdout=StringIO())  # fmt: skip

    pictured = ProductImage.objects.select_related("product").order_by("product_id")
    assert pictured.count() == 3
    for picture in pictured:
        assert picture.alt_text == f"{picture.product.name}, product photo"
        assert picture.image.storage.exists(picture.image.name)
        for name in thumbnail_names(picture.image).values():
            assert picture.image.storage.exists(name)
    assert Product.objects.filter(images__isnull=True).count() == 2


def test_a_product_sold_in_colours_is_pictured_in_its_first_variant_and_tied_to_it():
    seed("--products", "200", "--seed", "7")
    shirt = Product.objects.filter(options__name="Colour").select_related("category").first()
    laptop = Product.objects.filter(category__name="Laptops").select_related("category").first()

    assert seed_pictures([shirt, laptop], StringIO()) == 2

    first = shirt.variants.first()
    colour = next(label["value"] for label in first.option_labels() if label["option"] == "Colour")
    picture = shirt.images.get()
    assert (picture.variant, picture.alt_text) == (first, f"{shirt.name} in {colour.lower()}, product photo")
    assert laptop.images.get().variant is None
