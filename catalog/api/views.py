from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from catalog import cache
from catalog.api.filters import CategoryFilter, ProductFilter
from catalog.api.serializers import CategorySerializer, ProductSerializer, StockAdjustmentSerializer
from catalog.models import Category, Product
from config.common.caching import CachedReadMixin
from config.common.permissions import StaffCanChangeModel
from config.common.schema import ErrorSerializer


class CategoryViewSet(CachedReadMixin, viewsets.ModelViewSet):
    """The category tree. Anyone reads active categories (cached); staff with model permissions write."""

    serializer_class = CategorySerializer
    filterset_class = CategoryFilter
    search_fields = ["name"]
    ordering_fields = ["name", "created_at"]
    cache_ttl_setting = "CATALOG_CACHE_TTL_CATEGORIES"

    def get_queryset(self):
        categories = Category.objects.all()
        return categories if self.request.user.is_staff else categories.active()

    def cache_scopes(self) -> list[str]:
        return [cache.CATEGORIES]


class ProductViewSet(CachedReadMixin, viewsets.ModelViewSet):
    """Products. Anyone reads active products (cached); staff with model permissions write."""

    serializer_class = ProductSerializer
    filterset_class = ProductFilter
    search_fields = ["name", "sku", "description"]
    ordering_fields = ["price", "name", "created_at"]
    cache_ttl_setting = "CATALOG_CACHE_TTL_PRODUCTS"

    def get_queryset(self):
        products = Product.objects.select_related("category")
        return products if self.request.user.is_staff else products.active()

    def cache_scopes(self) -> list[str]:
        if self.action == "retrieve":
            return [cache.CATEGORIES, cache.product_scope(self.kwargs["pk"])]
        return [cache.CATEGORIES, cache.PRODUCT_LISTS]

    @extend_schema(
        request=StockAdjustmentSerializer,
        responses={
            200: ProductSerializer,
            409: OpenApiResponse(
                ErrorSerializer,
                description="Removing that many units would take stock below zero.",
                examples=[
                    OpenApiExample(
                        "insufficient_stock",
                        response_only=True,
                        value={
                            "detail": "Not enough stock: product 7 (2 of 5).",
                            "code": "insufficient_stock",
                            "lines": [{"product": 7, "requested": 5, "available": 2}],
                        },
                    )
                ],
            ),
        },
    )
    @action(detail=True, methods=["post"], url_path="adjust-stock", permission_classes=[StaffCanChangeModel])
    def adjust_stock(self, request, pk=None):
        """Add or remove units of stock with a conditional update (staff, change permission)."""
        product = self.get_object()
        adjustment = StockAdjustmentSerializer(data=request.data)
        adjustment.is_valid(raise_exception=True)
        Product.objects.adjust_stock(product.pk, adjustment.validated_data["delta"])
        product.refresh_from_db()
        return Response(self.get_serializer(product).data)
