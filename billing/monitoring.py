"""What health and metrics report about billing, registered with the platform from `BillingConfig.ready()`.

Payments and the gateway breaker are settled in Celery workers, which Prometheus does not
scrape, so `BillingCollector` reads them from the database and Redis at scrape time.
"""

import logging
from collections.abc import Iterable

from django.db import DatabaseError
from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from billing.breaker import breaker_status
from billing.models import Payment
from orders.status import PaymentMethod

logger = logging.getLogger(__name__)

BREAKER_STATES = ("closed", "open", "half-open", "unknown")


def check_payment_gateway() -> dict:
    """Report the gateway breaker: open means card payments wait until it half-opens."""
    status = breaker_status()
    check = {"status": "ok" if status.state == "closed" else "degraded", "breaker": status.state}
    if status.retry_in_seconds is not None:
        check["retry_in_seconds"] = round(status.retry_in_seconds)
    return check


class BillingCollector:
    """Report payments by status and the gateway breaker's state, read when Prometheus scrapes."""

    def describe(self) -> Iterable[GaugeMetricFamily]:
        # Registration calls this rather than collect(): registering from ready() must not query.
        return [self.payments_family(), self.breaker_family()]

    def collect(self) -> Iterable[GaugeMetricFamily]:
        """Yield payments by status (skipped while the database is down) and the breaker state."""
        try:
            counts = dict(
                Payment.objects.order_by().filter(method=PaymentMethod.CARD).values_list("status").annotate(Count("pk"))
            )
        except DatabaseError:
            logger.warning("Payments left out of /metrics: the database is unavailable.", exc_info=True)
        else:
            payments = self.payments_family()
            for status in Payment.Status.values:
                payments.add_metric([status], counts.get(status, 0))
            yield payments

        current = breaker_status().state
        breaker = self.breaker_family()
        for state in BREAKER_STATES:
            breaker.add_metric([state], 1 if state == current else 0)
        yield breaker

    @staticmethod
    def payments_family() -> GaugeMetricFamily:
        """Return the empty payments-by-status family."""
        return GaugeMetricFamily("shopkeep_payments", "Card payments by status.", labels=["status"])

    @staticmethod
    def breaker_family() -> GaugeMetricFamily:
        """Return the empty breaker-state family."""
        return GaugeMetricFamily(
            "shopkeep_payment_breaker_state",
            "Payment gateway circuit breaker: 1 for its current state, 0 for the others.",
            labels=["state"],
        )


BILLING_COLLECTOR = BillingCollector()
