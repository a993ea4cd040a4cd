"""Printable documents (SPEC §4 billing): one template and one context per document.

Functions take the template's name, so a credit note reuses them with a template of its own.
"""

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.template.loader import render_to_string

from billing.models import Invoice

INVOICE_TEMPLATE = "billing/invoice.html"


def seller() -> dict[str, Any]:
    """Return the seller every document names, from the SHOP_SELLER_* settings."""
    return {
        "name": settings.SHOP_SELLER_NAME,
        "address_lines": [line.strip() for line in settings.SHOP_SELLER_ADDRESS.splitlines() if line.strip()],
        "tax_id": settings.SHOP_SELLER_TAX_ID,
    }


def invoice_context(invoice: Invoice) -> dict[str, Any]:
    """Return what the invoice template shows: the invoice, its order, buyer, lines and the seller.

    The template also shows `state_label` (a line such as "Paid") and `credit_notes` (objects
    with `number`, `issued_at` and `amount`) when the context carries them.
    """
    order = invoice.order
    return {
        "invoice": invoice,
        "order": order,
        "customer": order.customer,
        "items": order.items.all(),
        "shop_name": settings.SHOP_NAME,
        "currency": settings.SHOP_CURRENCY,
        "seller": seller(),
    }


def render_html(template: str, context: dict[str, Any], request: HttpRequest | None = None) -> str:
    """Render a document as the HTML page a browser prints."""
    return render_to_string(template, context, request=request)
