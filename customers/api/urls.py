from django.urls import path
from rest_framework.routers import SimpleRouter

from customers.api.views import (
    AddressViewSet,
    CustomerViewSet,
    EmailVerifyResendView,
    EmailVerifyView,
    LogoutAllView,
    LogoutView,
    PasswordChangeView,
    PasswordResetConfirmView,
    PasswordResetView,
    RegisterView,
    TokenRefresh,
    TokenView,
)

router = SimpleRouter()
router.register("customers", CustomerViewSet, basename="customer")
router.register("addresses", AddressViewSet, basename="address")

urlpatterns = [
    path("auth/register/", RegisterView.as_view(), name="auth-register"),
    path("auth/token/", TokenView.as_view(), name="auth-token"),
    path("auth/token/refresh/", TokenRefresh.as_view(), name="auth-token-refresh"),
    path("auth/logout/", LogoutView.as_view(), name="auth-logout"),
    path("auth/logout-all/", LogoutAllView.as_view(), name="auth-logout-all"),
    path("auth/password/reset/", PasswordResetView.as_view(), name="auth-password-reset"),
    path("auth/password/reset/confirm/", PasswordResetConfirmView.as_view(), name="auth-password-reset-confirm"),
    path("auth/password/change/", PasswordChangeView.as_view(), name="auth-password-change"),
    path("auth/email/verify/", EmailVerifyView.as_view(), name="auth-email-verify"),
    path("auth/email/verify/resend/", EmailVerifyResendView.as_view(), name="auth-email-verify-resend"),
    *router.urls,
]
