"""Product search and facets: what ProductQuerySet.search / .facets / .refresh_search do.

On PostgreSQL a product's `search_vector` holds, weighted, its name and its active variants'
SKUs (A), the names of its category and of the categories above it (B), its active variants'
option values (C) and its description (D). One UPDATE rebuilds it from those tables
(`refresh_vectors`), called wherever they change (catalog/signals.py and the bulk paths of
catalog/managers.py). A search is `websearch_to_tsquery` against that vector, served by its
GIN index and ranked with `ts_rank`; when it matches few products, names close in spelling
(trigram word similarity, served by the trigram index of migration 0008) are added after them.

SQLite has neither: there every word must appear in the name, a SKU or the description.

This module sits below catalog/managers.py: it reads the models through the querysets it
is given, never by import.
"""

import re
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.lookups import TrigramWordSimilar
from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramWordSimilarity
from django.db import connections
from django.db.models import Count, Exists, F, Min, OuterRef, Q
from django.db.models.functions import Upper

# The index migration 0009 creates; named in the query-plan tests.
VECTOR_INDEX = "catalog_product_search_vector"

# The words of a websearch query a typo match may use: "quoted phrases", -excluded, or.
WEBSEARCH_TERM = re.compile(r'(-?)"([^"]*)"?|(-?)(\S+)')


def on_postgresql(queryset) -> bool:
    return connections[queryset.db].vendor == "postgresql"


def refresh_vectors(products) -> None:
    """Rebuild the search vector of `products` (a queryset of products) in one UPDATE; nothing on SQLite.

    Category names are read up the tree with a recursive query, so a product in "Teapots"
    under "Kitchen" is found by either. Only active variants count: what the shop sells.
    """
    if not on_postgresql(products):
        return
    product = products.model
    variant = product._meta.get_field("variants").related_model
    values_field = variant._meta.get_field("option_values")
    through = values_field.remote_field.through
    tables = {
        "product": product._meta.db_table,
        "category": product._meta.get_field("category").related_model._meta.db_table,
        "variant": variant._meta.db_table,
        "value": values_field.related_model._meta.db_table,
        "through": through._meta.db_table,
        "through_variant": through._meta.get_field("variant").column,
        "through_value": through._meta.get_field(values_field.m2m_reverse_field_name()).column,
    }
    # The ids first, then an array: a subquery over the table being written lets the planner,
    # whose statistics lag a bulk load in the same transaction, rescan products per row.
    ids = list(products.order_by().values_list("pk", flat=True))
    if not ids:
        return
    sql = f"""
        WITH RECURSIVE targets AS (SELECT unnest(%s::bigint[]) AS pk),
        lineage (category_id, ancestor_id, depth) AS (
            SELECT DISTINCT p.category_id, p.category_id, 0
            FROM {tables["product"]} p WHERE p.id IN (SELECT * FROM targets)
          UNION ALL
            SELECT l.category_id, c.parent_id, l.depth + 1
            FROM lineage l JOIN {tables["category"]} c ON c.id = l.ancestor_id
            WHERE c.parent_id IS NOT NULL AND l.depth < 100
        ),
        category_names AS (
            SELECT l.category_id, string_agg(c.name, ' ' ORDER BY l.depth) AS names
            FROM lineage l JOIN {tables["category"]} c ON c.id = l.ancestor_id
            GROUP BY l.category_id
        )
        UPDATE {tables["product"]} p SET search_vector =
            setweight(to_tsvector(%s::regconfig, p.name || ' ' || coalesce(
                (SELECT string_agg(v.sku, ' ') FROM {tables["variant"]} v WHERE v.product_id = p.id AND v.is_active),
                '')), 'A')
            || setweight(to_tsvector(%s::regconfig, cn.names), 'B')
            || setweight(to_tsvector(%s::regconfig, coalesce(
                (SELECT string_agg(DISTINCT ov.value, ' ')
                 FROM {tables["through"]} t
                 JOIN {tables["variant"]} v ON v.id = t.{tables["through_variant"]}
                 JOIN {tables["value"]} ov ON ov.id = t.{tables["through_value"]}
                 WHERE v.product_id = p.id AND v.is_active),
                '')), 'C')
            || setweight(to_tsvector(%s::regconfig, p.description), 'D')
        FROM category_names cn
        WHERE cn.category_id = p.category_id AND p.id IN (SELECT * FROM targets)
    """
    config = settings.CATALOG_SEARCH_CONFIG
    with connections[products.db].cursor() as cursor:
        cursor.execute(sql, [ids, config, config, config, config])


def search(products, text: str):
    """Return the products matching `text`, most relevant first (see the module docstring)."""
    text = text.strip()
    if not text:
        return products
    if not on_postgresql(products):
        return contains_every_word(products, text)
    config = settings.CATALOG_SEARCH_CONFIG
    query = SearchQuery(text, search_type="websearch", config=config)
    wanted, excluded = websearch_words(text)
    matches = Q(search_vector=query)
    if wanted:
        # "Few matches" is one uncorrelated EXISTS (an InitPlan, run once): is there an n-th?
        below = settings.CATALOG_SEARCH_TYPO_BELOW
        everything = products.model._base_manager.filter(search_vector=query).order_by().values("pk")
        few = ~Exists(everything[below - 1 : below]) if below > 0 else Q(pk__in=[])
        # Upper(name), as the trigram index is built: so the index serves it.
        close = Q(TrigramWordSimilar(Upper("name"), wanted.upper()))
        if excluded:
            close &= ~Q(search_vector=SearchQuery(" or ".join(excluded), search_type="websearch", config=config))
        matches |= few & close
    found = products.filter(matches).annotate(search_rank=SearchRank(F("search_vector"), query))
    by_relevance = [F("search_rank").desc(nulls_last=True)]
    if wanted:
        found = found.annotate(search_similarity=TrigramWordSimilarity(wanted, "name"))
        by_relevance.append(F("search_similarity").desc(nulls_last=True))
    return found.order_by(*by_relevance)


def websearch_words(text: str) -> tuple[str, list[str]]:
    """Split a websearch query into the words it asks for (one string) and the terms it excludes.

    `"green tea" -decaf or rooibos` gives ("green tea rooibos", ['"decaf"']).
    """
    wanted, excluded = [], []
    for phrase_minus, phrase, word_minus, word in WEBSEARCH_TERM.findall(text):
        term = phrase if phrase_minus or phrase else word
        minus = phrase_minus or word_minus
        if not term.strip() or (not minus and term.lower() == "or"):
            continue
        if minus:
            excluded.append(f'"{term}"')
        else:
            wanted.append(term)
    return " ".join(wanted), excluded


def contains_every_word(products, text: str):
    """Products with every word of `text` in their name, an active variant's SKU or their description.

    The embedded default's search (SQLite): no ranking, no phrases, no typo tolerance.
    """
    variants = products.model._meta.get_field("variants").related_model.objects
    for word in text.split():
        sku = variants.filter(product=OuterRef("pk"), is_active=True, sku__icontains=word)
        products = products.filter(Q(name__icontains=word) | Q(description__icontains=word) | Exists(sku))
    return products


def price_bands() -> list[tuple[Decimal, Decimal | None]]:
    """Return the facets' price bands from settings.CATALOG_PRICE_BANDS, as amounts."""
    return [(Decimal(low), None if high is None else Decimal(high)) for low, high in settings.CATALOG_PRICE_BANDS]


def in_band(low: Decimal, high: Decimal | None) -> Q:
    """Products with a variant in the band, as min_price=low and max_price=high filter them."""
    condition = Q(price_max__gte=low)
    return condition if high is None else condition & Q(price_min__lte=high)


def facets(products) -> dict:
    """Count `products` by stock, category (sub-categories rolled up), price band and option value.

    Four queries, whatever the data, each a plain filter the planner can join as it sees fit
    (a hash over the variants for a broad filter, index lookups for a narrow one): the
    products by category, with the bands; how many are in stock; the category tree; the
    option values of their in-stock variants. A product is in stock, and counted under an
    option value, when one of its active variants (with that value) has stock.
    """
    model = products.model
    variants = model._meta.get_field("variants").related_model
    # Only the filters: no search ranks, prefetches or ordering to carry along.
    products = products.order_by().values("pk")
    bands = price_bands()
    rows = products.values("category_id").annotate(
        count=Count("pk"), **{f"band_{index}": Count("pk", filter=in_band(*band)) for index, band in enumerate(bands)}
    )
    own, band_counts = {}, [0] * len(bands)
    for row in rows:
        own[row["category_id"]] = row["count"]
        for index in range(len(bands)):
            band_counts[index] += row[f"band_{index}"]
    stocked = variants._base_manager.filter(is_active=True, stock__gt=0)
    return {
        "count": sum(own.values()),
        "in_stock": products.filter(products.has_stock()).count(),
        "categories": category_counts(model._meta.get_field("category").related_model, own),
        "price_bands": [
            {"min": low, "max": high, "count": count} for (low, high), count in zip(bands, band_counts, strict=True)
        ],
        "options": option_counts(stocked.filter(product__in=products)),
    }


def category_counts(category_model, own: dict[int, int]) -> list[dict]:
    """Return active categories with products, each counting those of its sub-categories too.

    Parents come before their sub-categories, siblings by name (as the admin's outline).
    """
    rows = category_model._base_manager.order_by("name").values_list("pk", "name", "parent_id", "is_active")
    parent_of = {pk: parent_id for pk, _name, parent_id, _active in rows}
    totals = dict.fromkeys(parent_of, 0)
    for category_id, count in own.items():
        seen = set()
        while category_id is not None and category_id not in seen:  # `seen`: a loop written past clean()
            seen.add(category_id)
            totals[category_id] += count
            category_id = parent_of.get(category_id)
    children: dict[int | None, list[tuple[int, str, bool]]] = {}
    for pk, name, parent_id, is_active in rows:
        children.setdefault(parent_id, []).append((pk, name, is_active))
    found, todo, visited = [], list(reversed(children.get(None, []))), set()
    while todo:
        pk, name, is_active = todo.pop()
        if pk in visited:
            continue
        visited.add(pk)
        if is_active and totals[pk]:
            found.append({"id": pk, "name": name, "count": totals[pk]})
        todo.extend(reversed(children.get(pk, [])))
    return found


def option_counts(stocked_variants) -> dict[str, list[dict]]:
    """Return, per option name, each value with the number of products having one of `stocked_variants` in it.

    A product has one value of a given name and text (names are unique per product, values
    per option), so counting the values found counts the products. Options by name; values in
    the products' own order (their lowest position), then by value.
    """
    through = stocked_variants.model._meta.get_field("option_values").remote_field.through
    values = through._meta.get_field("optionvalue").related_model
    found = through.objects.filter(variant__in=stocked_variants.values("pk")).values("optionvalue_id")
    rows = (
        values._base_manager.filter(pk__in=found)
        .values_list("option__name", "value")
        .annotate(count=Count("pk"), position=Min("position"))
        .order_by("option__name", "position", "value")
    )
    options: dict[str, list[dict]] = {}
    for name, value, count, _position in rows:
        options.setdefault(name, []).append({"value": value, "count": count})
    return options
