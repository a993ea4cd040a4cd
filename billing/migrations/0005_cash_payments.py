"""Give every cash order the payment row card orders have, and close the payments of cancelled orders.

Cash is collected on delivery: a delivered order's cash payment succeeded, a cancelled
one's was cancelled, the others are still to be collected. A card payment left pending or
processing on a cancelled order was never captured (the worker settles nothing for a
cancelled order): it is cancelled.
"""

from django.db import migrations

AWAITING = ("pending", "processing")


def open_cash_payments(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    Payment = apps.get_model("billing", "Payment")
    status_by_order = {"delivered": "succeeded", "cancelled": "cancelled", "payment_failed": "cancelled"}
    orders = Order.objects.filter(payment_method="cash", payment__isnull=True).only("pk", "status", "total")
    Payment.objects.bulk_create(
        (
            Payment(order_id=order.pk, amount=order.total, method="cash", status=status_by_order.get(order.status, "pending"))
            for order in orders.iterator()
        ),
        batch_size=1000,
    )
    Payment.objects.filter(status__in=AWAITING, order__status="cancelled").update(status="cancelled")


def close_cash_payments(apps, schema_editor):
    apps.get_model("billing", "Payment").objects.filter(method="cash").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0004_refunds_and_credit_notes"),
    ]

    operations = [migrations.RunPython(open_cash_payments, close_cash_payments)]
