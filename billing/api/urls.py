from django.urls import re_path
from rest_framework.routers import SimpleRouter

from billing.api.views import InvoiceViewSet, OrderPaymentViewSet

router = SimpleRouter()
router.register("invoices", InvoiceViewSet, basename="invoice")

urlpatterns = [
    re_path(
        r"^orders/(?P<pk>[^/.]+)/payments/$",
        OrderPaymentViewSet.as_view({"get": "payments"}),
        name="order-payments",
    ),
    *router.urls,
]
