"""The account emails: a password reset link and an email verification link, in the shop's name."""

from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from customers.tokens import email_verification_token, encode_uid, password_reset_token

# The storefront pages the links open; each posts the link's uid and token to the API.
RESET_PAGE = "reset-password"
VERIFY_PAGE = "verify-email"


def storefront_link(page: str, user, token: str) -> str:
    """Return the storefront URL of `page` carrying the user's uid and the token."""
    return f"{settings.STOREFRONT_URL}/{page}?{urlencode({'uid': encode_uid(user), 'token': token})}"


def send_password_reset(customer) -> None:
    """Email the customer a one-time link to choose a new password."""
    link = storefront_link(RESET_PAGE, customer.user, password_reset_token.make_token(customer.user))
    send(customer, "password_reset", link)


def send_email_verification(customer) -> None:
    """Email the customer a one-time link that verifies the address it is sent to."""
    link = storefront_link(VERIFY_PAGE, customer.user, email_verification_token.make_token(customer.user))
    send(customer, "verify_email", link)


def send(customer, kind: str, link: str) -> None:
    """Render emails/<kind>_subject.txt, <kind>.txt and <kind>.html, and send them to the customer."""
    context = {
        "customer": customer,
        "link": link,
        "shop_name": settings.SHOP_NAME,
        "valid_for_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
    }
    email = EmailMultiAlternatives(
        subject=render_to_string(f"emails/{kind}_subject.txt", context).strip(),
        body=render_to_string(f"emails/{kind}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[customer.email],
    )
    email.attach_alternative(render_to_string(f"emails/{kind}.html", context), "text/html")
    email.send()
