from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.images import MAX_POSITION, THUMBNAIL_WIDTHS
from catalog.models import Category, Product, ProductImage, Review

LONGEST_COMMENT = 5000  # characters in a review comment
ADJUST_STOCK_HINT = "Stock cannot be set directly; use POST /api/v1/products/{id}/adjust-stock/ with a delta."


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
        fields = ["id", "image", "alt_text", "position", "url", "thumbnails"]
        extra_kwargs = {
            "position": {
                "max_value": MAX_POSITION,
                "help_text": "Order among the product's images, lowest first; unset: after the last one.",
            }
        }


class ProductSerializer(serializers.ModelSerializer):
    rating = RatingSerializer(source="*", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    category_slug = serializers.CharField(source="category.slug", read_only=True)
    in_stock = serializers.BooleanField(read_only=True)
    images = ProductImageSerializer(many=True, read_only=True, help_text="In order; upload at /products/{id}/images/.")

    class Meta:
        model = Product
        fields = [
            "id", "sku", "name", "slug", "description",
            "category", "category_name", "category_slug",
            "price", "stock", "in_stock", "is_active", "image", "images", "rating",
            "created_at", "updated_at",
        ]  # fmt: skip
        extra_kwargs = {"stock": {"help_text": "Units on hand. Set on creation; later moved only by adjust-stock."}}

    def validate_stock(self, stock: int) -> int:
        """Take stock on creation only; a stale count written back would undo sales."""
        if self.instance is not None and stock != self.instance.stock:
            raise serializers.ValidationError(ADJUST_STOCK_HINT)
        return stock


class StockAdjustmentSerializer(serializers.Serializer):
    delta = serializers.IntegerField(
        min_value=-Product.MAX_STOCK,
        max_value=Product.MAX_STOCK,
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
