"""The admin site: Django's own, with the staff dashboard (SPEC §8) on its index and a throttled login."""

import hashlib
import logging

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm

from common.proxies import client_ip
from common.ratelimit import Limit, Usage, WindowCounter
from config.dashboard import dashboard

logger = logging.getLogger(__name__)

TOO_MANY_ATTEMPTS = "Too many login attempts. Please wait %(seconds)s seconds and try again."


def login_limits(request, username: str) -> list[Limit]:
    """Return the limits a login attempt counts against: per client IP and per username (any case)."""
    folded = hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]
    return [
        Limit("admin.login.ip", client_ip(request), settings.RATELIMIT_ADMIN_LOGIN),
        Limit("admin.login.username", folded, settings.RATELIMIT_ADMIN_LOGIN_USERNAME),
    ]


def count_login_attempt(request, username: str) -> Usage | None:
    """Count one attempt against every limit; return the first limit it goes over, else None.

    Every attempt counts, right or wrong, so parallel guesses cannot slip past the check.
    A cache that cannot count lets the attempt through, as the API's limits do.
    """
    usages = [WindowCounter.of(limit).count() for limit in login_limits(request, username)]
    return next((usage for usage in usages if usage is not None and usage.over), None)


class ThrottledAuthenticationForm(AdminAuthenticationForm):
    """The admin login form; an attempt past the login limits is refused before the password is checked."""

    def clean(self):
        username = self.data.get("username", "")
        over = count_login_attempt(self.request, username)
        if over is not None:
            logger.warning(
                "Admin login refused: too many attempts from %s or for username %r.",
                client_ip(self.request),
                username[:150],
            )
            self.request.admin_login_retry_after = over.resets_in
            raise forms.ValidationError(TOO_MANY_ATTEMPTS, code="throttled", params={"seconds": over.resets_in})
        return super().clean()


class ShopAdminSite(admin.AdminSite):
    site_header = site_title = "Shopkeep administration"
    index_template = "admin/dashboard_index.html"
    login_form = ThrottledAuthenticationForm

    def index(self, request, extra_context=None):
        """Show the dashboard panels this user may see above the app list."""
        extra_context = {"dashboard": dashboard(request, site_name=self.name), **(extra_context or {})}
        return super().index(request, extra_context)

    def login(self, request, extra_context=None):
        """Log in; an attempt refused by the login limits answers 429 with Retry-After."""
        response = super().login(request, extra_context)
        retry_after = getattr(request, "admin_login_retry_after", None)
        if retry_after is not None:
            response.status_code = 429
            response["Retry-After"] = str(retry_after)
        return response
