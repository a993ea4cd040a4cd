import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models.signals import post_save
from django.urls import reverse

from catalog.cache import CATEGORIES, PRODUCT_LISTS
from catalog.factories import (
    CategoryFactory,
    ExtraFactory,
    ProductFactory,
    ProductImageFactory,
    ReviewFactory,
)
from catalog.models import Category, Product, Review, Variant
from common.caching import version_key
from customers.factories import CustomerFactory
from orders.factories import OrderFactory
from orders.managers import Line
from tests.utils import change_url, changelist_url, listed, messages_of, result_ids, stock_of

pytestmark = pytest.mark.django_db


def management_form(prefix: str, initial: int, total: int | None = None) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(initial if total is None else total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def product_page_data(product: Product, **overrides) -> dict:
    """Return what the product's page posts for it as the database holds it: the product and each inline row."""
    product = Product.objects.get(pk=product.pk)
    variants, options = list(product.variants.all()), list(product.options.prefetch_related("values"))
    data = {
        "name": product.name,
        "slug": product.slug,
        "category": product.category_id,
        "description": product.description,
        "is_active": "on" if product.is_active else "",
        "_save": "Save",
        **management_form("variants", len(variants)),
        **management_form("options", len(options)),
        **management_form("extras", 0),
        **management_form("images", 0),
    }
    for index, variant in enumerate(variants):
        data |= {
            f"variants-{index}-id": variant.pk,
            f"variants-{index}-sku": variant.sku,
            f"variants-{index}-price": variant.price,
            f"variants-{index}-is_active": "on" if variant.is_active else "",
            f"variants-{index}-position": variant.position,
        }
    for index, option in enumerate(options):
        data |= {
            f"options-{index}-id": option.pk,
            f"options-{index}-name": option.name,
            f"options-{index}-values": ", ".join(value.value for value in option.values.all()),
            f"options-{index}-position": option.position,
        }
    return {**data, **overrides}


def new_variant_row(data: dict, **fields) -> dict:
    """Add a new row to the variants inline of `data` (from product_page_data)."""
    index = int(data["variants-TOTAL_FORMS"])
    row = {f"variants-{index}-{name}": value for name, value in {"is_active": "on", "position": "0", **fields}.items()}
    return {**data, **row, "variants-TOTAL_FORMS": str(index + 1)}


def combination(product: Product, **values: str) -> str:
    """Return the variants inline's choice for these option values, given as Size="M"."""
    chosen = product.option_values_named(values)
    order = {option.pk: option.position for option in product.options.all()}
    return "-".join(
        str(value.pk) for value in sorted(chosen, key=lambda value: (order[value.option_id], value.option_id))
    )


def variant_page_data(variant: Variant, **overrides) -> dict:
    """Return what a variant's page posts for it as it is in memory."""
    data = {
        "sku": variant.sku,
        "price": variant.price,
        "is_active": "on" if variant.is_active else "",
        "position": variant.position,
        "adjust_stock_by": "",
        "_save": "Save",
    }
    return {**data, **overrides}


def more_variants(product: Product, *variants: dict) -> list[Variant]:
    """Sell the product in sizes: its variant becomes Size 1, and each of `variants` (sku, price, stock, ...)
    is added in Size 2, 3, ... through `add_variant`."""
    sizes = [str(size) for size in range(1, len(variants) + 2)]
    product.add_option("Size", sizes)
    added = []
    for size, fields in zip(sizes[1:], variants, strict=True):
        fields = {"sku": f"{product.slug}-{size}".upper(), "price": Decimal("10.00"), "stock": 0, **fields}
        added.append(product.add_variant(options={"Size": size}, **fields))
    return added


def shirt() -> Product:
    """A shirt in Size S/M/L and Colour Navy/White, sold so far as SHIRT-M-NAVY only."""
    product = ProductFactory(name="Shirt", sku="SHIRT-M-NAVY", price=Decimal("20.00"), stock=4)
    product.add_option("Size", ["S", "M", "L"])
    product.add_option("Colour", ["Navy", "White"])
    product.variants.get().set_option_values(product.option_values_named({"Size": "M", "Colour": "Navy"}))
    return product


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def run_action(client, model, action: str, objects, **data):
    return client.post(
        changelist_url(model),
        {"action": action, "_selected_action": [obj.pk for obj in objects], "index": 0, **data},
    )


def three_level_tree() -> tuple[Category, Category, Category, Category]:
    """Return Electronics > Phones > Android, and Books beside them."""
    electronics = CategoryFactory(name="Electronics")
    phones = CategoryFactory(name="Phones", parent=electronics)
    android = CategoryFactory(name="Android", parent=phones)
    return electronics, phones, android, CategoryFactory(name="Books")


def delete_url(product: Product) -> str:
    return reverse("admin:catalog_product_delete", args=[product.pk])


def ordered(product: Product, times: int = 1, variant: Variant | None = None) -> Product:
    """Put the product (its first variant, or `variant`) on `times` orders, one line each."""
    variant = variant or product.variants.first()
    for _ in range(times):
        OrderFactory(lines=[Line(variant=variant.pk, quantity=1)])
    return product


class TestProductChangelist:
    @pytest.mark.parametrize("count", [3, 60])
    def test_product_changelist_query_count_does_not_grow_with_rows_or_variants(
        self, admin_client, django_assert_num_queries, count
    ):
        products = ProductFactory.create_batch(count)  # each product in a category of its own
        for product in products[::2]:  # every other one sold in three variants
            more_variants(product, {}, {})

        # 1 session, 2 user, 3 categories for the category filter,
        # 4 count of the filtered rows (no second, unfiltered count), 5 the page with its categories
        # and each product's variant count, SKU and units (subqueries), 6 the page's pictures (one prefetch).
        with django_assert_num_queries(6):
            response = admin_client.get(changelist_url(Product))

        assert response.status_code == 200
        assert len(listed(response)) == count
        assert "3 variants" in response.content.decode()

    def test_the_sku_column_names_the_only_variant_or_counts_the_variants(self, admin_client):
        simple = ProductFactory(name="Mug", sku="MUG-1")
        several = ProductFactory(name="Shirt", sku="SHIRT-S")
        more_variants(several, {"sku": "SHIRT-M"})

        rows = {product.name: product for product in listed(admin_client.get(changelist_url(Product)))}
        admin = admin_client.get(changelist_url(Product)).context["cl"].model_admin

        assert admin.sku(rows["Mug"]) == "MUG-1"
        assert admin.sku(rows["Shirt"]) == "2 variants"
        assert (simple.pk, several.pk) == (rows["Mug"].pk, rows["Shirt"].pk)

    def test_the_stock_column_adds_up_the_active_variants_and_links_them(self, admin_client):
        product = ProductFactory(name="Shirt", stock=4)
        more_variants(product, {"stock": 6}, {"stock": 100, "is_active": False})

        response = admin_client.get(changelist_url(Product))

        assert listed(response)[0].units == 10
        page = response.content.decode()
        assert f'href="{changelist_url(Variant)}?product__id__exact={product.pk}"' in page
        variants = admin_client.get(changelist_url(Variant), {"product__id__exact": product.pk})
        assert len(listed(variants)) == 3

    def test_the_price_column_shows_the_currency_and_a_range_over_active_variants(self, admin_client, settings):
        settings.SHOP_CURRENCY = "EUR"
        ProductFactory(name="Teapot", price="1234.50")
        shirt = ProductFactory(name="Shirt", price="12.00")
        more_variants(shirt, {"price": "18.00"}, {"price": "99.00", "is_active": False})

        page = admin_client.get(changelist_url(Product)).content.decode()

        assert "1,234.50 EUR" in page
        assert "12.00\N{EN DASH}18.00 EUR" in page

    def test_the_price_column_sorts_by_the_lowest_price(self, admin_client):
        dear, cheap = ProductFactory(name="Dear", price="30.00"), ProductFactory(name="Cheap", price="20.00")
        more_variants(dear, {"price": "5.00"})

        response = admin_client.get(changelist_url(Product), {"o": "5"})  # the price column

        assert listed(response) == [dear, cheap]

    def test_the_low_stock_filter_lists_products_with_an_active_variant_at_or_below_the_threshold(
        self, admin_client, settings
    ):
        settings.LOW_STOCK_THRESHOLD = 5
        sold_out, low, at_threshold = ProductFactory(stock=0), ProductFactory(stock=3), ProductFactory(stock=5)
        plenty = ProductFactory(stock=6)
        one_low = ProductFactory(stock=50)
        more_variants(one_low, {"stock": 1})
        more_variants(plenty, {"stock": 0, "is_active": False})  # not sold: not low

        low_response = admin_client.get(changelist_url(Product), {"stock_level": "low"})
        sold_out_response = admin_client.get(changelist_url(Product), {"stock_level": "sold_out"})

        assert set(listed(low_response)) == {sold_out, low, at_threshold, one_low}
        assert listed(sold_out_response) == [sold_out]

    def test_the_dashboards_low_stock_link_opens_the_list(self, admin_client, settings):
        settings.LOW_STOCK_THRESHOLD = 5
        low = ProductFactory(stock=2)
        ProductFactory(stock=2, is_active=False)

        response = admin_client.get(changelist_url(Product), {"is_active__exact": "1", "stock_level": "low"})

        assert listed(response) == [low]

    def test_low_stock_lists_fewest_units_first_then_by_name(self, admin_client, settings):
        settings.LOW_STOCK_THRESHOLD = 5
        apple, banana = ProductFactory(name="Apple", stock=3), ProductFactory(name="Banana", stock=3)
        zebra, cherry = ProductFactory(name="Zebra", stock=0), ProductFactory(name="Cherry", stock=5)
        ProductFactory(name="Aardvark", stock=6)

        low = admin_client.get(changelist_url(Product), {"stock_level": "low"})
        sold_out = admin_client.get(changelist_url(Product), {"stock_level": "sold_out"})

        assert listed(low) == [zebra, apple, banana, cherry]
        assert listed(sold_out) == [zebra]
        changelist = low.context["cl"]
        marked = {
            changelist.list_display[index]: order for index, order in changelist.get_ordering_field_columns().items()
        }
        assert marked == {"stock": "asc", "name": "asc"}

    def test_a_column_header_still_sorts_a_low_stock_list(self, admin_client, settings):
        settings.LOW_STOCK_THRESHOLD = 5
        banana, apple = ProductFactory(name="Banana", stock=0), ProductFactory(name="Apple", stock=4)

        response = admin_client.get(changelist_url(Product), {"stock_level": "low", "o": "2"})  # the name column

        assert listed(response) == [apple, banana]

    def test_the_category_filter_includes_sub_categories_at_any_depth(self, admin_client):
        electronics, phones, android, books = three_level_tree()
        tv, phone, pixel = (ProductFactory(category=category) for category in (electronics, phones, android))
        ProductFactory(category=books)

        def filtered(category):
            return set(listed(admin_client.get(changelist_url(Product), {"category": category.pk})))

        assert filtered(electronics) == {tv, phone, pixel}
        assert filtered(phones) == {phone, pixel}
        assert filtered(android) == {pixel}

    def test_the_category_filter_and_the_api_list_the_same_products(self, admin_client, api_client):
        electronics, phones, android, books = three_level_tree()
        for category in (electronics, phones, android, android, books):
            ProductFactory(category=category)

        admin_ids = {
            product.pk for product in listed(admin_client.get(changelist_url(Product), {"category": electronics.pk}))
        }
        api_ids = set(result_ids(api_client.get("/api/v1/products/", {"category": electronics.pk})))

        assert admin_ids == api_ids == set(Product.objects.in_category(electronics).values_list("pk", flat=True))
        assert len(admin_ids) == 4

    def test_the_category_filter_offers_the_tree_in_order(self, admin_client):
        three_level_tree()

        response = admin_client.get(changelist_url(Product))

        changelist = response.context["cl"]
        category_filter = next(spec for spec in changelist.filter_specs if spec.title == "category")
        offered = [choice["display"] for choice in category_filter.choices(changelist)]
        assert offered == ["All", "Books", "Electronics", "— Phones", "— — Android"]

    def test_filtering_by_category_takes_one_more_query(self, admin_client, django_assert_num_queries):
        electronics, phones, android, _books = three_level_tree()
        for category in (electronics, phones, android):
            ProductFactory.create_batch(3, category=category)

        # 1 session, 2 user, 3 categories for the category filter, 4 the tree below the
        # chosen category, 5 count of the filtered rows, 6 the page with its categories, 7 its pictures.
        with django_assert_num_queries(7):
            response = admin_client.get(changelist_url(Product), {"category": electronics.pk})

        assert len(listed(response)) == 9

    def test_search_finds_a_product_once_by_any_of_its_skus(self, admin_client):
        wanted = ProductFactory(sku="PHN-000042")
        more_variants(wanted, {"sku": "PHN-000042-XL"})
        ProductFactory(sku="LAP-000043")

        response = admin_client.get(changelist_url(Product), {"q": "phn-000042"})

        assert listed(response) == [wanted]


class TestProductActions:
    def test_deactivate_hides_the_selected_products_and_invalidates_cached_lists(
        self, admin_client, django_capture_on_commit_callbacks
    ):
        chosen, other = ProductFactory.create_batch(2), ProductFactory()
        cache.set(version_key(PRODUCT_LISTS), "before")

        with django_capture_on_commit_callbacks(execute=True):
            response = run_action(admin_client, Product, "deactivate", chosen)

        assert response.status_code == 302
        assert set(Product.objects.filter(is_active=False)) == set(chosen)
        assert Product.objects.get(pk=other.pk).is_active
        assert messages_of(response) == ["2 products deactivated."]
        assert cache.get(version_key(PRODUCT_LISTS)) not in (None, "before")

    def test_activate_counts_only_products_that_changed_and_invalidates_cached_lists(
        self, admin_client, django_capture_on_commit_callbacks
    ):
        hidden, shown = ProductFactory(is_active=False), ProductFactory(is_active=True)
        cache.set(version_key(PRODUCT_LISTS), "before")

        with django_capture_on_commit_callbacks(execute=True):
            response = run_action(admin_client, Product, "activate", [hidden, shown])

        assert Product.objects.filter(is_active=True).count() == 2
        assert messages_of(response) == ["1 product activated."]
        assert cache.get(version_key(PRODUCT_LISTS)) not in (None, "before")

    def test_export_csv_streams_the_selected_rows_over_their_variants(self, admin_client):
        phones = CategoryFactory(name="Phones")
        phone = ProductFactory(sku="PHN-1", name="Pixel, 128 GB", category=phones, price="499.00", stock=7)
        shirt = ProductFactory(sku="SHIRT-S", name="Shirt", category=phones, price="12.00", stock=2)
        more_variants(shirt, {"sku": "SHIRT-M", "price": "18.00", "stock": 3})
        ProductFactory(sku="PHN-2")

        response = run_action(admin_client, Product, "export_csv", [phone, shirt])

        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv"
        assert response["Content-Disposition"].startswith('attachment; filename="products-')
        assert csv_rows(response) == [
            ["name", "category", "sku", "variants", "price_min", "price_max", "stock", "is_active"],
            ["Pixel, 128 GB", "Phones", "PHN-1", "1", "499.00", "499.00", "7", "True"],
            ["Shirt", "Phones", "", "2", "12.00", "18.00", "5", "True"],
        ]

    def test_export_csv_quotes_cells_a_spreadsheet_would_run(self, admin_client):
        product = ProductFactory(sku="=HYPERLINK(1)", name="@SUM(A1)")

        response = run_action(admin_client, Product, "export_csv", [product])

        row = csv_rows(response)[1]
        assert (row[0], row[2]) == ("'@SUM(A1)", "'=HYPERLINK(1)")

    def test_the_product_list_offers_no_restock_the_variant_list_does(self, admin_client):
        products = admin_client.get(changelist_url(Product))
        variants = admin_client.get(changelist_url(Variant))

        assert "restock" not in dict(products.context["action_form"].fields["action"].choices)
        assert dict(variants.context["action_form"].fields["action"].choices)["restock"] == "Restock selected variants…"


class TestVariantList:
    @pytest.mark.parametrize("count", [3, 30])
    def test_variant_changelist_query_count_does_not_grow_with_rows(
        self, admin_client, django_assert_num_queries, count
    ):
        product = shirt()
        ProductFactory.create_batch(count - 1)

        # 1 session, 2 user, 3 categories for the category filter, 4 count of the filtered rows,
        # 5 the page with each product, 6 the page's option values with their options (one prefetch).
        with django_assert_num_queries(6):
            response = admin_client.get(changelist_url(Variant))

        assert len(listed(response)) == count
        page = response.content.decode()
        assert "Size M, Colour Navy" in page and product.name in page and "20.00 USD" in page

    def test_the_low_stock_filter_lists_active_variants_fewest_first(self, admin_client, settings):
        settings.LOW_STOCK_THRESHOLD = 5
        product = ProductFactory(sku="B", stock=3)
        empty, at_threshold, _plenty, _retired = more_variants(
            product,
            {"sku": "A", "stock": 0},
            {"sku": "C", "stock": 5},
            {"sku": "D", "stock": 6},
            {"sku": "E", "stock": 0, "is_active": False},
        )

        low = admin_client.get(changelist_url(Variant), {"stock_level": "low"})
        sold_out = admin_client.get(changelist_url(Variant), {"stock_level": "sold_out"})

        assert [variant.sku for variant in listed(low)] == ["A", "B", "C"]
        assert listed(sold_out) == [empty]
        assert at_threshold in listed(low)

    def test_the_category_filter_includes_sub_categories(self, admin_client):
        electronics, _phones, android, books = three_level_tree()
        pixel = ProductFactory(category=android).variants.get()
        ProductFactory(category=books)

        response = admin_client.get(changelist_url(Variant), {"category": electronics.pk})

        assert listed(response) == [pixel]

    def test_search_finds_variants_by_sku_or_product_name(self, admin_client):
        teapot = ProductFactory(name="Teapot", sku="TEA-1").variants.get()
        ProductFactory(name="Mug", sku="MUG-1")

        by_name = admin_client.get(changelist_url(Variant), {"q": "teapot"})
        by_sku = admin_client.get(changelist_url(Variant), {"q": "tea-1"})

        assert listed(by_name) == listed(by_sku) == [teapot]


class TestRestockAction:
    def test_restock_first_asks_how_many_units(self, admin_client):
        teapot, mug = ProductFactory(name="Teapot", stock=2), ProductFactory(name="Mug", stock=0)
        variants = [teapot.variants.get(), mug.variants.get()]

        response = run_action(admin_client, Variant, "restock", variants)

        assert response.status_code == 200
        assert response.templates[0].name == "admin/catalog/variant/restock.html"
        assert response.context["variants"] == sorted(variants, key=lambda variant: variant.pk)
        assert "Units to add to each variant" in response.content.decode()
        assert (stock_of(teapot), stock_of(mug)) == (2, 0)

    def test_restock_adds_the_units_to_every_selected_variant(self, admin_client, django_capture_on_commit_callbacks):
        teapot, mug, other = ProductFactory(stock=2), ProductFactory(stock=0), ProductFactory(stock=1)
        cache.set(version_key(PRODUCT_LISTS), "before")

        with django_capture_on_commit_callbacks(execute=True):
            response = run_action(
                admin_client, Variant, "restock", [teapot.variants.get(), mug.variants.get()], apply="yes", units="5"
            )

        assert response.status_code == 302
        assert (stock_of(teapot), stock_of(mug), stock_of(other)) == (7, 5, 1)
        assert messages_of(response) == ["Added 5 units to 2 variants."]
        assert cache.get(version_key(PRODUCT_LISTS)) not in (None, "before")  # the mug is back in stock

    def test_restock_is_all_or_nothing_and_names_each_variant_that_would_pass_the_most_stock(self, admin_client):
        full = ProductFactory(name="Full Teapot", sku="TEA-FULL", stock=Variant.MAX_STOCK - 2).variants.get()
        fuller = ProductFactory(name="Fuller Teapot", sku="TEA-FULLER", stock=Variant.MAX_STOCK).variants.get()
        mug = ProductFactory(name="Mug", stock=0).variants.get()

        response = run_action(admin_client, Variant, "restock", [full, fuller, mug], apply="yes", units="3")

        assert response.status_code == 200  # the page again, saying why
        form = response.context["form"]
        assert form.errors["units"] == [
            "TEA-FULL (Full Teapot) has 2,147,483,645 units, and a variant holds at most 2,147,483,647.",
            "TEA-FULLER (Fuller Teapot) has 2,147,483,647 units, and a variant holds at most 2,147,483,647.",
        ]
        assert form.non_field_errors() == [
            "Nothing was restocked. Add fewer units, or leave out the variants named below."
        ]
        assert (stock_of(full), stock_of(fuller), stock_of(mug)) == (Variant.MAX_STOCK - 2, Variant.MAX_STOCK, 0)

    def test_restock_without_a_positive_number_asks_again(self, admin_client):
        teapot = ProductFactory(stock=2)

        response = run_action(admin_client, Variant, "restock", [teapot.variants.get()], apply="yes", units="0")

        assert response.status_code == 200
        assert response.context["form"].errors["units"] == ["Ensure this value is greater than or equal to 1."]
        assert stock_of(teapot) == 2

    def test_staff_who_may_only_view_variants_are_not_offered_restock(self, client, django_user_model):
        viewer = django_user_model.objects.create_user(username="viewer", password="pass-123-viewer", is_staff=True)
        viewer.user_permissions.set(Permission.objects.filter(codename__in=["view_variant", "view_product"]))
        client.force_login(viewer)
        teapot = ProductFactory(stock=2)

        page = client.get(changelist_url(Variant))
        response = run_action(client, Variant, "restock", [teapot.variants.get()], apply="yes", units="5")

        assert "restock" not in dict(page.context["action_form"].fields["action"].choices)
        assert stock_of(teapot) == 2
        assert messages_of(response) == ["No action selected."]


class TestAdjustStock:
    def test_the_variant_page_shows_stock_read_only_with_an_adjustment_field(self, admin_client):
        variant = ProductFactory(stock=9).variants.get()

        response = admin_client.get(change_url(variant))

        assert response.status_code == 200
        form = response.context["adminform"].form
        assert "stock" not in form.fields
        assert "adjust_stock_by" in form.fields
        assert "stock" in response.context["adminform"].readonly_fields

    def test_view_only_staff_can_open_the_variant_page_without_the_adjustment(self, client, django_user_model):
        viewer = django_user_model.objects.create_user(username="viewer", password="pass-123-viewer", is_staff=True)
        viewer.user_permissions.set(Permission.objects.filter(codename="view_variant"))
        client.force_login(viewer)
        variant = ProductFactory().variants.get()

        response = client.get(change_url(variant))

        assert response.status_code == 200
        assert "Adjust stock by" not in response.content.decode()

    def test_adjust_stock_by_a_negative_number_removes_units(self, admin_client):
        variant = ProductFactory(stock=10).variants.get()

        response = admin_client.post(change_url(variant), variant_page_data(variant, adjust_stock_by="-3"))

        assert response.status_code == 302
        assert stock_of(variant) == 7

    def test_adjust_stock_by_a_positive_number_adds_units(self, admin_client):
        variant = ProductFactory(stock=0).variants.get()

        admin_client.post(change_url(variant), variant_page_data(variant, adjust_stock_by="4"))

        assert stock_of(variant) == 4

    def test_adjustment_below_zero_is_a_form_error_and_saves_nothing(self, admin_client):
        variant = ProductFactory(stock=2, price="10.00").variants.get()

        response = admin_client.post(
            change_url(variant), variant_page_data(variant, price="12.00", adjust_stock_by="-3")
        )

        assert response.status_code == 200
        assert response.context["adminform"].form.errors["adjust_stock_by"] == ["Only 2 in stock; cannot remove 3."]
        variant.refresh_from_db()
        assert (variant.stock, str(variant.price)) == (2, "10.00")

    @pytest.mark.parametrize("delta", ["2147483647", "99999999999999999999", "lots"])
    def test_an_adjustment_past_the_most_or_not_a_number_is_a_form_error(self, admin_client, delta):
        variant = ProductFactory(stock=2).variants.get()

        response = admin_client.post(change_url(variant), variant_page_data(variant, adjust_stock_by=delta))

        assert response.status_code == 200
        assert response.context["adminform"].form.errors["adjust_stock_by"]
        assert stock_of(variant) == 2

    def test_adjustment_refused_by_the_conditional_update_shows_an_error_not_a_500(self, admin_client):
        variant = ProductFactory(stock=5).variants.get()

        def order_comes_in(sender, instance, **kwargs):
            """Take stock after the form's check passed and before the adjustment runs."""
            Variant.objects.reserve({instance.pk: 3})

        post_save.connect(order_comes_in, sender=Variant, dispatch_uid="test-order-comes-in")
        try:
            response = admin_client.post(
                change_url(variant), variant_page_data(variant, sku="RENAMED", adjust_stock_by="-4")
            )
        finally:
            post_save.disconnect(sender=Variant, dispatch_uid="test-order-comes-in")

        assert response.status_code == 302
        assert any(message.startswith("Stock was not adjusted.") for message in messages_of(response))
        variant.refresh_from_db()
        assert (variant.sku, variant.stock) == ("RENAMED", 2)

    def test_saving_the_variant_page_never_writes_back_a_stale_stock(self, admin_client):
        variant = ProductFactory(stock=10, price="5.00").variants.get()
        admin_client.get(change_url(variant))  # staff opens the page while stock is 10
        Variant.objects.reserve({variant.pk: 4})  # an order takes 4 meanwhile

        response = admin_client.post(change_url(variant), variant_page_data(variant, price="6.50", stock="10"))

        assert response.status_code == 302
        variant.refresh_from_db()
        assert (str(variant.price), variant.stock) == ("6.50", 6)
        assert Product.objects.get(pk=variant.product_id).price_min == Decimal("6.50")


class TestAddingVariantsOnTheVariantPage:
    def add(self, admin_client, product, **fields):
        data = {"product": product.pk, "sku": "NEW-1", "price": "9.00", "stock": "3", "is_active": "on"}
        return admin_client.post(reverse("admin:catalog_variant_add"), {**data, "position": "0", **fields})

    def test_a_variant_is_added_with_its_options_by_name(self, admin_client):
        product = shirt()

        response = self.add(admin_client, product, options="Size: L, Colour: White")

        assert response.status_code == 302
        added = Variant.objects.get(sku="NEW-1")
        assert (added.title, added.stock) == ("Size L, Colour White", 3)

    @pytest.mark.parametrize(
        ("options", "error"),
        [
            ("Size: XL, Colour: Navy", "Shirt has no Size: XL."),
            ("Size: L", "Choose a value for Colour."),
            ("Size: M, Colour: Navy", "SHIRT-M-NAVY already has these options."),
        ],
    )
    def test_unknown_missing_or_taken_options_are_form_errors(self, admin_client, options, error):
        product = shirt()

        response = self.add(admin_client, product, options=options)

        assert response.status_code == 200
        assert response.context["adminform"].form.errors["options"] == [error]
        assert not Variant.objects.filter(sku="NEW-1").exists()


class TestDeletingOrderedProducts:
    def test_the_delete_page_says_which_orders_keep_the_product_and_offers_to_deactivate_it(self, admin_client):
        teapot = ordered(ProductFactory(name="Teapot", stock=10), times=2)

        response = admin_client.get(delete_url(teapot))

        assert response.status_code == 200
        page = response.content.decode()
        assert "Teapot cannot be deleted: 2 order lines record it." in page
        assert "Deactivate it instead to take it off sale." in page
        assert "permission" not in page
        assert list(response.context["protected"].on_sale) == [teapot]
        assert 'name="action" value="deactivate"' in page
        assert f'name="_selected_action" value="{teapot.pk}"' in page
        assert 'value="Deactivate Teapot"' in page

    def test_confirming_the_delete_of_an_ordered_product_deletes_nothing(self, admin_client):
        teapot = ordered(ProductFactory(name="Teapot", stock=10))

        response = admin_client.post(delete_url(teapot), {"post": "yes"})

        assert response.status_code == 200
        assert "Teapot cannot be deleted: 1 order line records it." in response.content.decode()
        assert Product.objects.filter(pk=teapot.pk).exists()

    def test_the_deactivate_button_takes_the_product_off_sale(self, admin_client):
        teapot = ordered(ProductFactory(name="Teapot", stock=10))

        # What the refusal page's button posts.
        response = admin_client.post(changelist_url(Product), {"action": "deactivate", "_selected_action": [teapot.pk]})

        assert response.status_code == 302
        assert not Product.objects.get(pk=teapot.pk).is_active
        assert messages_of(response) == ["1 product deactivated."]

    def test_delete_selected_names_each_ordered_product_and_offers_to_deactivate_those(self, admin_client):
        teapot = ordered(ProductFactory(name="Teapot", stock=10), times=3)
        mug = ordered(ProductFactory(name="Mug", stock=10))
        spoon = ProductFactory(name="Spoon")

        response = admin_client.post(
            changelist_url(Product),
            {"action": "delete_selected", "_selected_action": [teapot.pk, mug.pk, spoon.pk], "post": "yes"},
        )

        assert response.status_code == 200
        assert list(response.context["protected"]) == [
            "Mug cannot be deleted: 1 order line records it.",
            "Teapot cannot be deleted: 3 order lines record it.",
        ]
        page = response.content.decode()
        assert "Deactivate them instead to take them off sale." in page
        assert 'value="Deactivate these 2 products"' in page
        assert "permission" not in page
        assert Product.objects.count() == 3

    def test_an_ordered_product_already_off_sale_is_not_offered_deactivation(self, admin_client):
        teapot = ordered(ProductFactory(name="Teapot", stock=10))
        Product.objects.filter(pk=teapot.pk).set_active(False)

        response = admin_client.get(delete_url(teapot))

        page = response.content.decode()
        assert "Teapot cannot be deleted: 1 order line records it." in page
        assert "It is already deactivated" in page
        assert 'value="deactivate"' not in page

    def test_a_product_nobody_ordered_is_deleted_with_its_reviews(self, admin_client):
        spoon = ProductFactory(name="Spoon")
        ReviewFactory(product=spoon)

        confirm = admin_client.get(delete_url(spoon))
        response = admin_client.post(delete_url(spoon), {"post": "yes"})

        assert dict(confirm.context["model_count"]) == {"products": 1, "variants": 1, "reviews": 1}
        assert response.status_code == 302
        assert not Product.objects.filter(pk=spoon.pk).exists()
        assert not Review.objects.exists()

    def test_a_product_whose_other_variant_was_ordered_is_refused_too(self, admin_client):
        shirt_product = ProductFactory(name="Shirt", stock=10)
        ordered(ProductFactory(name="Spare", stock=5))  # another product's order line counts nowhere here
        ordered(shirt_product, variant=more_variants(shirt_product, {"stock": 10})[0])

        response = admin_client.get(delete_url(shirt_product))

        assert "Shirt cannot be deleted: 1 order line records it." in response.content.decode()


class TestProductPage:
    def test_the_add_form_makes_the_product_and_its_first_variant_with_the_initial_stock(self, admin_client):
        category = CategoryFactory()

        response = admin_client.post(
            reverse("admin:catalog_product_add"),
            {"sku": "NEW-1", "name": "Desk Lamp", "slug": "desk-lamp", "category": category.pk, "price": "24.90"}
            | {"stock": "12", "is_active": "on", "_save": "Save"}
            | management_form("images", 0),
        )

        assert response.status_code == 302
        product = Product.objects.get(slug="desk-lamp")
        variant = product.variants.get()
        assert (variant.sku, variant.price, variant.stock) == ("NEW-1", Decimal("24.90"), 12)
        assert (product.price_min, product.price_max) == (Decimal("24.90"), Decimal("24.90"))

    @pytest.mark.parametrize(
        ("field", "value"), [("sku", "TAKEN-1"), ("stock", "-1"), ("stock", "99999999999"), ("price", "-2")]
    )
    def test_the_add_form_refuses_a_taken_sku_and_impossible_numbers(self, admin_client, field, value):
        ProductFactory(sku="TAKEN-1")
        data = {"sku": "NEW-1", "name": "Desk Lamp", "slug": "desk-lamp", "category": CategoryFactory().pk}
        data |= {"price": "24.90", "stock": "1", "_save": "Save", field: value} | management_form("images", 0)

        response = admin_client.post(reverse("admin:catalog_product_add"), data)

        assert response.status_code == 200
        assert field in response.context["adminform"].form.errors
        assert not Product.objects.filter(slug="desk-lamp").exists()

    def test_the_price_fields_name_the_currency(self, admin_client, settings):
        settings.SHOP_CURRENCY = "EUR"

        add = admin_client.get(reverse("admin:catalog_product_add"))
        page = admin_client.get(change_url(ProductFactory()))

        price = add.context["adminform"].form.fields["price"]
        assert (price.label, price.help_text) == ("Price (EUR)", "What one unit sells for, in EUR, e.g. 24.90.")
        variants = next(inline for inline in page.context["inline_admin_formsets"] if inline.opts.model is Variant)
        assert variants.formset.forms[0].fields["price"].label == "Price (EUR)"

    def test_the_page_shows_each_variant_with_its_options_price_and_read_only_stock(self, admin_client):
        product = shirt()
        navy = product.variants.get()

        response = admin_client.get(change_url(product))

        page = response.content.decode()
        assert "Size M, Colour Navy" in page
        assert f'href="{change_url(navy)}"' in page  # restock or adjust on the variant's page
        variants = next(inline for inline in response.context["inline_admin_formsets"] if inline.opts.model is Variant)
        assert "stock" not in variants.formset.forms[0].fields
        assert "stock" in variants.readonly_fields
        assert 'value="Generate variants"' in page or ">Generate variants</button>" in page

    def test_editing_variants_inline_never_writes_stock(self, admin_client):
        product = ProductFactory(sku="MUG-1", stock=10, price="5.00")
        data = product_page_data(product, **{"variants-0-price": "6.50", "variants-0-stock": "99"})
        Variant.objects.reserve({product.variants.get().pk: 4})  # an order takes 4 while staff edit

        response = admin_client.post(change_url(product), data)

        assert response.status_code == 302
        variant = product.variants.get()
        assert (variant.price, variant.stock) == (Decimal("6.50"), 6)
        assert Product.objects.get(pk=product.pk).price_min == Decimal("6.50")

    def test_a_new_variant_takes_the_chosen_options_with_no_stock(self, admin_client):
        product = shirt()
        data = new_variant_row(
            product_page_data(product),
            sku="SHIRT-L-WHITE",
            price="22.00",
            options=combination(product, Size="L", Colour="White"),
        )

        response = admin_client.post(change_url(product), data)

        assert response.status_code == 302
        added = Variant.objects.get(sku="SHIRT-L-WHITE")
        assert (added.title, added.stock) == ("Size L, Colour White", 0)
        assert Product.objects.get(pk=product.pk).price_max == Decimal("22.00")

    def test_a_duplicate_combination_is_a_form_error(self, admin_client):
        product = shirt()
        taken = combination(product, Size="M", Colour="Navy")
        free = combination(product, Size="S", Colour="Navy")
        twice = new_variant_row(
            new_variant_row(product_page_data(product), sku="A-1", price="1.00", options=free),
            sku="A-2",
            price="1.00",
            options=free,
        )

        existing = admin_client.post(
            change_url(product), new_variant_row(product_page_data(product), sku="A-1", price="1.00", options=taken)
        )
        in_one_save = admin_client.post(change_url(product), twice)

        for response in (existing, in_one_save):
            assert response.status_code == 200
            variants = next(i for i in response.context["inline_admin_formsets"] if i.opts.model is Variant)
            assert "already has these options." in str(variants.formset.errors)
        assert product.variants.count() == 1

    def test_a_product_without_options_cannot_take_a_second_variant(self, admin_client):
        product = ProductFactory(name="Mug", sku="MUG-1")

        response = admin_client.post(
            change_url(product), new_variant_row(product_page_data(product), sku="MUG-2", price="1.00")
        )

        assert response.status_code == 200
        variants = next(i for i in response.context["inline_admin_formsets"] if i.opts.model is Variant)
        assert "Mug has no options, so it is sold in one variant (MUG-1)." in str(variants.formset.errors)
        assert product.variants.count() == 1

    def test_an_ordered_variant_cannot_be_deleted_inline(self, admin_client):
        product = ordered(ProductFactory(stock=10))

        response = admin_client.post(change_url(product), product_page_data(product, **{"variants-0-DELETE": "on"}))

        assert response.status_code == 200
        assert product.variants.count() == 1

    def test_option_values_are_edited_as_text(self, admin_client):
        product = shirt()
        data = product_page_data(product, **{"options-0-values": "XS, S, M, L, XL"})

        response = admin_client.post(change_url(product), data)

        assert response.status_code == 302
        size = product.options.get(name="Size")
        assert list(size.values.values_list("value", flat=True)) == ["XS", "S", "M", "L", "XL"]

    @pytest.mark.parametrize(
        ("values", "error"),
        [
            ("S, L", "Variants have M: change or delete them first."),
            ("S, S, M", "Each value may appear once."),
            (" , ", "An option needs at least one value."),
        ],
    )
    def test_option_values_a_variant_has_or_that_repeat_are_form_errors(self, admin_client, values, error):
        product = shirt()

        response = admin_client.post(change_url(product), product_page_data(product, **{"options-0-values": values}))

        assert response.status_code == 200
        options = next(i for i in response.context["inline_admin_formsets"] if i.opts.verbose_name == "option")
        assert error in str(options.formset.errors)
        assert list(product.options.get(name="Size").values.values_list("value", flat=True)) == ["S", "M", "L"]

    def test_a_new_option_gives_the_existing_variants_its_first_value(self, admin_client):
        product = ProductFactory(sku="MUG-1")
        data = product_page_data(product) | {
            "options-TOTAL_FORMS": "1",
            "options-0-name": "Colour",
            "options-0-values": "Blue, Red",
            "options-0-position": "",
        }

        response = admin_client.post(change_url(product), data)

        assert response.status_code == 302
        assert product.variants.get().title == "Colour Blue"

    def test_extras_are_added_inline(self, admin_client):
        product = ProductFactory()
        data = product_page_data(product) | {
            "extras-TOTAL_FORMS": "1",
            "extras-0-name": "Gift wrap",
            "extras-0-price": "2.50",
            "extras-0-max_per_line": "1",
            "extras-0-is_active": "on",
            "extras-0-position": "0",
        }

        response = admin_client.post(change_url(product), data)

        assert response.status_code == 302
        extra = product.extras.get()
        assert (extra.name, extra.price, extra.max_per_line) == ("Gift wrap", Decimal("2.50"), 1)

    def test_a_picture_may_show_only_one_of_the_products_own_variants(self, admin_client):
        product = shirt()
        other = ProductFactory()
        ExtraFactory(product=product)

        response = admin_client.get(change_url(product))

        images = next(i for i in response.context["inline_admin_formsets"] if i.opts.model.__name__ == "ProductImage")
        offered = images.formset.form.base_fields["variant"].queryset
        assert list(offered) == list(product.variants.all())
        assert other.variants.get() not in offered


class TestGenerateVariants:
    def url(self, product: Product) -> str:
        return reverse("admin:catalog_product_generate_variants", args=[product.pk])

    def test_generate_variants_adds_exactly_the_missing_combinations(self, admin_client):
        product = shirt()

        response = admin_client.post(self.url(product))

        assert response.status_code == 302
        assert response["Location"] == change_url(product)
        titles = sorted(variant.title for variant in product.variants.all())
        assert len(titles) == len(set(titles)) == 6
        assert Variant.objects.get(sku="SHIRT-M-NAVY").stock == 4  # the variant it had is untouched
        (message,) = messages_of(response)
        assert message.startswith("Added 5 variants, with no stock yet: SHIRT-M-NAVY-S-NAVY")

    def test_generating_again_adds_nothing_and_says_so(self, admin_client):
        product = shirt()
        admin_client.post(self.url(product))

        response = admin_client.post(self.url(product))

        assert product.variants.count() == 6
        assert messages_of(response)[-1] == "Every combination of options already has a variant."

    def test_a_taken_sku_is_a_message_not_a_500(self, admin_client):
        product = shirt()
        ProductFactory(sku="SHIRT-M-NAVY-S-NAVY")

        response = admin_client.post(self.url(product))

        assert response.status_code == 302
        assert messages_of(response)[0].startswith("No variants were added")
        assert product.variants.count() == 1

    def test_only_staff_who_may_change_products_generate_variants(self, client, django_user_model):
        viewer = django_user_model.objects.create_user(username="viewer", password="pass-123-viewer", is_staff=True)
        viewer.user_permissions.set(Permission.objects.filter(codename="view_product"))
        client.force_login(viewer)
        product = shirt()

        page = client.get(change_url(product))
        response = client.post(self.url(product))

        assert "Generate variants" not in page.content.decode()
        assert response.status_code == 403
        assert product.variants.count() == 1

    def test_generate_variants_answers_only_a_post(self, admin_client):
        assert admin_client.get(self.url(shirt())).status_code == 405


class TestCategoryAdmin:
    @pytest.mark.parametrize("count", [5, 50])
    def test_category_changelist_query_count_does_not_grow_with_rows(
        self, admin_client, django_assert_num_queries, count
    ):
        electronics, phones, android, books = three_level_tree()
        ProductFactory.create_batch(2, category=android)
        ProductFactory(category=phones)
        ProductFactory(category=books)
        for leaf in CategoryFactory.create_batch(count - 4, parent=electronics):
            ProductFactory.create_batch(2, category=leaf)

        # 1 session, 2 user, 3 categories that are parents (parent filter),
        # 4 count of the filtered rows, 5 count of all rows ("N total"),
        # 6 the page with each parent, 7 every category's own product count with its parent.
        with django_assert_num_queries(7):
            response = admin_client.get(changelist_url(Category))

        assert response.status_code == 200
        counts = {category.name: category.product_count for category in listed(response)}
        assert len(counts) == count
        assert (counts.pop("Android"), counts.pop("Phones"), counts.pop("Books")) == (2, 3, 1)
        assert counts.pop("Electronics") == 3 + 2 * (count - 4)
        assert set(counts.values()) == {2}

    def test_product_counts_include_sub_categories_at_any_depth(self, django_assert_num_queries):
        electronics, phones, android, books = three_level_tree()
        ProductFactory.create_batch(2, category=android)
        ProductFactory(category=phones, is_active=False)
        ProductFactory(category=electronics)

        with django_assert_num_queries(1):
            counts = Category.objects.product_counts()

        assert counts == {electronics.pk: 4, phones.pk: 3, android.pk: 2, books.pk: 0}

    def test_search_finds_a_category_by_slug(self, admin_client):
        wanted = CategoryFactory(name="Running Shoes", slug="running-shoes")
        CategoryFactory(name="Laptops", slug="laptops")

        response = admin_client.get(changelist_url(Category), {"q": "running"})

        assert listed(response) == [wanted]

    def test_deactivate_hides_categories_and_invalidates_the_cached_catalog(
        self, admin_client, django_capture_on_commit_callbacks
    ):
        chosen, other = CategoryFactory(), CategoryFactory()
        cache.set(version_key(CATEGORIES), "before")

        with django_capture_on_commit_callbacks(execute=True):
            response = run_action(admin_client, Category, "deactivate", [chosen])

        assert response.status_code == 302
        assert list(Category.objects.filter(is_active=False)) == [chosen]
        assert Category.objects.get(pk=other.pk).is_active
        assert messages_of(response) == ["1 category deactivated."]
        assert cache.get(version_key(CATEGORIES)) not in (None, "before")

    def test_activate_shows_hidden_categories(self, admin_client):
        hidden = CategoryFactory.create_batch(2, is_active=False)

        response = run_action(admin_client, Category, "activate", hidden)

        assert Category.objects.filter(is_active=True).count() == 2
        assert messages_of(response) == ["2 categories activated."]

    def test_deleting_a_category_with_products_is_refused(self, admin_client):
        category = ProductFactory().category

        response = admin_client.post(reverse("admin:catalog_category_delete", args=[category.pk]), {"post": "yes"})

        assert response.status_code == 200
        assert "protected" in response.content.decode()
        assert Category.objects.filter(pk=category.pk).exists()


class TestReviewAdmin:
    @pytest.mark.parametrize("count", [3, 30])
    def test_review_changelist_query_count_does_not_grow_with_rows(
        self, admin_client, django_assert_num_queries, count
    ):
        ReviewFactory.create_batch(count)  # each by a customer of its own on a product of its own

        # 1 session, 2 user, 3 count of the filtered rows (no second, unfiltered count),
        # 4 the page with each product and customer. The rating and product filters query nothing.
        with django_assert_num_queries(4):
            response = admin_client.get(changelist_url(Review))

        assert response.status_code == 200
        assert len(listed(response)) == count

    def test_a_review_reads_as_stars_product_and_customer(self, admin_client):
        review = ReviewFactory(
            rating=4,
            product=ProductFactory(name="Teapot"),
            customer=CustomerFactory(first_name="Ada", last_name="Lovelace"),
        )

        response = admin_client.get(reverse("admin:catalog_review_change", args=[review.pk]))

        assert str(review) == "★★★★☆ Teapot — Ada Lovelace"
        assert "★★★★☆ Teapot — Ada Lovelace" in response.content.decode()

    def test_the_changelist_shows_ratings_as_stars(self, admin_client):
        ReviewFactory(rating=2)

        response = admin_client.get(changelist_url(Review))

        assert "★★☆☆☆" in response.content.decode()

    def test_rating_filter_lists_only_reviews_with_that_rating(self, admin_client):
        five_stars = ReviewFactory(rating=5)
        ReviewFactory(rating=4)
        ReviewFactory(rating=1)

        response = admin_client.get(changelist_url(Review), {"rating": "5"})

        assert listed(response) == [five_stars]

    def test_an_unknown_rating_in_the_url_filters_nothing(self, admin_client):
        ReviewFactory.create_batch(2)

        response = admin_client.get(changelist_url(Review), {"rating": "many"})

        assert response.status_code == 200
        assert len(listed(response)) == 2

    def test_search_finds_reviews_by_the_sku_of_any_variant(self, admin_client):
        phone = ProductFactory(sku="PHN-000041")
        more_variants(phone, {"sku": "PHN-000042"})
        wanted = ReviewFactory(product=phone)
        ReviewFactory(product=ProductFactory(sku="LAP-000043"))

        response = admin_client.get(changelist_url(Review), {"q": "phn-000042"})

        assert listed(response) == [wanted]

    def test_search_finds_reviews_by_customer_email(self, admin_client):
        wanted = ReviewFactory(customer=CustomerFactory(email="ada@example.com"))
        ReviewFactory(customer=CustomerFactory(email="grace@example.com"))

        response = admin_client.get(changelist_url(Review), {"q": "ada@"})

        assert listed(response) == [wanted]

    def test_product_filter_from_a_link_lists_that_products_reviews_and_names_it(self, admin_client):
        product = ProductFactory(name="Desk Lamp", sku="HOM-0000001")
        wanted = ReviewFactory.create_batch(2, product=product)
        ReviewFactory()

        response = admin_client.get(changelist_url(Review), {"product": product.pk})

        assert set(listed(response)) == set(wanted)
        changelist = response.context["cl"]
        product_filter = next(spec for spec in changelist.filter_specs if spec.title == "product")
        offered = [choice["display"] for choice in product_filter.choices(changelist)]
        assert offered == ["All", "Desk Lamp"]

    def test_the_sidebar_lists_no_products_until_one_is_chosen(self, admin_client):
        ReviewFactory.create_batch(3)

        response = admin_client.get(changelist_url(Review))

        assert [spec.title for spec in response.context["cl"].filter_specs] == ["rating", "verified purchase"]

    def test_change_form_shows_verified_purchase_read_only(self, admin_client):
        review = ReviewFactory()

        response = admin_client.get(reverse("admin:catalog_review_change", args=[review.pk]))

        assert response.status_code == 200
        assert "verified_purchase" not in response.context["adminform"].form.fields
        assert "verified_purchase" in response.context["adminform"].readonly_fields

    def test_product_autocomplete_searches_products_by_sku(self, admin_client):
        wanted = ProductFactory(sku="PHN-000042")
        ProductFactory(sku="LAP-000043")

        response = admin_client.get(
            reverse("admin:autocomplete"),
            {"app_label": "catalog", "model_name": "review", "field_name": "product", "term": "PHN"},
        )

        assert [result["id"] for result in response.json()["results"]] == [str(wanted.pk)]

    def test_deleting_a_review_refreshes_the_product_rating(self, admin_client):
        product = ProductFactory()
        ReviewFactory(product=product, rating=5)
        removed = ReviewFactory(product=product, rating=1)

        response = admin_client.post(reverse("admin:catalog_review_delete", args=[removed.pk]), {"post": "yes"})

        assert response.status_code == 302
        assert Product.objects.values_list("rating_average", "rating_count").get(pk=product.pk) == (5, 1)


def test_admin_site_names_the_shop(admin_client):
    response = admin_client.get(reverse("admin:index"))

    assert "Shopkeep administration" in response.content.decode()


class TestProductPictures:
    def test_the_list_and_the_page_show_thumbnails(self, admin_client):
        picture = ProductImageFactory(alt_text="A teapot, side view")
        bare = ProductFactory()

        listed_page = admin_client.get(changelist_url(Product)).content.decode()
        product_page = admin_client.get(change_url(picture.product)).content.decode()

        small = picture.thumbnail_urls()["small"]
        assert f'src="{small}" alt="A teapot, side view"' in listed_page
        assert f'src="{small}"' in product_page
        assert bare.name in listed_page

    def test_a_picture_uploaded_in_the_admin_is_checked(self, admin_client):
        product = ProductFactory()
        data = product_page_data(product) | {
            "images-TOTAL_FORMS": "1",
            "images-0-alt_text": "Not a picture",
            "images-0-position": "0",
        }

        response = admin_client.post(
            change_url(product), data | {"images-0-image": SimpleUploadedFile("fake.png", b"not an image")}
        )

        assert response.status_code == 200  # the form again, with the error
        images = next(i for i in response.context["inline_admin_formsets"] if i.opts.model.__name__ == "ProductImage")
        assert "image" in str(images.formset.errors)
        assert not product.images.exists()
