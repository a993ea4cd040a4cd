from rest_framework import status

from common.errors import Conflict, DomainError
from orders.status import Status


class InvalidTransition(Conflict):
    """A status change the machine forbids; says in words where the order can go, and lists the codes in `allowed`."""

    default_code = "invalid_transition"

    def __init__(self, current: str, requested: str, allowed: list[str]) -> None:
        super().__init__(
            f"An order that is {status_label(current)} cannot become {status_label(requested)}: {next_steps(allowed)}.",
            status=current,
            requested=requested,
            allowed=allowed,
        )


def status_label(code: str) -> str:
    """Return a status's label ("In progress"), or the code itself if it names no status."""
    return Status(code).label if code in Status.values else code


def next_steps(allowed: list[str]) -> str:
    """Say where an order can go next, by status labels: "it can move to Shipped or Cancelled only"."""
    if not allowed:
        return "it is final"
    labels = [status_label(code) for code in allowed]
    listed = labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} or {labels[-1]}"
    return f"it can move to {listed} only"


class PriceChanged(Conflict):
    """The client saw other prices than the current ones; `prices` has the current ones."""

    default_code = "price_changed"

    def __init__(self, prices: list[dict]) -> None:
        super().__init__("Prices changed since you saw them; review the current prices and order again.", prices=prices)


class InvalidOrder(DomainError):
    """Order lines that break a rule (unknown, inactive or repeated products); `errors` says which."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "validation_error"

    def __init__(self, errors: dict[str, list[str]]) -> None:
        field, messages = next(iter(errors.items()))
        super().__init__(f"{field}: {messages[0]}", errors=errors)


class IdempotencyKeyReused(DomainError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used with a different request body."
    default_code = "idempotency_key_reused"


class InvalidDiscountCode(DomainError):
    """The code is unknown, inactive, outside its dates, or used up."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "This discount code cannot be used."
    default_code = "invalid_discount_code"
