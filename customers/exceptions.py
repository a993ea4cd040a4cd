from rest_framework import status

from common.errors import DomainError


class NotACustomer(DomainError):
    """The signed-in user has no customer profile (a staff-only account)."""

    status_code = status.HTTP_404_NOT_FOUND
    default_detail = "This account has no customer profile."
    default_code = "not_found"
