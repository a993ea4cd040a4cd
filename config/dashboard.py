"""The staff dashboard on the admin index (SPEC §8): today's orders, payments, the gateway, low stock, and
charts of the last CHART_DAYS days (revenue and orders per day, card payment outcomes, top products).

A panel is shown, and counted, only for staff who may view its model. Counting takes a
fixed number of queries whatever the table sizes (one for orders, one for payments, two
for products, one per chart) and is reused for ADMIN_DASHBOARD_CACHE_SECONDS. The gateway
breaker is read on every load instead: it is one Redis read (none on the embedded
default), and an open breaker must show the moment it opens. The charts' drawing is
config/charts.py's.
"""

import math
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.urls import reverse
from django.utils import timezone

from billing.breaker import breaker_status
from billing.models import Payment
from catalog.models import Product, Variant
from common.models import created_on
from config import charts
from orders.models import Order, OrderItem
from orders.status import PURCHASED, PaymentMethod

LOW_STOCK_LISTED = 10
CHART_DAYS = 30  # the charts' window: this many days, ending today
TOP_PRODUCTS_LISTED = 8

# The permission that shows each panel (the gateway's state goes with payments).
PANEL_PERMISSIONS = {
    "orders": "orders.view_order",
    "payments": "billing.view_payment",
    "low_stock": "catalog.view_product",
    "sales_by_day": "orders.view_order",
    "payment_outcomes": "billing.view_payment",
    "top_products": "orders.view_orderitem",
}

# The bars of the payment-outcome chart: what became of the card payments opened in the window.
PAYMENT_OUTCOMES = (
    ("succeeded", "Succeeded", (Payment.Status.SUCCEEDED,)),
    ("refunded", "Refunded (part or all)", (Payment.Status.PARTIALLY_REFUNDED, Payment.Status.REFUNDED)),
    ("failed", "Failed", (Payment.Status.FAILED,)),
    ("cancelled", "Cancelled", (Payment.Status.CANCELLED,)),
    ("waiting", "Still waiting", Payment.AWAITING_GATEWAY),
)


def dashboard(request, site_name: str = "admin") -> dict:
    """Return the panels `request.user` may see, each with links to the changelist rows it counts."""
    visible = [panel for panel, permission in PANEL_PERMISSIONS.items() if request.user.has_perm(permission)]
    day = timezone.localdate()
    figures = dashboard_figures(visible, day)
    today = created_on(day)
    window = chart_window(day)
    period = {"since": chart_days(day)[0], "day_count": CHART_DAYS}

    def changelist(model: str, **query) -> str:
        return f"{reverse(f'{site_name}:{model}_changelist')}?{urlencode(query)}"

    def product_page(pk: int) -> str:
        return reverse(f"{site_name}:catalog_product_change", args=[pk])

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
            "lowest": [{**product, "url": product_page(product["pk"])} for product in figures["low_stock"]["lowest"]],
        }
    if "sales_by_day" in figures:
        panels["sales_by_day"] = {**period, **_sales_chart(figures["sales_by_day"], window, changelist)}
    if "payment_outcomes" in figures:
        outcomes = _payment_outcomes_chart(figures["payment_outcomes"], window, changelist)
        panels["payment_outcomes"] = {**period, **outcomes}
    if "top_products" in figures:
        # The product's name links its page for those who may view products.
        product_url = product_page if request.user.has_perm("catalog.view_product") else None
        top = _top_products_chart(figures["top_products"], window, changelist, product_url)
        panels["top_products"] = {**period, **top}
    return panels


def chart_days(day: date) -> list[date]:
    """Return the CHART_DAYS days the charts cover, oldest first, ending with `day`."""
    return [day - timedelta(days=CHART_DAYS - 1 - offset) for offset in range(CHART_DAYS)]


def chart_window(day: date) -> dict:
    """Return the `created_at` lookups of the charts' CHART_DAYS days ending with `day`, in the current time zone."""
    return {
        "created_at__gte": created_on(chart_days(day)[0])["created_at__gte"],
        "created_at__lt": created_on(day)["created_at__lt"],
    }


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
    """Count the active products with a variant at or below the low-stock threshold, and list the lowest
    variants (two queries)."""
    low = Variant.objects.orderable().low_stock()
    lowest = low.order_by("stock", "product__name", "pk").values(
        "sku", "stock", pk=F("product_id"), name=F("product__name")
    )[:LOW_STOCK_LISTED]
    count = Product.objects.active().filter(Exists(low.filter(product=OuterRef("pk")).order_by())).count()
    return {"count": count, "lowest": list(lowest), "as_of": timezone.now()}


def count_sales_by_day(day: date) -> dict:
    """Count the orders placed on each of the CHART_DAYS days ending with `day`, and their revenue (one query)."""
    days = chart_days(day)
    counted = {row["day"]: row for row in Order.objects.placed_between(days[0], day).sales_by_day()}
    nothing = {"orders": 0, "revenue": Decimal("0.00")}
    sales = [{"day": each, **nothing, **counted.get(each, {})} for each in days]
    return {"days": sales, "as_of": timezone.now()}


def count_payment_outcomes(day: date) -> dict:
    """Count the card payments opened in the CHART_DAYS days ending with `day`, by status (one query)."""
    by_status = (
        Payment.objects.filter(method=PaymentMethod.CARD, **chart_window(day))
        .values("status")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return {"statuses": {row["status"]: row["count"] for row in by_status}, "as_of": timezone.now()}


def count_top_products(day: date) -> dict:
    """List the products with the most units in orders placed in the chart's days and now PURCHASED (one query)."""
    window = chart_window(day)
    lines = OrderItem.objects.filter(
        order__status__in=PURCHASED,
        order__created_at__gte=window["created_at__gte"],
        order__created_at__lt=window["created_at__lt"],
    )
    top = (
        lines.values("product_id", "product__name")
        .annotate(units=Sum("quantity"))
        .order_by("-units", "product__name", "product_id")[:TOP_PRODUCTS_LISTED]
    )
    products = [{"pk": row["product_id"], "name": row["product__name"], "units": row["units"]} for row in top]
    return {"products": products, "as_of": timezone.now()}


COUNTERS: dict[str, Callable[[date], dict]] = {
    "orders": count_orders,
    "payments": count_payments,
    "low_stock": count_low_stock,
    "sales_by_day": count_sales_by_day,
    "payment_outcomes": count_payment_outcomes,
    "top_products": count_top_products,
}


def _gateway(awaiting_url: str) -> dict:
    """Read the payment gateway breaker now (never cached: an outage must show at once)."""
    status = breaker_status()
    half_open_in = None if status.retry_in_seconds is None else math.ceil(status.retry_in_seconds)
    return {"state": status.state, "half_open_in": half_open_in, "url": awaiting_url}


def _sales_chart(figures: dict, window: dict, changelist: Callable[..., str]) -> dict:
    """Return the daily chart's figures with each day's links: its orders, and those that brought revenue."""
    currency = settings.SHOP_CURRENCY
    purchased = ",".join(sorted(PURCHASED))
    days = [
        {
            **each,
            "orders_url": changelist("orders_order", **created_on(each["day"])),
            "revenue_url": changelist("orders_order", status__in=purchased, **created_on(each["day"])),
        }
        for each in figures["days"]
    ]
    return {
        "days": days,
        "orders": sum(each["orders"] for each in days),
        "revenue": sum((each["revenue"] for each in days), Decimal("0.00")),
        "currency": currency,
        "url": changelist("orders_order", **window),
        "revenue_url": changelist("orders_order", status__in=purchased, **window),
        "chart": charts.daily_chart(days, currency),
    }


def _payment_outcomes_chart(figures: dict, window: dict, changelist: Callable[..., str]) -> dict:
    """Return the card payments of the window grouped by outcome, each linking to its payments."""
    total = sum(figures["statuses"].values())
    outcomes = []
    for key, label, statuses in PAYMENT_OUTCOMES:
        count = sum(figures["statuses"].get(status, 0) for status in statuses)
        share = charts.share(count, total)
        chosen = {"status__exact": statuses[0]} if len(statuses) == 1 else {"status__in": ",".join(statuses)}
        outcomes.append(
            {
                "key": key,
                "label": label,
                "value": count,
                "share": share,
                "value_text": f"{count:,} · {share}",
                "title": f"{label}: {count:,} of {charts.counted(total, 'card payment')} ({share})",
                "url": changelist("billing_payment", method=PaymentMethod.CARD, **chosen, **window),
                "tone": key,
            }
        )
    return {
        "total": total,
        "outcomes": outcomes,
        "url": changelist("billing_payment", method=PaymentMethod.CARD, **window),
        "chart": charts.ranked_chart(outcomes),
    }


def _top_products_chart(
    figures: dict, window: dict, changelist: Callable[..., str], product_url: Callable[[int], str] | None
) -> dict:
    """Return the top products, each linking to its order lines of the window (and its page, for who may view it).

    The order-line list cannot filter on the order's status, so it also shows the lines of
    orders not paid yet or cancelled; the units counted are those of PURCHASED orders.
    """
    products = [
        {
            **product,
            "label": product["name"],
            "value": product["units"],
            "value_text": f"{product['units']:,}",
            "title": f"{product['name']}: {charts.counted(product['units'], 'unit')}",
            "url": changelist("orders_orderitem", product__id__exact=product["pk"], **window),
            "label_url": product_url(product["pk"]) if product_url else None,
            "tone": "product",
        }
        for product in figures["products"]
    ]
    return {"products": products, "chart": charts.ranked_chart(products, labels_above=True)}
