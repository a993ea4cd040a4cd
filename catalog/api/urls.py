from rest_framework.routers import SimpleRouter

from catalog.api.views import (
    CategoryViewSet,
    ProductImageViewSet,
    ProductReviewViewSet,
    ProductViewSet,
    ReviewViewSet,
)

router = SimpleRouter()
router.register("categories", CategoryViewSet, basename="category")
router.register("products", ProductViewSet, basename="product")
router.register(r"products/(?P<product_pk>[0-9]+)/images", ProductImageViewSet, basename="product-image")
router.register(r"products/(?P<product_pk>[0-9]+)/reviews", ProductReviewViewSet, basename="product-review")
router.register("reviews", ReviewViewSet, basename="review")

urlpatterns = router.urls
