"""Shopkeep's storefront under Locust: browsing, customers, and card orders at a steady rate.

Needs the bench's data (customer tokens, address ids, popular variants, categories) as JSON,
the file bench/dataset.py writes beside data.lua; its path comes from BENCH_DATA_FILE. A bench
run deletes the file when it ends (it holds bearer tokens), so to use this on its own keep a
server and its data up, for example with `BENCH_REUSE_DB=1` and a copy of the file, then:

    BENCH_DATA_FILE=data.json .venv/bin/locust -f bench/locustfile.py --host http://127.0.0.1:8765 \\
        StorefrontVisitor Customer

User classes:

- `StorefrontVisitor`, anonymous: product list (pages 1-5), the filter mix, product detail, categories.
- `Customer`, signed in with a bearer token: own orders, cash orders, card orders.
- `SteadyCardOrders`: card orders arriving at `--steady-rate` per second in total (BENCH_STEADY_RATE,
  50), whatever the answers' latency; `bench/run.py` runs it headless for the `order_steady`
  scenario. Locust runs exactly `--steady-users` of them (BENCH_STEADY_USERS, 100), so `-u` must
  be at least that when it runs with other classes.

Each steady user sends on its own fixed timeline, every `steady_users / steady_rate` seconds
(2 s at the defaults) from a random phase; a slow answer delays no other user, and delays its own
user's next send only when it takes longer than that. Latency is counted from when a request
was due, not from when it went out (coordinated omission), so a late send shows in the
percentiles instead of hiding. Statuses other than the expected one are failures named
`status N`, socket errors `socket <kind>: <error>`; `bench/loadgen.py` reads them back.
"""

import json
import os
import random
import sys
import time
import uuid
from itertools import count

import gevent
import locust.stats
from locust import FastHttpUser, between, events, task

DATA_FILE = os.environ.get("BENCH_DATA_FILE", "")
if not DATA_FILE or not os.path.isfile(DATA_FILE):
    sys.exit(
        f"bench/locustfile.py: BENCH_DATA_FILE={DATA_FILE!r} is not a file. Point it at the data.json a bench "
        "run writes (bench/dataset.py: customer tokens, address ids, popular variants, categories)."
    )
with open(DATA_FILE) as data_file:
    DATA = json.load(data_file)

SEED = int(os.environ.get("BENCH_SEED", "1"))
TIMEOUT_SECONDS = 5.0  # as wrk's --timeout: a slower answer counts as a socket timeout
ORDERINGS = ["price", "-price", "name", "-name", "created_at", "-created_at", "-rating"]
user_numbers = count(1)


@events.init_command_line_parser.add_listener
def add_arguments(parser) -> None:
    parser.add_argument(
        "--steady-rate", type=float, env_var="BENCH_STEADY_RATE", default=50.0,
        help="SteadyCardOrders: card orders per second in total (default 50)",
    )  # fmt: skip
    parser.add_argument(
        "--steady-users", type=int, env_var="BENCH_STEADY_USERS", default=100,
        help="SteadyCardOrders: how many users share that rate (default 100: one order every 2 s each)",
    )  # fmt: skip


@events.init.add_listener
def fix_steady_users(environment, **_kwargs) -> None:
    """Run exactly --steady-users steady users, whatever -u gives the other classes."""
    if environment.parsed_options is not None:
        SteadyCardOrders.fixed_count = environment.parsed_options.steady_users


@events.quit.add_listener
def write_final_csv(**_kwargs) -> None:
    """Let Locust's CSV writer run once more before it closes its files.

    It rewrites the CSV every CSV_STATS_INTERVAL_SEC and not at exit, so without this the
    files miss up to the last second of requests that the printed summary has.
    """
    gevent.sleep(locust.stats.CSV_STATS_INTERVAL_SEC + 0.25)


def order_body(rng: random.Random, customer: dict, lines: list[dict], payment: str, quantity=None, plain=False):
    """Return the headers and JSON body of `POST /api/v1/orders/` by `customer` for these popular lines.

    As bench/lua/shop.lua builds it for wrk: each line names its variant, 1-2 units (or
    `quantity`), with `unit_price`; a third of the lines of a product offering an extra add it
    (`plain` lines never do); home delivery to the customer's default address; a new
    Idempotency-Key per POST.
    """
    items = []
    for line in lines:
        item = {"variant": line["variant"], "quantity": quantity or rng.randint(1, 2), "unit_price": line["price"]}
        if not plain and line["extra"] and rng.randint(1, 3) == 1:
            item.update(extras=[line["extra"]], unit_price=line["price_with_extra"])
        items.append(item)
    body = {
        "items": items,
        "delivery_method": "home_delivery",
        "shipping_address": customer["address"],
        "payment_method": payment,
    }
    headers = {
        "Authorization": f"Bearer {customer['token']}",
        "Content-Type": "application/json",
        "Idempotency-Key": f"locust-{uuid.uuid4().hex}",
    }
    return headers, json.dumps(body)


def random_lines(rng: random.Random) -> list[dict]:
    """One to three different products from the popular set."""
    lines = {}
    for _ in range(rng.randint(1, 3)):
        line = rng.choice(DATA["popular"])
        lines.setdefault(line["product"], line)
    return list(lines.values())


def filtered_query(rng: random.Random) -> dict:
    """A storefront's filter mix, as in bench/lua/shop.lua: nearly every query is a new cache key."""
    roll, size = rng.randint(1, 100), {"page_size": rng.randint(10, 50)}
    if roll <= 35:
        query = {"category": rng.choice(DATA["category_ids"]), "ordering": rng.choice(ORDERINGS)}
        return {**query, "page": rng.randint(1, 3), **size}
    if roll <= 60:
        low = rng.randint(1, 400)
        return {"min_price": low, "max_price": low + rng.randint(5, 200), "ordering": rng.choice(ORDERINGS), **size}
    if roll <= 80:
        query = {"category_slug": rng.choice(DATA["category_slugs"]), "in_stock": "true"}
        return {**query, "max_price": rng.randint(20, 900), **size}
    if roll <= 90:
        return {"search": rng.choice(DATA["search_words"]), **size}
    query = {"in_stock": "true", "min_price": rng.randint(1, 50), "ordering": rng.choice(ORDERINGS)}
    return {**query, "page": rng.randint(1, 5), **size}


def judge(response, expected: int) -> None:
    """Mark the answer failed unless it has the expected status, naming the status or the socket error."""
    if response.status_code == expected:
        response.success()
    elif not response.status_code:  # no HTTP answer: FastHttpUser reports status 0 and keeps the error
        error = getattr(response, "error", None)
        cause = getattr(error, "original", None) or error  # geventhttpclient's RetriesExceeded wraps it
        if isinstance(cause, TimeoutError | gevent.Timeout):
            kind = "timeout"
        elif isinstance(cause, ConnectionRefusedError):
            kind = "connect"
        else:
            kind = "read"
        response.failure(f"socket {kind}: {type(cause).__name__}")
    else:
        response.failure(f"status {response.status_code}")


class ShopUser(FastHttpUser):
    """A Shopkeep client: wrk's timeout, its own random stream."""

    abstract = True
    connection_timeout = TIMEOUT_SECONDS
    network_timeout = TIMEOUT_SECONDS

    def on_start(self) -> None:
        self.rng = random.Random(SEED * 100_000 + next(user_numbers))
        self.customer = self.rng.choice(DATA["customers"])

    def get(self, path: str, name: str, expected: int = 200, **kwargs) -> None:
        with self.client.get(path, name=name, catch_response=True, **kwargs) as response:
            judge(response, expected)

    def place_order(self, payment: str, name: str) -> None:
        headers, body = order_body(self.rng, self.customer, random_lines(self.rng), payment)
        expected = 201 if payment == "cash" else 202
        with self.client.post("/api/v1/orders/", data=body, headers=headers, name=name, catch_response=True) as r:
            judge(r, expected)


class StorefrontVisitor(ShopUser):
    """An anonymous shopper browsing the catalog, with a shopper's pauses."""

    weight = 4
    wait_time = between(0.5, 2)

    @task(40)
    def product_list(self) -> None:
        self.get(f"/api/v1/products/?page={self.rng.randint(1, 5)}", name="product list")

    @task(10)
    def filtered_list(self) -> None:
        self.get("/api/v1/products/", params=filtered_query(self.rng), name="product list, filtered")

    @task(25)
    def product_detail(self) -> None:
        product = self.rng.choice(DATA["popular"])["product"]
        self.get(f"/api/v1/products/{product}/", name="product detail")

    @task(15)
    def category_list(self) -> None:
        self.get("/api/v1/categories/", name="category list")


class Customer(ShopUser):
    """A signed-in customer: looks at their orders and places some, cash or card."""

    weight = 1
    wait_time = between(0.5, 2)

    @task(10)
    def own_orders(self) -> None:
        self.get("/api/v1/orders/", name="own orders", headers={"Authorization": f"Bearer {self.customer['token']}"})

    @task(8)
    def cash_order(self) -> None:
        self.place_order("cash", "order, cash")

    @task(2)
    def card_order(self) -> None:
        self.place_order("card", "order, card")


class SteadyCardOrders(ShopUser):
    """Card orders at a fixed total rate (open loop): each user sends on its own fixed timeline."""

    fixed_count = 100  # replaced by --steady-users
    epoch = None  # the timeline all steady users share: set by the first to start

    def on_start(self) -> None:
        super().on_start()
        options = self.environment.parsed_options
        self.interval = options.steady_users / options.steady_rate
        now = time.perf_counter()
        if SteadyCardOrders.epoch is None:
            SteadyCardOrders.epoch = now
        # A random phase on the shared timeline, joined at the next beat: users spawned later do
        # not bunch up, and once all have spawned the rate is the full rate.
        self.due = SteadyCardOrders.epoch + self.rng.uniform(0, self.interval)
        self.due += max(0, -((self.due - now) // self.interval)) * self.interval
        gevent.sleep(self.due - now)

    def wait_time(self) -> float:
        self.due += self.interval
        return max(0.0, self.due - time.perf_counter())

    @task
    def card_order(self) -> None:
        late_ms = max(0.0, time.perf_counter() - self.due) * 1000
        self.customer = self.rng.choice(DATA["customers"])
        headers, body = order_body(self.rng, self.customer, random_lines(self.rng), "card")
        with self.client.post(
            "/api/v1/orders/", data=body, headers=headers, name="order, card, steady", catch_response=True
        ) as response:
            # Latency from when the order was due: a send the previous answer held up counts its wait.
            response.request_meta["response_time"] += late_ms
            judge(response, 202)
