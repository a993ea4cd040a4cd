"""Printable documents (SPEC §4 billing): the seller from settings, the invoice template's optional parts."""

from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from billing import documents
from orders.factories import OrderFactory

pytestmark = pytest.mark.django_db

INVOICES = "/api/v1/invoices/"
SELLER = {
    "SHOP_SELLER_NAME": "Corner Tea Trading Ltd",
    "SHOP_SELLER_ADDRESS": "12 Harbour Row\nPortsmouth PO1 3AB\nUnited Kingdom",
    "SHOP_SELLER_TAX_ID": "GB 123 4567 89",
}


def print_url(invoice) -> str:
    return f"{INVOICES}{invoice.pk}/print/"


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
    def test_the_state_and_the_credit_notes_show_only_when_given(self, invoice):
        context = documents.invoice_context(invoice)
        plain = documents.render_html(documents.INVOICE_TEMPLATE, context)

        note = SimpleNamespace(
            number="CN-2026-000001", issued_at=datetime(2026, 3, 1, 12, tzinfo=UTC), amount=Decimal("12.50")
        )
        page = documents.render_html(
            documents.INVOICE_TEMPLATE, {**context, "state_label": "Partially refunded", "credit_notes": [note]}
        )

        assert 'class="state"' not in plain
        assert "Credit notes" not in plain
        assert '<div class="state">Partially refunded</div>' in page
        for text in ["Credit notes", "CN-2026-000001", "1 March 2026", "12.50"]:
            assert text in page, text

    def test_an_empty_list_of_credit_notes_shows_no_section(self, invoice):
        context = {**documents.invoice_context(invoice), "credit_notes": []}

        assert "Credit notes" not in documents.render_html(documents.INVOICE_TEMPLATE, context)

    def test_the_template_loads_nothing_from_outside(self, invoice):
        html = documents.render_html(documents.INVOICE_TEMPLATE, documents.invoice_context(invoice))

        for reference in ["http:", "https:", "//", "<link", "@import", "url("]:
            assert reference not in html.replace("<!doctype html>", ""), reference
