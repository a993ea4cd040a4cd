"""Give the discount code table its orders name; a rename, so every row and constraint stays."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0002_move_discountcode_to_orders'),
        ('orders', '0003_discountcode'),
    ]

    operations = [
        migrations.AlterModelTable(name='discountcode', table=None),
    ]
