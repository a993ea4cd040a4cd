import csv
import io

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from catalog.factories import ProductFactory
from catalog.models import Product
from customers.factories import CustomerFactory
from orders.managers import Line
from orders.models import Order
from orders.status import Status

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:orders_order_changelist")


def place(customer=None, payment_method="cash", stock=10, quantity=1) -> Order:
    product = ProductFactory(stock=stock)
    order, _ = Order.objects.place(
        customer=customer or CustomerFactory(),
        lines=[Line(product=product.pk, quantity=quantity)],
        delivery_method="pickup",
        payment_method=payment_method,
    )
    return order


def run_action(client, action: str, orders):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [order.pk for order in orders]}, follow=True)


@pytest.mark.parametrize("orders", [3, 30])
def test_changelist_runs_a_fixed_number_of_queries(admin_client, django_assert_num_queries, orders):
    for _ in range(orders):
        place()

    # 1. session; 2. user; 3. COUNT(*) for the paginator (no second, unfiltered count:
    # show_full_result_count is off); 4. the page of orders JOIN customer.
    with django_assert_num_queries(4):
        response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == orders


def test_search_finds_orders_by_number_and_customer_email(admin_client):
    wanted = place(CustomerFactory(email="grace@example.com"))
    place()

    by_number = admin_client.get(CHANGELIST, {"q": wanted.number})
    by_email = admin_client.get(CHANGELIST, {"q": "grace@example"})

    assert list(by_number.context["cl"].result_list) == [wanted]
    assert list(by_email.context["cl"].result_list) == [wanted]


def test_status_filter(admin_client):
    confirmed, pending = place(payment_method="cash"), place(payment_method="card")

    response = admin_client.get(CHANGELIST, {"status__exact": Status.PENDING})

    assert list(response.context["cl"].result_list) == [pending]
    assert confirmed.status == Status.CONFIRMED


def test_actions_move_orders_through_the_status_machine_and_report_refusals(admin_client, admin_user):
    ready, not_paid = place(payment_method="cash"), place(payment_method="card")

    response = run_action(admin_client, "mark_in_progress", [ready, not_paid])

    ready.refresh_from_db()
    not_paid.refresh_from_db()
    assert (ready.status, not_paid.status) == (Status.IN_PROGRESS, Status.PENDING)
    assert ready.events.last().actor == admin_user
    texts = [str(message) for message in get_messages(response.wsgi_request)]
    assert "1 order moved." in texts
    assert any(not_paid.number in text and "cannot become in_progress" in text for text in texts)


def test_cancel_action_releases_stock(admin_client):
    order = place(stock=5, quantity=3)
    product = order.items.get().product

    run_action(admin_client, "mark_cancelled", [order])

    order.refresh_from_db()
    assert order.status == Status.CANCELLED
    assert Product.objects.get(pk=product.pk).stock == 5


def test_export_csv_lists_the_selected_orders(admin_client):
    order = place(CustomerFactory(email="ada@example.com"))

    response = admin_client.post(CHANGELIST, {"action": "export_csv", "_selected_action": [order.pk]})

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["number", "customer_email", "status"]
    assert rows[1][:3] == [order.number, "ada@example.com", "confirmed"]


def test_change_page_shows_lines_and_history_but_no_add_or_delete(admin_client):
    order = place()

    page = admin_client.get(reverse("admin:orders_order_change", args=[order.pk]))

    assert page.status_code == 200
    body = page.content.decode()
    assert order.items.get().sku in body
    assert "Order placed." in body
    assert f"{order.invoice.number}" in body and reverse("invoice-print", args=[order.invoice.pk]) in body
    assert admin_client.get(reverse("admin:orders_order_add")).status_code == 403
    assert admin_client.get(reverse("admin:orders_order_delete", args=[order.pk])).status_code == 403


def test_change_page_shows_the_card_payment(admin_client):
    order = place(payment_method="card")

    body = admin_client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()

    assert "Every gateway attempt" in body
    assert reverse("admin:billing_payment_change", args=[order.payment.pk]) in body
    assert "Issued when the order is confirmed." in body


@pytest.mark.parametrize("rest", ["", "7/change/", "?is_active__exact=1"])
def test_the_old_discount_code_admin_urls_lead_to_the_codes(admin_client, rest):
    response = admin_client.get(f"/admin/billing/discountcode/{rest}")

    assert response.status_code == 302
    assert response["Location"] == f"/admin/orders/discountcode/{rest}"
