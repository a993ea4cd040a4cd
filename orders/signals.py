"""Order signals, sent explicitly by the methods that change orders, for the apps above orders.

order_placed(order): sent by OrderQuerySet.place inside the placing transaction.
order_status_changed(order, previous, actor, placing): sent by Order.transition_to inside the transition's
transaction; `placing` when the change is part of placing the order (a cash order's confirmation), in the
transaction that created it.
"""

from django.dispatch import Signal

order_placed = Signal()
order_status_changed = Signal()
