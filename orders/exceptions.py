from rest_framework import status

from common.errors import Conflict, DomainError


class InvalidTransition(Conflict):
    """A status change the machine forbids; lists the allowed ones."""

    default_code = "invalid_transition"

    def __init__(self, current: str, requested: str, allowed: list[str]) -> None:
        allowed_text = ", ".join(allowed) or "none (the order is final)"
        super().__init__(
            f"An order that is {current} cannot become {requested}. Allowed next: {allowed_text}.",
            status=current,
            requested=requested,
            allowed=allowed,
        )


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
