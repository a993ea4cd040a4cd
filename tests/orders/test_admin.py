import csv
import io
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.urls import reverse

from catalog.factories import ProductFactory
from common.admin import badge
from common.formats import short_datetime
from customers.factories import AddressFactory, CustomerFactory
from orders.admin import ORDER_STATUS_TONES
from orders.factories import DiscountCodeFactory, OrderFactory
from orders.models import DiscountCode, Order
from orders.status import Status
from tests.utils import change_url, changelist_url, listed, messages_of

pytestmark = pytest.mark.django_db

CHANGELIST = changelist_url(Order)


def run_action(client, action: str, orders):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [order.pk for order in orders]}, follow=True)


def move(client, order, status: str, **extra):
    """Press the order page's button for `status`."""
    url = reverse("admin:orders_order_move", args=[order.pk])
    return client.post(url, {"status": status, **extra}, follow=True)


def status_buttons(page) -> list[tuple[str, str]]:
    return [(button.label, button.status) for button in page.context["workbench_buttons"] if button.status]


@pytest.mark.parametrize("orders", [3, 30])
def test_changelist_runs_a_fixed_number_of_queries(admin_client, django_assert_num_queries, orders):
    for _ in range(orders):
        OrderFactory()

    # 1. session; 2. user; 3. COUNT(*) for the paginator (no second, unfiltered count:
    # show_full_result_count is off); 4. the page of orders JOIN customer. Badges, money and
    # labels are read from those rows: no query of their own.
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
    assert f"{not_paid.number} is Pending: it can move to Payment processing or Cancelled only." in texts


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


def test_the_list_shows_one_line_per_order_with_status_badges_and_money(admin_client):
    teapots = ProductFactory(price=Decimal("19.99"), stock=100)
    confirmed = OrderFactory(lines=[(teapots, 60)], customer__first_name="Ada", customer__last_name="Lovelace")
    OrderFactory(payment_method="card", delivery_method="home_delivery")

    page = admin_client.get(CHANGELIST).content.decode()

    assert badge("Confirmed", "active") in page and badge("Pending", "waiting") in page
    assert "1,199.40 USD" in page  # 60 teapots, with the currency
    assert "Cash · Pickup" in page and "Card · Home delivery" in page
    assert ">Ada Lovelace</span>" in page and f"&lt;{confirmed.customer.email}&gt;" in page  # the email on hover
    assert "white-space: nowrap" in page


def test_every_order_status_has_a_colour():
    assert set(ORDER_STATUS_TONES) == set(Status)


class TestOrderPage:
    """The order page is a view page with the order's next steps as buttons (SPEC §8)."""

    @pytest.mark.parametrize("lines", [1, 4])
    def test_it_runs_a_fixed_number_of_queries(self, admin_client, django_assert_num_queries, staff_user, lines):
        order = OrderFactory(lines=[(ProductFactory(stock=10), 1) for _ in range(lines)], discount_code=None)
        order.transition_to(Status.IN_PROGRESS, actor=staff_user)
        admin_client.get(change_url(order))  # Django caches the order's content type for the page once per process

        # 1 session, 2 user, 3 the order JOIN customer, discount code and payment, 4 its invoice
        # with its state, 5 the invoice's credit notes, 6 the payment's refunds with their credit
        # notes and actors; 7-9 the inlines: lines, history JOIN actor, the payment. The buttons,
        # badges, the address and the money are read from those rows.
        with django_assert_num_queries(9):
            response = admin_client.get(change_url(order))

        assert response.status_code == 200
        assert len(response.context["inline_admin_formsets"][0].formset.forms) == lines

    def test_the_next_statuses_are_buttons(self, admin_client):
        order = OrderFactory(delivery_method="home_delivery")
        order.transition_to(Status.IN_PROGRESS)

        page = admin_client.get(change_url(order))

        assert status_buttons(page) == [("Mark shipped", Status.SHIPPED)]
        body = page.content.decode()
        assert badge("In progress", "active") in body
        assert f'action="{reverse("admin:orders_order_move", args=[order.pk])}"' in body
        assert 'name="status" value="shipped"' in body

    def test_a_status_button_moves_the_order_and_writes_history_with_the_staff_actor(self, client, staff_user):
        client.force_login(staff_user)
        order = OrderFactory()

        response = move(client, order, Status.IN_PROGRESS, note="Packing now.")

        assert response.redirect_chain == [(change_url(order), 302)]
        assert f"{order.number} is now In progress." in messages_of(response)
        order.refresh_from_db()
        assert order.status == Status.IN_PROGRESS
        event = order.events.last()
        assert (event.from_status, event.to_status, event.actor, event.note) == (
            Status.CONFIRMED, Status.IN_PROGRESS, staff_user, "Packing now.",
        )  # fmt: skip
        assert status_buttons(response) == [("Mark delivered", Status.DELIVERED)]  # the page's next step

    def test_a_forbidden_status_is_refused_in_words(self, admin_client):
        order = OrderFactory()

        response = move(admin_client, order, Status.DELIVERED)

        assert messages_of(response) == [f"{order.number} is Confirmed: it can move to In progress or Cancelled only."]
        assert Order.objects.get(pk=order.pk).status == Status.CONFIRMED
        assert order.events.count() == 2  # placed, confirmed: nothing written

    def test_a_final_order_has_no_buttons_and_says_so(self, admin_client):
        order = OrderFactory(status=Status.CANCELLED)

        page = admin_client.get(change_url(order))
        refused = move(admin_client, order, Status.IN_PROGRESS)

        assert page.context["workbench_buttons"] == []
        assert "No next step for staff: the order is final." in page.content.decode()
        assert messages_of(refused) == [f"{order.number} is Cancelled: it is final."]

    def test_a_card_orders_way_through_its_payment_is_left_to_the_payment_worker(self, admin_client):
        order = OrderFactory(payment_method="card")  # pending: payment_processing is allowed next, by the worker

        page = admin_client.get(change_url(order))
        response = move(admin_client, order, Status.PAYMENT_PROCESSING)

        assert status_buttons(page) == []  # cancelling is billing's confirmed link
        assert any("the payment worker moves a card order" in text for text in messages_of(response))
        assert Order.objects.get(pk=order.pk).status == Status.PENDING

    def test_staff_who_may_only_view_orders_get_no_buttons_and_cannot_move_them(
        self, client, staff_without_permissions
    ):
        staff_without_permissions.user_permissions.add(Permission.objects.get(codename="view_order"))
        client.force_login(staff_without_permissions)
        order = OrderFactory()

        page = client.get(change_url(order))
        response = client.post(reverse("admin:orders_order_move", args=[order.pk]), {"status": Status.IN_PROGRESS})

        assert page.status_code == 200
        assert page.context["workbench_buttons"] == []
        assert "you may look at orders, not move them." in page.content.decode()
        assert response.status_code == 403
        assert Order.objects.get(pk=order.pk).status == Status.CONFIRMED

    def test_moving_takes_a_post(self, admin_client):
        order = OrderFactory()

        assert admin_client.get(reverse("admin:orders_order_move", args=[order.pk])).status_code == 405

    def test_the_page_has_no_save_button_and_a_post_to_it_changes_nothing(self, admin_client):
        order = OrderFactory()

        page = admin_client.get(change_url(order))
        response = admin_client.post(
            change_url(order),
            {"delivery_method": "home_delivery", "payment_method": "card", "status": "cancelled", "_save": "Save"},
        )

        body = page.content.decode()
        assert 'name="_save"' not in body and 'name="_continue"' not in body
        assert page.context["title"] == f"Order {order.number}"
        assert response.status_code == 403
        unchanged = Order.objects.get(pk=order.pk)
        assert (unchanged.status, unchanged.delivery_method, unchanged.payment_method, unchanged.updated_at) == (
            order.status, order.delivery_method, order.payment_method, order.updated_at,
        )  # fmt: skip
        assert not LogEntry.objects.exists()  # no "changed successfully" either

    def test_the_shipping_address_reads_as_an_address(self, admin_client):
        customer = CustomerFactory()
        address = AddressFactory(
            customer=customer, line1="12 Analytical Row", line2="Flat 3", postal_code="SW1A 1AA", city="London",
            country="GB",
        )  # fmt: skip
        order = OrderFactory(customer=customer, delivery_method="home_delivery", address=address)

        body = admin_client.get(change_url(order)).content.decode()

        assert "<address>12 Analytical Row<br>Flat 3<br>SW1A 1AA London<br>United Kingdom</address>" in body
        assert "line1" not in body  # no JSON

    def test_an_order_without_delivery_says_it_needs_no_address(self, admin_client):
        body = admin_client.get(change_url(OrderFactory(delivery_method="pickup"))).content.decode()

        assert "None: pickup." in body

    def test_lines_name_each_product_once_linking_its_page_with_money(self, admin_client, product):
        order = OrderFactory(lines=[(product, 2)], customer__first_name="Ada", customer__last_name="Lovelace")

        body = admin_client.get(change_url(order)).content.decode()

        assert f'<a href="{reverse("admin:catalog_product_change", args=[product.pk])}">Teapot</a>' in body
        assert body.count("Teapot") == 1
        assert "TEA-POT" in body and "19.99 USD" in body and "39.98 USD" in body
        customer_url = reverse("admin:customers_customer_change", args=[order.customer.pk])
        assert f'<a href="{customer_url}">Ada Lovelace</a> · {order.customer.email}' in body

    def test_units_returned_to_stock_are_shown_on_their_line(self, admin_client, product):
        order = OrderFactory(lines=[(product, 3)], status=Status.DELIVERED)
        order.return_to_stock({order.items.get().pk: 2})

        body = admin_client.get(change_url(order)).content.decode()

        assert '<td class="field-returned">2</td>' in body

    def test_the_history_reads_as_sentences(self, admin_client, staff_user):
        order = OrderFactory()
        order.transition_to(Status.IN_PROGRESS, actor=staff_user, note="Packing.")
        placed, confirmed, started = order.events.all()

        body = admin_client.get(change_url(order)).content.decode()

        assert str(placed) == f"Placed as Pending by system, {short_datetime(placed.created_at)} — Order placed."
        assert str(confirmed).startswith("Pending → Confirmed by system, ")
        assert str(started) == f"Confirmed → In progress by staff, {short_datetime(started.created_at)} — Packing."
        for event in (placed, confirmed, started):
            assert str(event) in body
        assert "∅" not in body


def test_the_customer_page_shows_each_orders_status_as_a_badge(admin_client):
    order = OrderFactory(payment_method="card")

    body = admin_client.get(change_url(order.customer)).content.decode()

    assert badge("Pending", "waiting") in body
    assert f'<a href="{change_url(order)}">{order.number}</a>' in body


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
