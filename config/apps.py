from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.core import checks

from common.ratelimit import check_rate_settings


class ShopAdminConfig(AdminConfig):
    """Django's admin, served by ShopAdminSite: every `admin.site.register` lands on it."""

    default_site = "config.admin.ShopAdminSite"


class CompositionConfig(AppConfig):
    """The project's top floor: what needs every app (urls, the admin site and dashboard, `seed_demo`)."""

    name = "config"
    verbose_name = "Shopkeep"

    def ready(self) -> None:
        """Check the platform's settings with Django's system checks (manage.py check, migrate, runserver)."""
        checks.register(check_rate_settings)
