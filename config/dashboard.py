"""The staff dashboard on the admin index (SPEC §8): today's orders, payments, the gateway, low stock.

A panel is shown, and counted, only for staff who may view its model. Counting takes a
fixed number of queries whatever the table sizes (one for orders, one for payments, two
for products) and is reused for ADMIN_DASHBOARD_CACHE_SECONDS. The gateway breaker is
read on every load instead: it is one Redis read (none on the embedded default), and an
open breaker must show the moment it opens.
"""

import math
from collections.abc import Callable, Iterable
from datetime import date
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from billing.breaker import breaker_status
from billing.models import Payment
from catalog.models import Product
from common.models import created_on
from orders.models import Order
from orders.status import PURCHASED, PaymentMethod

LOW_STOCK_LISTED = 10

# The permission that shows each panel (the gateway's state goes with payments).
PANEL_PERMISSIONS = {
    "orders": "orders.view_order",
    "payments": "billing.view_payment",
    "low_stock": "catalog.view_product",
}


def dashboard(request, site_name: str = "admin") -> dict:
    """Return the panels `request.user` may see, each with links to the changelist rows it counts."""
    visible = [panel for panel, permission in PANEL_PERMISSIONS.items() if request.user.has_perm(permission)]
    day = timezone.localdate()
    figures = dashboard_figures(visible, day)
    today = created_on(day)

    def changelist(model: str, **query) -> str:
        return f"{reverse(f'{site_name}:{model}_changelist')}?{urlencode(query)}"

    panels: dict = {"cache_seconds": settings.ADMIN_DASHBOARD_CACHE_SECONDS}
    if figures:
        panels["as_of"] = min(panel["as_of"] for panel in figures.values())
    if "orders" in figures:
        panels["orders"] = {
            **figures["orders"],
            "currency": settings.SHOP_CURRENCY,
            "url": changelist("orders_order", **today),
            "revenue_url": changelist("orders_order", status__in=",".join(sorted(PURCHASED)), **today),
        }
    if "payments" in figures:
        awaiting_url = changelist(
            "billing_payment", method=PaymentMethod.CARD, status__in=",".join(Payment.AWAITING_GATEWAY)
        )
        panels["payments"] = {
            **figures["payments"],
            "awaiting_url": awaiting_url,
            "failed_url": changelist("billing_payment", status__exact=Payment.Status.FAILED, **today),
        }
        panels["gateway"] = _gateway(awaiting_url)
    if "low_stock" in figures:
        panels["low_stock"] = {
            **figures["low_stock"],
            "threshold": settings.LOW_STOCK_THRESHOLD,
            "url": changelist("catalog_product", is_active__exact=1, stock_level="low"),
            "lowest": [
                {**product, "url": reverse(f"{site_name}:catalog_product_change", args=[product["pk"]])}
                for product in figures["low_stock"]["lowest"]
            ],
        }
    return panels


def dashboard_figures(panels: Iterable[str], day: date) -> dict[str, dict]:
    """Return the figures of these panels for `day`, counting only those not counted moments ago.

    The day is part of the key, so that yesterday's counts never outlive midnight. A cache
    outage reads as a miss and a lost write (django-redis runs with IGNORE_EXCEPTIONS).
    """
    keys = {f"admin-dashboard:{panel}:{day.isoformat()}": panel for panel in panels}
    figures = {keys[key]: value for key, value in cache.get_many(keys).items()}
    counted = {key: COUNTERS[panel](day) for key, panel in keys.items() if panel not in figures}
    if counted:
        cache.set_many(counted, timeout=settings.ADMIN_DASHBOARD_CACHE_SECONDS)
    return {**figures, **{keys[key]: value for key, value in counted.items()}}


def count_orders(day: date) -> dict:
    """Count the orders placed on `day` and their revenue (one query)."""
    return {**Order.objects.placed_on(day).sales(), "as_of": timezone.now()}


def count_payments(day: date) -> dict:
    """Count the card payments awaiting the gateway, and those opened on `day` that failed (one query)."""
    awaiting = Q(method=PaymentMethod.CARD, status__in=Payment.AWAITING_GATEWAY)
    failed = Q(status=Payment.Status.FAILED, **created_on(day))
    # Filtering first keeps the scan to the counted rows, on the (status, created_at) index.
    counts = Payment.objects.filter(awaiting | failed).aggregate(
        awaiting=Count("pk", filter=awaiting), failed=Count("pk", filter=failed)
    )
    return {**counts, "as_of": timezone.now()}


def count_low_stock(day: date) -> dict:
    """Count the active products at or below the low-stock threshold, and list the lowest (two queries)."""
    low = Product.objects.active().low_stock()
    lowest = low.order_by("stock", "name", "pk").values("pk", "sku", "name", "stock")[:LOW_STOCK_LISTED]
    return {"count": low.count(), "lowest": list(lowest), "as_of": timezone.now()}


COUNTERS: dict[str, Callable[[date], dict]] = {
    "orders": count_orders,
    "payments": count_payments,
    "low_stock": count_low_stock,
}


def _gateway(awaiting_url: str) -> dict:
    """Read the payment gateway breaker now (never cached: an outage must show at once)."""
    status = breaker_status()
    half_open_in = None if status.retry_in_seconds is None else math.ceil(status.retry_in_seconds)
    return {"state": status.state, "half_open_in": half_open_in, "url": awaiting_url}
