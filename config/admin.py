"""The admin site: Django's own, with the staff dashboard (SPEC §8) on its index."""

from django.contrib import admin

from config.dashboard import dashboard


class ShopAdminSite(admin.AdminSite):
    site_header = site_title = "Shopkeep administration"
    index_template = "admin/dashboard_index.html"

    def index(self, request, extra_context=None):
        """Show the dashboard panels this user may see above the app list."""
        extra_context = {"dashboard": dashboard(request, site_name=self.name), **(extra_context or {})}
        return super().index(request, extra_context)
