"""Cache scopes of the catalog: what each cached read depends on, and how writes bump them.

- category list/detail depend on CATEGORIES;
- product lists depend on CATEGORIES and PRODUCT_LISTS;
- a product's detail depends on CATEGORIES and that product's own scope.
A stock change bumps only the product's own scope, plus PRODUCT_LISTS when the product
goes out of or back into stock (cached list counts may lag by at most the TTL).
"""

from collections.abc import Iterable

from common.caching import bump_versions

CATEGORIES = "catalog:categories"
PRODUCT_LISTS = "catalog:products"


def product_scope(product_id) -> str:
    return f"catalog:product:{product_id}"


def invalidate_categories() -> None:
    """Category data changed: every catalog read may embed it."""
    bump_versions([CATEGORIES])


def invalidate_products(product_ids: Iterable[int], *, lists: bool) -> None:
    """These products changed; `lists` says whether product listings changed too."""
    scopes = [product_scope(pk) for pk in product_ids]
    if lists:
        scopes.append(PRODUCT_LISTS)
    bump_versions(scopes)
