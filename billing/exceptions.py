from rest_framework import status

from common.errors import DomainError


class InvalidDiscountCode(DomainError):
    """The code is unknown, inactive, outside its dates, or used up."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "This discount code cannot be used."
    default_code = "invalid_discount_code"
