"""The bench's data: its own database and Redis databases, the seeded shop, and the
files of ids and tokens the load generators read (Lua for wrk, JSON for Locust).

Everything here runs in the harness's own process, with Django set up against the
bench database (the environment `run.py` builds), after `migrate` and `seed_demo`.
"""

import json
import random
import re
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

LARGE_STOCK = 1_000_000  # units given to every variant the bench buys: it never runs out
SELLOUT_STOCK = 100  # units of the sell-out variant: the check expects exactly this many sold
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
    """What the wrk scripts pick from (products for the reads), and the variants whose stock the checks follow."""

    lua_path: Path
    json_path: Path  # the same data for bench/locustfile.py
    customers: int
    popular_ids: tuple[int, ...]
    hot_variant: int
    sellout_variant: int


@dataclass(frozen=True)
class Bought:
    """A product the bench buys, in one of its variants, and the first extra it offers if any (0: none)."""

    product: int
    variant: int
    price: str
    extra: int = 0
    price_with_extra: str = ""


def write_data_file(path: Path, seed: int, popular_count: int, customer_count: int) -> DataSet:
    """Give the bought variants a large stock, mint access tokens, and write the data files.

    `path` is the Lua file (bench/lua/shop.lua reads it); the same data goes as JSON beside
    it, with the suffix `.json` (bench/locustfile.py reads it). Both hold bearer tokens.

    The popular set is `popular_count` products, each bought in one of its orderable variants
    (most products have one; clothes, shoes and pizzas several), with the first extra it
    offers, if any, for the lines that add one. The hot and sell-out variants are of two
    more products, bought without extras.
    The tokens are made the way POST /auth/token/ makes them (customers.api.serializers.token_for),
    so they carry the same claims. Customers order to their default address.
    """
    from django.contrib.auth import get_user_model
    from django.db import close_old_connections

    from catalog.models import Category, Extra, OptionValue, Product, Variant
    from customers.api.serializers import token_for
    from customers.models import Address

    rng = random.Random(seed)
    variants: dict[int, list[tuple[int, object]]] = {}
    orderable = Variant.objects.orderable().order_by("product_id", "position", "pk")
    for pk, product_id, price in orderable.values_list("pk", "product_id", "price"):
        variants.setdefault(product_id, []).append((pk, price))
    chosen = rng.sample(sorted(variants), popular_count + 2)
    extras = {}
    for product_id, pk, price in (
        Extra.objects.filter(product_id__in=chosen, is_active=True)
        .order_by("product_id", "-position", "-pk")  # the first one wins below
        .values_list("product_id", "pk", "price")
    ):
        extras[product_id] = (pk, price)
    bought = []
    for product_id in chosen:
        variant, price = rng.choice(variants[product_id])
        extra, extra_price = extras.get(product_id, (0, 0))
        bought.append(Bought(product_id, variant, str(price), extra, str(price + extra_price)))
    popular, (hot, sellout) = bought[:popular_count], bought[popular_count:]
    hot, sellout = Bought(hot.product, hot.variant, hot.price), Bought(sellout.product, sellout.variant, sellout.price)
    set_stock({**{line.variant: LARGE_STOCK for line in [*popular, hot]}, sellout.variant: SELLOUT_STOCK})

    addresses = list(
        Address.objects.filter(is_default=True, customer__user__is_staff=False, customer__user__is_active=True)
        .order_by("customer_id")
        .values_list("pk", "customer__user_id")[:customer_count]
    )
    users = get_user_model().objects.in_bulk([user_id for _address, user_id in addresses])
    tokens = [(str(token_for(users[user_id]).access_token), address) for address, user_id in addresses]

    categories = list(Category.objects.active().order_by("pk").values_list("pk", "slug"))
    names = Product.objects.active().values_list("name", flat=True)
    words = sorted({word.lower() for name in names for word in name.split() if word.isalpha()})
    search_words = rng.sample(words, min(SEARCH_WORDS, len(words)))
    long_words = [word for word in words if len(word) >= 6] or words
    long_words = rng.sample(long_words, min(SEARCH_WORDS, len(long_words)))
    option_values = sorted(
        set(OptionValue.objects.filter(option__product__is_active=True).values_list("option__name", "value"))
    )
    close_old_connections()

    lines = ["-- Made by bench/dataset.py for one bench run; read by bench/lua/shop.lua.", "return {"]
    lines.append(lua_field("customers", [f'{{"{token}", {address}}}' for token, address in tokens]))
    lines.append(lua_field("popular", [product_entry(product) for product in popular]))
    lines.append(f"  hot = {product_entry(hot)},")
    lines.append(f"  sellout = {product_entry(sellout)},")
    lines.append(lua_field("category_ids", [str(pk) for pk, _slug in categories]))
    lines.append(lua_field("category_slugs", [f'"{slug}"' for _pk, slug in categories]))
    lines.append(lua_field("search_words", [f'"{word}"' for word in search_words]))
    lines.append(lua_field("long_words", [f'"{word}"' for word in long_words]))
    lines.append(lua_field("option_values", [f'"{quote(f"{name}:{value}")}"' for name, value in option_values]))
    lines.append("}")
    path.write_text("\n".join(lines) + "\n")
    json_path = path.with_suffix(".json")
    data = {
        "customers": [{"token": token, "address": address} for token, address in tokens],
        "popular": [asdict(product) for product in popular],
        "hot": asdict(hot),
        "sellout": asdict(sellout),
        "category_ids": [pk for pk, _slug in categories],
        "category_slugs": [slug for _pk, slug in categories],
        "search_words": search_words,
        "long_words": long_words,
        "option_values": [f"{name}:{value}" for name, value in option_values],  # not URL-encoded here
    }
    json_path.write_text(json.dumps(data, indent=1) + "\n")
    return DataSet(path, json_path, len(tokens), tuple(line.product for line in popular), hot.variant, sellout.variant)


def set_stock(stock: dict[int, int]) -> None:
    """Bring each variant's stock to the units given, through the stock methods (which announce it to the cache).

    Set-up, not a sale; one transaction, so reading the stock first is safe here.
    """
    from django.db import transaction

    from catalog.models import Variant

    with transaction.atomic():
        now = dict(Variant.objects.filter(pk__in=list(stock)).values_list("pk", "stock"))
        more = {pk: units - now[pk] for pk, units in stock.items() if units > now[pk]}
        fewer = {pk: now[pk] - units for pk, units in stock.items() if units < now[pk]}
        if more:
            Variant.objects.release(more)
        if fewer:
            Variant.objects.reserve(fewer)


def product_entry(line: Bought) -> str:
    """Return a bought line as the Lua script reads it: {product, variant, "price", extra, "price with extra"}."""
    return f'{{{line.product}, {line.variant}, "{line.price}", {line.extra}, "{line.price_with_extra}"}}'


def lua_field(name: str, items: list[str]) -> str:
    return f"  {name} = {{\n    " + ",\n    ".join(items) + "\n  },"


def store_ceiling_body(key: str, body: bytes) -> None:
    """Store the product list's bytes under `key` with django-redis, for the ceiling view."""
    from django.core.cache import cache

    cache.set(key, body, timeout=None)


def stock_of(variant_id: int) -> int:
    """Return a variant's stock, read from the database now."""
    from django.db import close_old_connections

    from catalog.models import Variant

    stock = Variant.objects.filter(pk=variant_id).values_list("stock", flat=True).get()
    close_old_connections()
    return stock


def units_sold_since(variant_id: int, since: datetime) -> int:
    """Return the units of a variant on orders placed since `since` that still hold their stock."""
    from django.db import close_old_connections
    from django.db.models import Sum

    from orders.models import OrderItem
    from orders.status import Status

    units = (
        OrderItem.objects.filter(variant_id=variant_id, order__created_at__gte=since)
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
