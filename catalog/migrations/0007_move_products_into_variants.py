"""Turn every product into one variant with its SKU, price and stock (no options), and give
each product its price range. Order lines are pointed at these variants by orders/0008.
"""

from django.db import migrations
from django.db.models import F

BATCH = 2000


def products_into_variants(apps, schema_editor):
    Product = apps.get_model("catalog", "Product")
    Variant = apps.get_model("catalog", "Variant")
    products = Product.objects.order_by("pk").values_list("pk", "sku", "price", "stock")
    batch = []
    for pk, sku, price, stock in products.iterator(chunk_size=BATCH):
        batch.append(Variant(product_id=pk, sku=sku, price=price, stock=stock))
        if len(batch) == BATCH:
            Variant.objects.bulk_create(batch)
            batch = []
    Variant.objects.bulk_create(batch)
    # Every product is active-variant-only here: its range is its one price.
    Product.objects.update(price_min=F("price"), price_max=F("price"))


def variants_into_products(apps, schema_editor):
    Product = apps.get_model("catalog", "Product")
    Variant = apps.get_model("catalog", "Variant")
    # Back to one row per product: the first variant of each speaks for it.
    seen = set()
    for variant in Variant.objects.order_by("product_id", "position", "pk").iterator(chunk_size=BATCH):
        if variant.product_id not in seen:
            seen.add(variant.product_id)
            Product.objects.filter(pk=variant.product_id).update(
                sku=variant.sku, price=variant.price, stock=variant.stock
            )
    Variant.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("catalog", "0006_variants")]

    operations = [migrations.RunPython(products_into_variants, variants_into_products, elidable=False)]
