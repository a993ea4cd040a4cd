from django.db import migrations, models

# PostgreSQL drops 0003's trigram index of product searches with the SKU column: make it
# again over what a product still has, and give variant SKUs their own.
SEARCH_INDEXES = {
    "catalog_product_search_trgm": ("catalog_product", ("name", "description")),
    "catalog_variant_sku_trgm": ("catalog_variant", ("sku",)),
}


def create_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for index, (table, columns) in SEARCH_INDEXES.items():
        expressions = ", ".join(f'(UPPER("{column}"::text)) gin_trgm_ops' for column in columns)
        schema_editor.execute(f"DROP INDEX IF EXISTS {index}")
        schema_editor.execute(f'CREATE INDEX {index} ON "{table}" USING gin ({expressions})')


def drop_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for index in SEARCH_INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {index}")


class Migration(migrations.Migration):
    """Retire the product-level SKU, price, stock and image: variants carry them since 0007."""

    dependencies = [("catalog", "0007_move_products_into_variants")]

    operations = [
        migrations.RemoveConstraint(
            model_name="product",
            name="product_price_non_negative",
        ),
        migrations.RemoveConstraint(
            model_name="product",
            name="product_stock_non_negative",
        ),
        migrations.RemoveIndex(
            model_name="product",
            name="product_active_price_idx",
        ),
        migrations.RemoveField(
            model_name="product",
            name="image",
        ),
        migrations.RemoveField(
            model_name="product",
            name="price",
        ),
        migrations.RemoveField(
            model_name="product",
            name="sku",
        ),
        migrations.RemoveField(
            model_name="product",
            name="stock",
        ),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(
                condition=models.Q(("is_active", True)), fields=["price_min"], name="product_active_price_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(
                condition=models.Q(("is_active", True)), fields=["price_max"], name="product_active_price_max_idx"
            ),
        ),
        migrations.AddConstraint(
            model_name="product",
            constraint=models.CheckConstraint(
                condition=models.Q(("price_max__gte", models.F("price_min"))), name="product_price_range_ordered"
            ),
        ),
        migrations.RunPython(create_search_indexes, drop_search_indexes, elidable=False),
    ]
