from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import CommandError, call_command

from catalog.cache import CATEGORIES
from catalog.factories import ProductFactory
from catalog.models import Category, Product
from config.common.caching import version_key

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def catalog_snapshot() -> list[tuple]:
    return list(
        Product.objects.order_by("sku").values_list(
            "sku", "name", "slug", "description", "category__name", "price", "stock", "is_active"
        )
    )


def test_seed_demo_builds_a_category_tree_and_products_on_its_leaves():
    output = seed("--products", "300", "--seed", "7")

    assert 20 <= Category.objects.count() <= 40
    assert Category.objects.filter(parent__parent__isnull=False).exists(), "the tree has three levels"
    assert Product.objects.count() == 300
    assert not Product.objects.filter(category__children__isnull=False).exists(), "products sit on leaves"
    assert len(set(Product.objects.values_list("slug", flat=True))) == 300
    assert "products: 300/300" in output


def test_seeded_stock_is_never_negative_and_some_products_are_sold_out_low_or_hidden(settings):
    seed("--products", "300", "--seed", "7")

    assert not Product.objects.filter(stock__lt=0).exists()
    assert Product.objects.filter(stock=0).exists()
    assert Product.objects.filter(stock__gt=0).low_stock(settings.LOW_STOCK_THRESHOLD).exists()
    assert Product.objects.filter(stock__gt=settings.LOW_STOCK_THRESHOLD).count() > 200
    assert Product.objects.filter(is_active=False).exists()
    assert all(price.as_tuple().exponent == -2 for price in Product.objects.values_list("price", flat=True))


def test_the_same_seed_gives_the_same_catalog():
    seed("--products", "50", "--seed", "42", "--flush")
    first = catalog_snapshot()
    first_categories = list(Category.objects.values_list("name", "description", "parent__name"))

    seed("--products", "50", "--seed", "42", "--flush")

    assert catalog_snapshot() == first
    assert list(Category.objects.values_list("name", "description", "parent__name")) == first_categories
    seed("--products", "50", "--seed", "43", "--flush")
    assert catalog_snapshot() != first


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


def test_an_existing_admin_keeps_its_password(django_user_model):
    django_user_model.objects.create_user(username="admin", password="not-the-demo-one")

    seed("--products", "0")

    assert django_user_model.objects.get(username="admin").check_password("not-the-demo-one")


def test_the_printed_login_uses_the_configured_admin_path(settings):
    settings.DJANGO_ADMIN_URL = "back-office/"

    assert "at http://127.0.0.1:8000/back-office/" in seed("--products", "0")


@pytest.mark.parametrize("args", [["--products", "-1"], ["--flush", "--if-empty"]])
def test_nonsense_options_are_refused(args):
    with pytest.raises(CommandError):
        seed(*args)
