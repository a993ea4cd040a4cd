"""Printable documents (SPEC §4 billing): the seller, the invoice as PDF, the PDF in the confirmation email.

The print page and the PDF come from one template and one context (billing/documents.py);
the PDF's text is read back with pypdf (the raw bytes are compressed).
"""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from urllib.request import OpenerDirector

import pytest
from pypdf import PdfReader
from weasyprint.text.fonts import FontConfiguration

from billing import documents
from billing.documents import FetchRefused, InlineOnlyFetcher
from billing.factories import RefundFactory
from billing.tasks import send_order_email
from conftest import bearer_client
from orders.factories import OrderFactory
from orders.status import Status
from tests.utils import assert_error

pytestmark = pytest.mark.django_db

INVOICES = "/api/v1/invoices/"
SELLER = {
    "SHOP_SELLER_NAME": "Corner Tea Trading Ltd",
    "SHOP_SELLER_ADDRESS": "12 Harbour Row\nPortsmouth PO1 3AB\nUnited Kingdom",
    "SHOP_SELLER_TAX_ID": "GB 123 4567 89",
}


def pdf_url(invoice) -> str:
    return f"{INVOICES}{invoice.pk}/pdf/"


def print_url(invoice) -> str:
    return f"{INVOICES}{invoice.pk}/print/"


def pdf_text(content: bytes) -> str:
    """Return the text of every page of a PDF."""
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages)


@pytest.fixture
def seller(settings):
    for name, value in SELLER.items():
        setattr(settings, name, value)


@pytest.fixture
def invoice(customer, product):
    return OrderFactory(customer=customer, lines=[(product, 2)]).invoice


# --- The seller from settings ----------------------------------------------------------------


class TestSeller:
    def test_the_print_page_shows_the_sellers_name_address_and_tax_id(self, customer_client, invoice, seller):
        page = customer_client.get(print_url(invoice)).content.decode()

        for text in ["Corner Tea Trading Ltd", "12 Harbour Row", "Portsmouth PO1 3AB", "United Kingdom"]:
            assert f"<div>{text}</div>" in page, text
        assert "Tax ID: GB 123 4567 89" in page

    def test_no_tax_id_line_without_a_tax_id(self, customer_client, invoice, settings):
        settings.SHOP_SELLER_TAX_ID = ""

        page = customer_client.get(print_url(invoice)).content.decode()

        assert "Tax ID" not in page

    def test_the_address_setting_keeps_one_line_per_line(self, settings):
        settings.SHOP_SELLER_ADDRESS = "  1 Market Street \n\nSpringfield\r\nUnited States\n"

        assert documents.seller()["address_lines"] == ["1 Market Street", "Springfield", "United States"]


class TestTemplate:
    def test_the_invoice_shows_its_state_and_credit_notes_only_when_it_has_some(self, customer, product):
        invoice = OrderFactory(customer=customer, lines=[(product, 2)], status=Status.DELIVERED).invoice
        plain = documents.render_html(documents.INVOICE_TEMPLATE, documents.invoice_context(invoice))

        note = RefundFactory(order=invoice.order, units={invoice.order.items.get().pk: 1}).credit_note
        refunded = documents.render_html(documents.INVOICE_TEMPLATE, documents.invoice_context(invoice))

        assert '<div class="state">Paid</div>' in plain
        assert "Credit notes" not in plain
        assert '<div class="state">Partially refunded</div>' in refunded
        for text in ["Credit notes", note.number, note.issued_at.strftime("%-d %B %Y"), str(note.amount)]:
            assert text in refunded, text

    def test_an_empty_list_of_credit_notes_shows_no_section(self, invoice):
        context = {**documents.invoice_context(invoice), "credit_notes": []}

        assert "Credit notes" not in documents.render_html(documents.INVOICE_TEMPLATE, context)

    def test_the_template_loads_nothing_from_outside(self, invoice):
        html = documents.render_html(documents.INVOICE_TEMPLATE, documents.invoice_context(invoice))

        for reference in ["http:", "https:", "//", "<link", "@import", "url("]:
            assert reference not in html.replace("<!doctype html>", ""), reference


# --- GET /api/v1/invoices/{id}/pdf/ ----------------------------------------------------------


class TestPdfEndpoint:
    def test_a_credit_note_pdf_names_its_number_its_invoice_and_the_seller(
        self, customer_client, other_customer_client, customer, product, seller
    ):
        order = OrderFactory(customer=customer, lines=[(product, 2)], status=Status.DELIVERED)
        note = RefundFactory(order=order, reason="Arrived broken.").credit_note

        response = customer_client.get(f"/api/v1/credit-notes/{note.pk}/pdf/")

        assert response.status_code == 200
        assert response["Content-Disposition"] == f'inline; filename="{note.number}.pdf"'
        assert response.content.startswith(b"%PDF")
        text = pdf_text(response.content)
        for expected in [note.number, order.invoice.number, "Arrived broken.", str(note.amount)]:
            assert expected in text, expected
        assert_error(other_customer_client.get(f"/api/v1/credit-notes/{note.pk}/pdf/"), 404, "not_found")

    def test_the_owner_gets_a_pdf_with_the_invoice_number_and_the_seller(self, customer_client, invoice, seller):
        response = customer_client.get(pdf_url(invoice))

        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == f'inline; filename="{invoice.number}.pdf"'
        assert response.content.startswith(b"%PDF")
        text = pdf_text(response.content)
        for expected in [invoice.number, invoice.order.number, "Corner Tea Trading Ltd", "GB 123 4567 89", "39.98"]:
            assert expected in text, expected

    def test_a_client_asking_for_application_pdf_gets_it(self, customer_client, invoice):
        response = customer_client.get(pdf_url(invoice), HTTP_ACCEPT="application/pdf")

        assert response.status_code == 200
        assert response.content.startswith(b"%PDF")

    def test_another_customers_invoice_is_not_found_as_json_whatever_the_accept(self, other_customer_client, invoice):
        assert_error(other_customer_client.get(pdf_url(invoice)), 404, "not_found")
        assert_error(other_customer_client.get(pdf_url(invoice), HTTP_ACCEPT="application/pdf"), 404, "not_found")

    def test_anonymous_must_authenticate(self, api_client, invoice):
        assert_error(api_client.get(pdf_url(invoice)), 401, "not_authenticated")

    def test_staff_get_any_invoice_and_staff_without_the_permission_are_refused(
        self, staff_client, staff_without_permissions, invoice
    ):
        response = staff_client.get(pdf_url(invoice))

        assert response.status_code == 200
        assert invoice.number in pdf_text(response.content)
        assert_error(bearer_client(staff_without_permissions).get(pdf_url(invoice)), 403, "permission_denied")

    def test_the_pdf_and_the_print_page_show_the_same_lines_and_totals(self, customer_client, invoice):
        page = customer_client.get(print_url(invoice)).content.decode()
        text = pdf_text(customer_client.get(pdf_url(invoice)).content)

        for expected in ["Teapot", "TEA-POT", "19.99", "39.98", invoice.order.customer.email]:
            assert expected in page, expected
            assert expected in text, expected

    def test_a_thread_gathers_its_fonts_once_for_every_pdf(self, invoice, monkeypatch):
        gathered = []

        def gather() -> FontConfiguration:
            gathered.append(FontConfiguration())
            return gathered[-1]

        monkeypatch.setattr(documents, "_loaded", threading.local())
        monkeypatch.setattr(documents, "FontConfiguration", gather)
        context = documents.invoice_context(invoice)

        first = pdf_text(documents.render_pdf(documents.INVOICE_TEMPLATE, context))
        second = pdf_text(documents.render_pdf(documents.INVOICE_TEMPLATE, context))
        elsewhere = ThreadPoolExecutor(1).submit(documents.render_pdf, documents.INVOICE_TEMPLATE, context).result()

        assert invoice.number in first and first == second == pdf_text(elsewhere)
        assert len(gathered) == 2  # this thread's, and the other thread's own


# --- No network fetch ------------------------------------------------------------------------


class TestInlineOnlyFetcher:
    @pytest.mark.parametrize(
        "url", ["http://example.com/logo.png", "https://example.com/style.css", "file:///etc/passwd", "ftp://x/y"]
    )
    def test_it_refuses_anything_but_data_urls(self, url):
        with pytest.raises(FetchRefused):
            InlineOnlyFetcher().fetch(url)

    def test_it_reads_a_data_url(self):
        assert InlineOnlyFetcher().fetch("data:text/plain,inline").read() == b"inline"

    def test_a_template_pointing_outside_renders_without_opening_anything(self, monkeypatch, caplog):
        opened = []
        real_open = OpenerDirector.open

        def record(self, url, *args, **kwargs):
            opened.append(getattr(url, "full_url", url))
            return real_open(self, url, *args, **kwargs)

        monkeypatch.setattr(OpenerDirector, "open", record)
        html = (
            '<link rel="stylesheet" href="https://example.com/style.css">'
            '<img src="http://example.com/logo.png"><img src="file:///etc/passwd">'
            '<img src="data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22/%3E"><p>Invoice</p>'
        )
        monkeypatch.setattr(documents, "render_to_string", lambda template, context: html)

        with caplog.at_level(logging.ERROR, logger="weasyprint"):
            pdf = documents.render_pdf("any.html", {}, base_url="http://testserver/")

        assert pdf.startswith(b"%PDF")
        assert opened and all(url.startswith("data:") for url in opened), opened
        refused = [record.getMessage() for record in caplog.records if "FetchRefused" in record.getMessage()]
        assert len(refused) == 3, refused


# --- The confirmation email ------------------------------------------------------------------


class TestConfirmationEmail:
    def test_it_attaches_the_invoice_pdf_and_keeps_both_bodies(self, customer, product, seller, mailoutbox):
        order = OrderFactory(customer=customer, lines=[(product, 2)])

        send_order_email(order.pk, Status.CONFIRMED)

        [email] = mailoutbox
        [(filename, content, mimetype)] = email.attachments
        assert (filename, mimetype) == (f"{order.invoice.number}.pdf", "application/pdf")
        assert content.startswith(b"%PDF")
        assert order.invoice.number in pdf_text(content)
        assert order.number in email.body
        [(html, html_type)] = email.alternatives
        assert html_type == "text/html"
        assert order.number in html

    def test_the_payment_failure_email_has_no_attachment(self, customer, product, mailoutbox):
        order = OrderFactory(customer=customer, lines=[(product, 2)])

        send_order_email(order.pk, Status.PAYMENT_FAILED)

        [email] = mailoutbox
        assert email.attachments == []

    def test_a_pdf_that_fails_to_render_leaves_the_confirmation_without_it(
        self, customer, product, mailoutbox, monkeypatch, caplog
    ):
        order = OrderFactory(customer=customer, lines=[(product, 2)])

        def broken(*args, **kwargs):
            raise RuntimeError("no pango")

        monkeypatch.setattr(documents, "render_pdf", broken)

        send_order_email(order.pk, Status.CONFIRMED)

        [email] = mailoutbox
        assert email.attachments == []
        assert order.number in email.body
        assert any(
            order.invoice.number in record.getMessage() for record in caplog.records if record.levelname == "ERROR"
        )
