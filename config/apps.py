from django.contrib.admin.apps import AdminConfig


class ShopAdminConfig(AdminConfig):
    """Django's admin, served by ShopAdminSite: every `admin.site.register` lands on it."""

    default_site = "config.admin.ShopAdminSite"
