from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.images import MAX_POSITION, THUMBNAIL_WIDTHS
from catalog.models import Category, Extra, Product, ProductImage, ProductOption, Review, Variant
from common.serializers import FieldsFromModelOnce

LONGEST_COMMENT = 5000  # characters in a review comment
ADJUST_STOCK_HINT = "Stock cannot be set directly; use POST /api/v1/products/{id}/adjust-stock/ with a delta."
VARIANT_STOCK_HINT = "Stock cannot be set directly; use POST /api/v1/variants/{id}/adjust-stock/ with a delta."
MAX_OPTION_VALUES = 100


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug", "parent", "description", "is_active", "created_at", "updated_at"]

    def validate_parent(self, parent: Category | None) -> Category | None:
        if self.instance is not None and self.instance.would_loop(parent):
            raise serializers.ValidationError(Category.LOOP_MESSAGE)
        return parent


class RatingSerializer(serializers.Serializer):
    average = serializers.DecimalField(
        max_digits=3, decimal_places=2, allow_null=True, help_text="Mean rating, null until the first review."
    )
    count = serializers.IntegerField(help_text="How many reviews.")

    def to_representation(self, product: Product) -> dict:
        average = product.rating_average if product.rating_count else None
        return super().to_representation({"average": average, "count": product.rating_count})


@extend_schema_field(OpenApiTypes.URI)
class MediaUrlField(serializers.ReadOnlyField):
    """A stored file's URL, absolute: the storage's own (S3), or this site's with its scheme and host."""

    def to_representation(self, url: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class ThumbnailUrlsSerializer(serializers.Serializer):
    small = MediaUrlField(help_text=f"At most {THUMBNAIL_WIDTHS['small']} pixels wide (WebP).")
    medium = MediaUrlField(help_text=f"At most {THUMBNAIL_WIDTHS['medium']} pixels wide (WebP).")
    large = MediaUrlField(help_text=f"At most {THUMBNAIL_WIDTHS['large']} pixels wide (WebP).")


class ProductImageSerializer(serializers.ModelSerializer):
    # A plain file field: the checks are catalog.images.check_image's, answered as invalid_image.
    image = serializers.FileField(
        write_only=True,
        allow_empty_file=True,
        help_text="The picture: a JPEG, PNG, WebP or GIF file, within the upload limits "
        "(MEDIA_MAX_UPLOAD_BYTES, 5 MB, and MEDIA_MAX_IMAGE_PIXELS, 25 megapixels, by default).",
    )
    url = MediaUrlField(source="image.url", help_text="The original, as uploaded.")
    thumbnails = ThumbnailUrlsSerializer(source="thumbnail_urls", read_only=True)

    class Meta:
        model = ProductImage
        fields = ["id", "image", "alt_text", "position", "variant", "url", "thumbnails"]
        extra_kwargs = {
            "variant": {
                "help_text": "The variant it shows (the navy shirt), one of the product's; empty: the product."
            },
            "position": {
                "max_value": MAX_POSITION,
                "help_text": "Order among the product's images, lowest first; unset: after the last one.",
            },
        }


class ProductSerializer(FieldsFromModelOnce, serializers.ModelSerializer):
    """A product as lists show it. `sku`, `price` and `stock` are those of a product sold in one
    variant (null when it has several); on creation they make its variant."""

    sku = serializers.CharField(
        source="only_variant.sku",
        max_length=64,
        required=False,
        allow_null=True,
        help_text="SKU of a product sold in one variant; null when it has several. Required on creation.",
    )
    price = serializers.DecimalField(
        source="only_variant.price",
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        allow_null=True,
        help_text="Price of a product sold in one variant; null when it has several (see price_min, price_max). "
        "Required on creation.",
    )
    stock = serializers.IntegerField(
        source="only_variant.stock",
        min_value=0,
        max_value=Variant.MAX_STOCK,
        required=False,
        allow_null=True,
        help_text="Units on hand of a product sold in one variant; null when it has several. Set on creation; "
        "later moved only by adjust-stock.",
    )
    rating = RatingSerializer(source="*", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    category_slug = serializers.CharField(source="category.slug", read_only=True)
    in_stock = serializers.BooleanField(read_only=True, help_text="Whether an active variant has stock.")
    images = ProductImageSerializer(
        source="loaded_images", many=True, read_only=True, help_text="In order; upload at /products/{id}/images/."
    )

    class Meta:
        model = Product
        fields = [
            "id", "sku", "name", "slug", "description",
            "category", "category_name", "category_slug",
            "price", "price_min", "price_max", "stock", "in_stock", "is_active", "images", "rating",
            "created_at", "updated_at",
        ]  # fmt: skip

    def get_fields(self) -> dict:
        """Require `sku` and `price` on creation: they make the product's first variant."""
        fields = super().get_fields()
        if self.instance is None:
            fields["sku"].required = fields["price"].required = True
        return fields

    def validate(self, attrs):
        sold_as = attrs.get("only_variant", {})
        if self.instance is None:
            nulls = {field: ["This field may not be null."] for field in ("sku", "price") if sold_as[field] is None}
            if nulls:
                raise serializers.ValidationError(nulls)
            _check_sku_free(sold_as["sku"])
            return attrs
        if not sold_as:
            return attrs
        variant = self.instance.only_variant
        if variant is None:
            message = f"This product comes in several variants: change them at /products/{self.instance.pk}/variants/."
            raise serializers.ValidationError({field: [message] for field in sold_as})
        if "stock" in sold_as and sold_as["stock"] != variant.stock:
            raise serializers.ValidationError({"stock": [ADJUST_STOCK_HINT]})
        for field in ("sku", "price"):
            if field in sold_as and sold_as[field] is None:
                raise serializers.ValidationError({field: ["This field may not be null."]})
        if "sku" in sold_as:
            _check_sku_free(sold_as["sku"], variant)
        return attrs

    def create(self, validated_data):
        sold_as = validated_data.pop("only_variant")
        return Product.objects.create_with_variant(
            sku=sold_as["sku"], price=sold_as["price"], stock=sold_as.get("stock") or 0, **validated_data
        )

    def update(self, product, validated_data):
        sold_as = validated_data.pop("only_variant", {})
        with transaction.atomic():
            product = super().update(product, validated_data)
            variant = product.only_variant
            if variant is not None and ("sku" in sold_as or "price" in sold_as):
                variant.sku = sold_as.get("sku", variant.sku)
                variant.price = sold_as.get("price", variant.price)
                variant.save()
                product.refresh_from_db(fields=["price_min", "price_max"])
        return product


def _check_sku_free(sku: str, variant: Variant | None = None) -> None:
    refuse_taken(Variant.objects.filter(sku=sku), variant, "A variant with this SKU already exists.", field="sku")


def refuse_taken(others, instance, message: str, *, field: str | None = None) -> None:
    """Refuse a unique value that a row other than `instance` has, before the database does (a 400, not a 409)."""
    if instance is not None:
        others = others.exclude(pk=instance.pk)
    if others.exists():
        raise serializers.ValidationError({field: [message]} if field else message, code="unique")


class OptionValuesField(serializers.ListField):
    """An option's values as their names, in order (reads the prefetched `values`)."""

    def to_representation(self, values) -> list[str]:
        return [value.value for value in values.all()]


class OptionSerializer(serializers.ModelSerializer):
    values = OptionValuesField(
        child=serializers.CharField(max_length=60),
        min_length=1,
        max_length=MAX_OPTION_VALUES,
        help_text='The values in order, e.g. ["S", "M", "L"]. A value a variant has cannot be removed.',
    )

    class Meta:
        model = ProductOption
        fields = ["id", "name", "values", "position"]
        read_only_fields = ["position"]

    def validate_name(self, name: str) -> str:
        product = self.context["product"]
        refuse_taken(product.options.filter(name=name), self.instance, f"{product.name} has an option {name} already.")
        return name


class VariantSerializer(serializers.ModelSerializer):
    options = serializers.DictField(
        child=serializers.CharField(max_length=60),
        required=False,
        help_text='One value for each of the product\'s options, by name: {"Size": "M", "Colour": "Navy"}. '
        "Set on creation.",
    )
    in_stock = serializers.BooleanField(read_only=True)
    stock = serializers.IntegerField(
        min_value=0,
        max_value=Variant.MAX_STOCK,
        required=False,
        help_text="Units on hand. Set on creation; later moved only by adjust-stock.",
    )

    class Meta:
        model = Variant
        fields = [
            "id", "product", "sku", "price", "stock", "in_stock", "is_active", "position", "options",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["product"]
        extra_kwargs = {"position": {"max_value": MAX_POSITION}}

    def to_representation(self, variant: Variant) -> dict:
        data = super().to_representation(variant)
        data["options"] = {label["option"]: label["value"] for label in variant.option_labels()}
        return data

    def validate(self, attrs):
        if self.instance is not None:
            if "options" in attrs:
                raise serializers.ValidationError({"options": ["A variant's options are set when it is created."]})
            if "stock" in attrs and attrs["stock"] != self.instance.stock:
                raise serializers.ValidationError({"stock": [VARIANT_STOCK_HINT]})
        if "sku" in attrs:
            _check_sku_free(attrs["sku"], self.instance)
        return attrs

    def create(self, validated_data):
        return self.context["product"].add_variant(**validated_data)


class ExtraSerializer(serializers.ModelSerializer):
    class Meta:
        model = Extra
        fields = ["id", "name", "price", "max_per_line", "is_active", "position", "created_at", "updated_at"]
        extra_kwargs = {"position": {"max_value": MAX_POSITION}, "max_per_line": {"max_value": 99}}

    def validate_name(self, name: str) -> str:
        product = self.context["product"]
        refuse_taken(product.extras.filter(name=name), self.instance, f"{product.name} offers an extra {name} already.")
        return name


class ProductDetailSerializer(ProductSerializer):
    """A product with what a storefront needs to sell it: options, variants and extras."""

    options = OptionSerializer(many=True, read_only=True, help_text="How the product varies, with values in order.")
    variants = VariantSerializer(many=True, read_only=True, help_text="What is sold and stocked, in order.")
    extras = ExtraSerializer(many=True, read_only=True, help_text="Add-ons chosen per order line.")

    class Meta(ProductSerializer.Meta):
        fields = [*ProductSerializer.Meta.fields, "options", "variants", "extras"]


class StockAdjustmentSerializer(serializers.Serializer):
    delta = serializers.IntegerField(
        min_value=-Variant.MAX_STOCK,
        max_value=Variant.MAX_STOCK,
        help_text="Units to add (positive) or remove (negative); never below zero.",
    )

    def validate_delta(self, delta: int) -> int:
        if delta == 0:
            raise serializers.ValidationError("A stock adjustment must add or remove at least one unit.")
        return delta


class ReviewSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField(help_text="The reviewer's first name and last initial.")

    class Meta:
        model = Review
        fields = ["id", "product", "author", "rating", "comment", "verified_purchase", "created_at", "updated_at"]
        read_only_fields = ["product", "verified_purchase"]
        extra_kwargs = {"comment": {"max_length": LONGEST_COMMENT}}

    def get_author(self, review: Review) -> str:
        first, last = review.customer.first_name, review.customer.last_name
        return f"{first} {last[0]}." if last else first
