"""The order status machine (SPEC §4): the statuses, every allowed change, and the sets the rules use.

Order.transition_to is the only way through it.
"""

from django.db import models


class Status(models.TextChoices):
    # Labels in sentence case: staff read them in messages ("SK-... is In progress: ...").
    PENDING = "pending", "Pending"
    PAYMENT_PROCESSING = "payment_processing", "Payment processing"
    CONFIRMED = "confirmed", "Confirmed"
    IN_PROGRESS = "in_progress", "In progress"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"
    PAYMENT_FAILED = "payment_failed", "Payment failed"


class DeliveryMethod(models.TextChoices):
    HOME_DELIVERY = "home_delivery", "Home delivery"
    PICKUP = "pickup", "Pickup"
    DRIVE_THRU = "drive_thru", "Drive-thru"


class PaymentMethod(models.TextChoices):
    CARD = "card"
    CASH = "cash"


def _always(order) -> bool:
    return True


# The status machine (SPEC §4): every allowed change, and the condition under which it is.
# Order.transition_to is the only way through it.
TRANSITIONS = {
    (Status.PENDING, Status.PAYMENT_PROCESSING): lambda order: order.payment_method == PaymentMethod.CARD,
    (Status.PENDING, Status.CONFIRMED): lambda order: order.payment_method == PaymentMethod.CASH,
    (Status.PENDING, Status.CANCELLED): _always,
    (Status.PAYMENT_PROCESSING, Status.CONFIRMED): _always,
    (Status.PAYMENT_PROCESSING, Status.PAYMENT_FAILED): _always,
    # Staff only (customers: CUSTOMER_CANCELLABLE); billing settles a charge in flight under the payment's lock.
    (Status.PAYMENT_PROCESSING, Status.CANCELLED): _always,
    (Status.CONFIRMED, Status.IN_PROGRESS): _always,
    (Status.CONFIRMED, Status.CANCELLED): _always,
    (Status.IN_PROGRESS, Status.SHIPPED): lambda order: order.delivery_method == DeliveryMethod.HOME_DELIVERY,
    (Status.IN_PROGRESS, Status.DELIVERED): lambda order: order.delivery_method != DeliveryMethod.HOME_DELIVERY,
    (Status.IN_PROGRESS, Status.CANCELLED): _always,
    (Status.SHIPPED, Status.DELIVERED): _always,
}
# Reaching these gives the reserved stock back.
RELEASES_STOCK = frozenset({Status.CANCELLED, Status.PAYMENT_FAILED})
# A customer may cancel their own order only this early; staff may until it ships.
CUSTOMER_CANCELLABLE = frozenset({Status.PENDING, Status.CONFIRMED})
# A review of a product bought in an order in one of these is a verified purchase.
PURCHASED = frozenset({Status.CONFIRMED, Status.IN_PROGRESS, Status.SHIPPED, Status.DELIVERED})
# The steps a card order takes through its payment: the payment worker's (billing), never staff's by hand.
CARD_PAYMENT_STEPS = frozenset({Status.PAYMENT_PROCESSING, Status.CONFIRMED, Status.PAYMENT_FAILED})
