from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"

    def ready(self) -> None:
        """Tell the catalog, a floor below, how to know whether a customer bought a product."""
        from catalog.models import register_purchase_check
        from orders.models import Order

        register_purchase_check(Order.objects.has_bought)
