from django.core.management.base import BaseCommand

from billing.tasks import reconcile_payments


class Command(BaseCommand):
    help = (
        "Re-queue card orders stuck in pending or payment_processing, and refunds of cancelled paid orders "
        "never made (also run by celery beat every minute)."
    )

    def handle(self, *args, **options) -> None:
        count = reconcile_payments()
        self.stdout.write(f"Re-queued {count} stuck payment(s) and refund(s).")
