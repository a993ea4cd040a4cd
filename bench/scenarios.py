"""What the bench measures: the scenarios, in the order they run, and the targets."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Scenario:
    name: str  # also the request builder in bench/lua/shop.lua
    title: str
    what: str  # for bench/README.md
    read: bool = False  # shown as a fraction of the ceiling
    needs_worker: bool = False
    # Sent by Locust at a fixed rate (BENCH_STEADY_RATE) instead of by wrk at each concurrency.
    open_loop: bool = False


CEILING = Scenario(
    "ceiling",
    "ceiling: bare view, one Redis GET",
    "A plain Django view on a second gunicorn (same config, production settings and middleware) "
    "answering the exact bytes of the cached product list page 1 from one django-redis GET.",
)

SCENARIOS = [
    Scenario(
        "product_list",
        "product list, page 1 (cached)",
        "Anonymous `GET /api/v1/products/`: the page every storefront opens with. Served from the cache.",
        read=True,
    ),
    Scenario(
        "filtered_list",
        "product list, filter mix (cache miss)",
        "Anonymous product lists with a storefront's filters: category (with sub-categories) + ordering + "
        "page 1-3 (35 %), price range + ordering (25 %), category slug + in stock + max price (20 %), "
        "search (10 %), in stock + min price + ordering + page 1-5 (10 %); `page_size` 10-50 at random, "
        "so almost every request is a new cache key (the X-Cache column shows it).",
        read=True,
    ),
    Scenario(
        "search",
        "product search (cache miss)",
        "Anonymous `GET /api/v1/products/?search=...`: one word (40 %), two words (20 %), a quoted "
        "phrase (10 %), a word and a `-word` (10 %), `a or b` (10 %), a word of 6+ letters with an "
        "inner letter dropped (10 %, the typo path); words from product names, `page_size` 10-50. "
        "Ranked full-text search over the stored vector on PostgreSQL (run at 100,000 products: "
        "`BENCH_PRODUCTS=100000 BENCH_SCENARIOS=search,facets make bench`).",
        read=True,
    ),
    Scenario(
        "facets",
        "product facets, filter mix (cache miss)",
        "Anonymous `GET /api/v1/products/facets/` with the filter mix's queries (a fifth also with "
        "`option=Name:Value`): counts by category, price band, option value and in stock for the "
        "same filters as the list.",
        read=True,
    ),
    Scenario(
        "product_detail",
        "product detail, random id (cached)",
        "Anonymous `GET /api/v1/products/{id}/`, id uniform over the popular set (2,000 products); "
        "the warm-up requests each of them once, so this measures cached detail reads.",
        read=True,
    ),
    Scenario(
        "category_list",
        "category list (cached)",
        "Anonymous `GET /api/v1/categories/`. Served from the cache.",
        read=True,
    ),
    Scenario(
        "own_orders",
        "customer's own order list",
        "`GET /api/v1/orders/` with a random customer's bearer token (not cached: database and serializer).",
        read=True,
    ),
    Scenario(
        "order_cash",
        "place order, cash (201)",
        "`POST /api/v1/orders/` by a random customer: 1-3 random popular products, each line naming "
        "its `variant` (stock 1,000,000; a third of the lines of a product with extras add one), 1-2 "
        "units each, with `unit_price`, home delivery to their default address, cash; confirmed at "
        "once, so each order also takes the next invoice number. A new `Idempotency-Key` per POST.",
    ),
    Scenario(
        "order_hot",
        "place order, one hot product",
        "Every connection buys 1 unit of the same variant (cash): all orders contend for one stock "
        "row. Checked after each run: stock before - units on the orders placed == stock after, never "
        "negative.",
    ),
    Scenario(
        "order_card",
        "place order, card (202, worker on)",
        "As the cash scenario but paid by card: `202 Accepted`, the payment is queued to the Celery "
        "worker (running during this scenario only), which charges the mock gateway.",
        needs_worker=True,
    ),
    Scenario(
        "order_steady",
        "place order, card, at a steady rate (Locust, worker on)",
        "The card order above, sent by Locust (`bench/locustfile.py`, `SteadyCardOrders`) at a fixed "
        "rate, `BENCH_STEADY_RATE` (50) orders/s, whatever the answers' latency (open loop): "
        "`BENCH_STEADY_USERS` (100) users each send one order every users/rate seconds (2 s) on a "
        "timeline of their own, and latency counts from when an order was due. Below saturation, it "
        "measures the latency a customer sees, not the most the server can take. Worker on.",
        needs_worker=True,
        open_loop=True,
    ),
    Scenario(
        "mixed",
        "mixed storefront load",
        "40 % product list (pages 1-5, cached), 25 % product detail, 15 % category list, 10 % own "
        "orders, 10 % cash order placement, all at once.",
    ),
]

SELLOUT = Scenario(
    "order_sellout",
    "sell-out check",
    "After the hot product: a variant with 100 units, bought 1 unit at a time by 64 connections "
    "for 5 s. Exactly 100 units must end up on orders, the rest be refused with 409 "
    "insufficient_stock, and the stock end at 0.",
)


@dataclass(frozen=True)
class Target:
    """A goal for one scenario at one concurrency; `None` means the criterion does not apply.

    An open-loop scenario has no concurrency of its own (`connections=None`): its rate is the setting.
    """

    scenario: str
    connections: int | None
    min_ceiling_share: float | None = None
    min_rps: float | None = None  # for order scenarios: successful orders per second
    max_p50_ms: float | None = None
    max_p99_ms: float | None = None
    no_5xx: bool = False
    no_socket_errors: bool = False
    no_oversell: bool = False


# Issue 17's table. The own-order list has no throughput target there.
TARGETS = [
    Target("product_list", 64, min_ceiling_share=0.75),
    Target("product_detail", 64, min_ceiling_share=0.75),
    Target("category_list", 64, min_ceiling_share=0.75),
    Target("filtered_list", 64, min_rps=400),
    Target("order_cash", 64, min_rps=200, no_5xx=True),
    Target("order_hot", 64, min_rps=150, no_5xx=True, no_oversell=True),
    Target("order_steady", None, max_p50_ms=30, max_p99_ms=100, no_5xx=True),
    Target("mixed", 256, max_p99_ms=500, no_5xx=True, no_socket_errors=True),
]
