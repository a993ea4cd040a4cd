from rest_framework.routers import SimpleRouter

from catalog.api.views import (
    CategoryViewSet,
    ProductExtraViewSet,
    ProductImageViewSet,
    ProductOptionViewSet,
    ProductReviewViewSet,
    ProductVariantViewSet,
    ProductViewSet,
    ReviewViewSet,
    VariantViewSet,
)

router = SimpleRouter()
router.register("categories", CategoryViewSet, basename="category")
router.register("products", ProductViewSet, basename="product")
router.register(r"products/(?P<product_pk>[0-9]+)/images", ProductImageViewSet, basename="product-image")
router.register(r"products/(?P<product_pk>[0-9]+)/reviews", ProductReviewViewSet, basename="product-review")
router.register(r"products/(?P<product_pk>[0-9]+)/options", ProductOptionViewSet, basename="product-option")
router.register(r"products/(?P<product_pk>[0-9]+)/variants", ProductVariantViewSet, basename="product-variant")
router.register(r"products/(?P<product_pk>[0-9]+)/extras", ProductExtraViewSet, basename="product-extra")
router.register("variants", VariantViewSet, basename="variant")
router.register("reviews", ReviewViewSet, basename="review")

urlpatterns = router.urls
