from django.urls import re_path
from rest_framework.routers import SimpleRouter

from billing.api.views import CreditNoteViewSet, InvoiceViewSet, OrderPaymentViewSet, OrderRefundViewSet

router = SimpleRouter()
router.register("invoices", InvoiceViewSet, basename="invoice")
router.register("credit-notes", CreditNoteViewSet, basename="credit-note")

urlpatterns = [
    re_path(
        r"^orders/(?P<pk>[^/.]+)/payments/$",
        OrderPaymentViewSet.as_view({"get": "payments"}),
        name="order-payments",
    ),
    re_path(
        r"^orders/(?P<pk>[^/.]+)/refunds/$",
        OrderRefundViewSet.as_view({"get": "list", "post": "create"}),
        name="order-refunds",
    ),
    re_path(
        r"^orders/(?P<pk>[^/.]+)/refunds/(?P<refund_pk>[0-9]+)/$",
        OrderRefundViewSet.as_view({"get": "retrieve"}),
        name="order-refund-detail",
    ),
    *router.urls,
]
