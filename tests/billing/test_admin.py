"""Staff admin for billing (SPEC §8): payments with their attempts, invoices with the print link."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.factories import OUTAGE_ERROR, CardOrderFactory
from billing.models import Invoice, InvoiceSequence, Payment, PaymentAttempt
from orders.factories import OrderFactory
from orders.status import Status
from tests.utils import change_url, changelist_url, listed

pytestmark = pytest.mark.django_db

PRODUCT = {"price": Decimal("12.50")}  # the conftest's product at this price: two cost 25.00


class TestPaymentAdmin:
    @pytest.mark.parametrize("count", [3, 30])
    def test_changelist_query_count_does_not_grow_with_rows(self, admin_client, django_assert_num_queries, count):
        for _ in range(count):
            CardOrderFactory(status=Status.CONFIRMED, outages=1)

        # 1 session, 2 user, 3 count of the filtered rows (no second, unfiltered count),
        # 4 the page of payments JOIN order. The method filter's choices are fixed: no query.
        with django_assert_num_queries(4):
            response = admin_client.get(changelist_url(Payment))

        assert response.status_code == 200
        assert [payment.attempt_count for payment in listed(response)] == [2] * count

    def test_search_finds_payments_by_order_number_customer_email_and_gateway_reference(self, admin_client):
        wanted = CardOrderFactory(status=Status.CONFIRMED, customer__email="ada@example.com")
        CardOrderFactory(status=Status.CONFIRMED)
        payment = wanted.payment

        for query in (wanted.number, "ada@example", payment.gateway_reference):
            response = admin_client.get(changelist_url(Payment), {"q": query})
            assert listed(response) == [payment], query

    def test_method_filter(self, admin_client):
        paid = CardOrderFactory(status=Status.CONFIRMED)

        by_card = admin_client.get(changelist_url(Payment), {"method": "card"})
        by_cash = admin_client.get(changelist_url(Payment), {"method": "cash"})

        assert listed(by_card) == [paid.payment]
        assert listed(by_cash) == []

    def test_status_filter(self, admin_client):
        waiting, paid = CardOrderFactory(), CardOrderFactory(status=Status.CONFIRMED)

        response = admin_client.get(changelist_url(Payment), {"status__exact": Payment.Status.PENDING})

        assert listed(response) == [waiting.payment]
        assert paid.payment.status == Payment.Status.SUCCEEDED  # listed under its own status instead

    def test_payment_page_shows_its_attempts_read_only(self, admin_client):
        order = CardOrderFactory(status=Status.CONFIRMED, outages=1)

        response = admin_client.get(change_url(order.payment))

        assert response.status_code == 200
        inline = response.context["inline_admin_formsets"][0]
        assert [(form.instance.number, form.instance.outcome) for form in inline.formset.forms] == [
            (1, PaymentAttempt.Outcome.OUTAGE),
            (2, PaymentAttempt.Outcome.SUCCEEDED),
        ]
        assert not (inline.has_add_permission or inline.has_change_permission or inline.has_delete_permission)
        page = response.content.decode()
        assert OUTAGE_ERROR in page
        assert order.payment.gateway_reference in page
        assert reverse("admin:orders_order_change", args=[order.pk]) in page  # the order is a link

    def test_payments_cannot_be_added_changed_or_deleted(self, admin_client, product):
        payment = CardOrderFactory(status=Status.CONFIRMED, lines=[(product, 2)]).payment

        response = admin_client.post(change_url(payment), {"status": Payment.Status.REFUNDED, "amount": "0.00"})

        assert response.status_code == 403
        payment.refresh_from_db()
        assert (payment.status, payment.amount) == (Payment.Status.SUCCEEDED, Decimal("25.00"))
        assert admin_client.get(reverse("admin:billing_payment_add")).status_code == 403
        assert admin_client.get(reverse("admin:billing_payment_delete", args=[payment.pk])).status_code == 403
        assert not admin_client.get(change_url(payment)).context["has_change_permission"]

    def test_attempts_are_listed_with_a_fixed_number_of_queries(self, admin_client, django_assert_num_queries):
        for _ in range(5):
            CardOrderFactory(status=Status.CONFIRMED, outages=1)

        # 1 session, 2 user, 3 count, 4 the page of attempts JOIN payment JOIN order.
        with django_assert_num_queries(4):
            response = admin_client.get(changelist_url(PaymentAttempt))

        assert len(listed(response)) == 10
        assert admin_client.get(change_url(listed(response)[0])).status_code == 200


class TestInvoiceAdmin:
    @pytest.mark.parametrize("count", [3, 30])
    def test_changelist_query_count_does_not_grow_with_rows(self, admin_client, django_assert_num_queries, count):
        for _ in range(count):
            OrderFactory()  # confirmed at once: the invoice is issued

        # 1 session, 2 user, 3 count of the filtered rows, 4 the page of invoices JOIN order.
        with django_assert_num_queries(4):
            response = admin_client.get(changelist_url(Invoice))

        assert response.status_code == 200
        assert len(listed(response)) == count

    def test_search_finds_invoices_by_number_order_number_and_customer_email(self, admin_client):
        order = OrderFactory(customer__email="grace@example.com")
        OrderFactory()
        invoice = order.invoice

        for query in (invoice.number, order.number, "grace@example"):
            response = admin_client.get(changelist_url(Invoice), {"q": query})
            assert listed(response) == [invoice], query

    def test_payment_method_filter(self, admin_client):
        cash, card = OrderFactory().invoice, CardOrderFactory(status=Status.CONFIRMED).invoice

        assert listed(admin_client.get(changelist_url(Invoice), {"payment_method": "cash"})) == [cash]
        assert listed(admin_client.get(changelist_url(Invoice), {"payment_method": "card"})) == [card]

    def test_each_row_links_the_printable_page_in_a_new_tab(self, admin_client):
        invoice = OrderFactory().invoice

        page = admin_client.get(changelist_url(Invoice)).content.decode()

        url = reverse("invoice-print", args=[invoice.pk])
        assert f'<a href="{url}" target="_blank" rel="noopener">' in page

    def test_the_change_page_links_the_printable_page_which_renders_for_the_admin_session(self, admin_client):
        invoice = OrderFactory().invoice
        url = reverse("invoice-print", args=[invoice.pk])

        page = admin_client.get(change_url(invoice))

        assert page.status_code == 200
        assert f'<a href="{url}" target="_blank" rel="noopener">' in page.content.decode()
        printed = admin_client.get(url)
        assert printed.status_code == 200
        assert printed["Content-Type"].startswith("text/html")
        assert invoice.number in printed.content.decode()

    def test_the_invoice_and_order_pages_link_the_pdf_which_renders_for_the_admin_session(self, admin_client):
        invoice = OrderFactory().invoice
        url = reverse("invoice-pdf", args=[invoice.pk])

        for page in (admin_client.get(change_url(invoice)), admin_client.get(change_url(invoice.order))):
            assert f'<a href="{url}" target="_blank" rel="noopener">PDF ↗</a>' in page.content.decode()
        pdf = admin_client.get(url)
        assert pdf.status_code == 200
        assert pdf["Content-Type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")

    def test_invoices_are_read_only(self, admin_client, product):
        invoice = OrderFactory(lines=[(product, 2)]).invoice

        response = admin_client.post(change_url(invoice), {"total": "0.00"})

        assert response.status_code == 403
        assert Invoice.objects.get(pk=invoice.pk).total == Decimal("25.00")
        assert admin_client.get(reverse("admin:billing_invoice_add")).status_code == 403
        assert admin_client.get(reverse("admin:billing_invoice_delete", args=[invoice.pk])).status_code == 403

    def test_export_csv_lists_the_selected_invoices(self, admin_client, product):
        invoice = OrderFactory(customer__email="ada@example.com", lines=[(product, 2)]).invoice

        response = admin_client.post(
            changelist_url(Invoice), {"action": "export_csv", "_selected_action": [invoice.pk]}
        )

        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert rows[0][:3] == ["number", "order_number", "customer_email"]
        assert rows[1][:3] == [invoice.number, invoice.order.number, "ada@example.com"]
        assert rows[1][-1] == "25.00"

    def test_the_invoice_sequence_is_listed_read_only(self, admin_client):
        OrderFactory()
        sequence = InvoiceSequence.objects.get()

        response = admin_client.get(changelist_url(InvoiceSequence))

        assert listed(response) == [sequence]
        assert admin_client.post(change_url(sequence), {"last_number": 0}).status_code == 403
        assert InvoiceSequence.objects.get().last_number == 1


def test_every_billing_model_is_registered(admin_client):
    for model in (Payment, PaymentAttempt, Invoice, InvoiceSequence):
        assert admin_client.get(changelist_url(model)).status_code == 200, model
