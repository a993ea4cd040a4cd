"""Staff admin for billing (SPEC §8): payments with their attempts, invoices with the print link, discount codes."""

import csv
import io
import time
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from billing import payments
from billing.models import Invoice, InvoiceSequence, Payment, PaymentAttempt
from catalog.factories import ProductFactory
from customers.factories import CustomerFactory
from orders.managers import Line
from orders.models import DiscountCode, Order
from orders.status import Status

pytestmark = pytest.mark.django_db


def changelist_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def listed(response) -> list:
    return list(response.context["cl"].result_list)


def place(payment_method: str, customer=None) -> Order:
    order, _ = Order.objects.place(
        customer=customer or CustomerFactory(),
        lines=[Line(product=ProductFactory(stock=10, price=Decimal("12.50")).pk, quantity=2)],
        delivery_method="pickup",
        payment_method=payment_method,
    )
    return order


def paid_order(customer=None, *, outage_first: bool = False) -> Order:
    """Place a card order and capture its payment as the worker does, after an outage if asked."""
    order = place("card", customer)
    payment = payments.start_payment(order.pk)
    if outage_first:
        payments.record_attempt(payment, 1, PaymentAttempt.Outcome.OUTAGE, time.monotonic(), error="Gateway down.")
    payments.record_attempt(payment, payment.attempt_count + 1, PaymentAttempt.Outcome.SUCCEEDED, time.monotonic())
    payment.status, payment.gateway_reference = Payment.Status.SUCCEEDED, f"mock_ch_{order.pk:016x}"
    payment.save(update_fields=["status", "gateway_reference", "updated_at"])
    order.transition_to(Status.CONFIRMED, note="Payment captured.")
    return Order.objects.select_related("payment").get(pk=order.pk)  # placing cached the pending payment


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


class TestPaymentAdmin:
    @pytest.mark.parametrize("count", [3, 30])
    def test_changelist_query_count_does_not_grow_with_rows(self, admin_client, django_assert_num_queries, count):
        for _ in range(count):
            paid_order(outage_first=True)

        # 1 session, 2 user, 3 count of the filtered rows (no second, unfiltered count),
        # 4 the page of payments JOIN order. The method filter's choices are fixed: no query.
        with django_assert_num_queries(4):
            response = admin_client.get(changelist_url(Payment))

        assert response.status_code == 200
        assert [payment.attempt_count for payment in listed(response)] == [2] * count

    def test_search_finds_payments_by_order_number_customer_email_and_gateway_reference(self, admin_client):
        wanted = paid_order(CustomerFactory(email="ada@example.com"))
        paid_order()
        payment = wanted.payment

        for query in (wanted.number, "ada@example", payment.gateway_reference):
            response = admin_client.get(changelist_url(Payment), {"q": query})
            assert listed(response) == [payment], query

    def test_method_filter(self, admin_client):
        paid = paid_order()

        by_card = admin_client.get(changelist_url(Payment), {"method": "card"})
        by_cash = admin_client.get(changelist_url(Payment), {"method": "cash"})

        assert listed(by_card) == [paid.payment]
        assert listed(by_cash) == []

    def test_status_filter(self, admin_client):
        waiting, paid = place("card"), paid_order()

        response = admin_client.get(changelist_url(Payment), {"status__exact": Payment.Status.PENDING})

        assert listed(response) == [waiting.payment]
        assert paid.payment.status == Payment.Status.SUCCEEDED  # listed under its own status instead

    def test_payment_page_shows_its_attempts_read_only(self, admin_client):
        order = paid_order(outage_first=True)

        response = admin_client.get(change_url(order.payment))

        assert response.status_code == 200
        inline = response.context["inline_admin_formsets"][0]
        assert [(form.instance.number, form.instance.outcome) for form in inline.formset.forms] == [
            (1, PaymentAttempt.Outcome.OUTAGE),
            (2, PaymentAttempt.Outcome.SUCCEEDED),
        ]
        assert not (inline.has_add_permission or inline.has_change_permission or inline.has_delete_permission)
        page = response.content.decode()
        assert "Gateway down." in page
        assert order.payment.gateway_reference in page
        assert reverse("admin:orders_order_change", args=[order.pk]) in page  # the order is a link

    def test_payments_cannot_be_added_changed_or_deleted(self, admin_client):
        payment = paid_order().payment

        response = admin_client.post(change_url(payment), {"status": Payment.Status.REFUNDED, "amount": "0.00"})

        assert response.status_code == 403
        payment.refresh_from_db()
        assert (payment.status, payment.amount) == (Payment.Status.SUCCEEDED, Decimal("25.00"))
        assert admin_client.get(reverse("admin:billing_payment_add")).status_code == 403
        assert admin_client.get(reverse("admin:billing_payment_delete", args=[payment.pk])).status_code == 403
        assert not admin_client.get(change_url(payment)).context["has_change_permission"]

    def test_attempts_are_listed_with_a_fixed_number_of_queries(self, admin_client, django_assert_num_queries):
        for _ in range(5):
            paid_order(outage_first=True)

        # 1 session, 2 user, 3 count, 4 the page of attempts JOIN payment JOIN order.
        with django_assert_num_queries(4):
            response = admin_client.get(changelist_url(PaymentAttempt))

        assert len(listed(response)) == 10
        assert admin_client.get(change_url(listed(response)[0])).status_code == 200


class TestInvoiceAdmin:
    @pytest.mark.parametrize("count", [3, 30])
    def test_changelist_query_count_does_not_grow_with_rows(self, admin_client, django_assert_num_queries, count):
        for _ in range(count):
            place("cash")  # confirmed at once: the invoice is issued

        # 1 session, 2 user, 3 count of the filtered rows, 4 the page of invoices JOIN order.
        with django_assert_num_queries(4):
            response = admin_client.get(changelist_url(Invoice))

        assert response.status_code == 200
        assert len(listed(response)) == count

    def test_search_finds_invoices_by_number_order_number_and_customer_email(self, admin_client):
        order = place("cash", CustomerFactory(email="grace@example.com"))
        place("cash")
        invoice = order.invoice

        for query in (invoice.number, order.number, "grace@example"):
            response = admin_client.get(changelist_url(Invoice), {"q": query})
            assert listed(response) == [invoice], query

    def test_payment_method_filter(self, admin_client):
        cash, card = place("cash").invoice, paid_order().invoice

        assert listed(admin_client.get(changelist_url(Invoice), {"payment_method": "cash"})) == [cash]
        assert listed(admin_client.get(changelist_url(Invoice), {"payment_method": "card"})) == [card]

    def test_each_row_links_the_printable_page_in_a_new_tab(self, admin_client):
        invoice = place("cash").invoice

        page = admin_client.get(changelist_url(Invoice)).content.decode()

        url = reverse("invoice-print", args=[invoice.pk])
        assert f'<a href="{url}" target="_blank" rel="noopener">' in page

    def test_the_change_page_links_the_printable_page_which_renders_for_the_admin_session(self, admin_client):
        invoice = place("cash").invoice
        url = reverse("invoice-print", args=[invoice.pk])

        page = admin_client.get(change_url(invoice))

        assert page.status_code == 200
        assert f'<a href="{url}" target="_blank" rel="noopener">' in page.content.decode()
        printed = admin_client.get(url)
        assert printed.status_code == 200
        assert printed["Content-Type"].startswith("text/html")
        assert invoice.number in printed.content.decode()

    def test_invoices_are_read_only(self, admin_client):
        invoice = place("cash").invoice

        response = admin_client.post(change_url(invoice), {"total": "0.00"})

        assert response.status_code == 403
        assert Invoice.objects.get(pk=invoice.pk).total == Decimal("25.00")
        assert admin_client.get(reverse("admin:billing_invoice_add")).status_code == 403
        assert admin_client.get(reverse("admin:billing_invoice_delete", args=[invoice.pk])).status_code == 403

    def test_export_csv_lists_the_selected_invoices(self, admin_client):
        invoice = place("cash", CustomerFactory(email="ada@example.com")).invoice

        response = admin_client.post(
            changelist_url(Invoice), {"action": "export_csv", "_selected_action": [invoice.pk]}
        )

        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert rows[0][:3] == ["number", "order_number", "customer_email"]
        assert rows[1][:3] == [invoice.number, invoice.order.number, "ada@example.com"]
        assert rows[1][-1] == "25.00"

    def test_the_invoice_sequence_is_listed_read_only(self, admin_client):
        place("cash")
        sequence = InvoiceSequence.objects.get()

        response = admin_client.get(changelist_url(InvoiceSequence))

        assert listed(response) == [sequence]
        assert admin_client.post(change_url(sequence), {"last_number": 0}).status_code == 403
        assert InvoiceSequence.objects.get().last_number == 1


def discount_code(code: str, **fields) -> DiscountCode:
    return DiscountCode.objects.create(code=code, kind=DiscountCode.Kind.PERCENT, value=Decimal("10"), **fields)


class TestDiscountCodeAdmin:
    @pytest.mark.parametrize("count", [3, 30])
    def test_changelist_query_count_does_not_grow_with_rows(self, admin_client, django_assert_num_queries, count):
        for number in range(count):
            discount_code(f"CODE{number}", max_uses=100 if number % 2 else None)

        # 1 session, 2 user, 3 count of the filtered rows, 4 the page.
        with django_assert_num_queries(4):
            response = admin_client.get(changelist_url(DiscountCode))

        assert response.status_code == 200
        assert len(listed(response)) == count

    def test_the_list_shows_uses_against_the_limit(self, admin_client):
        discount_code("LIMITED", max_uses=50)
        discount_code("ENDLESS")
        Order.objects.place(
            customer=CustomerFactory(),
            lines=[Line(product=ProductFactory(stock=5).pk, quantity=1)],
            delivery_method="pickup",
            payment_method="cash",
            discount_code="limited",
        )

        page = admin_client.get(changelist_url(DiscountCode)).content.decode()

        assert "1 / 50" in page
        assert "0 / ∞" in page

    def test_search_finds_a_code(self, admin_client):
        wanted, _other = discount_code("WELCOME10"), discount_code("SPRING5")

        response = admin_client.get(changelist_url(DiscountCode), {"q": "welcome"})

        assert listed(response) == [wanted]

    def test_deactivate_and_activate_actions(self, admin_client):
        on, off, other = discount_code("ON"), discount_code("OFF", is_active=False), discount_code("OTHER")

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
        code = discount_code("WELCOME10", max_uses=10)

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


def test_every_billing_model_is_registered(admin_client):
    for model in (Payment, PaymentAttempt, Invoice, InvoiceSequence):
        assert admin_client.get(changelist_url(model)).status_code == 200, model
