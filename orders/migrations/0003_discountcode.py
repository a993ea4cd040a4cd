"""Discount codes move from billing to orders (pricing sits below billing, SPEC §12), keeping every row.

The model changes apps in the migration state only: its table is untouched here and
renamed in 0004. Its content type follows it, so staff permissions and admin history
granted on discount codes stay with them.
"""

from decimal import Decimal

import django.core.validators
import django.db.models.deletion
import django.db.models.functions.text
import django.utils.timezone
from django.db import migrations, models


def move_content_type(apps, schema_editor, source="billing", target="orders"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.using(schema_editor.connection.alias).filter(
        app_label=source, model="discountcode"
    ).update(app_label=target)


def move_content_type_back(apps, schema_editor):
    move_content_type(apps, schema_editor, source="orders", target="billing")


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0001_initial'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('orders', '0002_order_discount_code_alter_order_holds_stock'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='DiscountCode',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('code', models.CharField(help_text='Unique in any letter case, e.g. WELCOME10.', max_length=40)),
                        ('kind', models.CharField(choices=[('percent', 'Percent'), ('fixed', 'Fixed')], max_length=10)),
                        ('value', models.DecimalField(decimal_places=2, help_text='Percent off (1-100), or an amount off.', max_digits=12, validators=[django.core.validators.MinValueValidator(Decimal('0.01'))])),
                        ('valid_from', models.DateTimeField(default=django.utils.timezone.now)),
                        ('valid_until', models.DateTimeField(blank=True, null=True)),
                        ('max_uses', models.PositiveIntegerField(blank=True, help_text='Empty: unlimited.', null=True)),
                        ('times_used', models.PositiveIntegerField(default=0, editable=False)),
                        ('is_active', models.BooleanField(default=True)),
                    ],
                    options={
                        'db_table': 'billing_discountcode',
                        'ordering': ['code'],
                        'constraints': [models.UniqueConstraint(django.db.models.functions.text.Lower('code'), name='discount_code_unique_ci'), models.CheckConstraint(condition=models.Q(('value__gt', 0)), name='discount_value_positive'), models.CheckConstraint(condition=models.Q(models.Q(('kind', 'percent'), _negated=True), ('value__lte', 100), _connector='OR'), name='discount_percent_at_most_100'), models.CheckConstraint(condition=models.Q(('max_uses__isnull', True), ('times_used__lte', models.F('max_uses')), _connector='OR'), name='discount_never_used_beyond_max')],
                    },
                ),
                migrations.AlterField(
                    model_name='order',
                    name='discount_code',
                    field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='orders', to='orders.discountcode'),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_content_type_back, elidable=False),
    ]
