"""Product search (SPEC §5): ranked full-text with typo tolerance on PostgreSQL, a word match on SQLite,
the search vector kept up to date, and the option-values filter."""

from decimal import Decimal

import pytest

from catalog.factories import CategoryFactory, ProductFactory
from catalog.models import Category, OptionValue, Product, Variant
from tests.utils import ON_POSTGRESQL, product_with_options, result_ids

pytestmark = pytest.mark.django_db

PRODUCTS_URL = "/api/v1/products/"

full_text = pytest.mark.skipif(
    not ON_POSTGRESQL, reason="full-text search and trigrams are PostgreSQL's; SQLite matches words (tests below)"
)
word_match = pytest.mark.skipif(ON_POSTGRESQL, reason="the embedded default's word match; PostgreSQL ranks instead")


def found(text: str) -> list[str]:
    """Return the names `Product.objects.search(text)` finds, in its order."""
    return list(Product.objects.search(text).values_list("name", flat=True))


@full_text
class TestRanking:
    def test_an_exact_name_match_outranks_a_description_mention(self, api_client):
        teapot = ProductFactory(name="Teapot", description="Pairs well with a kettle of boiling water.")
        kettle = ProductFactory(name="Kettle", description="Boils water.")
        ProductFactory(name="Lamp", description="Reads well.")

        assert result_ids(api_client.get(PRODUCTS_URL, {"search": "kettle"})) == [kettle.pk, teapot.pk]

    def test_weights_put_name_and_sku_before_category_before_options_before_description(self):
        blue = CategoryFactory(name="Blue things")
        product_with_options("Sky mug", [("MUG-1", "5.00", 1, {"Glaze": "Blue"})], options={"Glaze": ["Blue"]})
        ProductFactory(name="Plain mug", description="Blue inside.")
        ProductFactory(name="Pot", category=blue)
        ProductFactory(name="Blue vase")

        assert found("blue") == ["Blue vase", "Pot", "Sky mug", "Plain mug"]

    def test_an_ordering_replaces_the_relevance_order(self, api_client):
        ProductFactory(name="Teapot", description="Warm a kettle first.")
        ProductFactory(name="Kettle")

        names = [
            row["name"]
            for row in api_client.get(PRODUCTS_URL, {"search": "kettle", "ordering": "-name"}).json()["results"]
        ]

        assert names == ["Teapot", "Kettle"]

    def test_skus_category_trees_and_option_values_are_searched(self):
        kitchen = CategoryFactory(name="Kitchen")
        teapots = CategoryFactory(name="Teapots", parent=kitchen)
        product_with_options(
            "Cast iron pot",
            [("TP-CAST-9", "40.00", 2, {"Finish": "Matte"})],
            options={"Finish": ["Matte"]},
            category=teapots,
        )

        for text in ("TP-CAST-9", "kitchen", "teapot", "matte"):
            assert found(text) == ["Cast iron pot"], text


@full_text
class TestTypos:
    def test_a_misspelt_word_finds_the_product_by_its_name(self, api_client):
        headphones = ProductFactory(name="Studio headphones", description="Closed back.")
        ProductFactory(name="Desk lamp", description="Warm light.")

        assert result_ids(api_client.get(PRODUCTS_URL, {"search": "hedphones"})) == [headphones.pk]

    def test_close_spellings_join_only_when_few_products_match(self, settings):
        for name in ("Tea cup", "Tea caddy", "Tea towel"):
            ProductFactory(name=name, description="")
        ProductFactory(name="Teak board", description="")

        settings.CATALOG_SEARCH_TYPO_BELOW = 3
        assert sorted(found("tea")) == ["Tea caddy", "Tea cup", "Tea towel"]
        settings.CATALOG_SEARCH_TYPO_BELOW = 4
        assert found("tea")[-1] == "Teak board"  # after every full-text match
        assert len(found("tea")) == 4

    def test_close_spellings_keep_the_excluded_words_out(self):
        ProductFactory(name="Green tea pot", description="")
        ProductFactory(name="Black tea pot", description="")

        # One full-text match, so names close to "tea pots" join: the green one is, and stays out.
        assert found("tea pots -green") == ["Black tea pot"]


@full_text
class TestWebSearchSyntax:
    @pytest.fixture(autouse=True)
    def teas(self):
        ProductFactory(name="Green tea tin", description="Keeps leaves fresh.")
        ProductFactory(name="Tea towel", description="Green stripes on linen.")
        ProductFactory(name="Black tea", description="Strong.")
        ProductFactory(name="Coffee grinder", description="Burr mill.")

    def test_quotes_find_a_phrase(self):
        assert found('"green tea"') == ["Green tea tin"]

    def test_a_minus_excludes_a_word(self):
        assert sorted(found("tea -green")) == ["Black tea"]

    def test_or_finds_either(self):
        assert sorted(found("coffee or black")) == ["Black tea", "Coffee grinder"]

    def test_every_word_must_match_otherwise(self):
        assert sorted(found("green tea")) == ["Green tea tin", "Tea towel"]

    def test_a_query_of_stop_words_or_punctuation_alone_is_no_error(self, api_client):
        for text in ("the", '"', "-", "or", "!!", "a & b | c"):
            assert api_client.get(PRODUCTS_URL, {"search": text}).status_code == 200, text


@full_text
class TestSearchVectorKeptUpToDate:
    @pytest.fixture
    def shirt(self, category_tree):
        return product_with_options(
            "Oxford shirt",
            [("OX-M", "30.00", 3, {"Colour": "Navy"})],
            options={"Colour": ["Navy", "Red"]},
            category=category_tree,
        )

    @pytest.fixture
    def category_tree(self):
        return CategoryFactory(name="Shirts", parent=CategoryFactory(name="Clothing"))

    def test_a_new_variant_sku_is_found(self, shirt):
        variant = shirt.variants.get()
        variant.sku = "OX-NEWCODE"
        variant.save()

        assert found("OX-NEWCODE") == ["Oxford shirt"]
        assert found("OX-M") == []

    def test_a_variant_deactivated_in_bulk_takes_its_sku_and_values_away(self, shirt):
        Variant.objects.filter(product=shirt).update(is_active=False)

        assert found("OX-M") == found("navy") == []

    def test_a_renamed_option_value_is_found(self, shirt):
        navy = OptionValue.objects.get(value="Navy")
        navy.value = "Indigo"
        navy.save()

        assert found("indigo") == ["Oxford shirt"]
        assert found("navy") == []

    def test_a_variant_given_another_value_is_found_by_it(self, shirt):
        variant = shirt.variants.get()
        variant.set_option_values([OptionValue.objects.get(value="Red")])

        assert found("red") == ["Oxford shirt"]

    def test_a_renamed_category_or_ancestor_is_found(self, shirt, category_tree):
        category_tree.name = "Formal shirts"
        category_tree.save()
        Category.objects.filter(name="Clothing").update(name="Apparel")

        assert found("formal") == found("apparel") == ["Oxford shirt"]
        assert found("clothing") == []

    def test_a_product_moved_or_renamed_in_bulk_is_found(self, shirt):
        Product.objects.filter(pk=shirt.pk).update(name="Linen blouse", category=CategoryFactory(name="Summer"))

        assert found("blouse") == found("summer") == ["Linen blouse"]

    def test_products_made_in_bulk_are_searchable(self):
        category = CategoryFactory(name="Garden")
        made = Product.objects.bulk_create([Product(name="Watering can", slug="watering-can", category=category)])
        Variant.objects.bulk_create([Variant(product=made[0], sku="GRD-1", price=Decimal("9.00"), stock=1)])

        assert found("watering") == found("GRD-1") == found("garden") == ["Watering can"]


class TestWordMatch:
    @word_match
    def test_sqlite_finds_products_containing_every_word_in_name_sku_or_description(self, api_client):
        kettle = ProductFactory(name="Steel kettle", description="Boils fast.", sku="KT-9")
        ProductFactory(name="Steel pan", description="Fries.")

        for text in ("steel boils", "kt-9 STEEL", "kettle"):
            assert result_ids(api_client.get(PRODUCTS_URL, {"search": text})) == [kettle.pk], text

    @word_match
    def test_sqlite_ignores_inactive_variants_skus(self):
        product = ProductFactory(name="Lamp", sku="LMP-1")
        Variant.objects.filter(product=product).update(is_active=False)

        assert found("LMP-1") == []


class TestOptionFilter:
    @pytest.fixture(autouse=True)
    def clothes(self):
        sizes = {"Size": ["S", "M", "L"], "Colour": ["Navy", "Red"]}
        self.shirt = product_with_options(
            "Shirt",
            [
                ("SH-M-NAVY", "20.00", 3, {"Size": "M", "Colour": "Navy"}),
                ("SH-L-RED", "25.00", 0, {"Size": "L", "Colour": "Red"}),
            ],
            options=sizes,
        )
        self.jumper = product_with_options(
            "Jumper", [("JU-S-NAVY", "40.00", 2, {"Size": "S", "Colour": "Navy"})], options=sizes
        )
        self.scarf = ProductFactory(name="Scarf")

    def ids(self, api_client, **query) -> list[int]:
        return sorted(result_ids(api_client.get(PRODUCTS_URL, query)))

    def test_one_value(self, api_client):
        assert self.ids(api_client, option="Size:M") == [self.shirt.pk]

    def test_values_of_one_option_are_alternatives(self, api_client):
        assert self.ids(api_client, option=["Size:M", "Size:S"]) == sorted([self.shirt.pk, self.jumper.pk])

    def test_different_options_must_all_hold_for_one_variant(self, api_client):
        assert self.ids(api_client, option=["Size:L", "Colour:Red"]) == [self.shirt.pk]
        assert self.ids(api_client, option=["Size:L", "Colour:Navy"]) == []  # M is navy, L is red

    def test_with_in_stock_the_matching_variant_has_stock(self, api_client):
        assert self.ids(api_client, option="Size:L") == [self.shirt.pk]
        assert self.ids(api_client, option="Size:L", in_stock="true") == []
        assert self.ids(api_client, option="Size:M", in_stock="true") == [self.shirt.pk]

    def test_inactive_variants_do_not_count(self, api_client):
        Variant.objects.filter(sku="SH-M-NAVY").update(is_active=False)

        assert self.ids(api_client, option="Size:M") == []

    def test_unknown_options_or_values_match_nothing(self, api_client):
        assert self.ids(api_client, option="Fit:Slim") == self.ids(api_client, option="Size:XXL") == []
