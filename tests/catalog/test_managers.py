import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from catalog.exceptions import InsufficientStock, StockLimitExceeded
from catalog.factories import CategoryFactory, ProductFactory
from catalog.models import Category, Product
from tests.utils import race_n, requires_postgresql, stock_of

pytestmark = pytest.mark.django_db


class TestReserve:
    def test_reserve_takes_every_line(self):
        phone, case = ProductFactory(stock=5), ProductFactory(stock=2)

        Product.objects.reserve({phone.pk: 3, case.pk: 2})

        assert (stock_of(phone), stock_of(case)) == (2, 0)

    def test_reserve_refuses_when_any_line_is_short_and_takes_nothing(self):
        phone, case, charger = ProductFactory(stock=5), ProductFactory(stock=1), ProductFactory(stock=0)

        with pytest.raises(InsufficientStock) as refused:
            Product.objects.reserve({phone.pk: 3, case.pk: 2, charger.pk: 1})

        assert refused.value.status_code == 409
        assert refused.value.code == "insufficient_stock"
        assert refused.value.facts["lines"] == [
            {"product": case.pk, "requested": 2, "available": 1},
            {"product": charger.pk, "requested": 1, "available": 0},
        ]
        assert (stock_of(phone), stock_of(case), stock_of(charger)) == (5, 1, 0)

    def test_reserve_inside_a_transaction_undoes_only_itself(self):
        phone, case = ProductFactory(stock=5), ProductFactory(stock=0)
        with transaction.atomic():
            Product.objects.reserve({phone.pk: 1})
            with pytest.raises(InsufficientStock):
                Product.objects.reserve({phone.pk: 1, case.pk: 1})
        assert stock_of(phone) == 4

    def test_reserve_counts_a_missing_product_as_unavailable(self):
        with pytest.raises(InsufficientStock) as refused:
            Product.objects.reserve({987654: 1})
        assert refused.value.facts["lines"] == [{"product": 987654, "requested": 1, "available": 0}]

    @pytest.mark.parametrize("quantities", [{}, {1: 0}, {1: -2}])
    def test_reserve_rejects_empty_or_non_positive_quantities(self, quantities):
        with pytest.raises(ValueError):
            Product.objects.reserve(quantities)


class TestRelease:
    def test_release_adds_stock_back(self):
        phone = ProductFactory(stock=1)
        Product.objects.release({phone.pk: 4})
        assert stock_of(phone) == 5

    def test_release_refuses_to_pass_the_most_stock_a_product_holds_and_gives_back_nothing(self):
        phone, case = ProductFactory(stock=10), ProductFactory(stock=Product.MAX_STOCK - 1)

        with pytest.raises(StockLimitExceeded) as refused:
            Product.objects.release({phone.pk: 5, case.pk: 2})

        assert refused.value.facts["lines"] == [{"product": case.pk, "requested": 2}]
        assert (stock_of(phone), stock_of(case)) == (10, Product.MAX_STOCK - 1)

    def test_adjust_stock_adds_and_removes_but_never_below_zero(self):
        phone = ProductFactory(stock=3)
        Product.objects.adjust_stock(phone.pk, 2)
        Product.objects.adjust_stock(phone.pk, -4)
        assert stock_of(phone) == 1
        with pytest.raises(InsufficientStock):
            Product.objects.adjust_stock(phone.pk, -2)
        assert stock_of(phone) == 1


class TestStockIsNeverWrittenFromAStaleCopy:
    def test_saving_a_stale_instance_keeps_the_current_stock(self):
        phone = ProductFactory(stock=10)
        stale = Product.objects.get(pk=phone.pk)
        Product.objects.reserve({phone.pk: 4})

        stale.price = 12
        stale.save()

        assert stock_of(phone) == 6
        assert Product.objects.get(pk=phone.pk).price == 12

    def test_database_refuses_negative_stock(self):
        phone = ProductFactory(stock=1)
        with pytest.raises(IntegrityError), transaction.atomic():
            Product.objects.filter(pk=phone.pk)._update_quietly(stock=F("stock") - 2)

    def test_database_refuses_negative_price(self):
        with pytest.raises(IntegrityError), transaction.atomic():
            ProductFactory(price=-1)


class TestLowStock:
    def test_low_stock_lists_the_fewest_units_first_then_by_name(self):
        banana, apple = ProductFactory(name="Banana", stock=2), ProductFactory(name="Apple", stock=2)
        sold_out = ProductFactory(name="Zebra", stock=0)
        ProductFactory(name="Plenty", stock=50)

        assert list(Product.objects.low_stock(5)) == [sold_out, apple, banana]


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
        product = ProductFactory(stock=10)

        def buy(_):
            try:
                with transaction.atomic():
                    Product.objects.reserve({product.pk: 1})
                return "sold"
            except InsufficientStock:
                return "refused"

        outcomes = race_n(25, buy)

        assert outcomes.count("sold") == 10
        assert outcomes.count("refused") == 15
        assert stock_of(product) == 0

    def test_racing_buyers_of_mixed_quantities_never_oversell(self):
        product = ProductFactory(stock=20)

        def buy(i):
            quantity = i % 3 + 1
            try:
                with transaction.atomic():
                    Product.objects.reserve({product.pk: quantity})
                return quantity
            except InsufficientStock:
                return 0

        sold = sum(race_n(30, buy))

        assert sold <= 20
        assert stock_of(product) == 20 - sold >= 0
        assert sold >= 18  # every unit that a 1-unit buyer could still take was taken

    def test_orders_over_the_same_products_in_opposite_orders_do_not_deadlock(self):
        first, second = ProductFactory(stock=100), ProductFactory(stock=100)

        def buy(i):
            lines = {first.pk: 1, second.pk: 1} if i % 2 else {second.pk: 1, first.pk: 1}
            with transaction.atomic():
                Product.objects.reserve(lines)
            return 1

        assert sum(race_n(20, buy)) == 20
        assert (stock_of(first), stock_of(second)) == (80, 80)
