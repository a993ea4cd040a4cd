from django.apps import AppConfig

from common.health import register_check
from common.metrics import register_collector


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        from billing import monitoring, signals

        signals.connect_receivers()
        register_check("payment_gateway", monitoring.check_payment_gateway)
        register_collector(monitoring.BILLING_COLLECTOR)
