"""The bench's data: its own database and Redis databases, the seeded shop, and the
file of ids and tokens the wrk scripts read.

Everything here runs in the harness's own process, with Django set up against the
bench database (the environment `run.py` builds), after `migrate` and `seed_demo`.
"""

import random
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

LARGE_STOCK = 1_000_000  # units given to every product the bench buys: it never runs out
SELLOUT_STOCK = 100  # units of the sell-out product: the check expects exactly this many sold
SEARCH_WORDS = 40
CEILING_KEY = "bench:ceiling:product-list"  # the bytes bench/ceiling.py answers with


def recreate_database(database_url: str) -> None:
    """Drop and create the database named in `database_url` (connecting to `postgres` to do it)."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise ValueError(f"Refusing to drop a database called {name!r}.")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def has_products(database_url: str) -> bool:
    """Return whether the database exists and holds a seeded catalog."""
    import psycopg

    try:
        with psycopg.connect(database_url, connect_timeout=5) as connection:
            return connection.execute("SELECT count(*) FROM catalog_product").fetchone()[0] > 0
    except psycopg.Error:
        return False


def analyze(database_url: str) -> None:
    """VACUUM ANALYZE the database: freshly bulk-loaded tables have no planner statistics yet,
    and a production database would have had them from autovacuum long ago."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as connection:
        connection.execute("VACUUM ANALYZE")


def flush_redis(*urls: str) -> None:
    """Empty each Redis database (FLUSHDB): the bench's cache and broker, never another one."""
    import redis

    for url in urls:
        client = redis.Redis.from_url(url, socket_connect_timeout=5)
        client.flushdb()
        client.close()


def setup_django() -> None:
    """Set Django up in this process (the settings come from the environment run.py built)."""
    import django

    django.setup()


@dataclass(frozen=True)
class DataSet:
    """What the wrk scripts pick from, and the products whose stock the checks follow."""

    lua_path: Path
    customers: int
    popular_ids: tuple[int, ...]
    hot_product: int
    sellout_product: int


def write_data_file(path: Path, seed: int, popular_count: int, customer_count: int) -> DataSet:
    """Give the bought products a large stock, mint access tokens, and write the Lua data file.

    The tokens are made the way POST /auth/token/ makes them (customers.api.serializers.token_for),
    so they carry the same claims. Customers order to their default address.
    """
    from django.contrib.auth import get_user_model
    from django.db import close_old_connections

    from catalog.models import Category, Product
    from customers.api.serializers import token_for
    from customers.models import Address

    rng = random.Random(seed)
    active = list(Product.objects.active().order_by("pk").values_list("pk", "price", "name"))
    chosen = rng.sample(active, popular_count + 2)
    popular, (hot, sellout) = chosen[:popular_count], chosen[popular_count:]
    # Seed data, not a sale: a plain UPDATE, which also bumps the products' cache stamps.
    Product.objects.filter(pk__in=[pk for pk, _price, _name in [*popular, hot]]).update(stock=LARGE_STOCK)
    Product.objects.filter(pk=sellout[0]).update(stock=SELLOUT_STOCK)

    addresses = list(
        Address.objects.filter(is_default=True, customer__user__is_staff=False, customer__user__is_active=True)
        .order_by("customer_id")
        .values_list("pk", "customer__user_id")[:customer_count]
    )
    users = get_user_model().objects.in_bulk([user_id for _address, user_id in addresses])
    tokens = [(str(token_for(users[user_id]).access_token), address) for address, user_id in addresses]

    categories = list(Category.objects.active().order_by("pk").values_list("pk", "slug"))
    words = sorted({word.lower() for _pk, _price, name in active for word in name.split() if word.isalpha()})
    search_words = rng.sample(words, min(SEARCH_WORDS, len(words)))
    close_old_connections()

    lines = ["-- Made by bench/dataset.py for one bench run; read by bench/lua/shop.lua.", "return {"]
    lines.append(lua_field("customers", [f'{{"{token}", {address}}}' for token, address in tokens]))
    lines.append(lua_field("popular", [product_entry(product) for product in popular]))
    lines.append(f"  hot = {product_entry(hot)},")
    lines.append(f"  sellout = {product_entry(sellout)},")
    lines.append(lua_field("category_ids", [str(pk) for pk, _slug in categories]))
    lines.append(lua_field("category_slugs", [f'"{slug}"' for _pk, slug in categories]))
    lines.append(lua_field("search_words", [f'"{word}"' for word in search_words]))
    lines.append("}")
    path.write_text("\n".join(lines) + "\n")
    return DataSet(path, len(tokens), tuple(pk for pk, _price, _name in popular), hot[0], sellout[0])


def product_entry(product: tuple) -> str:
    pk, price, _name = product
    return f'{{{pk}, "{price}"}}'


def lua_field(name: str, items: list[str]) -> str:
    return f"  {name} = {{\n    " + ",\n    ".join(items) + "\n  },"


def store_ceiling_body(key: str, body: bytes) -> None:
    """Store the product list's bytes under `key` with django-redis, for the ceiling view."""
    from django.core.cache import cache

    cache.set(key, body, timeout=None)


def stock_of(product_id: int) -> int:
    """Return a product's stock, read from the database now."""
    from django.db import close_old_connections

    from catalog.models import Product

    stock = Product.objects.filter(pk=product_id).values_list("stock", flat=True).get()
    close_old_connections()
    return stock


def units_sold_since(product_id: int, since: datetime) -> int:
    """Return the units of a product on orders placed since `since` that still hold their stock."""
    from django.db import close_old_connections
    from django.db.models import Sum

    from orders.models import OrderItem
    from orders.status import Status

    units = (
        OrderItem.objects.filter(product_id=product_id, order__created_at__gte=since)
        .exclude(order__status__in=[Status.CANCELLED, Status.PAYMENT_FAILED])
        .aggregate(units=Sum("quantity"))["units"]
    )
    close_old_connections()
    return units or 0


def payments_since(since: datetime) -> dict:
    """Return how many card payments opened since `since` are in each status."""
    from django.db import close_old_connections
    from django.db.models import Count

    from billing.models import Payment

    counts = dict(
        Payment.objects.filter(created_at__gte=since).values_list("status").annotate(n=Count("pk")).order_by()
    )
    close_old_connections()
    return counts


def now() -> datetime:
    from django.utils import timezone

    return timezone.now()
