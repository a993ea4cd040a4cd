from collections.abc import Iterable, Sequence

from django.db import transaction
from django.db.models import F, Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticatedOrReadOnly
from rest_framework.response import Response
from rest_framework.reverse import reverse

from catalog import cache
from catalog.api.facets import FacetsSerializer
from catalog.api.filters import CategoryFilter, ProductFilter
from catalog.api.serializers import (
    CategorySerializer,
    ExtraSerializer,
    OptionSerializer,
    ProductDetailSerializer,
    ProductImageSerializer,
    ProductSerializer,
    ReviewSerializer,
    StockAdjustmentSerializer,
    VariantSerializer,
)
from catalog.exceptions import AlreadyReviewed, InsufficientStock, InvalidImage, SeveralVariants, StockLimitExceeded
from catalog.models import Category, Extra, OptionValue, Product, ProductImage, ProductOption, Review, Variant
from common.caching import CachedReadMixin
from common.errors import Conflict
from common.filters import RequestedFiltersBackend, StableOrderingFilter
from common.permissions import StaffCanChangeModel, StaffModelPermissionsOrReadOnly
from common.schema import ErrorSerializer, ValidationErrorSerializer
from common.views import CreatedLocationMixin


class CategoryViewSet(CachedReadMixin, CreatedLocationMixin, viewsets.ModelViewSet):
    """The category tree. Anyone reads active categories (cached); staff with model permissions write."""

    serializer_class = CategorySerializer
    filterset_class = CategoryFilter
    search_fields = ["name"]
    ordering_fields = ["name", "created_at"]
    cache_ttl_setting = "CATALOG_CACHE_TTL_CATEGORIES"

    def get_queryset(self):
        categories = Category.objects.all()
        return categories if self.shows_inactive(self.request, Category) else categories.active()

    def cache_scopes(self) -> list[str]:
        return [cache.CATEGORIES]


STOCK_REFUSED_DESCRIPTION = (
    "`insufficient_stock`: removing that many units would take stock below zero. `stock_limit_exceeded`: "
    f"adding them would pass the most a variant holds ({Variant.MAX_STOCK:,})."
)
STOCK_REFUSED_EXAMPLES = [
    OpenApiExample(
        "insufficient_stock",
        response_only=True,
        value=InsufficientStock(
            [{"variant": 12, "product": 7, "sku": "TEA-001", "requested": 5, "available": 2}]
        ).as_body(),
    ),
    OpenApiExample(
        "stock_limit_exceeded",
        response_only=True,
        value=StockLimitExceeded(
            [{"variant": 12, "product": 7, "sku": "TEA-001", "requested": 2147483000}], Variant.MAX_STOCK
        ).as_body(),
    ),
]


class ProductViewSet(CachedReadMixin, CreatedLocationMixin, viewsets.ModelViewSet):
    """Products. Anyone reads active products (cached); staff with model permissions write."""

    serializer_class = ProductSerializer
    filterset_class = ProductFilter
    # `search` is one of ProductFilter's filters (ranked, catalog/search.py), so the list and
    # its facets read the same parameters; DRF's SearchFilter would match the words again.
    filter_backends = [RequestedFiltersBackend, StableOrderingFilter]
    ordering_fields = ["price", "name", "created_at", "rating"]
    cached_actions = ("list", "retrieve", "facets")
    cache_ttl_setting = "CATALOG_CACHE_TTL_PRODUCTS"

    def get_serializer_class(self):
        return ProductSerializer if self.action == "list" else ProductDetailSerializer

    def get_queryset(self):
        everything = self.shows_inactive(self.request, Product)
        products = Product.objects.select_related("category").alias(rating=F("rating_average"), price=F("price_min"))
        products = products.prefetch_related(*product_prefetches(detail=self.action != "list", everything=everything))
        return products if everything else products.active()

    def cache_scopes(self) -> list[str]:
        if self.action == "retrieve":
            return [cache.CATEGORIES, cache.product_scope(self.kwargs["pk"])]
        return [cache.CATEGORIES, cache.PRODUCT_LISTS]

    @extend_schema(filters=True, responses={200: FacetsSerializer})
    @action(detail=False, methods=["get"])
    def facets(self, request):
        """Count the products the list would show, by stock, category, price band and option value.

        Takes the list's filters and search; cached and invalidated as the list is.
        """
        return self.cached(self.count_facets, request)

    def cache_key_params(self, request) -> Iterable[tuple[str, Sequence[str]]]:
        """Facets read the filters only: a page, page size or ordering asks for the same counts."""
        params = super().cache_key_params(request)
        if self.action != "facets":
            return params
        return [(name, values) for name, values in params if name in self.filterset_class.base_filters]

    def count_facets(self, request):
        products = self.filter_queryset(self.get_queryset())
        return Response(FacetsSerializer(products.facets()).data)

    @extend_schema(
        request=StockAdjustmentSerializer,
        responses={
            200: ProductDetailSerializer,
            409: OpenApiResponse(
                ErrorSerializer,
                description=f"{STOCK_REFUSED_DESCRIPTION} `several_variants`: the product comes in several "
                "variants; adjust one at /variants/{id}/adjust-stock/.",
                examples=STOCK_REFUSED_EXAMPLES,
            ),
        },
    )
    @action(detail=True, methods=["post"], url_path="adjust-stock", permission_classes=[StaffCanChangeModel])
    def adjust_stock(self, request, pk=None):
        """Add or remove units of a product sold in one variant (staff, change permission)."""
        product = self.get_object()
        adjustment = StockAdjustmentSerializer(data=request.data)
        adjustment.is_valid(raise_exception=True)
        variant = product.only_variant
        if variant is None:
            raise SeveralVariants(product)
        Variant.objects.adjust_stock(variant.pk, adjustment.validated_data["delta"])
        return Response(self.get_serializer(self.get_object()).data)


def product_prefetches(*, detail: bool, everything: bool) -> list[Prefetch]:
    """Return what a product list (variants, images) or detail (and options, extras) reads, in a query each.

    The public sees active variants and extras only; staff who may see inactive products see all.
    """
    variants = Variant.objects.all() if everything else Variant.objects.active()
    extras = Extra.objects.all() if everything else Extra.objects.filter(is_active=True)
    # Into lists (Product.loaded_variants, loaded_images): Django hands those out per product
    # without building a queryset for each (16.6 -> 10.7 ms of CPU for a page of 50).
    images = Prefetch("images", queryset=ProductImage.objects.all(), to_attr="prefetched_images")
    if not detail:
        return [Prefetch("variants", queryset=variants, to_attr="prefetched_variants"), images]
    values = Prefetch("option_values", queryset=OptionValue.objects.select_related("option"))
    return [
        Prefetch("variants", queryset=variants.prefetch_related(values)),
        images,
        Prefetch("options", queryset=ProductOption.objects.prefetch_related("values")),
        Prefetch("extras", queryset=extras),
    ]


class ProductPartMixin:
    """A part of one product (its options, variants or extras): anyone reads those of active products;
    staff with the part's model permissions write them (as the admin's inlines)."""

    permission_classes = [StaffModelPermissionsOrReadOnly]
    filter_backends = []
    lookup_value_regex = "[0-9]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    @property
    def product(self) -> Product:
        if not hasattr(self, "_product"):
            products = Product.objects.all() if self.sees_inactive_products() else Product.objects.active()
            self._product = get_object_or_404(products, pk=self.kwargs["product_pk"])
        return self._product

    def sees_inactive_products(self) -> bool:
        """Staff who may view or change products reach an inactive product's parts, as in the admin."""
        user = self.request.user
        return bool(
            user.is_staff and (user.has_perm("catalog.view_product") or user.has_perm("catalog.change_product"))
        )

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        if "product_pk" in self.kwargs:
            context["product"] = self.product
        return context

    def get_success_headers(self, data) -> dict[str, str]:
        """Answer a create with `Location`: the part's own URL under its product."""
        kwargs = {"product_pk": self.product.pk, "pk": data["id"]}
        return {"Location": reverse(f"{self.basename}-detail", kwargs=kwargs, request=self.request)}


class ProductPartViewSet(ProductPartMixin, viewsets.ModelViewSet):
    pass


class ProductOptionViewSet(ProductPartViewSet):
    """A product's options (Size, Colour) and their values."""

    serializer_class = OptionSerializer

    def get_queryset(self):
        return self.product.options.prefetch_related("values")

    def perform_create(self, serializer) -> None:
        data = serializer.validated_data
        serializer.instance = self.product.add_option(data["name"], data["values"])

    def perform_update(self, serializer) -> None:
        option, data = serializer.instance, serializer.validated_data
        with transaction.atomic():
            if "name" in data:
                option.name = data["name"]
                option.save(update_fields=["name", "updated_at"])
            if "values" in data:
                option.set_values(data["values"])
        serializer.instance = self.get_queryset().get(pk=option.pk)

    def perform_destroy(self, option) -> None:
        """Delete an option only while the product has one variant at most: the others would collide."""
        if self.product.variants.count() > 1:
            raise Conflict(f"{self.product.name} has variants that differ by {option.name}: delete them first.")
        with transaction.atomic():
            option.delete()
            for variant in self.product.variants.prefetch_related("option_values"):
                variant.set_option_values(list(variant.option_values.all()))


class ProductVariantViewSet(ProductPartMixin, mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """A product's variants: list them, or add one with its option values."""

    serializer_class = VariantSerializer

    def get_queryset(self):
        variants = self.product.variants.prefetch_related(
            Prefetch("option_values", queryset=OptionValue.objects.select_related("option"))
        )
        return variants if self.sees_inactive_products() else variants.active()

    def get_success_headers(self, data) -> dict[str, str]:
        return {"Location": reverse("variant-detail", kwargs={"pk": data["id"]}, request=self.request)}


class VariantViewSet(
    ProductPartMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """One variant: read it, change its SKU, price, activity or position, delete it, or adjust its stock."""

    serializer_class = VariantSerializer

    def get_queryset(self):
        variants = Variant.objects.prefetch_related(
            Prefetch("option_values", queryset=OptionValue.objects.select_related("option"))
        )
        return variants if self.sees_inactive_products() else variants.orderable()

    def perform_destroy(self, variant) -> None:
        """Delete a variant no order records, unless it is its product's last one."""
        if not Variant.objects.filter(product_id=variant.product_id).exclude(pk=variant.pk).exists():
            raise Conflict("A product needs at least one variant: delete or deactivate the product instead.")
        variant.delete()

    @extend_schema(
        request=StockAdjustmentSerializer,
        responses={
            200: VariantSerializer,
            409: OpenApiResponse(
                ErrorSerializer, description=STOCK_REFUSED_DESCRIPTION, examples=STOCK_REFUSED_EXAMPLES
            ),
        },
    )
    @action(detail=True, methods=["post"], url_path="adjust-stock", permission_classes=[StaffCanChangeModel])
    def adjust_stock(self, request, pk=None):
        """Add or remove units of stock with a conditional update (staff, change permission)."""
        variant = self.get_object()
        adjustment = StockAdjustmentSerializer(data=request.data)
        adjustment.is_valid(raise_exception=True)
        Variant.objects.adjust_stock(variant.pk, adjustment.validated_data["delta"])
        return Response(self.get_serializer(self.get_object()).data)


class ProductExtraViewSet(ProductPartViewSet):
    """A product's extras (add-ons chosen per order line)."""

    serializer_class = ExtraSerializer

    def get_queryset(self):
        extras = self.product.extras.all()
        return extras if self.sees_inactive_products() else extras.filter(is_active=True)

    def perform_create(self, serializer) -> None:
        serializer.save(product=self.product)


class StaffCanChangeProductOrReadOnly(BasePermission):
    """Read for anyone; write for staff who may change products (an image is part of its product)."""

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        user = request.user
        return bool(user and user.is_staff and user.has_perm("catalog.change_product"))


IMAGE_REFUSED = OpenApiResponse(
    ValidationErrorSerializer,
    description="`invalid_image`: the file is not a whole JPEG, PNG, WebP or GIF image, its name or declared "
    "type says another format, or it is over the size or pixel limit; nothing was stored. "
    "`validation_error`: another field is wrong.",
    examples=[
        OpenApiExample(
            "invalid_image",
            value=InvalidImage("The image is 30,000 x 30,000 pixels; an image may have at most 25,000,000.").as_body(),
            response_only=True,
        ),
        OpenApiExample(
            "validation_error",
            value={
                "detail": "alt_text: This field is required.",
                "code": "validation_error",
                "errors": {"alt_text": ["This field is required."]},
            },
            response_only=True,
        ),
    ],
)


class ProductImageViewSet(
    ProductPartMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """A product's images: anyone reads those of active products; staff who may change products add and delete."""

    serializer_class = ProductImageSerializer
    permission_classes = [StaffCanChangeProductOrReadOnly]  # an image is part of its product
    parser_classes = [MultiPartParser]

    def get_queryset(self):
        return ProductImage.objects.filter(product=self.product)

    @extend_schema(responses={201: ProductImageSerializer, 400: IMAGE_REFUSED})
    def create(self, request, *args, **kwargs):
        """Upload an image of the product (multipart); its thumbnails are made at once (staff, change product)."""
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer) -> None:
        data = serializer.validated_data
        serializer.instance = ProductImage.objects.add(
            self.product,
            data["image"],
            alt_text=data["alt_text"],
            position=data.get("position"),
            variant=data.get("variant"),
        )

    def destroy(self, request, *args, **kwargs):
        """Delete an image of the product and, once that commits, its files (staff, change product)."""
        return super().destroy(request, *args, **kwargs)


class ProductReviewViewSet(
    CreatedLocationMixin, mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Reviews of one product: anyone reads them; a signed-in customer writes one."""

    serializer_class = ReviewSerializer
    created_route = "review-detail"
    permission_classes = [IsAuthenticatedOrReadOnly]
    filter_backends = []

    def get_queryset(self):
        return Review.objects.filter(product=self.product).select_related("customer")

    @property
    def product(self) -> Product:
        if not hasattr(self, "_product"):
            self._product = get_object_or_404(Product.objects.active(), pk=self.kwargs["product_pk"])
        return self._product

    @extend_schema(
        responses={
            201: ReviewSerializer,
            409: OpenApiResponse(
                ErrorSerializer,
                description="`already_reviewed`: this customer has reviewed this product already; edit that review.",
                examples=[OpenApiExample("already_reviewed", value=AlreadyReviewed().as_body(), response_only=True)],
            ),
        }
    )
    def create(self, request, *args, **kwargs):
        """Publish the signed-in customer's review of the product (one per customer and product)."""
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer) -> None:
        customer = getattr(self.request.user, "customer", None)
        if customer is None:
            raise PermissionDenied("Only customers write reviews.")
        data = serializer.validated_data
        serializer.instance = Review.objects.post(
            product=self.product, customer=customer, rating=data["rating"], comment=data.get("comment", "")
        )


class ReviewViewSet(
    mixins.RetrieveModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """One review: anyone reads it; its author edits or deletes it; staff may delete any."""

    serializer_class = ReviewSerializer
    permission_classes = [IsAuthenticatedOrReadOnly]
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self):
        reviews = Review.objects.select_related("customer")
        user = self.request.user
        if self.request.method in SAFE_METHODS:
            return reviews.public()
        if self.request.method == "DELETE" and user.is_staff and user.has_perm("catalog.delete_review"):
            return reviews
        return reviews.filter(customer__user_id=user.pk)
