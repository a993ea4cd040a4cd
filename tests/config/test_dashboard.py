"""The staff dashboard on the admin index (SPEC §8): figures, charts, links, queries, cache, breaker, permissions."""

import re
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format

from billing.breaker import get_breaker
from billing.factories import CardOrderFactory, RefundFactory
from billing.models import Payment
from catalog.factories import ProductFactory
from catalog.models import Product, Variant
from config import charts
from config.dashboard import CHART_DAYS, LOW_STOCK_LISTED, TOP_PRODUCTS_LISTED, chart_window
from orders.factories import OrderFactory
from orders.models import Order, OrderItem
from orders.status import PURCHASED, Status
from tests.utils import UNREACHABLE_REDIS_CACHE, reset_breaker, stock_of

pytestmark = pytest.mark.django_db

INDEX = reverse("admin:index")
DASHBOARD_TABLES = ("orders_order", "orders_orderitem", "billing_payment", "catalog_product")


@pytest.fixture(autouse=True)
def closed_breaker(settings):
    """Start and end every test with a fresh, closed gateway breaker and a known low-stock threshold."""
    settings.LOW_STOCK_THRESHOLD = 5
    reset_breaker()
    yield
    reset_breaker()


def costing(price: str) -> list:
    """Return the lines of a one-unit order costing `price`."""
    return [(ProductFactory(stock=100, price=Decimal(price)), 1)]


def created_yesterday(*rows) -> None:
    for row in rows:
        type(row).objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(days=1))


def placed_days_ago(order: Order, days: int, at: datetime | None = None) -> Order:
    """Move the order, its lines and its payment back `days` days (or to `at`), as if placed then."""
    when = at or timezone.now() - timedelta(days=days)
    Order.objects.filter(pk=order.pk).update(created_at=when)
    OrderItem.objects.filter(order=order).update(created_at=when)
    Payment.objects.filter(order=order).update(created_at=when)
    order.refresh_from_db()
    return order


def low_stock_product(stock: int, **kwargs) -> Product:
    return ProductFactory(stock=stock, **kwargs)


def chart_svgs(html: str) -> dict[str, str]:
    """Return the dashboard's charts in the page, by the id of the heading that titles each."""
    return {
        titled_by: svg
        for svg, titled_by in re.findall(r'(<svg class="shop-chart[^>]*aria-labelledby="([^"]+)".*?</svg>)', html, re.S)
    }


def sales_by_local_day() -> dict:
    """Count every order and its revenue per day of the current time zone, in Python, for the charts to match."""
    sales: dict = {}
    for order in Order.objects.all():
        day = sales.setdefault(timezone.localtime(order.created_at).date(), {"orders": 0, "revenue": Decimal("0.00")})
        day["orders"] += 1
        if order.status in PURCHASED:
            day["revenue"] += order.total
    return sales


def dashboard_of(client) -> dict:
    response = client.get(INDEX)
    assert response.status_code == 200
    return response.context["dashboard"]


def result_count(client, url: str) -> int:
    """Follow a dashboard link and return how many rows the changelist shows."""
    response = client.get(url)
    assert response.status_code == 200, url
    return response.context["cl"].result_count


def dashboard_queries(queries: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in queries if any(table in query["sql"] for table in DASHBOARD_TABLES)]


class TestQuerySetRules:
    def test_placed_on_takes_the_day_from_midnight_to_midnight(self):
        today, yesterday = OrderFactory(), OrderFactory()
        created_yesterday(yesterday)

        assert list(Order.objects.placed_on(timezone.localdate())) == [today]
        assert list(Order.objects.placed_on(timezone.localdate() - timedelta(days=1))) == [yesterday]

    def test_sales_count_every_order_but_sum_only_those_confirmed_or_further_along(self):
        OrderFactory(lines=costing("10.00"))  # cash: confirmed
        CardOrderFactory(lines=costing("20.00"))  # pending: not paid yet
        OrderFactory(lines=costing("40.00")).cancel(actor=None, note="Changed my mind.")
        CardOrderFactory(lines=costing("80.00"), status=Status.PAYMENT_FAILED)

        assert Order.objects.sales() == {"orders": 4, "revenue": Decimal("10.00")}

    def test_sales_by_day_group_the_days_with_orders_oldest_first(self):
        OrderFactory(lines=costing("10.00"))
        CardOrderFactory(lines=costing("20.00"))  # pending: counted, no revenue
        placed_days_ago(OrderFactory(lines=costing("30.00")), 2)
        placed_days_ago(OrderFactory(lines=costing("40.00")), 5)
        today = timezone.localdate()

        sales = Order.objects.placed_between(today - timedelta(days=2), today).sales_by_day()

        assert sales == [
            {"day": today - timedelta(days=2), "orders": 1, "revenue": Decimal("30.00")},
            {"day": today, "orders": 2, "revenue": Decimal("10.00")},
        ]

    def test_sales_of_no_orders_are_zero(self):
        assert Order.objects.sales() == {"orders": 0, "revenue": Decimal("0.00")}

    def test_low_stock_defaults_to_the_threshold_setting(self, settings):
        settings.LOW_STOCK_THRESHOLD = 3
        at, above = ProductFactory(stock=3), ProductFactory(stock=4)

        assert list(Variant.objects.low_stock()) == [at.variants.get()]
        assert list(Variant.objects.low_stock(4)) == [at.variants.get(), above.variants.get()]
        assert list(Product.objects.with_low_stock()) == [at]


class TestFigures:
    def test_orders_today_count_todays_orders_and_revenue_only_those_that_brought_money(self, admin_client):
        OrderFactory(lines=costing("10.00"))  # confirmed
        in_progress = OrderFactory(lines=costing("30.00"))
        in_progress.transition_to(Status.IN_PROGRESS)
        CardOrderFactory(lines=costing("20.00"))  # pending payment
        OrderFactory(lines=costing("40.00")).cancel(actor=None)
        CardOrderFactory(lines=costing("50.00"), status=Status.PAYMENT_FAILED)
        created_yesterday(OrderFactory(lines=costing("1000.00")))

        orders = dashboard_of(admin_client)["orders"]

        assert (orders["orders"], orders["revenue"]) == (5, Decimal("40.00"))
        assert orders["currency"] == "USD"

    def test_revenue_is_shown_in_the_shop_currency(self, admin_client, settings):
        settings.SHOP_CURRENCY = "EUR"
        OrderFactory(lines=costing("1234.50"))

        response = admin_client.get(INDEX)

        assert "1,234.50" in response.text
        assert "EUR" in response.text

    def test_payments_count_those_awaiting_the_gateway_and_those_failed_today(self, admin_client):
        CardOrderFactory()  # pending
        CardOrderFactory(status=Status.PAYMENT_PROCESSING)
        CardOrderFactory(status=Status.PAYMENT_FAILED)
        created_yesterday(CardOrderFactory(status=Status.PAYMENT_FAILED).payment)
        CardOrderFactory(status=Status.CONFIRMED)

        figures = dashboard_of(admin_client)["payments"]

        assert (figures["awaiting"], figures["failed"]) == (2, 1)

    def test_low_stock_counts_active_products_at_or_below_the_threshold_and_lists_the_lowest(self, admin_client):
        low = [low_stock_product(stock, name=f"Low {i:02d}") for i, stock in enumerate([5, 4, 3, 2, 1, 0] * 2)]
        low_stock_product(6)
        low_stock_product(0, is_active=False)

        figures = dashboard_of(admin_client)["low_stock"]

        lowest = sorted(low, key=lambda product: (stock_of(product), product.name))[:LOW_STOCK_LISTED]
        assert figures["count"] == 12
        assert [product["sku"] for product in figures["lowest"]] == [product.variants.get().sku for product in lowest]
        assert [product["stock"] for product in figures["lowest"]] == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]

    def test_an_empty_shop_shows_zeros(self, admin_client):
        dashboard = dashboard_of(admin_client)

        assert dashboard["orders"]["orders"] == 0
        assert dashboard["orders"]["revenue"] == Decimal("0.00")
        assert (dashboard["payments"]["awaiting"], dashboard["payments"]["failed"]) == (0, 0)
        assert (dashboard["low_stock"]["count"], dashboard["low_stock"]["lowest"]) == (0, [])


class TestLinks:
    def test_each_link_opens_its_changelist_filtered_to_exactly_the_rows_counted(self, admin_client):
        OrderFactory(lines=costing("10.00"))
        CardOrderFactory(lines=costing("20.00"))
        CardOrderFactory(status=Status.PAYMENT_PROCESSING)
        CardOrderFactory(status=Status.PAYMENT_FAILED)
        old_failure = CardOrderFactory(status=Status.PAYMENT_FAILED).payment
        created_yesterday(OrderFactory(), old_failure, old_failure.order)
        low = [low_stock_product(stock) for stock in (0, 3, 5)]
        low_stock_product(1, is_active=False)
        low_stock_product(6)

        dashboard = dashboard_of(admin_client)

        assert result_count(admin_client, dashboard["orders"]["url"]) == dashboard["orders"]["orders"] == 4
        assert result_count(admin_client, dashboard["orders"]["revenue_url"]) == 1  # the confirmed cash order
        payments_figures = dashboard["payments"]
        assert result_count(admin_client, payments_figures["awaiting_url"]) == payments_figures["awaiting"] == 2
        assert result_count(admin_client, payments_figures["failed_url"]) == payments_figures["failed"] == 1
        assert dashboard["gateway"]["url"] == payments_figures["awaiting_url"]
        assert result_count(admin_client, dashboard["low_stock"]["url"]) == dashboard["low_stock"]["count"] == 3
        product_urls = [product["url"] for product in dashboard["low_stock"]["lowest"]]
        assert product_urls == [reverse("admin:catalog_product_change", args=[product.pk]) for product in low]
        assert admin_client.get(product_urls[0]).status_code == 200

    def test_the_orders_link_selects_the_changelists_own_today_filter(self, admin_client):
        response = admin_client.get(dashboard_of(admin_client)["orders"]["url"])

        changelist = response.context["cl"]
        date_filter = next(spec for spec in changelist.filter_specs if spec.title == "created at")
        chosen = [str(choice["display"]) for choice in date_filter.choices(changelist) if choice["selected"]]
        assert chosen == ["Today"]


class TestQueries:
    @pytest.mark.parametrize("orders", [5, 50])
    def test_the_index_runs_a_fixed_number_of_queries_whatever_the_row_counts(
        self, admin_client, django_assert_num_queries, orders
    ):
        kinds = [OrderFactory, CardOrderFactory, lambda: CardOrderFactory(status=Status.PAYMENT_FAILED)]
        spread = CHART_DAYS + 5  # some before the charts' window
        for i in range(orders):
            placed_days_ago(kinds[i % 3](), i % spread)
            if i % 5 == 0:
                low_stock_product(1)

        # 1. session; 2. user; 3. orders today: COUNT and SUM in one aggregate; 4. payments:
        # both counts in one aggregate; 5. low-stock COUNT; 6. the 10 lowest products;
        # 7. orders and revenue GROUP BY day; 8. card payments GROUP BY status; 9. units
        # GROUP BY product; 10. the "Recent actions" sidebar (admin log). A superuser's
        # permission checks run none.
        with django_assert_num_queries(10):
            response = admin_client.get(INDEX)

        dashboard = response.context["dashboard"]
        assert dashboard["orders"]["orders"] == len(range(0, orders, spread))
        assert dashboard["sales_by_day"]["orders"] == sum(1 for i in range(orders) if i % spread < CHART_DAYS)
        assert dashboard["payment_outcomes"]["total"] == sum(
            1 for i in range(orders) if i % 3 and i % spread < CHART_DAYS
        )
        assert dashboard["low_stock"]["count"] == len(range(0, orders, 5))

    def test_a_second_load_within_the_cache_window_counts_nothing_again(self, admin_client):
        OrderFactory()
        with CaptureQueriesContext(connection) as first:
            admin_client.get(INDEX)
        OrderFactory()  # within the window, the dashboard still shows the count it cached

        with CaptureQueriesContext(connection) as second:
            response = admin_client.get(INDEX)

        assert len(dashboard_queries(first)) == 7
        assert dashboard_queries(second) == []
        assert len(second) == len(first) - 7  # session, user and the admin log remain
        assert response.context["dashboard"]["orders"]["orders"] == 1
        assert sum(day["orders"] for day in response.context["dashboard"]["sales_by_day"]["days"]) == 1
        today = timezone.localdate().isoformat()
        assert cache.get(f"admin-dashboard:sales_by_day:{today}")["days"][-1]["orders"] == 1

    def test_figures_are_counted_again_once_the_cache_window_has_passed(self, admin_client, settings):
        settings.ADMIN_DASHBOARD_CACHE_SECONDS = 0  # Django's "do not cache"
        OrderFactory()
        admin_client.get(INDEX)
        OrderFactory()

        assert dashboard_of(admin_client)["orders"]["orders"] == 2

    def test_an_unreachable_cache_does_not_break_the_index(self, admin_client):
        OrderFactory()
        # The session lives in the database, so only the dashboard's cache calls meet the outage.
        with override_settings(CACHES={"default": UNREACHABLE_REDIS_CACHE}):
            assert dashboard_of(admin_client)["orders"]["orders"] == 1


class TestGateway:
    def test_a_closed_breaker_shows_closed_without_an_alert(self, admin_client):
        response = admin_client.get(INDEX)

        assert response.context["dashboard"]["gateway"]["state"] == "closed"
        assert 'role="alert"' not in response.text

    def test_an_open_breaker_shows_open_prominently_with_the_time_to_a_trial_charge(self, admin_client):
        get_breaker().open()

        response = admin_client.get(INDEX)

        gateway = response.context["dashboard"]["gateway"]
        assert gateway["state"] == "open"
        assert 0 < gateway["half_open_in"] <= 60
        assert 'role="alert"' in response.text
        assert "Payment gateway: breaker open" in response.text

    def test_the_breaker_is_read_live_not_from_the_cache(self, admin_client):
        admin_client.get(INDEX)
        get_breaker().open()

        assert dashboard_of(admin_client)["gateway"]["state"] == "open"


class TestPermissions:
    def test_staff_see_and_count_only_the_panels_of_models_they_may_view(self, client, django_user_model):
        user = django_user_model.objects.create_user(username="stock-keeper", password="x", is_staff=True)
        user.user_permissions.set(Permission.objects.filter(codename="view_product"))
        OrderFactory()
        client.force_login(user)

        with CaptureQueriesContext(connection) as queries:
            response = client.get(INDEX)

        assert set(response.context["dashboard"]) == {"cache_seconds", "as_of", "low_stock"}
        assert "Orders today" not in response.text
        assert "Card payments" not in response.text
        assert "Top products" not in response.text
        assert chart_svgs(response.text) == {}
        assert "Low stock" in response.text
        assert not any("orders_order" in sql or "billing_payment" in sql for sql in dashboard_queries(queries))

    def test_staff_without_permissions_see_no_dashboard(self, client, staff_without_permissions):
        client.force_login(staff_without_permissions)

        response = client.get(INDEX)

        assert response.status_code == 200
        assert set(response.context["dashboard"]) == {"cache_seconds"}
        assert 'id="shop-dashboard-title"' not in response.text
        assert "have permission to view or edit anything" in response.text

    def test_staff_with_every_shop_permission_see_every_panel(self, client, staff_user):
        client.force_login(staff_user)

        dashboard = dashboard_of(client)

        assert {"orders", "payments", "gateway", "low_stock"} <= set(dashboard)
        assert {"sales_by_day", "payment_outcomes", "top_products"} <= set(dashboard)

    def test_each_chart_shows_to_staff_who_may_view_what_it_counts(self, client, django_user_model):
        user = django_user_model.objects.create_user(username="order-desk", password="x", is_staff=True)
        user.user_permissions.set(Permission.objects.filter(codename="view_order"))
        OrderFactory()
        client.force_login(user)

        with CaptureQueriesContext(connection) as queries:
            response = client.get(INDEX)

        assert set(response.context["dashboard"]) == {"cache_seconds", "as_of", "orders", "sales_by_day"}
        assert set(chart_svgs(response.text)) == {"shop-dashboard-sales"}
        assert not any("billing_payment" in sql or "orders_orderitem" in sql for sql in dashboard_queries(queries))

    def test_top_products_link_product_pages_only_for_staff_who_may_view_products(self, client, django_user_model):
        user = django_user_model.objects.create_user(username="analyst", password="x", is_staff=True)
        user.user_permissions.set(Permission.objects.filter(codename="view_orderitem"))
        OrderFactory()
        client.force_login(user)

        response = client.get(INDEX)

        [top] = response.context["dashboard"]["top_products"]["products"]
        assert top["label_url"] is None
        assert set(chart_svgs(response.text)) == {"shop-dashboard-top-products"}
        assert result_count(client, top["url"]) == 1

    def test_the_index_still_lists_the_apps(self, admin_client):
        response = admin_client.get(INDEX)

        labels = {app["app_label"] for app in response.context["app_list"]}
        assert {"auth", "catalog", "customers", "orders", "billing"} <= labels
        assert reverse("admin:orders_order_changelist") in response.text
        assert "Recent actions" in response.text


class TestCharts:
    def test_sales_by_day_count_each_days_orders_and_revenue_only_from_purchased_orders(self, admin_client):
        OrderFactory(lines=costing("10.00"))  # confirmed today
        CardOrderFactory(lines=costing("20.00"))  # pending today: counted, no revenue
        placed_days_ago(OrderFactory(lines=costing("30.00"), status=Status.DELIVERED), 3)
        placed_days_ago(OrderFactory(lines=costing("40.00")), 3).cancel(actor=None)
        placed_days_ago(CardOrderFactory(lines=costing("45.00"), status=Status.PAYMENT_FAILED), 3)
        placed_days_ago(OrderFactory(lines=costing("50.00")), CHART_DAYS - 1)  # the first day shown
        placed_days_ago(OrderFactory(lines=costing("60.00")), CHART_DAYS)  # the day before

        sales = dashboard_of(admin_client)["sales_by_day"]

        today = timezone.localdate()
        expected = sales_by_local_day()
        nothing = {"orders": 0, "revenue": Decimal("0.00")}
        shown = [today - timedelta(days=CHART_DAYS - 1 - i) for i in range(CHART_DAYS)]
        assert [day["day"] for day in sales["days"]] == shown
        assert [(day["orders"], day["revenue"]) for day in sales["days"]] == [
            (expected.get(day, nothing)["orders"], expected.get(day, nothing)["revenue"]) for day in shown
        ]
        by_day = {day["day"]: (day["orders"], day["revenue"]) for day in sales["days"]}
        assert by_day[today] == (2, Decimal("10.00"))
        assert by_day[today - timedelta(days=3)] == (3, Decimal("30.00"))
        assert by_day[today - timedelta(days=1)] == (0, Decimal("0.00"))  # a day without orders: a zero bar
        assert by_day[shown[0]] == (1, Decimal("50.00"))
        assert (sales["orders"], sales["revenue"]) == (6, Decimal("90.00"))
        revenue_band, orders_band = sales["chart"]["bands"]
        assert revenue_band["bars"][-2]["zero"] and orders_band["bars"][-2]["zero"]
        assert not orders_band["bars"][-1]["zero"]

    def test_days_are_those_of_the_shops_time_zone(self, admin_client, settings):
        settings.TIME_ZONE = "Pacific/Auckland"  # UTC+12 or +13: a local morning is the previous UTC day
        today = timezone.localdate()
        early_today = timezone.make_aware(datetime.combine(today, time(0, 30)))
        late_yesterday = timezone.make_aware(datetime.combine(today - timedelta(days=1), time(23, 30)))
        placed_days_ago(OrderFactory(lines=costing("10.00")), 0, at=early_today)
        placed_days_ago(OrderFactory(lines=costing("20.00")), 0, at=late_yesterday)

        sales = dashboard_of(admin_client)["sales_by_day"]

        assert early_today.astimezone(UTC).date() == today - timedelta(days=1)
        *_, yesterday, last = sales["days"]
        assert (last["day"], last["orders"], last["revenue"]) == (today, 1, Decimal("10.00"))
        assert (yesterday["orders"], yesterday["revenue"]) == (1, Decimal("20.00"))
        assert result_count(admin_client, last["orders_url"]) == 1
        assert result_count(admin_client, yesterday["orders_url"]) == 1

    def test_payment_outcomes_count_the_windows_card_payments_by_final_status(self, admin_client):
        CardOrderFactory(status=Status.CONFIRMED)
        CardOrderFactory(status=Status.DELIVERED)
        CardOrderFactory(status=Status.PAYMENT_FAILED)
        CardOrderFactory(status=Status.CANCELLED)  # before the charge: the payment is cancelled
        CardOrderFactory(status=Status.CANCELLED, cancelled_from=Status.CONFIRMED)  # refunded in full
        two_lines = [(ProductFactory(stock=10), 1), (ProductFactory(stock=10), 1)]
        partly = CardOrderFactory(lines=two_lines, status=Status.DELIVERED)
        RefundFactory(order=partly, units={partly.items.first().pk: 1})
        CardOrderFactory()  # pending
        CardOrderFactory(status=Status.PAYMENT_PROCESSING)
        OrderFactory()  # cash: not a card payment
        placed_days_ago(CardOrderFactory(status=Status.CONFIRMED), CHART_DAYS)  # before the window

        outcomes = dashboard_of(admin_client)["payment_outcomes"]

        statuses = Counter(
            Payment.objects.filter(method="card", **chart_window(timezone.localdate())).values_list("status", flat=True)
        )
        figures = {outcome["key"]: outcome["value"] for outcome in outcomes["outcomes"]}
        assert figures == {
            "succeeded": statuses["succeeded"],
            "refunded": statuses["partially_refunded"] + statuses["refunded"],
            "failed": statuses["failed"],
            "cancelled": statuses["cancelled"],
            "waiting": statuses["pending"] + statuses["processing"],
        }
        assert figures == {"succeeded": 2, "refunded": 2, "failed": 1, "cancelled": 1, "waiting": 2}
        assert outcomes["total"] == 8
        assert [outcome["share"] for outcome in outcomes["outcomes"]] == ["25%", "25%", "12%", "12%", "25%"]

    def test_top_products_rank_units_of_purchased_orders_in_the_window(self, admin_client):
        a, b, c, d, e = (ProductFactory(stock=100, name=f"Product {name}") for name in "ABCDE")
        OrderFactory(lines=[(a, 3), (c, 1)])
        OrderFactory(lines=[(a, 2)], status=Status.DELIVERED)
        OrderFactory(lines=[(b, 4)])
        OrderFactory(lines=[(c, 10)]).cancel(actor=None)  # cancelled: sold nothing
        CardOrderFactory(lines=[(d, 6)])  # pending: not paid yet
        placed_days_ago(OrderFactory(lines=[(e, 9)]), CHART_DAYS)  # before the window

        top = dashboard_of(admin_client)["top_products"]["products"]

        assert [(product["pk"], product["units"]) for product in top] == [(a.pk, 5), (b.pk, 4), (c.pk, 1)]
        assert [product["name"] for product in top] == ["Product A", "Product B", "Product C"]

    def test_top_products_list_the_first_few_and_break_ties_by_name(self, admin_client):
        units = [1, 2, 3, 4, 5, 6, 7, 7, 8, 9]
        products = [ProductFactory(stock=100, name=f"Product {i:02d}") for i in range(len(units))]
        for product, quantity in zip(products, units, strict=True):
            OrderFactory(lines=[(product, quantity)])

        top = dashboard_of(admin_client)["top_products"]["products"]

        assert len(top) == TOP_PRODUCTS_LISTED
        assert [product["units"] for product in top] == [9, 8, 7, 7, 6, 5, 4, 3]
        assert [product["name"] for product in top][2:4] == ["Product 06", "Product 07"]

    def test_an_empty_shop_draws_zero_bars_and_no_top_products(self, admin_client):
        dashboard = dashboard_of(admin_client)

        assert all(day["orders"] == 0 and day["revenue"] == 0 for day in dashboard["sales_by_day"]["days"])
        assert all(bar["zero"] for band in dashboard["sales_by_day"]["chart"]["bands"] for bar in band["bars"])
        assert [outcome["value"] for outcome in dashboard["payment_outcomes"]["outcomes"]] == [0] * 5
        assert dashboard["top_products"]["products"] == []


class TestChartLinks:
    def test_each_days_bars_open_that_days_orders_and_those_that_brought_revenue(self, admin_client):
        OrderFactory(lines=costing("10.00"))
        CardOrderFactory(lines=costing("20.00"))
        placed_days_ago(OrderFactory(lines=costing("30.00"), status=Status.DELIVERED), 2)
        placed_days_ago(CardOrderFactory(status=Status.PAYMENT_FAILED), 2)
        placed_days_ago(CardOrderFactory(status=Status.CONFIRMED), 5)
        placed_days_ago(OrderFactory(), CHART_DAYS)

        sales = dashboard_of(admin_client)["sales_by_day"]

        purchased = Counter(
            timezone.localtime(order.created_at).date() for order in Order.objects.filter(status__in=PURCHASED)
        )
        followed = [day for day in sales["days"] if day["orders"]] + [sales["days"][-2]]  # and a day without any
        assert len(followed) == 4
        for day in followed:
            assert result_count(admin_client, day["orders_url"]) == day["orders"], day["day"]
            assert result_count(admin_client, day["revenue_url"]) == purchased[day["day"]], day["day"]
        assert result_count(admin_client, sales["url"]) == sales["orders"] == 5
        assert result_count(admin_client, sales["revenue_url"]) == 3

    def test_each_payment_outcome_opens_its_card_payments(self, admin_client):
        CardOrderFactory(status=Status.CONFIRMED)
        CardOrderFactory(status=Status.PAYMENT_FAILED)
        CardOrderFactory(status=Status.CANCELLED, cancelled_from=Status.CONFIRMED)
        CardOrderFactory()
        OrderFactory()  # cash, pending collection: not a card payment
        placed_days_ago(CardOrderFactory(status=Status.PAYMENT_FAILED), CHART_DAYS)

        outcomes = dashboard_of(admin_client)["payment_outcomes"]

        for outcome in outcomes["outcomes"]:
            assert result_count(admin_client, outcome["url"]) == outcome["value"], outcome["key"]
        assert result_count(admin_client, outcomes["url"]) == outcomes["total"] == 4

    def test_a_top_product_opens_its_order_lines_of_the_window_and_its_page(self, admin_client):
        product = ProductFactory(stock=100)
        kept = OrderFactory(lines=[(product, 2)])
        cancelled = OrderFactory(lines=[(product, 1)])
        cancelled.cancel(actor=None)
        placed_days_ago(OrderFactory(lines=[(product, 5)]), CHART_DAYS)

        [top] = dashboard_of(admin_client)["top_products"]["products"]

        response = admin_client.get(top["url"])
        assert response.status_code == 200
        listed = list(response.context["cl"].result_list)
        # The list shows every line of the product in those days; the figure counts the purchased ones.
        assert {line.pk for line in listed} == set(
            OrderItem.objects.filter(order__in=[kept, cancelled]).values_list("pk", flat=True)
        )
        assert sum(line.quantity for line in listed if line.order.status in PURCHASED) == top["units"] == 2
        assert top["label_url"] == reverse("admin:catalog_product_change", args=[product.pk])
        assert admin_client.get(top["label_url"]).status_code == 200


class TestChartMarkup:
    def test_the_charts_are_inline_svg_that_fetch_nothing(self, admin_client):
        OrderFactory()
        CardOrderFactory(status=Status.CONFIRMED)

        svgs = chart_svgs(admin_client.get(INDEX).text)

        assert set(svgs) == {"shop-dashboard-sales", "shop-dashboard-outcomes", "shop-dashboard-top-products"}
        for svg in svgs.values():
            assert "//" not in svg  # no URL with a scheme or a host, not even a namespace
            assert not re.search(r"<(script|image|use|foreignObject|style)\b", svg)
            assert "url(" not in svg
            links = re.findall(r'href="([^"]*)"', svg)
            assert links
            assert all(link.startswith("/admin/") for link in links)

    def test_each_chart_has_a_title_a_label_per_bar_and_a_table(self, admin_client):
        OrderFactory(lines=costing("1234.50"))

        response = admin_client.get(INDEX)

        svgs = chart_svgs(response.text)
        for heading in svgs:
            assert f'id="{heading}"' in response.text
        daily = svgs["shop-dashboard-sales"]
        labels = re.findall(r'<a href="[^"]*" aria-label="([^"]*)">\s*<title>([^<]*)</title>', daily)
        assert len(labels) == 2 * CHART_DAYS
        assert all(label == title for label, title in labels)
        today = date_format(timezone.localdate(), "D j M")
        assert labels[CHART_DAYS - 1][0].startswith(f"{today}: 1,234.50 USD revenue")
        assert labels[-1][0] == f"{today}: 1 order placed"
        assert labels[-2][0].endswith(": 0 orders placed")
        outcomes = re.findall(r'aria-label="([^"]*)"', svgs["shop-dashboard-outcomes"])
        assert "Succeeded: 0 of 0 card payments (0%)" in outcomes
        top = re.findall(r'aria-label="([^"]*)"', svgs["shop-dashboard-top-products"])
        assert any(label.endswith(": 1 unit") for label in top)
        assert response.text.count("Figures as a table") == 3


class TestLayout:
    def test_the_dashboard_spans_the_page_above_the_app_list_and_recent_actions(self, admin_client):
        response = admin_client.get(INDEX)

        html = response.text
        assert 'id="content" class="colM shop-index"' in html
        assert (
            html.index('id="shop-dashboard-title"')
            < html.index('id="content-main"')
            < html.index('id="content-related"')
        )


class TestChartGeometry:
    @pytest.mark.parametrize(
        ("largest", "top", "ticks"),
        [
            (0, 1, [0, 1]),
            (3, 3, [0, 1, 2, 3]),
            (14, 15, [0, 5, 10, 15]),
            (1234.5, 1500, [0, 500, 1000, 1500]),
            (20_000, 20_000, [0, 5_000, 10_000, 15_000, 20_000]),
        ],
    )
    def test_the_scale_rounds_up_to_a_few_round_ticks(self, largest, top, ticks):
        assert charts.nice_scale(largest) == (top, ticks)

    def test_scale_labels_are_short(self):
        assert [charts.compact(value) for value in (0, 950, 1_500, 15_000, 2_500_000)] == [
            "0",
            "950",
            "1,500",
            "15k",
            "2.5M",
        ]

    def test_bars_are_proportional_and_a_day_without_any_keeps_a_stub(self):
        days = [
            {
                "day": timezone.localdate() - timedelta(days=2 - i),
                "orders": n,
                "revenue": Decimal(n),
                "orders_url": "/o",
                "revenue_url": "/r",
            }
            for i, n in enumerate([0, 5, 10])
        ]

        _, orders = charts.daily_chart(days, "USD")["bands"]

        heights = [float(bar["height"]) for bar in orders["bars"]]
        assert heights[0] == charts.ZERO_BAR
        assert heights[2] == pytest.approx(2 * heights[1])
        assert heights[2] == charts.ORDERS_HEIGHT  # 10 is the top of its scale

    def test_long_labels_are_clipped_with_an_ellipsis(self):
        assert charts.clip("Short name") == "Short name"
        assert charts.clip("A very long product name indeed", 12) == "A very long…"

    def test_each_weekend_is_one_band(self):
        saturday = date(2026, 11, 7)
        days = [
            {
                "day": saturday + timedelta(days=i),
                "orders": 0,
                "revenue": Decimal(0),
                "orders_url": "/o",
                "revenue_url": "/r",
            }
            for i in range(14)
        ]

        weekends = charts.daily_chart(days, "USD")["weekends"]

        column = (charts.DAILY_WIDTH - charts.DAILY_LEFT - charts.DAILY_RIGHT) / 14
        assert [(float(band["x"]), float(band["width"])) for band in weekends] == [
            (pytest.approx(charts.DAILY_LEFT), pytest.approx(2 * column, abs=0.1)),
            (pytest.approx(charts.DAILY_LEFT + 7 * column, abs=0.1), pytest.approx(2 * column, abs=0.1)),
        ]
