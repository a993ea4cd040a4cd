"""Variants, options and extras through the API: what a storefront reads and what staff write."""

from decimal import Decimal

import pytest

from catalog.factories import ExtraFactory, ProductFactory
from catalog.models import Product, ProductOption, Variant
from orders.factories import OrderFactory
from tests.utils import assert_error, assert_validation_error, stock_of

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"
VARIANTS = "/api/v1/variants/"


def product_url(product: Product, part: str = "") -> str:
    return f"{PRODUCTS}{product.pk}/{part + '/' if part else ''}"


@pytest.fixture
def shirt() -> Product:
    """A shirt in sizes S and M and colours Navy and Red: four variants, 20.00 to 26.00."""
    shirt = ProductFactory(name="Shirt", variants=0)
    shirt.add_option("Size", ["S", "M"])
    shirt.add_option("Colour", ["Navy", "Red"])
    for index, (size, colour) in enumerate([("S", "Navy"), ("S", "Red"), ("M", "Navy"), ("M", "Red")]):
        shirt.add_variant(
            sku=f"SHIRT-{size}-{colour.upper()}",
            price=Decimal("20.00") + 2 * index,
            stock=index,
            options={"Size": size, "Colour": colour},
            position=index,
        )
    return shirt


class TestReading:
    def test_the_detail_shows_options_variants_and_extras(self, api_client, shirt):
        ExtraFactory(product=shirt, name="Gift wrap", price=Decimal("2.50"), max_per_line=1)
        ExtraFactory(product=shirt, name="Hidden", is_active=False)

        body = api_client.get(product_url(shirt)).json()

        assert body["options"] == [
            {"id": body["options"][0]["id"], "name": "Size", "values": ["S", "M"], "position": 1},
            {"id": body["options"][1]["id"], "name": "Colour", "values": ["Navy", "Red"], "position": 2},
        ]
        assert [(v["sku"], v["price"], v["stock"], v["in_stock"], v["options"]) for v in body["variants"]] == [
            ("SHIRT-S-NAVY", "20.00", 0, False, {"Size": "S", "Colour": "Navy"}),
            ("SHIRT-S-RED", "22.00", 1, True, {"Size": "S", "Colour": "Red"}),
            ("SHIRT-M-NAVY", "24.00", 2, True, {"Size": "M", "Colour": "Navy"}),
            ("SHIRT-M-RED", "26.00", 3, True, {"Size": "M", "Colour": "Red"}),
        ]
        assert [(e["name"], e["price"], e["max_per_line"]) for e in body["extras"]] == [("Gift wrap", "2.50", 1)]
        assert (body["price_min"], body["price_max"], body["in_stock"]) == ("20.00", "26.00", True)
        assert (body["sku"], body["price"], body["stock"]) == (None, None, None)  # several variants

    def test_a_list_item_carries_the_price_range_and_in_stock_over_active_variants(self, api_client, shirt):
        Variant.objects.filter(sku="SHIRT-M-RED").update(is_active=False)
        teapot = ProductFactory(name="Teapot", sku="TEA", price=Decimal("19.99"), stock=0)

        rows = {row["id"]: row for row in api_client.get(PRODUCTS).json()["results"]}

        assert (rows[shirt.pk]["price_min"], rows[shirt.pk]["price_max"], rows[shirt.pk]["in_stock"]) == (
            "20.00",
            "24.00",
            True,
        )
        assert (rows[teapot.pk]["sku"], rows[teapot.pk]["price"], rows[teapot.pk]["stock"]) == ("TEA", "19.99", 0)
        assert rows[teapot.pk]["in_stock"] is False

    def test_the_public_sees_neither_inactive_variants_nor_their_pages(self, api_client, staff_client, shirt):
        hidden = Variant.objects.get(sku="SHIRT-M-RED")
        hidden.is_active = False
        hidden.save()

        public = [variant["sku"] for variant in api_client.get(product_url(shirt, "variants")).json()["results"]]
        staff = [variant["sku"] for variant in staff_client.get(product_url(shirt, "variants")).json()["results"]]

        assert "SHIRT-M-RED" not in public and "SHIRT-M-RED" in staff
        assert_error(api_client.get(f"{VARIANTS}{hidden.pk}/"), 404, "not_found")

    def test_price_and_stock_filters_read_the_variants(self, api_client, shirt):
        cheap = ProductFactory(price=Decimal("5.00"), stock=0)

        def ids(**query):
            return {row["id"] for row in api_client.get(PRODUCTS, query).json()["results"]}

        assert ids(min_price="25.00") == {shirt.pk}  # its dearest variant
        assert ids(max_price="20.00") == {shirt.pk, cheap.pk}  # its cheapest variant
        assert ids(in_stock="true") == {shirt.pk}
        assert ids(in_stock="false") == {cheap.pk}
        assert [row["id"] for row in api_client.get(PRODUCTS, {"ordering": "price"}).json()["results"]] == [
            cheap.pk,
            shirt.pk,
        ]


class TestStaffWrites:
    def test_a_product_created_with_sku_price_and_stock_is_sold_in_one_variant(self, staff_client):
        body = {"name": "Mug", "slug": "mug", "category": ProductFactory().category_id, "sku": "MUG-1"}

        response = staff_client.post(PRODUCTS, {**body, "price": "8.00", "stock": 4}, format="json")

        assert response.status_code == 201, response.content
        product = Product.objects.get(pk=response.json()["id"])
        assert list(product.variants.values_list("sku", "price", "stock")) == [("MUG-1", Decimal("8.00"), 4)]
        assert (product.price_min, product.price_max) == (Decimal("8.00"), Decimal("8.00"))

    def test_an_option_added_to_a_simple_product_gives_its_variant_the_first_value(self, staff_client):
        teapot = ProductFactory(sku="TEA")

        response = staff_client.post(
            product_url(teapot, "options"), {"name": "Colour", "values": ["White", "Black"]}, format="json"
        )

        assert response.status_code == 201, response.content
        assert response.json()["values"] == ["White", "Black"]
        assert staff_client.get(response["Location"]).json()["name"] == "Colour"
        assert teapot.variants.get().option_labels() == [{"option": "Colour", "value": "White"}]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"name": "Fit", "values": []}, "values"),
            ({"name": "Fit", "values": ["Slim", "Slim"]}, "values"),
            ({"name": "Size", "values": ["XL"]}, "name"),
        ],
    )
    def test_an_option_needs_a_new_name_and_distinct_values(self, staff_client, shirt, body, field):
        assert_validation_error(staff_client.post(product_url(shirt, "options"), body, format="json"), field)
        assert shirt.options.count() == 2

    def test_option_values_can_grow_but_keep_those_variants_have(self, staff_client, shirt):
        size = shirt.options.get(name="Size")
        url = f"{product_url(shirt, 'options')}{size.pk}/"

        grown = staff_client.patch(url, {"values": ["XS", "S", "M", "L"]}, format="json")
        shrunk = staff_client.patch(url, {"values": ["S", "L"]}, format="json")

        assert grown.json()["values"] == ["XS", "S", "M", "L"]
        assert "M" in assert_validation_error(shrunk, "values")["detail"]
        assert [value.value for value in size.values.all()] == ["XS", "S", "M", "L"]

    def test_an_option_the_variants_differ_by_cannot_be_deleted(self, staff_client, shirt):
        size = shirt.options.get(name="Size")

        assert_error(staff_client.delete(f"{product_url(shirt, 'options')}{size.pk}/"), 409, "conflict")
        assert ProductOption.objects.filter(pk=size.pk).exists()

    def test_a_variant_is_added_with_its_values_and_moves_the_price_range(self, staff_client, shirt):
        staff_client.patch(
            f"{product_url(shirt, 'options')}{shirt.options.get(name='Size').pk}/",
            {"values": ["S", "M", "L"]},
            format="json",
        )
        body = {"sku": "SHIRT-L-NAVY", "price": "31.00", "stock": 6, "options": {"Size": "L", "Colour": "Navy"}}

        response = staff_client.post(product_url(shirt, "variants"), body, format="json")

        assert response.status_code == 201, response.content
        assert response["Location"].endswith(f"{VARIANTS}{response.json()['id']}/")
        assert response.json()["options"] == {"Size": "L", "Colour": "Navy"}
        shirt.refresh_from_db()
        assert shirt.price_max == Decimal("31.00")

    @pytest.mark.parametrize(
        "options",
        [{"Size": "S", "Colour": "Navy"}, {"Size": "S"}, {"Size": "XL", "Colour": "Navy"}],
        ids=["taken", "missing", "unknown"],
    )
    def test_a_variant_needs_a_free_complete_combination(self, staff_client, shirt, options):
        body = {"sku": "SHIRT-NEW", "price": "20.00", "options": options}

        assert_validation_error(staff_client.post(product_url(shirt, "variants"), body, format="json"), "options")
        assert shirt.variants.count() == 4

    def test_a_product_without_options_takes_no_second_variant(self, staff_client):
        teapot = ProductFactory(name="Teapot", sku="TEA")

        response = staff_client.post(product_url(teapot, "variants"), {"sku": "TEA-2", "price": "1.00"}, format="json")

        assert "it is sold as TEA alone" in assert_validation_error(response, "options")["detail"]
        assert teapot.variants.count() == 1

    def test_a_duplicate_sku_is_a_validation_error(self, staff_client, shirt):
        body = {"sku": "SHIRT-S-NAVY", "price": "20.00", "options": {"Size": "S", "Colour": "Navy"}}

        assert_validation_error(staff_client.post(product_url(shirt, "variants"), body, format="json"), "sku")

    def test_a_variant_takes_a_new_price_but_never_a_stock_count(self, staff_client, shirt):
        variant = Variant.objects.get(sku="SHIRT-M-RED")
        url = f"{VARIANTS}{variant.pk}/"

        priced = staff_client.patch(url, {"price": "29.00"}, format="json")
        stocked = staff_client.patch(url, {"stock": 99}, format="json")

        assert priced.json()["price"] == "29.00"
        assert "adjust-stock" in assert_validation_error(stocked, "stock")["errors"]["stock"][0]
        assert stock_of(variant) == 3
        shirt.refresh_from_db()
        assert shirt.price_max == Decimal("29.00")

    def test_adjust_stock_moves_one_variant(self, staff_client, shirt):
        variant = Variant.objects.get(sku="SHIRT-S-RED")

        added = staff_client.post(f"{VARIANTS}{variant.pk}/adjust-stock/", {"delta": 4}, format="json")
        refused = staff_client.post(f"{VARIANTS}{variant.pk}/adjust-stock/", {"delta": -9}, format="json")

        assert added.json()["stock"] == 5
        assert assert_error(refused, 409, "insufficient_stock")["lines"][0]["sku"] == "SHIRT-S-RED"
        assert stock_of(variant) == 5
        assert stock_of(shirt) == 0 + 5 + 2 + 3

    def test_the_product_adjust_stock_shortcut_needs_a_single_variant(self, staff_client, shirt):
        assert_error(
            staff_client.post(product_url(shirt, "adjust-stock"), {"delta": 1}, format="json"),
            409,
            "several_variants",
        )

    def test_price_on_the_product_is_refused_when_it_has_several_variants(self, staff_client, shirt):
        assert_validation_error(staff_client.patch(product_url(shirt), {"price": "1.00"}, format="json"), "price")

    def test_the_last_variant_and_a_sold_one_stay(self, staff_client, shirt):
        teapot = ProductFactory(stock=5)
        sold = Variant.objects.get(sku="SHIRT-M-RED")
        OrderFactory(lines=[(sold, 1)])

        assert_error(staff_client.delete(f"{VARIANTS}{teapot.variants.get().pk}/"), 409, "conflict")
        assert_error(staff_client.delete(f"{VARIANTS}{sold.pk}/"), 409, "conflict")
        unsold = Variant.objects.get(sku="SHIRT-S-NAVY")
        assert staff_client.delete(f"{VARIANTS}{unsold.pk}/").status_code == 204
        assert Variant.objects.filter(product=shirt).count() == 3

    def test_extras_are_written_per_product_with_unique_names(self, staff_client, api_client, shirt):
        url = product_url(shirt, "extras")

        created = staff_client.post(url, {"name": "Gift wrap", "price": "2.50", "max_per_line": 2}, format="json")
        again = staff_client.post(url, {"name": "Gift wrap", "price": "1.00"}, format="json")
        negative = staff_client.post(url, {"name": "Ribbon", "price": "-1.00"}, format="json")
        switched_off = staff_client.patch(f"{url}{created.json()['id']}/", {"is_active": False}, format="json")

        assert created.status_code == 201, created.content
        assert_validation_error(again, "name")
        assert_validation_error(negative, "price")
        assert switched_off.json()["is_active"] is False
        assert api_client.get(url).json()["results"] == []
