"""What the orders app reports to Prometheus (SPEC §10), beside the platform's request and cache metrics."""

from prometheus_client import Counter

ORDERS_PLACED = Counter(
    "shopkeep_orders_placed_total",
    "New orders committed (idempotent replays excluded), by payment method.",
    ["payment_method"],
)
