from rest_framework.routers import SimpleRouter

from billing.api.views import DiscountCodeViewSet, InvoiceViewSet

router = SimpleRouter()
router.register("invoices", InvoiceViewSet, basename="invoice")
router.register("discount-codes", DiscountCodeViewSet, basename="discount-code")

urlpatterns = router.urls
