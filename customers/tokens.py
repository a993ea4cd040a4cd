"""The tokens of account emails (a uid and a one-time token per link) and of JWT sessions."""

from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

# A reset link's token: Django's, which changes with the password hash (so a used link is dead).
password_reset_token = default_token_generator


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    """Make one-time tokens proving a customer received mail at their current address.

    Its own salt keeps a reset token from verifying and a verification token from resetting.
    The hash covers the email and the verified flag, so a token dies once used or once
    the email changes. The object passed is the user; its customer profile holds both.
    """

    key_salt = "customers.tokens.EmailVerificationTokenGenerator"

    def _make_hash_value(self, user, timestamp: int) -> str:
        customer = user.customer
        return f"{user.pk}{customer.email.lower()}{customer.email_verified}{timestamp}"


email_verification_token = EmailVerificationTokenGenerator()


def encode_uid(user) -> str:
    """Return the user's id as it goes in an emailed link."""
    return urlsafe_base64_encode(force_bytes(user.pk))


def decode_uid(uid: str) -> int | None:
    """Return the user id of a link's uid, or None for anything that is not one."""
    try:
        decoded = force_str(urlsafe_base64_decode(uid))
    except (ValueError, TypeError, UnicodeDecodeError):
        return None
    return int(decoded) if decoded.isascii() and decoded.isdigit() and len(decoded) < 19 else None


def token_for(user) -> RefreshToken:
    """Return a refresh token (its access token inherits the claims) for `user`.

    With the token_blacklist app installed, simplejwt records it as an OutstandingToken,
    which is what lets `revoke_refresh_tokens` find it later.
    """
    token = RefreshToken.for_user(user)
    token["is_staff"] = user.is_staff
    return token


def revoke_refresh_tokens(user) -> int:
    """Blacklist every refresh token issued to `user` and not yet blacklisted; return how many.

    Access tokens run out by themselves (JWT_ACCESS_MINUTES); the user's refresh tokens no
    longer get new ones.
    """
    live = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    revoked = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in live.only("pk")], ignore_conflicts=True
    )
    return len(revoked)
