"""Point every order line at the variant catalog/0007 made of its product: what was sold."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def lines_to_variants(apps, schema_editor):
    OrderItem = apps.get_model("orders", "OrderItem")
    Variant = apps.get_model("catalog", "Variant")
    # Before variants every product was one variant: the only one of the line's product.
    only_variant = Variant.objects.filter(product_id=OuterRef("product_id")).order_by("pk").values("pk")[:1]
    OrderItem.objects.filter(variant__isnull=True).update(variant_id=Subquery(only_variant))


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0008_orderitem_variant"),
        ("catalog", "0007_move_products_into_variants"),
    ]

    operations = [
        migrations.RunPython(lines_to_variants, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="orderitem",
            name="variant",
            field=models.ForeignKey(
                on_delete=models.PROTECT, related_name="order_items", to="catalog.variant"
            ),
        ),
    ]
