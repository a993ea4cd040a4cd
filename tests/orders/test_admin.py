import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from orders.factories import DiscountCodeFactory, OrderFactory
from orders.models import DiscountCode, Order
from orders.status import Status
from tests.utils import change_url, changelist_url, listed, messages_of

pytestmark = pytest.mark.django_db

CHANGELIST = changelist_url(Order)


def run_action(client, action: str, orders):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [order.pk for order in orders]}, follow=True)


@pytest.mark.parametrize("orders", [3, 30])
def test_changelist_runs_a_fixed_number_of_queries(admin_client, django_assert_num_queries, orders):
    for _ in range(orders):
        OrderFactory()

    # 1. session; 2. user; 3. COUNT(*) for the paginator (no second, unfiltered count:
    # show_full_result_count is off); 4. the page of orders JOIN customer.
    with django_assert_num_queries(4):
        response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == orders


def test_search_finds_orders_by_number_and_customer_email(admin_client):
    wanted = OrderFactory(customer__email="grace@example.com")
    OrderFactory()

    by_number = admin_client.get(CHANGELIST, {"q": wanted.number})
    by_email = admin_client.get(CHANGELIST, {"q": "grace@example"})

    assert listed(by_number) == [wanted]
    assert listed(by_email) == [wanted]


def test_status_filter(admin_client):
    confirmed, pending = OrderFactory(), OrderFactory(payment_method="card")

    response = admin_client.get(CHANGELIST, {"status__exact": Status.PENDING})

    assert listed(response) == [pending]
    assert confirmed.status == Status.CONFIRMED


def test_actions_move_orders_through_the_status_machine_and_report_refusals(admin_client, admin_user):
    ready, not_paid = OrderFactory(), OrderFactory(payment_method="card")

    response = run_action(admin_client, "mark_in_progress", [ready, not_paid])

    ready.refresh_from_db()
    not_paid.refresh_from_db()
    assert (ready.status, not_paid.status) == (Status.IN_PROGRESS, Status.PENDING)
    assert ready.events.last().actor == admin_user
    texts = messages_of(response)
    assert "1 order moved." in texts
    assert any(not_paid.number in text and "cannot become In progress" in text for text in texts)


def test_export_csv_lists_the_selected_orders(admin_client):
    order = OrderFactory(customer__email="ada@example.com")

    response = admin_client.post(CHANGELIST, {"action": "export_csv", "_selected_action": [order.pk]})

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["number", "customer_email", "status"]
    assert rows[1][:3] == [order.number, "ada@example.com", "confirmed"]


def test_change_page_shows_lines_and_history_but_no_add_or_delete(admin_client):
    order = OrderFactory()

    page = admin_client.get(change_url(order))

    assert page.status_code == 200
    body = page.content.decode()
    assert order.items.get().sku in body
    assert "Order placed." in body
    assert f"{order.invoice.number}" in body and reverse("invoice-print", args=[order.invoice.pk]) in body
    assert admin_client.get(reverse("admin:orders_order_add")).status_code == 403
    assert admin_client.get(reverse("admin:orders_order_delete", args=[order.pk])).status_code == 403


def test_change_page_shows_the_card_payment(admin_client):
    order = OrderFactory(payment_method="card")

    body = admin_client.get(change_url(order)).content.decode()

    assert "Every gateway attempt" in body
    assert reverse("admin:billing_payment_change", args=[order.payment.pk]) in body
    assert "Issued when the order is confirmed." in body


class TestDiscountCodeAdmin:
    @pytest.mark.parametrize("count", [3, 30])
    def test_changelist_query_count_does_not_grow_with_rows(self, admin_client, django_assert_num_queries, count):
        for number in range(count):
            DiscountCodeFactory(code=f"CODE{number}", max_uses=100 if number % 2 else None)

        # 1 session, 2 user, 3 count of the filtered rows, 4 the page.
        with django_assert_num_queries(4):
            response = admin_client.get(changelist_url(DiscountCode))

        assert response.status_code == 200
        assert len(listed(response)) == count

    def test_the_list_shows_uses_against_the_limit(self, admin_client):
        DiscountCodeFactory(code="LIMITED", max_uses=50)
        DiscountCodeFactory(code="ENDLESS")
        OrderFactory(discount_code="limited")

        page = admin_client.get(changelist_url(DiscountCode)).content.decode()

        assert "1 / 50" in page
        assert "0 / ∞" in page

    def test_search_finds_a_code(self, admin_client):
        wanted, _other = DiscountCodeFactory(code="WELCOME10"), DiscountCodeFactory(code="SPRING5")

        response = admin_client.get(changelist_url(DiscountCode), {"q": "welcome"})

        assert listed(response) == [wanted]

    def test_deactivate_and_activate_actions(self, admin_client):
        on, off, other = (
            DiscountCodeFactory(code="ON"),
            DiscountCodeFactory(code="OFF", is_active=False),
            DiscountCodeFactory(code="OTHER"),
        )

        response = admin_client.post(
            changelist_url(DiscountCode), {"action": "deactivate", "_selected_action": [on.pk, off.pk]}, follow=True
        )

        assert "1 discount code deactivated." in messages_of(response)
        assert set(DiscountCode.objects.filter(is_active=True)) == {other}
        response = admin_client.post(
            changelist_url(DiscountCode), {"action": "activate", "_selected_action": [on.pk, off.pk]}, follow=True
        )
        assert "2 discount codes activated." in messages_of(response)
        assert DiscountCode.objects.filter(is_active=True).count() == 3

    def test_times_used_is_read_only_on_the_change_form(self, admin_client):
        code = DiscountCodeFactory(code="WELCOME10", max_uses=10)

        response = admin_client.post(
            change_url(code),
            {
                "code": "WELCOME10",
                "kind": "percent",
                "value": "15",
                "is_active": "on",
                "valid_from_0": "2026-01-01",
                "valid_from_1": "00:00:00",
                "max_uses": "10",
                "times_used": "9",
                "_save": "Save",
            },
        )

        assert response.status_code == 302
        code.refresh_from_db()
        assert (code.value, code.times_used) == (Decimal("15"), 0)
        page = admin_client.get(change_url(code))
        assert "times_used" in page.context["adminform"].readonly_fields


@pytest.mark.parametrize("rest", ["", "7/change/", "?is_active__exact=1"])
def test_the_old_discount_code_admin_urls_lead_to_the_codes(admin_client, rest):
    response = admin_client.get(f"/admin/billing/discountcode/{rest}")

    assert response.status_code == 302
    assert response["Location"] == f"/admin/orders/discountcode/{rest}"
