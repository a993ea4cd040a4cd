"""The catalog's receivers: keep the cached catalog exact, the ratings and search vectors right and no image
files orphaned.

Save and delete signals cover single-row writes (admin, API, shell); the bulk paths of
the querysets send `products_changed` / `categories_changed` (catalog/managers.py) themselves.
"""

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from catalog import cache
from catalog.managers import categories_changed, products_changed
from catalog.models import Category, Extra, OptionValue, Product, ProductImage, ProductOption, Review, Variant


def invalidate_product_on_write(sender, instance, **kwargs) -> None:
    """Invalidate a saved or deleted product's detail and the product listings."""
    cache.invalidate_products([instance.pk], lists=True)


def invalidate_product_on_image_change(sender, instance, **kwargs) -> None:
    """Invalidate the detail and the listings of a product whose images changed (both show them)."""
    cache.invalidate_products([instance.product_id], lists=True)


def invalidate_product_on_part_change(sender, instance, **kwargs) -> None:
    """Invalidate the detail of a product whose options or extras changed, and for options the listings.

    Lists show neither, but the option filter, search and facets of a listing read options.
    """
    product_id = instance.option.product_id if isinstance(instance, OptionValue) else instance.product_id
    cache.invalidate_products([product_id], lists=not isinstance(instance, Extra))


def invalidate_product_on_variant_options(sender, instance, action, **kwargs) -> None:
    """Invalidate the detail and the listings of a product whose variant got other option values.

    Listings: the option filter, search and facets read a variant's values.
    """
    if action in ("post_add", "post_remove", "post_clear") and isinstance(instance, Variant):
        cache.invalidate_products([instance.product_id], lists=True)


def refresh_search_on_product_write(sender, instance, **kwargs) -> None:
    """Rebuild a saved product's search vector (its name, description or category may have changed)."""
    Product.objects.filter(pk=instance.pk).refresh_search()


def refresh_search_on_variant_write(sender, instance, **kwargs) -> None:
    """Rebuild the search vector of a product whose variant was saved or deleted (SKUs, active values)."""
    Product.objects.filter(pk=instance.product_id).refresh_search()


def refresh_search_on_category_write(sender, instance, created=False, **kwargs) -> None:
    """Rebuild the search vectors of the products in a saved category's subtree (they read its name)."""
    if not created:
        Product.objects.in_category(instance.pk).refresh_search()


def refresh_search_on_option_value_write(sender, instance, **kwargs) -> None:
    """Rebuild the search vector of a product one of whose option values was renamed or deleted."""
    Product.objects.filter(pk=instance.option.product_id).refresh_search()


def refresh_search_on_variant_options(sender, instance, action, **kwargs) -> None:
    """Rebuild the search vector of a product whose variant got other option values."""
    if action in ("post_add", "post_remove", "post_clear") and isinstance(instance, Variant):
        Product.objects.filter(pk=instance.product_id).refresh_search()


def delete_image_files_on_delete(sender, instance, **kwargs) -> None:
    """Delete a deleted image's files once the deletion commits (a rollback keeps them).

    A receiver, so that admin deletes and cascades (a deleted product) clean up too.
    """
    transaction.on_commit(instance.delete_files)


def invalidate_products_on_bulk_change(sender, product_ids, lists_changed, **kwargs) -> None:
    """Invalidate the products a bulk write touched, and the listings when they changed."""
    cache.invalidate_products(product_ids, lists=lists_changed)


def invalidate_categories_on_change(sender, **kwargs) -> None:
    """Invalidate everything that embeds category data."""
    cache.invalidate_categories()


def refresh_product_rating(sender, instance, **kwargs) -> None:
    """Recompute the reviewed product's rating (which also invalidates its cached reads).

    A receiver rather than a call in the API, so that admin deletes and cascades (a closed
    customer account) keep ratings right too.
    """
    Product.objects.refresh_ratings([instance.product_id])


def connect_receivers() -> None:
    for name, signal in (("save", post_save), ("delete", post_delete)):
        signal.connect(invalidate_product_on_write, sender=Product, dispatch_uid=f"catalog.product_{name}")
        signal.connect(invalidate_categories_on_change, sender=Category, dispatch_uid=f"catalog.category_{name}")
        signal.connect(refresh_product_rating, sender=Review, dispatch_uid=f"catalog.review_{name}")
        signal.connect(
            invalidate_product_on_image_change, sender=ProductImage, dispatch_uid=f"catalog.product_image_{name}"
        )
        for part in (ProductOption, OptionValue, Extra):
            uid = f"catalog.{part._meta.model_name}_{name}"
            signal.connect(invalidate_product_on_part_change, sender=part, dispatch_uid=uid)
    m2m_changed.connect(
        invalidate_product_on_variant_options,
        sender=Variant.option_values.through,
        dispatch_uid="catalog.variant_option_values",
    )
    post_delete.connect(delete_image_files_on_delete, sender=ProductImage, dispatch_uid="catalog.product_image_files")
    # The search vectors (catalog/search.py): single-row writes here, bulk ones in the querysets.
    post_save.connect(refresh_search_on_product_write, sender=Product, dispatch_uid="catalog.product_search")
    post_save.connect(refresh_search_on_category_write, sender=Category, dispatch_uid="catalog.category_search")
    for name, signal in (("save", post_save), ("delete", post_delete)):
        signal.connect(refresh_search_on_variant_write, sender=Variant, dispatch_uid=f"catalog.variant_search_{name}")
        signal.connect(
            refresh_search_on_option_value_write, sender=OptionValue, dispatch_uid=f"catalog.option_value_search_{name}"
        )
    m2m_changed.connect(
        refresh_search_on_variant_options,
        sender=Variant.option_values.through,
        dispatch_uid="catalog.variant_option_values_search",
    )
    products_changed.connect(invalidate_products_on_bulk_change, dispatch_uid="catalog.products_changed")
    categories_changed.connect(invalidate_categories_on_change, dispatch_uid="catalog.categories_changed")
