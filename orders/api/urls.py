from rest_framework.routers import SimpleRouter

from orders.api.views import DiscountCodeViewSet, OrderViewSet

router = SimpleRouter()
router.register("orders", OrderViewSet, basename="order")
router.register("discount-codes", DiscountCodeViewSet, basename="discount-code")

urlpatterns = router.urls
