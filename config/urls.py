from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from config.views import ApiRootView, HomeView

handler400 = "common.errors.bad_request"
handler404 = "common.errors.page_not_found"
handler500 = "common.errors.server_error"


urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("api/v1/", ApiRootView.as_view(), name="api-root"),
    path("api/v1/", include("catalog.api.urls")),
    path("api/v1/", include("customers.api.urls")),
    path("api/v1/", include("orders.api.urls")),
    path("api/v1/", include("billing.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(throttle_classes=[]), name="schema"),
    # The split view serves Swagger UI's start-up script as a file, not inline (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema", throttle_classes=[]), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema", throttle_classes=[]), name="redoc"),
    # Discount codes moved from billing to orders: old bookmarks and links still land on them.
    re_path(
        rf"^{settings.DJANGO_ADMIN_URL}billing/discountcode/(?P<rest>.*)$",
        RedirectView.as_view(url=f"/{settings.DJANGO_ADMIN_URL}orders/discountcode/%(rest)s", query_string=True),
    ),
    path(settings.DJANGO_ADMIN_URL, admin.site.urls),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
