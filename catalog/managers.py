"""Catalog rules: category tree reads, product summaries, and the only write path for variant stock.

`QuerySet.update()` and `bulk_create()` send no save signals, so the bulk writes here
announce themselves with `products_changed` / `categories_changed` for the cache.
"""

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, connections, models, transaction
from django.db.models import Avg, Count, DecimalField, Exists, F, Max, Min, OuterRef, Subquery
from django.db.models.functions import Cast, Coalesce, Round
from django.dispatch import Signal
from django.utils import timezone

from catalog import search as product_search
from catalog.exceptions import AlreadyReviewed, InsufficientStock, StockLimitExceeded
from common.models import ActivatableQuerySet

# Product ids whose summaries (price range, search vector) a bulk load refreshes when it ends.
_deferred_summaries: ContextVar[set[int] | None] = ContextVar("deferred_product_summaries", default=None)


@contextmanager
def bulk_load(using: str = "default") -> Iterator[None]:
    """Insert products and their parts in bulk, refreshing their summaries once at the end.

    Each bulk insert of products or variants otherwise refreshes the price ranges and search
    vectors itself, and each refresh rewrites every product row with all its indexes: a
    seed inserting a batch in four steps would rewrite it four times.
    """
    pending: set[int] = set()
    token = _deferred_summaries.set(pending)
    try:
        yield
    finally:
        _deferred_summaries.reset(token)
    if pending:
        _analyze_loaded_tables(using)
        products = apps.get_model("catalog", "Product").objects.db_manager(using)
        products.refresh_prices(pending)
        products.filter(pk__in=pending).refresh_search()


def _analyze_loaded_tables(using: str) -> None:
    """Bring PostgreSQL's planner statistics up to the rows this transaction loaded.

    Until then it plans the refreshes for the near-empty tables it last analysed and scans a
    variant link table of tens of thousands of rows once per product (a batch took 30-60 s).
    ANALYZE samples the rows of its own transaction too.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    variant = apps.get_model("catalog", "Variant")
    tables = [
        variant._meta.db_table,
        variant.option_values.through._meta.db_table,
        apps.get_model("catalog", "Product")._meta.db_table,
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(connection.ops.quote_name(table) for table in tables)}")


products_changed = Signal()
"""Sent after products change in bulk. kwargs: product_ids, lists_changed (bool)."""

categories_changed = Signal()
"""Sent after categories change in bulk."""

# The columns a product's search vector reads (catalog/search.py): a bulk update of one refreshes it.
SEARCHED_PRODUCT_FIELDS = {"name", "description", "category", "category_id"}
SEARCHED_VARIANT_FIELDS = {"sku", "is_active", "product", "product_id"}
SEARCHED_CATEGORY_FIELDS = {"name", "parent", "parent_id"}

# How a list of variants running low reads: the fewest units first.
LOW_STOCK_ORDER = ("stock", "sku")


class CategoryQuerySet(ActivatableQuerySet):
    def descendant_ids(self, category_id: int) -> list[int]:
        """Return the id of this category and of every category below it, in one query."""
        children: dict[int | None, list[int]] = {}
        for pk, parent_id in self.model._base_manager.order_by().values_list("pk", "parent_id"):
            children.setdefault(parent_id, []).append(pk)
        return [pk for pk, _depth in _walk(children, [category_id])]

    def outline(self) -> list[tuple[int, str, int]]:
        """Return (id, name, depth) of every category, each followed by its sub-categories, by name (one query)."""
        children: dict[int | None, list[int]] = {}
        names: dict[int, str] = {}
        for pk, name, parent_id in self.model._base_manager.order_by("name").values_list("pk", "name", "parent_id"):
            children.setdefault(parent_id, []).append(pk)
            names[pk] = name
        return [(pk, names[pk], depth) for pk, depth in _walk(children, children.get(None, []))]

    def product_counts(self) -> dict[int, int]:
        """Return every category's number of products, those of its sub-categories at any depth included.

        One query reads the tree with each category's own count, and the totals are added
        up in memory: following a tree of any depth in SQL takes a recursive query.
        """
        children: dict[int | None, list[int]] = {}
        parent_of: dict[int, int | None] = {}
        totals: dict[int, int] = {}
        rows = self.model._base_manager.order_by().annotate(own=Count("products"))
        for pk, parent_id, own in rows.values_list("pk", "parent_id", "own"):
            children.setdefault(parent_id, []).append(pk)
            parent_of[pk] = parent_id
            totals[pk] = own
        # Every category comes after its parent here, so going backwards adds each
        # finished subtree to its parent.
        for pk, _depth in reversed(_walk(children, children.get(None, []))):
            if parent_of[pk] is not None:
                totals[parent_of[pk]] += totals[pk]
        return totals

    def update(self, **kwargs) -> int:
        """Update in bulk and announce it to the cache; a new name or parent refreshes the products' search."""
        renamed = list(self.values_list("pk", flat=True)) if SEARCHED_CATEGORY_FIELDS & set(kwargs) else []
        rows = super().update(**kwargs)
        if renamed:
            categories = self.model.objects.db_manager(self.db)
            below = {pk for category_id in renamed for pk in categories.descendant_ids(category_id)}
            products = self.model._meta.get_field("products").related_model.objects.db_manager(self.db)
            products.filter(category_id__in=below).refresh_search()
        categories_changed.send(sender=self.model)
        return rows

    update.alters_data = True

    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        categories_changed.send(sender=self.model)
        return created

    bulk_create.alters_data = True


class ProductQuerySet(ActivatableQuerySet):
    def in_stock(self):
        """Products that can be ordered now: active, with an active variant in stock."""
        return self.filter(is_active=True).filter(self.has_stock())

    def has_stock(self) -> Exists:
        """Return the condition "some active variant has stock", for filters and annotations."""
        variants = self.model._meta.get_field("variants").related_model.objects
        return Exists(variants.filter(product=OuterRef("pk"), is_active=True, stock__gt=0))

    def with_low_stock(self, threshold: int | None = None):
        """Products with an active variant at `threshold` units or fewer (by default LOW_STOCK_THRESHOLD)."""
        variants = self.model._meta.get_field("variants").related_model.objects
        low = variants.filter(product=OuterRef("pk")).active().low_stock(threshold).order_by()
        return self.filter(Exists(low))

    def search(self, text: str):
        """Products matching `text`, most relevant first: ranked full-text with typo tolerance on
        PostgreSQL, every word contained on SQLite (catalog/search.py)."""
        return product_search.search(self, text)

    def facets(self) -> dict:
        """Return these products' counts by stock, category, price band and option value (catalog/search.py)."""
        return product_search.facets(self)

    def with_option_values(self, wanted: Mapping[str, Iterable[str]], *, in_stock: bool = False):
        """Products with an active variant having, for each option named, one of its values.

        {"Size": ["M", "L"], "Colour": ["Navy"]}: a variant in M or L, and in Navy. With
        `in_stock`, that variant must have stock too.
        """
        variants = self.model._meta.get_field("variants").related_model
        chosen = variants.objects.filter(product=OuterRef("pk"), is_active=True)
        if in_stock:
            chosen = chosen.filter(stock__gt=0)
        through = variants._meta.get_field("option_values").remote_field.through
        for name, values in wanted.items():
            having = through.objects.filter(
                variant=OuterRef("pk"), optionvalue__option__name=name, optionvalue__value__in=list(values)
            )
            chosen = chosen.filter(Exists(having))
        return self.filter(Exists(chosen))

    def refresh_search(self) -> None:
        """Rebuild these products' search vectors in one UPDATE (PostgreSQL; nothing on SQLite).

        It announces nothing: every write that changes what the vector reads already
        invalidates the cached lists (catalog/signals.py).
        """
        product_search.refresh_vectors(self)

    refresh_search.alters_data = True

    def in_category(self, category):
        """Products in this category (a Category or its id) or in any category below it, at any depth."""
        categories = self.model._meta.get_field("category").related_model.objects
        return self.filter(category_id__in=categories.descendant_ids(getattr(category, "pk", category)))

    def create_with_variant(self, *, sku: str, price, stock: int = 0, **fields):
        """Create a product sold in one variant (no options), with that variant's sku, price and stock."""
        variants = self.model._meta.get_field("variants").related_model.objects
        with transaction.atomic(using=self.db):
            product = self.create(**fields)
            variants.create(product=product, sku=sku, price=price, stock=stock)
            product.refresh_from_db(fields=["price_min", "price_max"])
        return product

    create_with_variant.alters_data = True

    def refresh_prices(self, product_ids) -> None:
        """Recompute each product's price range from its active variants, and announce the change.

        The product rows are locked first, so two variants of one product written at once
        take turns, and the second sees the first's price.
        """
        variants = self.model._meta.get_field("variants").related_model.objects
        active = variants.filter(product=OuterRef("pk"), is_active=True).order_by().values("product")
        lowest = active.annotate(value=Min("price")).values("value")
        highest = active.annotate(value=Max("price")).values("value")
        product_ids = sorted(set(product_ids))
        with transaction.atomic(using=self.db):
            list(self.select_for_update().filter(pk__in=product_ids).order_by("pk").values_list("pk"))
            # QuerySet.update itself: this method announces the change once, below.
            models.QuerySet.update(
                self.filter(pk__in=product_ids),
                price_min=Subquery(lowest),
                price_max=Subquery(highest),
                updated_at=timezone.now(),
            )
        products_changed.send(sender=self.model, product_ids=product_ids, lists_changed=True)

    refresh_prices.alters_data = True

    def refresh_ratings(self, product_ids: list[int]) -> None:
        """Recompute rating average and count from the reviews, in the database.

        The product rows are locked first, so the UPDATE that follows (a new snapshot under
        READ COMMITTED) sees every review committed by a concurrent writer.
        """
        reviews = self.model._meta.get_field("reviews").related_model.objects.filter(product=OuterRef("pk"))
        per_product = reviews.order_by().values("product")
        # Round in SQL: SQLite would otherwise store every digit of the mean and sort on them.
        average = per_product.annotate(
            value=Cast(Round(Avg("rating"), 2), DecimalField(max_digits=3, decimal_places=2))
        )
        count = per_product.annotate(value=Count("*"))
        with transaction.atomic(using=self.db):
            list(self.select_for_update().filter(pk__in=product_ids).order_by("pk").values_list("pk"))
            self.filter(pk__in=product_ids).update(
                rating_average=Coalesce(Subquery(average.values("value")), 0, output_field=DecimalField()),
                rating_count=Coalesce(Subquery(count.values("value")), 0),
            )

    refresh_ratings.alters_data = True

    def update(self, **kwargs) -> int:
        """Update in bulk and announce which products changed, for the cache (and their search, if it reads them)."""
        product_ids = list(self.values_list("pk", flat=True))
        rows = super().update(**kwargs)
        if SEARCHED_PRODUCT_FIELDS & set(kwargs):
            self.model.objects.db_manager(self.db).filter(pk__in=product_ids).refresh_search()
        products_changed.send(sender=self.model, product_ids=product_ids, lists_changed=True)
        return rows

    update.alters_data = True

    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        product_ids = [product.pk for product in created if product.pk is not None]
        if not _defer_summaries(product_ids):
            self.filter(pk__in=product_ids).refresh_search()
        products_changed.send(sender=self.model, product_ids=[], lists_changed=True)
        return created

    bulk_create.alters_data = True


class VariantQuerySet(ActivatableQuerySet):
    """Variants, and the only write path for stock."""

    def orderable(self):
        """Variants a customer may order: active, of an active product."""
        return self.filter(is_active=True, product__is_active=True)

    def low_stock(self, threshold: int | None = None):
        """Variants with `threshold` units or fewer left (by default LOW_STOCK_THRESHOLD), fewest first."""
        if threshold is None:
            threshold = settings.LOW_STOCK_THRESHOLD
        return self.filter(stock__lte=threshold).order_by(*LOW_STOCK_ORDER)

    def reserve(self, quantities: Mapping[int, int], *, savepoint: bool = True) -> None:
        """Take stock for every variant or for none; raise InsufficientStock naming each short variant.

        `quantities` maps variant ids to units. One conditional UPDATE takes every line
        (`_take`); a line it could not take is short. Runs inside the caller's transaction (a
        savepoint when nested), so a refusal undoes every line. A caller that never carries
        on after a refusal (it rolls back whole) passes `savepoint=False` and spares the two
        statements: Django then refuses further queries in the doomed transaction.
        """
        _check_quantities(quantities)
        with transaction.atomic(using=self.db, savepoint=savepoint):
            left = self._take(quantities, timezone.now())
            if len(left) < len(quantities):
                raise InsufficientStock(self._shortages({pk: n for pk, n in quantities.items() if pk not in left}))
            self._announce_reserved(quantities, left)

    reserve.alters_data = True

    def _take(self, quantities: Mapping[int, int], now) -> dict[int, tuple[int, int, bool]]:
        """Take the units of every variant that has them, in one statement; return what the cache needs to hear.

        Returns {variant id: (product id, stock left, is active)} for the variants taken. On
        PostgreSQL the rows are first locked in id order (`FOR UPDATE` in a materialised
        CTE), so concurrent orders over the same variants cannot deadlock whatever join the
        planner picks; SQLite has one writer at a time. Raw SQL: the ORM has no UPDATE ...
        FROM ... RETURNING (PostgreSQL and SQLite both speak it).
        """
        connection = connections[self.db]
        name = connection.ops.quote_name
        table = name(self.model._meta.db_table)
        pk, product, stock, updated, active = (
            name(self.model._meta.get_field(field).column)
            for field in ("id", "product", "stock", "updated_at", "is_active")
        )
        id_type = self.model._meta.pk.db_type(connection)
        wanted = ", ".join([f"(CAST(%s AS {id_type}), CAST(%s AS integer))"] * len(quantities))
        params = [value for variant_id in sorted(quantities) for value in (variant_id, quantities[variant_id])]
        lock, locked = "", ""
        if connection.features.has_select_for_update:
            lock = (
                f", locked AS MATERIALIZED (SELECT {table}.{pk} FROM {table} INNER JOIN wanted "
                f"ON {table}.{pk} = wanted.variant ORDER BY {table}.{pk} FOR UPDATE OF {table})"
            )
            locked = f" AND {table}.{pk} IN (SELECT {pk} FROM locked)"
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH wanted (variant, quantity) AS (VALUES {wanted}){lock} "
                f"UPDATE {table} SET {stock} = {table}.{stock} - wanted.quantity, {updated} = %s FROM wanted "
                f"WHERE {table}.{pk} = wanted.variant AND {table}.{stock} >= wanted.quantity{locked} "
                f"RETURNING {table}.{pk}, {table}.{product}, {table}.{stock}, {table}.{active}",
                [*params, connection.ops.adapt_datetimefield_value(now)],
            )
            rows = cursor.fetchall()
        return {row[0]: (row[1], row[2], bool(row[3])) for row in rows}

    def _shortages(self, quantities: Mapping[int, int]) -> list[dict]:
        """Describe the variants `_take` could not take, for InsufficientStock (one query)."""
        rows = self.model._base_manager.filter(pk__in=list(quantities)).values("id", "product_id", "sku", "stock")
        found = {row["id"]: row for row in rows}
        gone = {"product_id": None, "sku": "", "stock": 0}
        return [
            {
                "variant": variant_id,
                "product": found.get(variant_id, gone)["product_id"],
                "sku": found.get(variant_id, gone)["sku"],
                "requested": wanted,
                "available": found.get(variant_id, gone)["stock"],
            }
            for variant_id, wanted in sorted(quantities.items())
        ]

    def _announce_reserved(self, quantities: Mapping[int, int], left: Mapping[int, tuple[int, int, bool]]) -> None:
        """Tell the cache which products `reserve` moved, and whether any went out of stock.

        A product goes out of stock when an active variant of it was taken to 0 units and
        none of its other active variants has any: only then are its other variants read
        (one query), otherwise `_take`'s answers say it all.
        """
        product_ids = sorted({product_id for product_id, _stock, _active in left.values()})
        emptied = {product_id for product_id, stock, active in left.values() if active and stock == 0}
        kept = {product_id for product_id, stock, active in left.values() if active and stock > 0}
        flipped = False
        if emptied - kept:
            others = self.model._base_manager.filter(product_id__in=emptied - kept, is_active=True, stock__gt=0)
            flipped = len(emptied - kept) > others.values("product_id").distinct().count()
        products_changed.send(sender=self.model, product_ids=product_ids, lists_changed=flipped)

    def release(self, quantities: Mapping[int, int]) -> None:
        """Give back stock taken by `reserve` (a cancelled order, a failed payment, a restock).

        All or nothing, like `reserve`: a variant that would pass MAX_STOCK raises
        StockLimitExceeded and no line is given back.
        """
        _check_quantities(quantities)
        now = timezone.now()
        with transaction.atomic(using=self.db):
            over = []
            for variant_id in sorted(quantities):
                given = quantities[variant_id]
                room = self.filter(pk=variant_id, stock__lte=self.model.MAX_STOCK - given)
                if not room._update_quietly(stock=F("stock") + given, updated_at=now):
                    found = self.model._base_manager.filter(pk=variant_id).values("product_id", "sku").first()
                    if found is not None:
                        over.append(
                            {
                                "variant": variant_id,
                                "product": found["product_id"],
                                "sku": found["sku"],
                                "requested": given,
                            }
                        )
            if over:
                raise StockLimitExceeded(over, self.model.MAX_STOCK)
            self._announce_stock_change(quantities, back_in_stock=True)

    release.alters_data = True

    def adjust_stock(self, variant_id: int, delta: int) -> None:
        """Add (delta > 0) or remove (delta < 0) units; never below zero."""
        if delta > 0:
            self.release({variant_id: delta})
        elif delta < 0:
            self.reserve({variant_id: -delta})

    adjust_stock.alters_data = True

    def update(self, **kwargs) -> int:
        """Update in bulk, keeping the products' price ranges (and so the cache) right."""
        product_ids = list(self.values_list("product_id", flat=True).distinct())
        rows = super().update(**kwargs)
        products = self.model._meta.get_field("product").related_model.objects
        products.refresh_prices(product_ids)
        if SEARCHED_VARIANT_FIELDS & set(kwargs):
            moved_to = kwargs.get("product")
            products.filter(pk__in=[*product_ids, getattr(moved_to, "pk", moved_to)]).refresh_search()
        return rows

    update.alters_data = True

    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        product_model = self.model._meta.get_field("product").related_model
        product_ids = {variant.product_id for variant in created}
        if not _defer_summaries(product_ids):
            product_model.objects.refresh_prices(product_ids)
            product_model.objects.filter(pk__in=product_ids).refresh_search()
        return created

    bulk_create.alters_data = True

    def _update_quietly(self, **kwargs) -> int:
        """Update without announcing: the stock methods announce what they know themselves."""
        return super().update(**kwargs)

    def _announce_stock_change(self, quantities: Mapping[int, int], *, back_in_stock: bool) -> None:
        """Tell the cache which products moved, and whether any went out of stock (or back in).

        One query reads the stock of every variant of the products touched. Listings change
        only when a product's in-stock flag flips: after a reserve, when none of its active
        variants has stock left; after a release, when its active stock is what came back.
        Our UPDATEs hold the rows we moved until commit, so these reads are exact for them.
        """
        touched = self.model._base_manager.filter(pk__in=list(quantities)).values("product_id")
        rows = self.model._base_manager.filter(product_id__in=touched).values_list(
            "pk", "product_id", "stock", "is_active"
        )
        on_hand: dict[int, int] = {}  # units of the product's active variants, now
        moved: dict[int, int] = {}  # of which moved by this call
        for pk, product_id, stock, is_active in rows:
            on_hand.setdefault(product_id, 0)
            moved.setdefault(product_id, 0)
            if is_active:
                on_hand[product_id] += stock
                moved[product_id] += quantities.get(pk, 0)
        if back_in_stock:
            flipped = any(moved[pk] and on_hand[pk] == moved[pk] for pk in on_hand)
        else:
            flipped = any(moved[pk] and on_hand[pk] == 0 for pk in on_hand)
        product_ids = sorted(on_hand)
        products_changed.send(sender=self.model, product_ids=product_ids, lists_changed=flipped)


class ReviewQuerySet(models.QuerySet):
    def public(self):
        """Reviews of products the storefront shows."""
        return self.filter(product__is_active=True)

    def post(self, *, product, customer, rating: int, comment: str = ""):
        """Publish a customer's review of a product; one per customer and product."""
        try:
            with transaction.atomic(using=self.db):
                return self.create(product=product, customer=customer, rating=rating, comment=comment)
        except IntegrityError as duplicate:
            if self.filter(product=product, customer=customer).exists():
                raise AlreadyReviewed() from duplicate
            raise

    post.alters_data = True

    def mark_verified(self, customer_id: int, product_ids) -> int:
        """Mark the customer's reviews of these products as verified purchases (their order was confirmed)."""
        return self.filter(customer_id=customer_id, product_id__in=product_ids).update(verified_purchase=True)

    mark_verified.alters_data = True


def _walk(children: Mapping[int | None, list[int]], tops: list[int]) -> list[tuple[int, int]]:
    """Return (id, depth) of `tops` and of every category below them, each after its parent.

    Siblings keep the order of `children`.
    """
    found, seen, todo = [], set(), [(pk, 0) for pk in reversed(tops)]
    while todo:
        pk, depth = todo.pop()
        if pk in seen:  # a loop written past Category.clean: stop rather than spin
            continue
        seen.add(pk)
        found.append((pk, depth))
        todo.extend((child, depth + 1) for child in reversed(children.get(pk, [])))
    return found


def _defer_summaries(product_ids: Iterable[int]) -> bool:
    """Leave these products' summaries to the bulk load under way, if there is one; return whether there is."""
    pending = _deferred_summaries.get()
    if pending is not None:
        pending.update(product_ids)
    return pending is not None


def _check_quantities(quantities: Mapping[int, int]) -> None:
    if not quantities or any(quantity < 1 for quantity in quantities.values()):
        raise ValueError("Stock moves need at least one variant, each with a quantity of 1 or more.")


CategoryManager = models.Manager.from_queryset(CategoryQuerySet)
ProductManager = models.Manager.from_queryset(ProductQuerySet)
VariantManager = models.Manager.from_queryset(VariantQuerySet)
ReviewManager = models.Manager.from_queryset(ReviewQuerySet)
