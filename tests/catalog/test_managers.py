from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from catalog.exceptions import InsufficientStock, StockLimitExceeded
from catalog.factories import CategoryFactory, ProductFactory, VariantFactory
from catalog.managers import bulk_load, products_changed
from catalog.models import Category, Product, Variant
from tests.utils import race_n, requires_postgresql, stock_of

pytestmark = pytest.mark.django_db


def stocked(units: int, **fields) -> Variant:
    """Return the variant of a new simple product with `units` in stock."""
    return ProductFactory(stock=units, **fields).variants.get()


def short(variant: Variant, requested: int, available: int) -> dict:
    return {
        "variant": variant.pk,
        "product": variant.product_id,
        "sku": variant.sku,
        "requested": requested,
        "available": available,
    }


class TestReserve:
    def test_reserve_takes_every_line(self):
        phone, case = stocked(5), stocked(2)

        Variant.objects.reserve({phone.pk: 3, case.pk: 2})

        assert (stock_of(phone), stock_of(case)) == (2, 0)

    def test_reserve_refuses_when_any_line_is_short_and_takes_nothing(self):
        phone, case, charger = stocked(5), stocked(1), stocked(0)

        with pytest.raises(InsufficientStock) as refused:
            Variant.objects.reserve({phone.pk: 3, case.pk: 2, charger.pk: 1})

        assert refused.value.status_code == 409
        assert refused.value.code == "insufficient_stock"
        assert refused.value.facts["lines"] == [short(case, 2, 1), short(charger, 1, 0)]
        assert (stock_of(phone), stock_of(case), stock_of(charger)) == (5, 1, 0)

    def test_variants_of_one_product_keep_their_own_stock(self):
        shirt = ProductFactory(variants=0)
        shirt.add_option("Size", ["S", "M"])
        small = shirt.add_variant(sku="SHIRT-S", price=Decimal("20.00"), stock=1, options={"Size": "S"})
        medium = shirt.add_variant(sku="SHIRT-M", price=Decimal("20.00"), stock=5, options={"Size": "M"})

        with pytest.raises(InsufficientStock) as refused:
            Variant.objects.reserve({small.pk: 2})
        Variant.objects.reserve({medium.pk: 2})

        assert refused.value.facts["lines"] == [short(small, 2, 1)]
        assert (stock_of(small), stock_of(medium), stock_of(shirt)) == (1, 3, 4)

    def test_reserve_inside_a_transaction_undoes_only_itself(self):
        phone, case = stocked(5), stocked(0)
        with transaction.atomic():
            Variant.objects.reserve({phone.pk: 1})
            with pytest.raises(InsufficientStock):
                Variant.objects.reserve({phone.pk: 1, case.pk: 1})
        assert stock_of(phone) == 4

    def test_reserve_without_a_savepoint_dooms_the_callers_transaction_on_a_refusal(self):
        phone, case = stocked(5), stocked(0)
        with transaction.atomic():
            with pytest.raises(InsufficientStock):
                Variant.objects.reserve({phone.pk: 1, case.pk: 1}, savepoint=False)
            assert transaction.get_connection().needs_rollback
            transaction.set_rollback(True)
        assert stock_of(phone) == 5

    @pytest.mark.parametrize(
        ("others", "wanted", "lists_changed"),
        [
            ([], 2, True),  # the product's one variant sold out
            ([], 1, False),  # a unit left
            ([(3, True)], 2, False),  # another variant still has stock
            ([(3, False), (0, True)], 2, True),  # the only other stock is on an inactive variant
        ],
    )
    def test_reserve_says_whether_the_product_went_out_of_stock(self, others, wanted, lists_changed):
        variant = stocked(2)
        for n, (stock, active) in enumerate(others):
            # Option values are beside the point here; a combination of its own keeps each variant distinct.
            VariantFactory(product=variant.product, stock=stock, is_active=active, combination=f"other-{n}")
        heard = []

        def hear(sender, **kwargs):
            heard.append(kwargs)

        products_changed.connect(hear, dispatch_uid="tests.catalog.reserve_announcement")
        try:
            Variant.objects.reserve({variant.pk: wanted})
        finally:
            products_changed.disconnect(dispatch_uid="tests.catalog.reserve_announcement")

        assert heard == [
            {"signal": products_changed, "product_ids": [variant.product_id], "lists_changed": lists_changed}
        ]

    def test_reserve_counts_a_missing_variant_as_unavailable(self):
        with pytest.raises(InsufficientStock) as refused:
            Variant.objects.reserve({987654: 1})
        assert refused.value.facts["lines"] == [
            {"variant": 987654, "product": None, "sku": "", "requested": 1, "available": 0}
        ]

    @pytest.mark.parametrize("quantities", [{}, {1: 0}, {1: -2}])
    def test_reserve_rejects_empty_or_non_positive_quantities(self, quantities):
        with pytest.raises(ValueError):
            Variant.objects.reserve(quantities)


class TestRelease:
    def test_release_adds_stock_back(self):
        phone = stocked(1)
        Variant.objects.release({phone.pk: 4})
        assert stock_of(phone) == 5

    def test_release_refuses_to_pass_the_most_stock_a_variant_holds_and_gives_back_nothing(self):
        phone, case = stocked(10), stocked(Variant.MAX_STOCK - 1)

        with pytest.raises(StockLimitExceeded) as refused:
            Variant.objects.release({phone.pk: 5, case.pk: 2})

        assert refused.value.facts["lines"] == [
            {"variant": case.pk, "product": case.product_id, "sku": case.sku, "requested": 2}
        ]
        assert (stock_of(phone), stock_of(case)) == (10, Variant.MAX_STOCK - 1)

    def test_adjust_stock_adds_and_removes_but_never_below_zero(self):
        phone = stocked(3)
        Variant.objects.adjust_stock(phone.pk, 2)
        Variant.objects.adjust_stock(phone.pk, -4)
        assert stock_of(phone) == 1
        with pytest.raises(InsufficientStock):
            Variant.objects.adjust_stock(phone.pk, -2)
        assert stock_of(phone) == 1


class TestStockIsNeverWrittenFromAStaleCopy:
    def test_saving_a_stale_instance_keeps_the_current_stock(self):
        phone = stocked(10)
        stale = Variant.objects.get(pk=phone.pk)
        Variant.objects.reserve({phone.pk: 4})

        stale.price = 12
        stale.save()

        assert stock_of(phone) == 6
        assert Variant.objects.get(pk=phone.pk).price == 12

    def test_database_refuses_negative_stock(self):
        phone = stocked(1)
        with pytest.raises(IntegrityError), transaction.atomic():
            Variant.objects.filter(pk=phone.pk)._update_quietly(stock=F("stock") - 2)

    def test_database_refuses_negative_price(self):
        with pytest.raises(IntegrityError), transaction.atomic():
            ProductFactory(price=-1)


class TestLowStock:
    def test_low_stock_lists_the_fewest_units_first_then_by_sku(self):
        banana, apple = stocked(2, sku="BANANA"), stocked(2, sku="APPLE")
        sold_out = stocked(0, sku="ZEBRA")
        stocked(50, sku="PLENTY")

        assert list(Variant.objects.low_stock(5)) == [sold_out, apple, banana]

    def test_a_product_is_low_when_one_of_its_active_variants_is(self):
        shirt = ProductFactory(stock=50)
        shirt.add_option("Size", ["S", "M"])
        shirt.add_variant(sku="LOW-M", price=Decimal("9.00"), stock=1, options={"Size": "M"})
        hidden = stocked(50)
        hidden.product.add_option("Size", ["S", "M"])
        hidden.product.add_variant(sku="OFF-M", price=Decimal("9.00"), stock=0, options={"Size": "M"}, is_active=False)
        stocked(50)

        assert list(Product.objects.with_low_stock(5)) == [shirt]


class TestBulkLoad:
    def test_a_bulk_load_refreshes_the_price_ranges_once_it_ends(self):
        category = CategoryFactory()
        with bulk_load():
            (product,) = Product.objects.bulk_create([Product(name="Bulk", slug="bulk", category=category)])
            Variant.objects.bulk_create(
                [
                    Variant(product=product, sku="BULK-1", price=Decimal("3.00"), combination="1"),
                    Variant(product=product, sku="BULK-2", price=Decimal("5.00"), combination="2"),
                ]
            )
            assert Product.objects.values_list("price_min", flat=True).get(pk=product.pk) is None  # not yet

        assert Product.objects.values_list("price_min", "price_max").get(pk=product.pk) == (
            Decimal("3.00"),
            Decimal("5.00"),
        )

    def test_outside_a_bulk_load_each_bulk_insert_refreshes_at_once(self):
        product = ProductFactory(variants=0)

        Variant.objects.bulk_create([Variant(product=product, sku="NOW-1", price=Decimal("4.00"))])

        assert Product.objects.values_list("price_min", flat=True).get(pk=product.pk) == Decimal("4.00")


class TestVariantRules:
    def test_a_product_without_options_has_exactly_one_variant(self):
        teapot = ProductFactory(sku="TEA-1")

        with pytest.raises(IntegrityError), transaction.atomic():
            Variant.objects.create(product=teapot, sku="TEA-2", price=Decimal("1.00"))

    def test_a_new_option_gives_the_existing_variant_its_first_value(self):
        teapot = ProductFactory(sku="TEA-1")

        teapot.add_option("Colour", ["White", "Black"])

        assert teapot.variants.get().option_labels() == [{"option": "Colour", "value": "White"}]

    def test_each_combination_of_values_is_sold_once_per_product(self):
        shirt = ProductFactory(variants=0)
        shirt.add_option("Size", ["S", "M"])
        shirt.add_option("Colour", ["Navy", "Red"])
        first = shirt.add_variant(sku="S-NAVY", price=Decimal("20.00"), options={"Size": "S", "Colour": "Navy"})
        other = shirt.add_variant(sku="M-NAVY", price=Decimal("20.00"), options={"Size": "M", "Colour": "Navy"})

        with pytest.raises(ValidationError, match="Variant S-NAVY has these values already"):
            shirt.add_variant(sku="S-NAVY-2", price=Decimal("20.00"), options={"Colour": "Navy", "Size": "S"})
        with pytest.raises(IntegrityError), transaction.atomic():  # the database holds the rule too
            Variant.objects.filter(pk=other.pk)._update_quietly(combination=first.combination)
        assert shirt.variants.count() == 2

    @pytest.mark.parametrize(
        ("options", "message"),
        [
            ({"Size": "S"}, "Choose a value for Colour."),
            ({"Size": "XXL", "Colour": "Navy"}, "has no Size: XXL"),
            ({"Size": "S", "Colour": "Navy", "Fit": "Slim"}, "has no Fit: Slim"),
        ],
    )
    def test_a_variant_needs_one_known_value_of_each_option(self, options, message):
        shirt = ProductFactory(variants=0, name="Shirt")
        shirt.add_option("Size", ["S", "M"])
        shirt.add_option("Colour", ["Navy"])

        with pytest.raises(ValidationError) as refused:
            shirt.add_variant(sku="SHIRT-X", price=Decimal("20.00"), options=options)

        assert message in str(refused.value)
        assert not shirt.variants.exists()

    def test_generate_variants_adds_each_missing_combination_once(self):
        shirt = ProductFactory(sku="SHIRT", price=Decimal("25.00"), stock=3)
        shirt.add_option("Size", ["S", "M", "L"])
        shirt.add_option("Colour", ["Navy", "Red"])

        added = shirt.generate_variants()
        again = shirt.generate_variants()

        assert len(added) == 5 and again == []  # SHIRT itself is S / Navy
        assert sorted(variant.title for variant in shirt.variants.all()) == sorted(
            f"Size {size}, Colour {colour}" for size in "SML" for colour in ("Navy", "Red")
        )
        assert {variant.sku for variant in added} >= {"SHIRT-M-NAVY", "SHIRT-L-RED"}
        assert all(variant.price == Decimal("25.00") and variant.stock == 0 for variant in added)

    def test_an_option_keeps_a_value_a_variant_has(self):
        shirt = ProductFactory(sku="SHIRT")
        option = shirt.add_option("Size", ["S", "M"])

        option.set_values(["M", "L", "S"])
        with pytest.raises(ValidationError):
            option.set_values(["M", "L"])  # SHIRT is S

        assert [value.value for value in option.values.all()] == ["M", "L", "S"]

    def test_the_price_range_follows_the_active_variants(self):
        shirt = ProductFactory(sku="SHIRT", price=Decimal("20.00"))
        shirt.add_option("Size", ["S", "XL"])
        big = shirt.add_variant(sku="SHIRT-XL", price=Decimal("26.00"), options={"Size": "XL"})
        shirt.refresh_from_db()
        assert (shirt.price_min, shirt.price_max) == (Decimal("20.00"), Decimal("26.00"))

        big.is_active = False
        big.save()
        shirt.refresh_from_db()
        assert (shirt.price_min, shirt.price_max) == (Decimal("20.00"), Decimal("20.00"))

        Variant.objects.filter(pk=big.pk).update(is_active=True, price=Decimal("30.00"))
        shirt.refresh_from_db()
        assert shirt.price_max == Decimal("30.00")

    def test_a_stale_product_never_writes_back_its_price_range(self):
        teapot = ProductFactory(price=Decimal("10.00"))
        stale = Product.objects.get(pk=teapot.pk)
        Variant.objects.filter(product=teapot).update(price=Decimal("12.00"))

        stale.name = "Big teapot"
        stale.save()

        assert Product.objects.values_list("name", "price_min").get(pk=teapot.pk) == ("Big teapot", Decimal("12.00"))

    def test_in_stock_is_true_while_an_active_variant_has_stock(self):
        shirt = ProductFactory(sku="SHIRT", stock=0)
        shirt.add_option("Size", ["S", "M"])
        medium = shirt.add_variant(sku="SHIRT-M", price=Decimal("5.00"), stock=2, options={"Size": "M"})

        assert list(Product.objects.in_stock()) == [shirt]
        Variant.objects.filter(pk=medium.pk).update(is_active=False)
        assert list(Product.objects.in_stock()) == []
        assert not Product.objects.get(pk=shirt.pk).in_stock


class TestCategoryTree:
    def test_descendant_ids_covers_every_depth(self):
        root = CategoryFactory(name="Electronics")
        phones = CategoryFactory(name="Phones", parent=root)
        android = CategoryFactory(name="Android", parent=phones)
        CategoryFactory(name="Books")

        assert sorted(Category.objects.descendant_ids(root.pk)) == sorted([root.pk, phones.pk, android.pk])

    def test_in_category_takes_a_category_or_its_id_and_includes_every_depth(self):
        root = CategoryFactory(name="Electronics")
        android = CategoryFactory(name="Android", parent=CategoryFactory(name="Phones", parent=root))
        pixel, tv = ProductFactory(category=android), ProductFactory(category=root)
        ProductFactory(category=CategoryFactory(name="Books"))

        assert set(Product.objects.in_category(root)) == set(Product.objects.in_category(root.pk)) == {pixel, tv}
        assert list(Product.objects.in_category(android)) == [pixel]

    def test_outline_lists_each_category_after_its_parent_siblings_by_name(self):
        root = CategoryFactory(name="Electronics")
        phones = CategoryFactory(name="Phones", parent=root)
        android = CategoryFactory(name="Android", parent=phones)
        laptops = CategoryFactory(name="Laptops", parent=root)
        books = CategoryFactory(name="Books")

        assert Category.objects.outline() == [
            (books.pk, "Books", 0),
            (root.pk, "Electronics", 0),
            (laptops.pk, "Laptops", 1),
            (phones.pk, "Phones", 1),
            (android.pk, "Android", 2),
        ]

    def test_a_loop_written_past_the_checks_ends_the_walk(self):
        first, second = CategoryFactory(name="First"), CategoryFactory(name="Second")
        Category.objects.filter(pk=first.pk).update(parent=second)
        Category.objects.filter(pk=second.pk).update(parent=first)
        ProductFactory(category=first)

        assert sorted(Category.objects.descendant_ids(first.pk)) == sorted([first.pk, second.pk])
        assert Category.objects.product_counts() == {first.pk: 1, second.pk: 0}

    def test_a_category_cannot_sit_below_its_own_descendant(self):
        root = CategoryFactory(name="Electronics")
        phones = CategoryFactory(name="Phones", parent=root)
        assert root.would_loop(phones)
        assert root.would_loop(root)
        assert not phones.would_loop(root)


@requires_postgresql
@pytest.mark.django_db(transaction=True)
class TestReserveUnderConcurrency:
    def test_racing_buyers_sell_exactly_the_last_units(self):
        product = stocked(10)

        def buy(_):
            try:
                with transaction.atomic():
                    Variant.objects.reserve({product.pk: 1})
                return "sold"
            except InsufficientStock:
                return "refused"

        outcomes = race_n(25, buy)

        assert outcomes.count("sold") == 10
        assert outcomes.count("refused") == 15
        assert stock_of(product) == 0

    def test_racing_buyers_of_mixed_quantities_never_oversell(self):
        product = stocked(20)

        def buy(i):
            quantity = i % 3 + 1
            try:
                with transaction.atomic():
                    Variant.objects.reserve({product.pk: quantity})
                return quantity
            except InsufficientStock:
                return 0

        sold = sum(race_n(30, buy))

        assert sold <= 20
        assert stock_of(product) == 20 - sold >= 0
        assert sold >= 18  # every unit that a 1-unit buyer could still take was taken

    def test_orders_over_the_same_products_in_opposite_orders_do_not_deadlock(self):
        first, second = stocked(100), stocked(100)

        def buy(i):
            lines = {first.pk: 1, second.pk: 1} if i % 2 else {second.pk: 1, first.pk: 1}
            with transaction.atomic():
                Variant.objects.reserve(lines)
            return 1

        assert sum(race_n(20, buy)) == 20
        assert (stock_of(first), stock_of(second)) == (80, 80)
