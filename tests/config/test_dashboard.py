"""The staff dashboard on the admin index (SPEC §8): figures, links, queries, cache, breaker, permissions."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing.breaker import get_breaker
from billing.factories import CardOrderFactory
from catalog.factories import ProductFactory
from catalog.models import Product
from config.dashboard import LOW_STOCK_LISTED
from orders.factories import OrderFactory
from orders.models import Order
from orders.status import Status
from tests.utils import UNREACHABLE_REDIS_CACHE, reset_breaker

pytestmark = pytest.mark.django_db

INDEX = reverse("admin:index")
DASHBOARD_TABLES = ("orders_order", "billing_payment", "catalog_product")


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


def low_stock_product(stock: int, **kwargs) -> Product:
    return ProductFactory(stock=stock, **kwargs)


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

    def test_sales_of_no_orders_are_zero(self):
        assert Order.objects.sales() == {"orders": 0, "revenue": Decimal("0.00")}

    def test_low_stock_defaults_to_the_threshold_setting(self, settings):
        settings.LOW_STOCK_THRESHOLD = 3
        at, above = ProductFactory(stock=3), ProductFactory(stock=4)

        assert list(Product.objects.low_stock()) == [at]
        assert list(Product.objects.low_stock(4).order_by("stock")) == [at, above]


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

        lowest = sorted(low, key=lambda product: (product.stock, product.name))[:LOW_STOCK_LISTED]
        assert figures["count"] == 12
        assert [product["sku"] for product in figures["lowest"]] == [product.sku for product in lowest]
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
    @pytest.mark.parametrize("rows", [1, 30])
    def test_the_index_runs_a_fixed_number_of_queries_whatever_the_row_counts(
        self, admin_client, django_assert_num_queries, rows
    ):
        for _ in range(rows):
            OrderFactory()
            CardOrderFactory()
            CardOrderFactory(status=Status.PAYMENT_FAILED)
            low_stock_product(1)

        # 1. session; 2. user; 3. orders today: COUNT and SUM in one aggregate; 4. payments:
        # both counts in one aggregate; 5. low-stock COUNT; 6. the 10 lowest products;
        # 7. the "Recent actions" sidebar (admin log). A superuser's permission checks run none.
        with django_assert_num_queries(7):
            response = admin_client.get(INDEX)

        assert response.context["dashboard"]["orders"]["orders"] == 3 * rows
        assert response.context["dashboard"]["low_stock"]["count"] == rows

    def test_a_second_load_within_the_cache_window_counts_nothing_again(self, admin_client):
        OrderFactory()
        with CaptureQueriesContext(connection) as first:
            admin_client.get(INDEX)
        OrderFactory()  # within the window, the dashboard still shows the count it cached

        with CaptureQueriesContext(connection) as second:
            response = admin_client.get(INDEX)

        assert len(dashboard_queries(first)) == 4
        assert dashboard_queries(second) == []
        assert len(second) == len(first) - 4  # session, user and the admin log remain
        assert response.context["dashboard"]["orders"]["orders"] == 1

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

    def test_the_index_still_lists_the_apps(self, admin_client):
        response = admin_client.get(INDEX)

        labels = {app["app_label"] for app in response.context["app_list"]}
        assert {"auth", "catalog", "customers", "orders", "billing"} <= labels
        assert reverse("admin:orders_order_changelist") in response.text
        assert "Recent actions" in response.text
