"""A stored search vector for ranked product search on PostgreSQL (SPEC §5), with its GIN index.

The column exists on every database (SQLite keeps it empty and matches words instead);
the GIN index is PostgreSQL's, so it is made here rather than in Meta.indexes, which
would give SQLite a `USING gin` it cannot read. The vectors of the products that exist
are built once, with the same UPDATE the application runs (catalog/search.py); it reads
only tables this migration's state has. Should it one day read more, freeze a copy here.
"""

import django.contrib.postgres.search
from django.db import migrations

from catalog.search import refresh_vectors

INDEX = "catalog_product_search_vector"


def create_index_and_fill(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f'CREATE INDEX {INDEX} ON "catalog_product" USING gin ("search_vector")')
    refresh_vectors(apps.get_model("catalog", "Product")._base_manager.using(schema_editor.connection.alias))


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0008_retire_product_price_and_stock")]

    operations = [
        migrations.AddField(
            model_name="product",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(create_index_and_fill, drop_index, elidable=False),
    ]
