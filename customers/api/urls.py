from django.urls import path
from rest_framework.routers import SimpleRouter

from customers.api.views import AddressViewSet, CustomerViewSet, RegisterView, TokenRefresh, TokenView

router = SimpleRouter()
router.register("customers", CustomerViewSet, basename="customer")
router.register("addresses", AddressViewSet, basename="address")

urlpatterns = [
    path("auth/register/", RegisterView.as_view(), name="auth-register"),
    path("auth/token/", TokenView.as_view(), name="auth-token"),
    path("auth/token/refresh/", TokenRefresh.as_view(), name="auth-token-refresh"),
    *router.urls,
]
