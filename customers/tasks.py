"""Celery tasks sending the account emails; queued after commit, never failing the request that queued them.

The tasks read customers through the app registry, so that the model, which queues
them, and this module do not import each other.
"""

from celery import shared_task
from django.apps import apps
from django.db import transaction

from customers import mail

# A mail server that is down or refuses (OSError, which SMTPException is) is tried again later.
EMAIL_TASK = {"ignore_result": True, "autoretry_for": (OSError,), "retry_backoff": True, "max_retries": 5}


def send_after_commit(task, *args) -> None:
    """Queue the task when the transaction commits.

    `robust`: a broker that cannot take the message (or, eager, a mail server that is down)
    is logged, and the committed change and its answer stand.
    """
    transaction.on_commit(lambda: task.delay(*args), robust=True)


def customers():
    return apps.get_model("customers", "Customer").objects


@shared_task(**EMAIL_TASK)
def send_password_reset(email: str) -> None:
    """Email a reset link to the active customer with this email, in any case; for anyone else, do nothing.

    The lookup happens here, not in the request, so that the request does the same work
    whether or not the account exists.
    """
    customer = customers().can_sign_in().with_email(email).select_related("user").first()
    if customer is not None:
        mail.send_password_reset(customer)


@shared_task(**EMAIL_TASK)
def send_email_verification(customer_id: int) -> None:
    """Email a verification link to the customer's current address, unless it is verified or the account closed."""
    customer = customers().can_sign_in().select_related("user").filter(pk=customer_id).first()
    if customer is not None and not customer.email_verified:
        mail.send_email_verification(customer)
