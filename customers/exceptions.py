from rest_framework import status

from common.errors import DomainError


class NotACustomer(DomainError):
    """The signed-in user has no customer profile (a staff-only account)."""

    status_code = status.HTTP_404_NOT_FOUND
    default_detail = "This account has no customer profile."
    default_code = "not_found"


class InvalidLink(DomainError):
    """An emailed link's uid and token name no active account, are malformed, used or expired."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "This link is invalid or has expired; ask for a new one."
    default_code = "invalid_token"
