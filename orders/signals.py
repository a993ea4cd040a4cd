"""Order signals, sent explicitly by the methods that change orders, and the orders app's receivers.

order_placed(order): a new order committed its stock; the payment worker listens for card orders.
order_status_changed(order, previous, actor): sent inside the transition's transaction.
"""

from django.dispatch import Signal

order_placed = Signal()
order_status_changed = Signal()


def mark_verified_purchase(sender, instance, **kwargs) -> None:
    """Mark a review as a verified purchase when its author bought the product."""
    from orders.models import Order

    instance.verified_purchase = Order.objects.has_bought(instance.customer_id, instance.product_id)


def verify_reviews_on_purchase(sender, order, previous, **kwargs) -> None:
    """Once an order is confirmed, its customer's reviews of its products are verified purchases."""
    from catalog.models import Review
    from orders.models import Status

    if order.status == Status.CONFIRMED:
        products = order.items.values("product_id")
        Review.objects.filter(customer_id=order.customer_id, product_id__in=products).update(verified_purchase=True)


def connect_receivers() -> None:
    from django.db.models.signals import pre_save

    from catalog.models import Review

    pre_save.connect(mark_verified_purchase, sender=Review, dispatch_uid="orders.mark_verified_purchase")
    order_status_changed.connect(verify_reviews_on_purchase, dispatch_uid="orders.verify_reviews_on_purchase")
