"""Printable documents (SPEC §4 billing): one template and one context per document, as HTML or as PDF.

The printable page, the PDF from the API and the PDF attached to the confirmation email
are rendered from the same template with the same context, so they cannot disagree.
Functions take the template's name, so a credit note reuses them with a template of its own.

WeasyPrint renders the PDF. Its URL fetcher is `InlineOnlyFetcher`: a document loads nothing
but `data:` URLs, so no template edit can make the server fetch from the network or read a
local file while rendering (templates carry their CSS inline).
"""

import threading
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from billing.models import CreditNote, Invoice

INVOICE_TEMPLATE = "billing/invoice.html"
CREDIT_NOTE_TEMPLATE = "billing/credit_note.html"


class FetchRefused(ValueError):
    """A document asked for a resource that is not inline (a `data:` URL)."""


class InlineOnlyFetcher(URLFetcher):
    """WeasyPrint's URL fetcher, refusing every URL but `data:` ones.

    WeasyPrint skips (and logs) a resource whose fetch raises, and renders the rest.
    """

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        if not url.strip().lower().startswith("data:"):
            raise FetchRefused(f"A document loads only data: URLs, not {url[:200]!r}.")
        return super().fetch(url, headers)


def seller() -> dict[str, Any]:
    """Return the seller every document names, from the SHOP_SELLER_* settings."""
    return {
        "name": settings.SHOP_SELLER_NAME,
        "address_lines": [line.strip() for line in settings.SHOP_SELLER_ADDRESS.splitlines() if line.strip()],
        "tax_id": settings.SHOP_SELLER_TAX_ID,
    }


def invoice_context(invoice: Invoice) -> dict[str, Any]:
    """Return what the invoice template shows: the invoice and its state, order, buyer, lines, credit notes, seller."""
    order = invoice.order
    return {
        "invoice": invoice,
        "order": order,
        "customer": order.customer,
        "items": order.items.all(),
        "state_label": invoice.state_label,
        "credit_notes": invoice.credit_notes.order_by("issued_at", "pk"),
        "shop_name": settings.SHOP_NAME,
        "currency": settings.SHOP_CURRENCY,
        "seller": seller(),
    }


def credit_note_context(note: CreditNote) -> dict[str, Any]:
    """Return what the credit note template shows: the note, the invoice it corrects, the buyer and the seller."""
    order = note.invoice.order
    return {
        "note": note,
        "invoice": note.invoice,
        "order": order,
        "customer": order.customer,
        "shop_name": settings.SHOP_NAME,
        "currency": settings.SHOP_CURRENCY,
        "seller": seller(),
    }


def render_html(template: str, context: dict[str, Any], request: HttpRequest | None = None) -> str:
    """Render a document as the HTML page a browser prints."""
    return render_to_string(template, context, request=request)


def render_pdf(template: str, context: dict[str, Any], base_url: str | None = None) -> bytes:
    """Render a document as PDF from the same template; `base_url` resolves its relative links."""
    html = render_to_string(template, context)
    document = HTML(string=html, base_url=base_url, url_fetcher=InlineOnlyFetcher())
    return document.write_pdf(font_config=_fonts())


_loaded = threading.local()


def _fonts() -> FontConfiguration:
    """This thread's fonts, gathered once; WeasyPrint otherwise gathers them anew for every document.

    Loading the font configuration and a new font map was about a fifth of a PDF's CPU.
    One per thread: Pango's font maps are not to be shared across threads. The documents
    declare no `@font-face`, so the configuration never grows.
    """
    if not hasattr(_loaded, "fonts"):
        _loaded.fonts = FontConfiguration()
    return _loaded.fonts
