"""Sessions and passwords of a login (Django's user, which this project does not subclass)."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from customers.tokens import revoke_refresh_tokens, token_for

WRONG_PASSWORD = "This is not your current password."


def change_password(user, *, old_password: str, password: str) -> RefreshToken:
    """Replace the password, given the current one (Django's validators apply); return a fresh session.

    Every refresh token issued before, this session's included, is revoked: whoever holds
    an old one (a stolen one) is signed out; the caller goes on with the token returned.
    """
    if not user.check_password(old_password):
        raise ValidationError({"old_password": [WRONG_PASSWORD]}, code="password_incorrect")
    try:
        validate_password(password, user)
    except ValidationError as weak:
        raise ValidationError({"password": weak.messages}, code="password_invalid") from weak
    user.set_password(password)
    with transaction.atomic():
        user.save(update_fields=["password"])
        revoke_refresh_tokens(user)
        return token_for(user)


change_password.alters_data = True


def log_out(refresh: str) -> None:
    """Revoke one refresh token (this session); a token that is invalid, expired or revoked already is a 401."""
    try:
        RefreshToken(refresh).blacklist()
    except TokenError as refused:
        raise InvalidToken(refused.args[0]) from refused


log_out.alters_data = True
