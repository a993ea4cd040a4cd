"""The catalog through the REST API (SPEC §4, §5): visibility, pages, filters, writes, stock, errors, schema."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.factories import CategoryFactory, ExtraFactory, ProductFactory
from catalog.models import Category, Extra, Product, ProductOption, Variant
from conftest import bearer_client
from customers.api.serializers import token_for
from tests.utils import assert_error, assert_validation_error, result_ids, stock_of

pytestmark = pytest.mark.django_db

CATEGORIES_URL = "/api/v1/categories/"
PRODUCTS_URL = "/api/v1/products/"


def category_url(pk: int) -> str:
    return f"{CATEGORIES_URL}{pk}/"


def product_url(pk: int) -> str:
    return f"{PRODUCTS_URL}{pk}/"


def adjust_stock_url(pk: int) -> str:
    return f"{PRODUCTS_URL}{pk}/adjust-stock/"


def product_payload(category: Category | int, **overrides) -> dict:
    payload = {
        "sku": "TEA-001",
        "name": "Green tea",
        "slug": "green-tea",
        "description": "Loose leaf.",
        "category": getattr(category, "pk", category),
        "price": "12.99",
        "stock": 10,
        "is_active": True,
    }
    return {**payload, **overrides}


@pytest.fixture
def user_with_permissions(django_user_model):
    """Make a staff user holding exactly the named catalog permissions."""

    def make(*codenames: str):
        user = django_user_model.objects.create_user(username="-".join(codenames) or "none", is_staff=True)
        user.user_permissions.set(Permission.objects.filter(content_type__app_label="catalog", codename__in=codenames))
        return user

    return make


# --- Who sees what -------------------------------------------------------------


def test_anonymous_lists_only_active_products(api_client):
    active = ProductFactory()
    ProductFactory(is_active=False)

    response = api_client.get(PRODUCTS_URL)

    assert response.status_code == 200
    assert result_ids(response) == [active.pk]


def test_anonymous_lists_only_active_categories(api_client):
    active = CategoryFactory()
    CategoryFactory(is_active=False)

    response = api_client.get(CATEGORIES_URL)

    assert response.status_code == 200
    assert result_ids(response) == [active.pk]


def test_non_staff_user_sees_only_active_products_and_categories(api_client, plain_user):
    category = CategoryFactory()
    CategoryFactory(is_active=False)
    product = ProductFactory(category=category)
    ProductFactory(category=category, is_active=False)
    api_client.force_authenticate(plain_user)

    assert result_ids(api_client.get(PRODUCTS_URL)) == [product.pk]
    assert result_ids(api_client.get(CATEGORIES_URL)) == [category.pk]


def test_staff_list_includes_inactive_products_and_categories(staff_client):
    category = CategoryFactory()
    hidden_category = CategoryFactory(is_active=False)
    product = ProductFactory(category=category)
    hidden_product = ProductFactory(category=category, is_active=False)

    assert sorted(result_ids(staff_client.get(PRODUCTS_URL))) == sorted([product.pk, hidden_product.pk])
    assert sorted(result_ids(staff_client.get(CATEGORIES_URL))) == sorted([category.pk, hidden_category.pk])


def test_inactive_product_detail_is_not_found_for_anonymous(api_client):
    product = ProductFactory(is_active=False)

    assert_error(api_client.get(product_url(product.pk)), 404, "not_found")


def test_inactive_product_detail_is_not_found_for_non_staff_user(api_client, plain_user):
    product = ProductFactory(is_active=False)
    api_client.force_authenticate(plain_user)

    assert_error(api_client.get(product_url(product.pk)), 404, "not_found")


def test_inactive_category_detail_is_not_found_for_anonymous(api_client):
    category = CategoryFactory(is_active=False)

    assert_error(api_client.get(category_url(category.pk)), 404, "not_found")


def test_staff_reads_inactive_product_and_category_detail(staff_client):
    product = ProductFactory(is_active=False, category=CategoryFactory(is_active=False))

    product_response = staff_client.get(product_url(product.pk))
    category_response = staff_client.get(category_url(product.category_id))

    assert product_response.status_code == 200
    assert product_response.json()["is_active"] is False
    assert category_response.status_code == 200
    assert category_response.json()["is_active"] is False


def test_active_product_detail_is_readable_anonymously(api_client):
    product = ProductFactory(sku="TEA-042", name="Oolong")

    response = api_client.get(product_url(product.pk))

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == product.pk
    assert body["sku"] == "TEA-042"
    assert body["category"] == product.category_id
    assert body["category_name"] == product.category.name
    assert body["category_slug"] == product.category.slug


# --- Pagination ------------------------------------------------------------------


def test_product_list_pages_by_twenty_by_default(api_client):
    category = CategoryFactory()
    ProductFactory.create_batch(25, category=category)

    response = api_client.get(PRODUCTS_URL)

    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 25
    assert len(body["results"]) == 20
    assert body["previous"] is None
    assert "page=2" in body["next"]

    second = api_client.get(PRODUCTS_URL, {"page": 2}).json()
    assert len(second["results"]) == 5
    assert second["next"] is None
    assert second["previous"] is not None


def test_page_size_query_parameter_is_honoured(api_client):
    category = CategoryFactory()
    ProductFactory.create_batch(7, category=category)

    body = api_client.get(PRODUCTS_URL, {"page_size": 3}).json()

    assert body["count"] == 7
    assert len(body["results"]) == 3
    assert "page_size=3" in body["next"]


def test_page_size_is_capped_at_one_hundred(api_client):
    category = CategoryFactory()
    ProductFactory.create_batch(105, category=category)

    body = api_client.get(PRODUCTS_URL, {"page_size": 500}).json()

    assert body["count"] == 105
    assert len(body["results"]) == 100


def test_category_list_is_paginated(api_client):
    CategoryFactory.create_batch(22)

    body = api_client.get(CATEGORIES_URL).json()

    assert body["count"] == 22
    assert len(body["results"]) == 20
    assert body["next"] is not None


@pytest.mark.parametrize("page", ["99", "0", "abc"])
def test_out_of_range_page_is_not_found(api_client, page):
    ProductFactory.create_batch(3, category=CategoryFactory())

    assert_error(api_client.get(PRODUCTS_URL, {"page": page}), 404, "not_found")


# --- Product filters ----------------------------------------------------------------


@pytest.fixture
def category_tree():
    """Three levels (drinks > tea > green tea), a product at each level, and one elsewhere."""
    drinks = CategoryFactory(name="Drinks")
    tea = CategoryFactory(name="Tea", parent=drinks)
    green = CategoryFactory(name="Green tea", parent=tea)
    elsewhere = CategoryFactory(name="Snacks")
    products = {
        "drinks": ProductFactory(category=drinks),
        "tea": ProductFactory(category=tea),
        "green": ProductFactory(category=green),
        "elsewhere": ProductFactory(category=elsewhere),
    }
    return {"drinks": drinks, "tea": tea, "green": green, "elsewhere": elsewhere}, products


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("drinks", {"drinks", "tea", "green"}),
        ("tea", {"tea", "green"}),
        ("green", {"green"}),
        ("elsewhere", {"elsewhere"}),
    ],
)
def test_category_filter_includes_sub_categories_at_any_depth(api_client, category_tree, category, expected):
    categories, products = category_tree

    response = api_client.get(PRODUCTS_URL, {"category": categories[category].pk})

    assert response.status_code == 200
    assert set(result_ids(response)) == {products[name].pk for name in expected}


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("drinks", {"drinks", "tea", "green"}),
        ("tea", {"tea", "green"}),
        ("green", {"green"}),
    ],
)
def test_category_slug_filter_includes_sub_categories_at_any_depth(api_client, category_tree, category, expected):
    categories, products = category_tree

    response = api_client.get(PRODUCTS_URL, {"category_slug": categories[category].slug})

    assert response.status_code == 200
    assert set(result_ids(response)) == {products[name].pk for name in expected}


def test_unknown_category_slug_gives_an_empty_list(api_client, category_tree):
    response = api_client.get(PRODUCTS_URL, {"category_slug": "no-such-category"})

    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert response.json()["results"] == []


def test_unknown_category_id_gives_an_empty_list(api_client, category_tree):
    response = api_client.get(PRODUCTS_URL, {"category": 999_999})

    assert response.status_code == 200
    assert response.json()["count"] == 0


@pytest.mark.parametrize(
    ("query", "expected_prices"),
    [
        ({"min_price": "10"}, {"10.00", "20.00"}),
        ({"max_price": "10"}, {"5.00", "10.00"}),
        ({"min_price": "6", "max_price": "15.50"}, {"10.00"}),
        ({"min_price": "10.01"}, {"20.00"}),
    ],
)
def test_price_filters_bound_the_price_inclusively(api_client, query, expected_prices):
    category = CategoryFactory()
    for price in ("5.00", "10.00", "20.00"):
        ProductFactory(category=category, price=Decimal(price))

    response = api_client.get(PRODUCTS_URL, query)

    assert response.status_code == 200
    assert {row["price"] for row in response.json()["results"]} == expected_prices


def test_in_stock_filter_separates_available_from_sold_out(api_client):
    category = CategoryFactory()
    available = ProductFactory(category=category, stock=4)
    sold_out = ProductFactory(category=category, stock=0)

    assert result_ids(api_client.get(PRODUCTS_URL, {"in_stock": "true"})) == [available.pk]
    assert result_ids(api_client.get(PRODUCTS_URL, {"in_stock": "false"})) == [sold_out.pk]
    rows = api_client.get(PRODUCTS_URL).json()["results"]
    assert {row["id"]: row["in_stock"] for row in rows} == {available.pk: True, sold_out.pk: False}


def test_staff_can_filter_products_by_is_active(staff_client):
    category = CategoryFactory()
    active = ProductFactory(category=category)
    hidden = ProductFactory(category=category, is_active=False)

    assert result_ids(staff_client.get(PRODUCTS_URL, {"is_active": "false"})) == [hidden.pk]
    assert result_ids(staff_client.get(PRODUCTS_URL, {"is_active": "true"})) == [active.pk]


def test_is_active_filter_never_shows_inactive_products_to_anonymous(api_client):
    ProductFactory(is_active=False)

    response = api_client.get(PRODUCTS_URL, {"is_active": "false"})

    assert response.status_code == 200
    assert response.json()["count"] == 0


@pytest.mark.parametrize("term", ["Darjeeling", "darj", "DJ-7781", "muscatel"])
def test_search_matches_name_sku_and_description(api_client, term):
    category = CategoryFactory()
    match = ProductFactory(category=category, name="Darjeeling", sku="DJ-7781", description="Notes of muscatel.")
    ProductFactory(category=category, name="Assam", sku="AS-1000", description="Malty and strong.")

    assert result_ids(api_client.get(PRODUCTS_URL, {"search": term})) == [match.pk]


@pytest.fixture
def priced_products():
    """Three products whose name, price and creation time each sort them differently."""
    category = CategoryFactory()
    now = timezone.now()
    rows = [("Cherry", "30.00", 1), ("Apple", "20.00", 3), ("Banana", "10.00", 2)]
    products = {}
    for name, price, days_ago in rows:
        product = ProductFactory(category=category, name=name, price=Decimal(price))
        Product.objects.filter(pk=product.pk).update(created_at=now - timedelta(days=days_ago))
        products[name] = product.pk
    return products


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("price", ["Banana", "Apple", "Cherry"]),
        ("-price", ["Cherry", "Apple", "Banana"]),
        ("name", ["Apple", "Banana", "Cherry"]),
        ("-name", ["Cherry", "Banana", "Apple"]),
        ("created_at", ["Apple", "Banana", "Cherry"]),
        ("-created_at", ["Cherry", "Banana", "Apple"]),
    ],
)
def test_ordering_sorts_products(api_client, priced_products, ordering, expected):
    response = api_client.get(PRODUCTS_URL, {"ordering": ordering})

    assert response.status_code == 200
    assert result_ids(response) == [priced_products[name] for name in expected]


@pytest.mark.parametrize("ordering", ["price", "-price", "name"])
def test_ordering_ties_are_broken_by_id_so_pages_are_stable(api_client, ordering):
    category = CategoryFactory()
    tied = [ProductFactory(category=category, name="Same name", price=Decimal("9.99")) for _ in range(7)]

    seen = []
    for page in (1, 2, 3, 4):
        seen += result_ids(api_client.get(PRODUCTS_URL, {"ordering": ordering, "page_size": 2, "page": page}))

    assert seen == sorted(product.pk for product in tied)


def test_default_product_order_is_by_name_then_id(api_client):
    """With no `ordering`, the model's order (name) holds, with ties broken by id."""
    category = CategoryFactory()
    zebra = ProductFactory(category=category, name="Zebra cake")
    apple_first = ProductFactory(category=category, name="Apple pie")
    apple_second = ProductFactory(category=category, name="Apple pie")

    assert result_ids(api_client.get(PRODUCTS_URL)) == [apple_first.pk, apple_second.pk, zebra.pk]


@pytest.mark.parametrize(
    "query",
    [
        {"min_price": "abc"},
        {"max_price": "cheap"},
        {"category": "tea"},
    ],
)
def test_bad_product_filter_value_is_a_validation_error(api_client, query):
    ProductFactory()

    body = assert_validation_error(api_client.get(PRODUCTS_URL, query), *query)

    assert next(iter(query)) in body["detail"]


# --- Category filters --------------------------------------------------------------


def test_category_filter_by_parent_lists_direct_children(api_client, category_tree):
    categories, _ = category_tree

    response = api_client.get(CATEGORIES_URL, {"parent": categories["drinks"].pk})

    assert result_ids(response) == [categories["tea"].pk]


def test_category_filter_by_slug(api_client, category_tree):
    categories, _ = category_tree

    assert result_ids(api_client.get(CATEGORIES_URL, {"slug": "green-tea"})) == [categories["green"].pk]


def test_staff_can_filter_categories_by_is_active(staff_client):
    active = CategoryFactory()
    hidden = CategoryFactory(is_active=False)

    assert result_ids(staff_client.get(CATEGORIES_URL, {"is_active": "false"})) == [hidden.pk]
    assert result_ids(staff_client.get(CATEGORIES_URL, {"is_active": "true"})) == [active.pk]


def test_bad_category_filter_value_is_a_validation_error(api_client):
    CategoryFactory()

    assert_validation_error(api_client.get(CATEGORIES_URL, {"parent": "abc"}), "parent")


# --- Representation -------------------------------------------------------------------

ISO_8601_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|\+00:00)$")


def test_money_is_sent_as_a_string(api_client):
    product = ProductFactory(price=Decimal("12.99"))

    assert api_client.get(product_url(product.pk)).json()["price"] == "12.99"
    assert api_client.get(PRODUCTS_URL).json()["results"][0]["price"] == "12.99"


def test_timestamps_are_iso_8601_in_utc(api_client):
    product = ProductFactory()

    product_body = api_client.get(product_url(product.pk)).json()
    category_body = api_client.get(category_url(product.category_id)).json()

    for body in (product_body, category_body):
        assert ISO_8601_UTC.match(body["created_at"]), body["created_at"]
        assert ISO_8601_UTC.match(body["updated_at"]), body["updated_at"]


# --- Who may write -------------------------------------------------------------------


@pytest.fixture
def write_requests():
    """One write of each kind against each resource, as (method, url, body)."""
    category = CategoryFactory()
    product = ProductFactory(category=category)
    return [
        ("post", CATEGORIES_URL, {"name": "New", "slug": "new"}),
        ("patch", category_url(category.pk), {"name": "Renamed"}),
        ("delete", category_url(CategoryFactory().pk), None),
        ("post", PRODUCTS_URL, product_payload(category)),
        ("put", product_url(product.pk), product_payload(category, stock=stock_of(product))),
        ("patch", product_url(product.pk), {"name": "Renamed"}),
        ("delete", product_url(product.pk), None),
        ("post", adjust_stock_url(product.pk), {"delta": 1}),
        ("post", f"{product_url(product.pk)}options/", {"name": "Size", "values": ["S"]}),
        ("post", f"{product_url(product.pk)}variants/", {"sku": "NEW-VARIANT", "price": "1.00"}),
        ("post", f"{product_url(product.pk)}extras/", {"name": "Wrap", "price": "1.00"}),
        ("patch", f"/api/v1/variants/{product.variants.get().pk}/", {"price": "1.00"}),
        ("post", f"/api/v1/variants/{product.variants.get().pk}/adjust-stock/", {"delta": 1}),
        ("delete", f"/api/v1/variants/{product.variants.get().pk}/", None),
    ]


def test_anonymous_write_is_not_authenticated_with_a_challenge(api_client, write_requests):
    for method, url, body in write_requests:
        response = getattr(api_client, method)(url, body, format="json")

        assert_error(response, 401, "not_authenticated")
        assert response["WWW-Authenticate"].startswith("Bearer"), (method, url)


def test_non_staff_user_write_is_permission_denied(api_client, plain_user, write_requests):
    api_client.force_authenticate(plain_user)

    for method, url, body in write_requests:
        assert_error(getattr(api_client, method)(url, body, format="json"), 403, "permission_denied")


def test_staff_without_model_permission_write_is_permission_denied(
    api_client, staff_without_permissions, write_requests
):
    api_client.force_authenticate(staff_without_permissions)

    for method, url, body in write_requests:
        assert_error(getattr(api_client, method)(url, body, format="json"), 403, "permission_denied")


def test_refused_writes_change_nothing(api_client, plain_user, write_requests):
    categories = Category.objects.count()
    products = list(Product.objects.values_list("pk", "name", "variants__sku", "variants__price", "variants__stock"))
    api_client.force_authenticate(plain_user)

    for method, url, body in write_requests:
        getattr(api_client, method)(url, body, format="json")

    assert Category.objects.count() == categories
    assert (
        list(Product.objects.values_list("pk", "name", "variants__sku", "variants__price", "variants__stock"))
        == products
    )
    assert not ProductOption.objects.exists() and not Extra.objects.exists()


def test_staff_write_needs_the_permission_for_that_action(api_client, user_with_permissions):
    """Admin groups govern the API: holding `change` does not grant `add` or `delete`."""
    product = ProductFactory()
    api_client.force_authenticate(user_with_permissions("change_product"))

    assert api_client.patch(product_url(product.pk), {"name": "Renamed"}, format="json").status_code == 200
    assert_error(
        api_client.post(PRODUCTS_URL, product_payload(product.category), format="json"), 403, "permission_denied"
    )
    assert_error(api_client.delete(product_url(product.pk)), 403, "permission_denied")


def bearer_for(client, email: str, password: str) -> str:
    """Log in through the token endpoint and return the Authorization header value."""
    response = client.post("/api/v1/auth/token/", {"email": email, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return f"Bearer {response.json()['access']}"


def test_staff_can_write_with_a_bearer_token(api_client, staff_user):
    api_client.credentials(HTTP_AUTHORIZATION=bearer_for(api_client, staff_user.email, "staff-pass-123"))

    response = api_client.post(CATEGORIES_URL, {"name": "Tokens", "slug": "tokens"}, format="json")

    assert response.status_code == 201, response.content
    assert Category.objects.filter(slug="tokens").exists()


def test_staff_reads_inactive_rows_with_a_bearer_token(api_client, staff_user):
    hidden = ProductFactory(is_active=False)
    api_client.credentials(HTTP_AUTHORIZATION=bearer_for(api_client, staff_user.email, "staff-pass-123"))

    response = api_client.get(PRODUCTS_URL)

    assert response["X-Cache"] == "BYPASS"
    assert result_ids(response) == [hidden.pk]


def hidden_rows() -> tuple[Product, Category]:
    category = CategoryFactory(is_active=False)
    return ProductFactory(is_active=False, category=CategoryFactory(name="Shown")), category


def test_a_demoted_staff_members_token_no_longer_shows_inactive_rows(staff_user):
    product, category = hidden_rows()
    client = bearer_client(staff_user)  # the token says is_staff
    staff_user.is_staff = False
    staff_user.save()

    assert result_ids(client.get(PRODUCTS_URL)) == []
    assert category.pk not in result_ids(client.get(CATEGORIES_URL))
    assert_error(client.get(f"{PRODUCTS_URL}{product.pk}/"), 404, "not_found")
    assert_error(client.get(f"{CATEGORIES_URL}{category.pk}/"), 404, "not_found")


def test_a_deleted_staff_members_token_is_refused_where_it_would_show_inactive_rows(staff_user):
    hidden_rows()
    client = bearer_client(staff_user)
    staff_user.delete()

    assert_error(client.get(PRODUCTS_URL), 401, "authentication_failed")
    assert_error(client.get(CATEGORIES_URL), 401, "authentication_failed")


def test_staff_without_the_view_permission_see_only_active_rows(staff_without_permissions):
    product, category = hidden_rows()
    client = bearer_client(staff_without_permissions)

    assert result_ids(client.get(PRODUCTS_URL)) == []
    assert category.pk not in result_ids(client.get(CATEGORIES_URL))
    assert_error(client.get(f"{PRODUCTS_URL}{product.pk}/"), 404, "not_found")
    assert_error(client.get(f"{CATEGORIES_URL}{category.pk}/"), 404, "not_found")


def test_staff_holding_only_the_view_permissions_see_inactive_rows(staff_without_permissions):
    product, category = hidden_rows()
    staff_without_permissions.user_permissions.set(
        Permission.objects.filter(codename__in=["view_product", "view_category"], content_type__app_label="catalog")
    )

    client = bearer_client(staff_without_permissions)

    assert result_ids(client.get(PRODUCTS_URL)) == [product.pk]
    assert category.pk in result_ids(client.get(CATEGORIES_URL))


def test_a_token_without_the_staff_claim_never_caches_inactive_rows(staff_user, api_client):
    """A user made staff after their token was issued reads the public (cached) catalog until it is renewed."""
    hidden_rows()
    staff_user.is_staff = True
    client = APIClient()
    token = token_for(staff_user).access_token
    token["is_staff"] = False
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert result_ids(client.get(PRODUCTS_URL)) == []
    assert result_ids(api_client.get(PRODUCTS_URL)) == []


def test_an_invalid_bearer_token_is_refused(api_client, staff_user):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    response = api_client.post(CATEGORIES_URL, {"name": "Tokens", "slug": "tokens"}, format="json")

    body = assert_error(response, 401, "token_not_valid")
    assert body["detail"] == "Given token not valid for any token type"
    assert not Category.objects.filter(slug="tokens").exists()


# --- Staff writes: categories ------------------------------------------------------------


def test_staff_creates_a_category(staff_client):
    parent = CategoryFactory()

    response = staff_client.post(
        CATEGORIES_URL,
        {"name": "Herbal", "slug": "herbal", "parent": parent.pk, "description": "No caffeine."},
        format="json",
    )

    assert response.status_code == 201, response.content
    category = Category.objects.get(pk=response.json()["id"])
    assert (category.name, category.slug, category.parent_id, category.is_active) == (
        "Herbal",
        "herbal",
        parent.pk,
        True,
    )


def test_staff_updates_a_category(staff_client):
    category = CategoryFactory(name="Old", description="Old text.")

    response = staff_client.put(
        category_url(category.pk),
        {"name": "New", "slug": "new", "parent": None, "description": "New text.", "is_active": False},
        format="json",
    )

    assert response.status_code == 200, response.content
    category.refresh_from_db()
    assert (category.name, category.slug, category.description, category.is_active) == (
        "New",
        "new",
        "New text.",
        False,
    )


def test_staff_partially_updates_a_category(staff_client):
    category = CategoryFactory(name="Old", slug="old")

    response = staff_client.patch(category_url(category.pk), {"name": "New"}, format="json")

    assert response.status_code == 200, response.content
    category.refresh_from_db()
    assert (category.name, category.slug) == ("New", "old")


def test_staff_deletes_an_empty_category(staff_client):
    category = CategoryFactory()

    response = staff_client.delete(category_url(category.pk))

    assert response.status_code == 204
    assert not Category.objects.filter(pk=category.pk).exists()


def test_deleting_a_category_with_products_is_a_conflict(staff_client):
    category = CategoryFactory()
    ProductFactory.create_batch(2, category=category)

    body = assert_error(staff_client.delete(category_url(category.pk)), 409, "conflict")

    assert body["blocked_by"] == {"products": 2}
    assert "2 products" in body["detail"]
    assert Category.objects.filter(pk=category.pk).exists()


def test_deleting_a_category_with_sub_categories_is_a_conflict(staff_client):
    parent = CategoryFactory()
    CategoryFactory(parent=parent)

    body = assert_error(staff_client.delete(category_url(parent.pk)), 409, "conflict")

    assert body["blocked_by"] == {"categories": 1}
    assert "1 category" in body["detail"]
    assert Category.objects.filter(pk=parent.pk).exists()


# --- Staff writes: products -------------------------------------------------------------


def sold_as(product: Product) -> Variant:
    """Return the one variant of a simple product, as the database holds it now."""
    return Variant.objects.get(product=product)


def test_staff_creates_a_product_with_initial_stock(staff_client):
    category = CategoryFactory()

    response = staff_client.post(PRODUCTS_URL, product_payload(category, stock=17), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["stock"], body["in_stock"], body["price"], body["category"]) == (17, True, "12.99", category.pk)
    product = Product.objects.get(pk=body["id"])
    assert (sold_as(product).sku, stock_of(product), sold_as(product).price) == ("TEA-001", 17, Decimal("12.99"))


def test_staff_creates_a_product_without_stock_at_zero(staff_client):
    payload = product_payload(CategoryFactory())
    del payload["stock"]

    response = staff_client.post(PRODUCTS_URL, payload, format="json")

    assert response.status_code == 201, response.content
    assert stock_of(Product.objects.get(pk=response.json()["id"])) == 0


def test_staff_updates_a_product(staff_client):
    product = ProductFactory(stock=5)
    new_category = CategoryFactory()

    response = staff_client.put(
        product_url(product.pk),
        product_payload(new_category, sku="NEW-1", name="New name", slug="new-name", price="3.50", stock=5),
        format="json",
    )

    assert response.status_code == 200, response.content
    product.refresh_from_db()
    assert (sold_as(product).sku, product.name, product.category_id, sold_as(product).price, stock_of(product)) == (
        "NEW-1",
        "New name",
        new_category.pk,
        Decimal("3.50"),
        5,
    )


def test_staff_partially_updates_a_product(staff_client):
    product = ProductFactory(price=Decimal("1.00"), stock=5)

    response = staff_client.patch(product_url(product.pk), {"price": "2.25", "is_active": False}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["price"] == "2.25"
    product.refresh_from_db()
    assert (sold_as(product).price, product.is_active, stock_of(product)) == (Decimal("2.25"), False, 5)


def test_staff_deletes_a_product(staff_client):
    product = ProductFactory()

    response = staff_client.delete(product_url(product.pk))

    assert response.status_code == 204
    assert not Product.objects.filter(pk=product.pk).exists()


# --- Validation ----------------------------------------------------------------------------


def test_negative_price_is_a_validation_error(staff_client):
    response = staff_client.post(PRODUCTS_URL, product_payload(CategoryFactory(), price="-0.01"), format="json")

    body = assert_validation_error(response, "price")
    assert body["detail"].startswith("price")
    assert not Product.objects.exists()


def test_negative_price_on_update_is_a_validation_error(staff_client):
    product = ProductFactory(price=Decimal("5.00"))

    assert_validation_error(staff_client.patch(product_url(product.pk), {"price": "-1"}, format="json"), "price")
    product.refresh_from_db()
    assert sold_as(product).price == Decimal("5.00")


def test_negative_initial_stock_is_a_validation_error(staff_client):
    response = staff_client.post(PRODUCTS_URL, product_payload(CategoryFactory(), stock=-1), format="json")

    assert_validation_error(response, "stock")


def test_duplicate_sku_is_a_validation_error(staff_client):
    existing = ProductFactory(sku="TEA-001")

    response = staff_client.post(PRODUCTS_URL, product_payload(existing.category, sku="TEA-001"), format="json")

    assert_validation_error(response, "sku")
    assert Product.objects.count() == 1


def test_duplicate_category_name_is_a_validation_error(staff_client):
    CategoryFactory(name="Tea", slug="tea")

    assert_validation_error(staff_client.post(CATEGORIES_URL, {"name": "Tea", "slug": "tea-2"}, format="json"), "name")


def test_missing_required_product_fields_are_listed_per_field(staff_client):
    response = staff_client.post(PRODUCTS_URL, {}, format="json")

    assert_validation_error(response, "sku", "name", "slug", "category", "price")


def test_missing_required_category_fields_are_listed_per_field(staff_client):
    assert_validation_error(staff_client.post(CATEGORIES_URL, {}, format="json"), "name", "slug")


def test_unknown_category_on_a_product_is_a_validation_error(staff_client):
    response = staff_client.post(PRODUCTS_URL, product_payload(999_999), format="json")

    assert_validation_error(response, "category")


def test_category_cannot_move_under_its_own_sub_category(staff_client):
    top = CategoryFactory()
    middle = CategoryFactory(parent=top)
    bottom = CategoryFactory(parent=middle)

    response = staff_client.patch(category_url(top.pk), {"parent": bottom.pk}, format="json")

    body = assert_validation_error(response, "parent")
    assert body["errors"]["parent"] == [Category.LOOP_MESSAGE]
    top.refresh_from_db()
    assert top.parent_id is None


def test_category_cannot_be_its_own_parent(staff_client):
    category = CategoryFactory()

    assert_validation_error(
        staff_client.patch(category_url(category.pk), {"parent": category.pk}, format="json"), "parent"
    )


def test_malformed_json_is_a_parse_error_not_a_server_error(staff_client):
    response = staff_client.generic("POST", PRODUCTS_URL, "{not json", content_type="application/json")

    assert_error(response, 400, "parse_error")


# --- Stock --------------------------------------------------------------------------------


def test_patch_with_a_different_stock_is_refused(staff_client):
    product = ProductFactory(stock=5)

    response = staff_client.patch(product_url(product.pk), {"stock": 50}, format="json")

    body = assert_validation_error(response, "stock")
    assert "adjust-stock" in body["errors"]["stock"][0]
    product.refresh_from_db()
    assert stock_of(product) == 5


def test_put_with_a_different_stock_is_refused(staff_client):
    product = ProductFactory(stock=5)

    response = staff_client.put(product_url(product.pk), product_payload(product.category, stock=6), format="json")

    assert_validation_error(response, "stock")
    product.refresh_from_db()
    assert stock_of(product) == 5


def test_patch_repeating_the_current_stock_is_accepted(staff_client):
    product = ProductFactory(stock=5, name="Old")

    response = staff_client.patch(product_url(product.pk), {"stock": 5, "name": "New"}, format="json")

    assert response.status_code == 200, response.content
    product.refresh_from_db()
    assert (stock_of(product), product.name) == (5, "New")


def test_put_repeating_the_current_stock_is_accepted(staff_client):
    product = ProductFactory(stock=5)

    response = staff_client.put(product_url(product.pk), product_payload(product.category, stock=5), format="json")

    assert response.status_code == 200, response.content
    product.refresh_from_db()
    assert (stock_of(product), product.name) == (5, "Green tea")


def test_adjust_stock_adds_units(staff_client):
    product = ProductFactory(stock=2)

    response = staff_client.post(adjust_stock_url(product.pk), {"delta": 5}, format="json")

    assert response.status_code == 200, response.content
    assert (response.json()["id"], response.json()["stock"]) == (product.pk, 7)
    product.refresh_from_db()
    assert stock_of(product) == 7


def test_adjust_stock_removes_units(staff_client):
    product = ProductFactory(stock=10)

    response = staff_client.post(adjust_stock_url(product.pk), {"delta": -3}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["stock"] == 7
    product.refresh_from_db()
    assert stock_of(product) == 7


def test_adjust_stock_may_take_stock_to_exactly_zero(staff_client):
    product = ProductFactory(stock=3)

    response = staff_client.post(adjust_stock_url(product.pk), {"delta": -3}, format="json")

    assert response.status_code == 200, response.content
    assert (response.json()["stock"], response.json()["in_stock"]) == (0, False)


def test_adjust_stock_below_zero_is_insufficient_stock(staff_client):
    product = ProductFactory(stock=2)

    response = staff_client.post(adjust_stock_url(product.pk), {"delta": -5}, format="json")

    body = assert_error(response, 409, "insufficient_stock")
    variant = product.variants.get()
    assert body["lines"] == [
        {"variant": variant.pk, "product": product.pk, "sku": variant.sku, "requested": 5, "available": 2}
    ]
    product.refresh_from_db()
    assert stock_of(product) == 2


@pytest.mark.parametrize("body", [{"delta": 0}, {}, {"delta": "lots"}])
def test_adjust_stock_needs_a_non_zero_integer_delta(staff_client, body):
    product = ProductFactory(stock=2)

    assert_validation_error(staff_client.post(adjust_stock_url(product.pk), body, format="json"), "delta")
    product.refresh_from_db()
    assert stock_of(product) == 2


def test_adjust_stock_on_an_unknown_product_is_not_found(staff_client):
    assert_error(staff_client.post(adjust_stock_url(999_999), {"delta": 1}, format="json"), 404, "not_found")


def test_adjust_stock_works_on_an_inactive_product_for_staff(staff_client):
    product = ProductFactory(stock=1, is_active=False)

    response = staff_client.post(adjust_stock_url(product.pk), {"delta": 4}, format="json")

    assert response.status_code == 200, response.content
    product.refresh_from_db()
    assert stock_of(product) == 5


def test_adjust_stock_is_allowed_with_the_change_permission(api_client, user_with_permissions):
    product = ProductFactory(stock=2)
    api_client.force_authenticate(user_with_permissions("change_product"))

    response = api_client.post(adjust_stock_url(product.pk), {"delta": 1}, format="json")

    assert response.status_code == 200, response.content
    product.refresh_from_db()
    assert stock_of(product) == 3


def test_adjust_stock_is_refused_without_the_change_permission(api_client, user_with_permissions):
    """The add permission (what a bare POST maps to) is not enough to move stock."""
    product = ProductFactory(stock=2)
    api_client.force_authenticate(user_with_permissions("add_product", "view_product"))

    assert_error(api_client.post(adjust_stock_url(product.pk), {"delta": 1}, format="json"), 403, "permission_denied")
    product.refresh_from_db()
    assert stock_of(product) == 2


# --- Not found, wrong method, unknown URL ------------------------------------------------------


@pytest.mark.parametrize("url", [product_url(999_999), category_url(999_999)])
def test_unknown_id_is_not_found(api_client, url):
    assert_error(api_client.get(url), 404, "not_found")


def test_unknown_id_is_not_found_for_staff_writes(staff_client):
    assert_error(staff_client.patch(product_url(999_999), {"name": "x"}, format="json"), 404, "not_found")
    assert_error(staff_client.delete(category_url(999_999)), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "url"), [("patch", PRODUCTS_URL), ("delete", PRODUCTS_URL), ("put", CATEGORIES_URL)]
)
def test_unsupported_method_is_method_not_allowed(staff_client, method, url):
    # Staff with every permission, so the permission check passes and the method is what fails.
    response = getattr(staff_client, method)(url, {}, format="json")

    body = assert_error(response, 405, "method_not_allowed")
    assert method.upper() in body["detail"]


def test_unknown_api_url_answers_json_not_found(api_client):
    response = api_client.get("/api/v1/no-such-resource/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


# --- Query counts ---------------------------------------------------------------------------


def sized(products, sizes: int = 3) -> None:
    """Sell every other product in `sizes` sizes (its own variant is the first)."""
    for product in products[::2]:
        product.add_option("Size", [f"S{index}" for index in range(sizes)])
        for index in range(1, sizes):
            product.add_variant(sku=f"{product.pk}-S{index}", price="9.00", options={"Size": f"S{index}"})


@pytest.mark.parametrize("page_size", [50, 100])
@pytest.mark.parametrize("products", [3, 60])
def test_staff_product_list_runs_a_fixed_number_of_queries(
    staff_client, django_assert_num_queries, products, page_size
):
    # A category per product, so a missing select_related would show as one query per row;
    # sizes on some, so a missing prefetch of variants would too.
    sized(ProductFactory.create_batch(products))

    # 1-2. the staff member's own and group permissions (may they see inactive products?);
    # 3. the page of products JOIN category; 4. their variants; 5. their images; 6. COUNT(*), only
    # when the first page is full (a shorter one is the whole list).
    with django_assert_num_queries(5 + (products >= page_size)):
        response = staff_client.get(PRODUCTS_URL, {"page_size": page_size})

    assert response["X-Cache"] == "BYPASS"
    assert len(response.json()["results"]) == min(products, page_size)


@pytest.mark.parametrize("page_size", [50, 100])
@pytest.mark.parametrize("products", [3, 60])
def test_anonymous_product_list_on_a_cache_miss_runs_a_fixed_number_of_queries(
    api_client, django_assert_num_queries, products, page_size
):
    sized(ProductFactory.create_batch(products))

    # 1. the page of products JOIN category; 2. their variants; 3. their images; 4. COUNT(*) of
    # active products, only when the first page is full. No auth or session query.
    with django_assert_num_queries(3 + (products >= page_size)):
        response = api_client.get(PRODUCTS_URL, {"page_size": page_size})

    assert response["X-Cache"] == "MISS"
    assert len(response.json()["results"]) == min(products, page_size)


@pytest.mark.parametrize("products", [3, 60])
def test_product_list_filtered_by_category_runs_a_fixed_number_of_queries(
    api_client, django_assert_num_queries, products
):
    parent = CategoryFactory()
    children = CategoryFactory.create_batch(3, parent=parent)
    for index in range(products):
        ProductFactory(category=children[index % 3])

    # 1. (pk, parent_id) of every category, to walk the tree; 2. the page JOIN category;
    # 3. the page's variants; 4. their images (a short first page: no COUNT(*)).
    with django_assert_num_queries(4):
        response = api_client.get(PRODUCTS_URL, {"category": parent.pk, "page_size": 100})
    # 1. the category id for the slug; 2. the tree walk; 3. the page JOIN category; 4. variants; 5. images.
    with django_assert_num_queries(5):
        by_slug = api_client.get(PRODUCTS_URL, {"category_slug": parent.slug, "page_size": 100})

    assert response.json()["count"] == by_slug.json()["count"] == products


@pytest.mark.parametrize("page_size", [50, 100])
@pytest.mark.parametrize("categories", [3, 60])
def test_staff_category_list_runs_a_fixed_number_of_queries(
    staff_client, django_assert_num_queries, categories, page_size
):
    parent = CategoryFactory()
    CategoryFactory.create_batch(categories - 1, parent=parent)

    # 1-2. the staff member's own and group permissions (may they see inactive categories?);
    # 3. the page of categories (parent is sent as an id: no join, no per-row query); 4. COUNT(*),
    # only when the first page is full.
    with django_assert_num_queries(3 + (categories >= page_size)):
        response = staff_client.get(CATEGORIES_URL, {"page_size": page_size})

    assert response["X-Cache"] == "BYPASS"
    assert len(response.json()["results"]) == min(categories, page_size)


@pytest.mark.parametrize("page_size", [50, 100])
@pytest.mark.parametrize("categories", [3, 60])
def test_anonymous_category_list_on_a_cache_miss_runs_a_fixed_number_of_queries(
    api_client, django_assert_num_queries, categories, page_size
):
    parent = CategoryFactory()
    CategoryFactory.create_batch(categories - 1, parent=parent)

    # 1. the page of categories; 2. COUNT(*) of active categories, only when the first page is full.
    with django_assert_num_queries(1 + (categories >= page_size)):
        response = api_client.get(CATEGORIES_URL, {"page_size": page_size})

    assert response["X-Cache"] == "MISS"
    assert len(response.json()["results"]) == min(categories, page_size)


@pytest.mark.parametrize(("sizes", "queries"), [(1, 6), (4, 7)])
def test_detail_reads_run_a_fixed_number_of_queries(
    api_client, staff_client, django_assert_num_queries, sizes, queries
):
    product = ProductFactory()
    if sizes > 1:
        sized([product], sizes=sizes)
    ExtraFactory.create_batch(2, product=product)

    # 1. the product JOIN category; 2. its variants; 3. their option values JOIN option; 4. its images;
    # 5. its options; 6. their values (skipped without options); 7. its extras. Staff first read
    # their own and group permissions (two queries, once per request) to decide whether inactive rows show.
    with django_assert_num_queries(queries):
        assert api_client.get(product_url(product.pk))["X-Cache"] == "MISS"
    with django_assert_num_queries(queries + 2):
        assert staff_client.get(product_url(product.pk))["X-Cache"] == "BYPASS"
    # The category (the forced-in user object still holds its permissions from above).
    with django_assert_num_queries(1):
        assert api_client.get(category_url(product.category_id))["X-Cache"] == "MISS"
    with django_assert_num_queries(1):
        assert staff_client.get(category_url(product.category_id))["X-Cache"] == "BYPASS"


# --- OpenAPI schema and docs ---------------------------------------------------------------


@pytest.fixture
def schema(api_client) -> dict:
    response = api_client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_schema_is_served(api_client):
    response = api_client.get("/api/schema/")

    assert response.status_code == 200
    assert b"openapi:" in response.content


def test_schema_documents_the_catalog_paths(schema):
    assert {"/api/v1/products/", "/api/v1/products/{id}/", "/api/v1/products/{id}/adjust-stock/"} <= set(
        schema["paths"]
    )
    assert {"/api/v1/categories/", "/api/v1/categories/{id}/"} <= set(schema["paths"])


def test_schema_has_the_error_component(schema):
    error = schema["components"]["schemas"]["Error"]

    assert {"detail", "code"} <= set(error["properties"])


def test_schema_documents_a_validation_error_on_the_product_list(schema):
    responses = schema["paths"]["/api/v1/products/"]["get"]["responses"]

    assert "400" in responses
    assert "200" in responses


def test_schema_documents_insufficient_stock_on_adjust_stock(schema):
    responses = schema["paths"]["/api/v1/products/{id}/adjust-stock/"]["post"]["responses"]

    assert {"200", "400", "404", "409"} <= set(responses)
    examples = responses["409"]["content"]["application/json"]["examples"]
    assert any(example["value"]["code"] == "insufficient_stock" for example in examples.values())


def test_schema_documents_the_product_list_filters(schema):
    parameters = {parameter["name"] for parameter in schema["paths"]["/api/v1/products/"]["get"]["parameters"]}

    assert {"category", "category_slug", "min_price", "max_price", "in_stock", "is_active"} <= parameters
    assert {"search", "ordering", "page", "page_size"} <= parameters


REMOTE_ASSET = re.compile(r"""<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_api_docs_pages_load_only_local_assets(api_client, url):
    response = api_client.get(url)

    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert not REMOTE_ASSET.search(html), REMOTE_ASSET.search(html).group(0)
