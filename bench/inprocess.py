"""Measure the work one request costs, in-process: SQL statements and CPU time, through the real stack.

This machine is shared and noisy, so throughput and wall-clock say little about a change
to one request. This counts what a request does instead: the statements Django sends
(`CaptureQueriesContext`, BEGIN, savepoints and COMMIT included) and the CPU time of this
process (`time.process_time()`; PostgreSQL's and Redis's own CPU are not in it), for each
request sent through `APIClient` (URL routing, middleware, DRF, serializers, the ORM).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shopkeep_perf REDIS_URL=redis://127.0.0.1:6379/4 \
        .venv/bin/python -m bench.inprocess [--requests 60] [--runs 5] [--sql] [--profile SCENARIO]

It creates the database if missing, migrates it, empties it (`flush`) and the Redis
database, and seeds a small shop: 40 products of one variant with plenty of stock, a
customer who places the orders, and another with 2 orders (the own-order list); and, for
the filter mix, 160 more in a category tree (two sub-categories of one, and another),
priced 1.00-99.99, one in five sold out. Each scenario sends `--requests` requests after 5
unmeasured ones, `--runs` times, and prints the median statements and the median (over
runs) of the median CPU ms per request.

The product list misses are `make bench`'s filter mix (bench/lua/shop.lua), cycled by the
request's index: `filter_category` (category, ordering, page 1-2), `filter_price`
(min_price, max_price, ordering), `filter_in_stock` (category_slug, in_stock, max_price),
each with a page_size of 10-50. Before each request (outside the measurement) the cached
product lists are deleted, so every request misses as a new key does, with its scopes'
stamps already there.
`--sql` lists one request's statements; `--profile cash_order` prints its cProfile (`--callers
deepcopy` adds who called the functions matching "deepcopy").
Rate limits are raised (their Redis counters still run); card orders queue their charge
to the broker (REDIS_URL), which nothing consumes: the Redis database is flushed at the end.
"""

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
import uuid

SCENARIOS = (
    "cash_order",
    "card_order",
    "own_orders",
    "product_list_miss",
    "filter_category",
    "filter_price",
    "filter_in_stock",
)
PRODUCT_LISTS = ("product_list_miss", "filter_category", "filter_price", "filter_in_stock")
ORDERINGS = ("price", "-price", "name", "-name", "created_at", "-created_at", "-rating")


def _configure() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    for limit in ("ANON", "USER", "AUTH", "ORDERS"):
        os.environ[f"RATELIMIT_{limit}"] = "100000000/m"
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (and REDIS_URL): see the docstring.")
    import django

    django.setup()


def _create_database() -> None:
    import psycopg
    from django.db import connection

    settings = connection.settings_dict
    name = settings["NAME"]
    admin = psycopg.connect(
        host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"], dbname="postgres", autocommit=True
    )
    with admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')


def _seed() -> dict:
    from django.core.cache import cache
    from django.core.management import call_command

    from catalog.factories import CategoryFactory, ProductFactory
    from customers.factories import CustomerFactory
    from customers.tokens import token_for
    from orders.factories import OrderFactory

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    cache.clear()
    products = [ProductFactory(stock=1_000_000, price="9.50") for _ in range(40)]
    buyer = CustomerFactory()
    reader = CustomerFactory()
    for product in products[:2]:
        OrderFactory(customer=reader, lines=[(product, 1), (products[-1], 2)])
    variants = [product.variants.get() for product in products]
    tea, coffee = CategoryFactory(name="Tea"), CategoryFactory(name="Coffee")
    shelves = [CategoryFactory(name="Green tea", parent=tea), CategoryFactory(name="Black tea", parent=tea), coffee]
    for n in range(160):
        price = f"{1 + (n * 37) % 99}.{(n * 13) % 100:02d}"
        ProductFactory(category=shelves[n % 3], price=price, stock=0 if n % 5 == 0 else 1 + n % 50)
    return {
        "variants": [variant.pk for variant in variants],
        "categories": [tea.pk, coffee.pk, shelves[0].pk],  # 107, 53 and 54 products
        "category_slugs": [tea.slug, coffee.slug, shelves[1].slug],
        "buyer": f"Bearer {token_for(buyer.user).access_token}",
        "reader": f"Bearer {token_for(reader.user).access_token}",
    }


def _requests(data: dict):
    """Return each scenario's request: a function of the request's index, called with an APIClient."""

    variants = data["variants"]

    def order(payment_method):
        def send(client, i):
            first, second = variants[i % 20], variants[20 + i % 19]
            body = {
                "items": [{"variant": first, "quantity": 1}, {"variant": second, "quantity": 2}],
                "delivery_method": "pickup",
                "payment_method": payment_method,
            }
            return client.post(
                "/api/v1/orders/",
                body,
                format="json",
                HTTP_AUTHORIZATION=data["buyer"],
                HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
            )

        return send, {"cash": 201, "card": 202}[payment_method]

    def own_orders(client, i):
        return client.get("/api/v1/orders/", HTTP_AUTHORIZATION=data["reader"])

    def product_list(client, i):
        return client.get("/api/v1/products/?page_size=20&ordering=-price")

    def products(query):
        def send(client, i):
            page_size = 10 + (i * 7) % 41
            return client.get(f"/api/v1/products/?{query(i)}&page_size={page_size}")

        return send, 200

    def by_category(i):
        category, ordering = data["categories"][i % 3], ORDERINGS[i % len(ORDERINGS)]
        return f"category={category}&ordering={ordering}&page={1 + i % 2}"

    def by_price(i):
        low = 1 + (i * 11) % 60
        return f"min_price={low}&max_price={low + 5 + (i * 17) % 40}&ordering={ORDERINGS[i % len(ORDERINGS)]}"

    def in_stock(i):
        return f"category_slug={data['category_slugs'][i % 3]}&in_stock=true&max_price={20 + (i * 13) % 80}"

    return {
        "cash_order": order("cash"),
        "card_order": order("card"),
        "own_orders": (own_orders, 200),
        "product_list_miss": (product_list, 200),
        "filter_category": products(by_category),
        "filter_price": products(by_price),
        "filter_in_stock": products(in_stock),
    }


def _before(name: str) -> None:
    """Make the next product list a miss: drop the cached lists, keep the scopes' stamps."""
    if name in PRODUCT_LISTS:
        from django.core.cache import cache

        cache.delete_pattern("resp:product:list:*")


def _measure(name: str, send, expected: int, requests: int, runs: int) -> tuple[int, float, list[str]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    client = APIClient()
    counts, medians, statements = [], [], []
    index = 0
    for _ in range(5):
        _before(name)
        send(client, index)
        index += 1
    for _ in range(runs):
        times = []
        for _ in range(requests):
            _before(name)
            with CaptureQueriesContext(connection) as queries:
                start = time.process_time()
                response = send(client, index)
                times.append((time.process_time() - start) * 1000)
            index += 1
            if response.status_code != expected:
                raise SystemExit(f"{name}: {response.status_code} {response.content[:500]!r}")
            counts.append(len(queries))
            statements = [query["sql"] for query in queries.captured_queries]
        medians.append(statistics.median(times))
    return int(statistics.median(counts)), statistics.median(medians), statements


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sql", action="store_true", help="list one request's statements per scenario")
    parser.add_argument("--profile", choices=SCENARIOS, help="print cProfile of one scenario's requests")
    parser.add_argument("--sort", default="cumulative", help="cProfile sort key (cumulative, tottime)")
    parser.add_argument("--callers", help="with --profile, also print the callers of functions matching this")
    parser.add_argument("--only", choices=SCENARIOS, action="append", help="measure only these scenarios")
    args = parser.parse_args()
    _configure()
    _create_database()
    from django.core.cache import cache

    try:
        data = _seed()
        scenarios = _requests(data)
        if args.profile:
            from rest_framework.test import APIClient

            send, _expected = scenarios[args.profile]
            client = APIClient()
            for i in range(5):
                send(client, i)
            profile = cProfile.Profile()
            for i in range(args.requests):
                _before(args.profile)
                profile.enable()
                send(client, 5 + i)
                profile.disable()
            stats = pstats.Stats(profile).sort_stats(args.sort)
            stats.print_stats(60)
            if args.callers:
                stats.print_callers(args.callers)
            return
        print(f"{'request':<20} {'statements':>10} {'CPU ms':>8}   ({args.runs} runs of {args.requests})")
        for name in args.only or SCENARIOS:
            send, expected = scenarios[name]
            count, cpu, statements = _measure(name, send, expected, args.requests, args.runs)
            print(f"{name:<20} {count:>10} {cpu:>8.2f}", flush=True)
            if args.sql:
                for sql in statements:
                    print(f"    {sql[:150]}")
    finally:
        cache.clear()


if __name__ == "__main__":
    main()
