"""Discount codes now belong to orders (orders/0003): billing forgets the model, the table stays."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0001_initial'),
        ('orders', '0003_discountcode'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='DiscountCode')],
            database_operations=[],
        ),
    ]
