import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models.signals import post_save
from django.urls import reverse

from catalog.cache import CATEGORIES, PRODUCT_LISTS
from catalog.factories import CategoryFactory, ProductFactory, ProductImageFactory, ReviewFactory
from catalog.models import Category, Product, Review
from common.caching import version_key
from customers.factories import CustomerFactory
from orders.factories import OrderFactory
from tests.utils import change_url, changelist_url, listed, messages_of, result_ids, stock_of

pytestmark = pytest.mark.django_db


def change_form_data(product: Product, **overrides) -> dict:
    """Return what the change form posts for this product as it is in memory."""
    data = {
        "sku": product.sku,
        "name": product.name,
        "slug": product.slug,
        "category": product.category_id,
        "description": product.description,
        "price": product.price,
        "is_active": "on" if product.is_active else "",
        "adjust_stock_by": "",
        "_save": "Save",
        # The pictures inline's management form, with no picture added.
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
    }
    return {**data, **overrides}


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


def ordered(product: Product, times: int = 1) -> Product:
    """Put the product on `times` orders (one line each)."""
    for _ in range(times):
        OrderFactory(lines=[(product, 1)])
    return product


class TestProductChangelist:
    @pytest.mark.parametrize("count", [5, 50])
    def test_product_changelist_query_count_does_not_grow_with_rows(
        self, admin_client, django_assert_num_queries, count
    ):
        ProductFactory.create_batch(count)  # each product in a category of its own

        # 1 session, 2 user, 3 categories for the category filter,
        # 4 count of the filtered rows (no second, unfiltered count), 5 the page with its categories,
        # 6 the page's pictures (one prefetch).
        with django_assert_num_queries(6):
            response = admin_client.get(changelist_url(Product))

        assert response.status_code == 200
        assert len(listed(response)) == count

    def test_low_stock_filter_lists_only_products_at_or_below_the_threshold(self, admin_client, settings):
        settings.LOW_STOCK_THRESHOLD = 5
        sold_out, low, at_threshold = ProductFactory(stock=0), ProductFactory(stock=3), ProductFactory(stock=5)
        ProductFactory(stock=6)

        low_response = admin_client.get(changelist_url(Product), {"stock_level": "low"})
        sold_out_response = admin_client.get(changelist_url(Product), {"stock_level": "sold_out"})

        assert set(listed(low_response)) == {sold_out, low, at_threshold}
        assert listed(sold_out_response) == [sold_out]

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

        response = admin_client.get(changelist_url(Product), {"stock_level": "low", "o": "3"})  # the name column

        assert listed(response) == [apple, banana]

    def test_the_price_column_shows_the_currency(self, admin_client, settings):
        settings.SHOP_CURRENCY = "EUR"
        ProductFactory(price="1234.50")

        response = admin_client.get(changelist_url(Product))

        assert "1,234.50 EUR" in response.content.decode()

    def test_the_price_field_names_the_currency(self, admin_client, settings):
        settings.SHOP_CURRENCY = "EUR"

        add = admin_client.get(reverse("admin:catalog_product_add"))
        change = admin_client.get(change_url(ProductFactory()))

        for response in (add, change):
            price = response.context["adminform"].form.fields["price"]
            assert (price.label, price.help_text) == ("Price (EUR)", "What one unit sells for, in EUR, e.g. 24.90.")

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

    def test_search_finds_a_product_by_sku(self, admin_client):
        wanted = ProductFactory(sku="PHN-000042")
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

    def test_export_csv_streams_the_selected_rows(self, admin_client):
        phones = CategoryFactory(name="Phones")
        phone = ProductFactory(sku="PHN-1", name="Pixel, 128 GB", category=phones, price="499.00", stock=7)
        ProductFactory(sku="PHN-2")

        response = run_action(admin_client, Product, "export_csv", [phone])

        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv"
        assert response["Content-Disposition"].startswith('attachment; filename="products-')
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert rows == [
            ["sku", "name", "category", "price", "stock", "is_active"],
            ["PHN-1", "Pixel, 128 GB", "Phones", "499.00", "7", "True"],
        ]

    def test_export_csv_quotes_cells_a_spreadsheet_would_run(self, admin_client):
        product = ProductFactory(sku="=HYPERLINK(1)", name="@SUM(A1)")

        response = run_action(admin_client, Product, "export_csv", [product])

        row = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))[1]
        assert row[:2] == ["'=HYPERLINK(1)", "'@SUM(A1)"]


class TestRestockAction:
    def test_restock_first_asks_how_many_units(self, admin_client):
        teapot, mug = ProductFactory(name="Teapot", stock=2), ProductFactory(name="Mug", stock=0)

        response = run_action(admin_client, Product, "restock", [teapot, mug])

        assert response.status_code == 200
        assert response.templates[0].name == "admin/catalog/product/restock.html"
        assert response.context["products"] == [teapot, mug]
        assert "Units to add to each product" in response.content.decode()
        assert (stock_of(teapot), stock_of(mug)) == (2, 0)

    def test_restock_adds_the_units_to_every_selected_product(self, admin_client, django_capture_on_commit_callbacks):
        teapot, mug, other = ProductFactory(stock=2), ProductFactory(stock=0), ProductFactory(stock=1)
        cache.set(version_key(PRODUCT_LISTS), "before")

        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(
                changelist_url(Product),
                {"action": "restock", "_selected_action": [teapot.pk, mug.pk], "apply": "yes", "units": "5"},
            )

        assert response.status_code == 302
        assert (stock_of(teapot), stock_of(mug), stock_of(other)) == (7, 5, 1)
        assert messages_of(response) == ["Added 5 units to 2 products."]
        assert cache.get(version_key(PRODUCT_LISTS)) not in (None, "before")  # the mug is back in stock

    def test_restock_refuses_a_product_that_would_pass_the_most_stock_and_restocks_the_others(self, admin_client):
        full = ProductFactory(name="Full Teapot", stock=Product.MAX_STOCK - 2)
        mug = ProductFactory(name="Mug", stock=0)

        response = admin_client.post(
            changelist_url(Product),
            {"action": "restock", "_selected_action": [full.pk, mug.pk], "apply": "yes", "units": "3"},
        )

        assert response.status_code == 302
        assert (stock_of(full), stock_of(mug)) == (Product.MAX_STOCK - 2, 3)
        assert messages_of(response) == [
            "Full Teapot was not restocked: it has 2,147,483,645 units, and a product holds at most 2,147,483,647.",
            "Added 3 units to 1 product.",
        ]

    def test_restock_without_a_positive_number_asks_again(self, admin_client):
        teapot = ProductFactory(stock=2)

        response = run_action(admin_client, Product, "restock", [teapot], apply="yes", units="0")

        response = admin_client.post(
            changelist_url(Product),
            {"action": "restock", "_selected_action": [teapot.pk], "apply": "yes", "units": "0"},
        )

        assert response.status_code == 200
        assert response.context["form"].errors["units"] == ["Ensure this value is greater than or equal to 1."]
        assert stock_of(teapot) == 2

    def test_staff_who_may_only_view_products_are_not_offered_restock(self, client, django_user_model):
        viewer = django_user_model.objects.create_user(username="viewer", password="pass-123-viewer", is_staff=True)
        viewer.user_permissions.set(Permission.objects.filter(codename="view_product"))
        client.force_login(viewer)
        teapot = ProductFactory(stock=2)

        page = client.get(changelist_url(Product))
        response = client.post(
            changelist_url(Product),
            {"action": "restock", "_selected_action": [teapot.pk], "apply": "yes", "units": "5"},
        )

        assert "restock" not in dict(page.context["action_form"].fields["action"].choices)
        assert stock_of(teapot) == 2
        assert messages_of(response) == ["No action selected."]


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

        assert dict(confirm.context["model_count"]) == {"products": 1, "reviews": 1}
        assert response.status_code == 302
        assert not Product.objects.filter(pk=spoon.pk).exists()
        assert not Review.objects.exists()


class TestProductForms:
    def test_add_form_takes_the_initial_stock(self, admin_client):
        category = CategoryFactory()

        response = admin_client.post(
            reverse("admin:catalog_product_add"),
            {"sku": "NEW-1", "name": "Desk Lamp", "slug": "desk-lamp", "category": category.pk, "price": "24.90"}
            | {"stock": "12", "is_active": "on", "_save": "Save"}
            | {"images-TOTAL_FORMS": "0", "images-INITIAL_FORMS": "0"},
        )

        assert response.status_code == 302
        assert Product.objects.get(sku="NEW-1").stock == 12

    def test_change_form_shows_stock_read_only_with_an_adjustment_field(self, admin_client):
        product = ProductFactory(stock=9)

        response = admin_client.get(change_url(product))

        assert response.status_code == 200
        form = response.context["adminform"].form
        assert "stock" not in form.fields
        assert "adjust_stock_by" in form.fields
        assert "stock" in response.context["adminform"].readonly_fields

    def test_view_only_staff_can_open_the_change_form(self, client, django_user_model):
        viewer = django_user_model.objects.create_user(username="viewer", password="pass-123-viewer", is_staff=True)
        viewer.user_permissions.set(Permission.objects.filter(codename="view_product"))
        client.force_login(viewer)
        product = ProductFactory()

        response = client.get(change_url(product))

        assert response.status_code == 200
        assert "Adjust stock by" not in response.content.decode()

    def test_adjust_stock_by_a_negative_number_removes_units(self, admin_client):
        product = ProductFactory(stock=10)

        response = admin_client.post(change_url(product), change_form_data(product, adjust_stock_by="-3"))

        assert response.status_code == 302
        assert stock_of(product) == 7

    def test_adjust_stock_by_a_positive_number_adds_units(self, admin_client):
        product = ProductFactory(stock=0)

        admin_client.post(change_url(product), change_form_data(product, adjust_stock_by="4"))

        assert stock_of(product) == 4

    def test_adjustment_below_zero_is_a_form_error_and_keeps_stock(self, admin_client):
        product = ProductFactory(stock=2, price="10.00")

        response = admin_client.post(
            change_url(product), change_form_data(product, price="12.00", adjust_stock_by="-3")
        )

        assert response.status_code == 200
        assert response.context["adminform"].form.errors["adjust_stock_by"] == ["Only 2 in stock; cannot remove 3."]
        product.refresh_from_db()
        assert (product.stock, str(product.price)) == (2, "10.00")

    def test_adjustment_refused_by_the_conditional_update_shows_an_error_not_a_500(self, admin_client):
        product = ProductFactory(stock=5)

        def order_comes_in(sender, instance, **kwargs):
            """Take stock after the form's check passed and before the adjustment runs."""
            Product.objects.reserve({instance.pk: 3})

        post_save.connect(order_comes_in, sender=Product, dispatch_uid="test-order-comes-in")
        try:
            response = admin_client.post(
                change_url(product), change_form_data(product, name="Renamed", adjust_stock_by="-4")
            )
        finally:
            post_save.disconnect(sender=Product, dispatch_uid="test-order-comes-in")

        assert response.status_code == 302
        assert any(message.startswith("Stock was not adjusted.") for message in messages_of(response))
        product.refresh_from_db()
        assert (product.name, product.stock) == ("Renamed", 2)

    def test_saving_the_change_form_never_writes_back_a_stale_stock(self, admin_client):
        product = ProductFactory(stock=10, price="5.00")
        admin_client.get(change_url(product))  # staff opens the form while stock is 10
        Product.objects.reserve({product.pk: 4})  # an order takes 4 meanwhile

        response = admin_client.post(change_url(product), change_form_data(product, price="6.50", stock="10"))

        assert response.status_code == 302
        product.refresh_from_db()
        assert (str(product.price), product.stock) == ("6.50", 6)


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

    def test_search_finds_reviews_by_product_sku(self, admin_client):
        wanted = ReviewFactory(product=ProductFactory(sku="PHN-000042"))
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
        assert offered == ["All", "Desk Lamp (HOM-0000001)"]

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
        data = change_form_data(product) | {
            "images-TOTAL_FORMS": "1",
            "images-0-alt_text": "Not a picture",
            "images-0-position": "0",
        }

        response = admin_client.post(
            change_url(product), data | {"images-0-image": SimpleUploadedFile("fake.png", b"not an image")}
        )

        assert response.status_code == 200  # the form again, with the error
        assert "image" in str(response.context["inline_admin_formsets"][0].formset.errors)
        assert not product.images.exists()
