from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import F, Q

from catalog import images
from catalog.managers import CategoryManager, ProductManager, ReviewManager
from common.models import MoneyField, TimeStampedModel


class Category(TimeStampedModel):
    """A node of the catalog tree; any depth."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=140, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True, db_index=True)

    objects = CategoryManager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"
        constraints = [
            models.CheckConstraint(condition=~Q(parent=F("pk")), name="category_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.would_loop(self.parent):
            raise ValidationError({"parent": self.LOOP_MESSAGE})

    LOOP_MESSAGE = "A category cannot sit under itself or one of its sub-categories."

    def would_loop(self, parent: "Category | None") -> bool:
        """Return whether putting this category under `parent` would make the tree loop."""
        ancestor = parent
        while ancestor is not None and self.pk is not None:
            if ancestor.pk == self.pk:
                return True
            ancestor = ancestor.parent
        return False


class Product(TimeStampedModel):
    """Something the shop sells. Stock moves only through ProductQuerySet.reserve/release."""

    sku = models.CharField("SKU", max_length=64, unique=True)
    name = models.CharField(max_length=200, db_index=True)
    slug = models.SlugField(max_length=220, unique=True)
    description = models.TextField(blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    price = MoneyField(validators=[MinValueValidator(0)], db_index=True)
    stock = models.IntegerField(default=0, validators=[MinValueValidator(0)])
    is_active = models.BooleanField(default=True, db_index=True)
    image = models.ImageField(upload_to="products/", blank=True)
    # Kept by ProductQuerySet.refresh_ratings whenever a review changes, so lists and
    # `ordering=rating` need no aggregate per page.
    rating_average = models.DecimalField(max_digits=3, decimal_places=2, default=0, editable=False)
    rating_count = models.PositiveIntegerField(default=0, editable=False)

    objects = ProductManager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_non_negative"),
            models.CheckConstraint(condition=Q(stock__gte=0), name="product_stock_non_negative"),
        ]
        indexes = [
            models.Index(fields=["rating_average"], name="product_rating_idx"),
            # Storefront price ranges count and sort the active products by price: with this,
            # the page's COUNT is an index-only scan instead of a pass over every row (8 ms
            # to 1.4 ms for 12,000 of 20,000 products).
            models.Index(fields=["price"], condition=Q(is_active=True), name="product_active_price_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    def save(self, *args, **kwargs) -> None:
        """Save; on update, write every field but stock.

        Stock only moves through the queryset's conditional updates, so a form or
        serializer holding a stale stock count can never write it back.
        """
        if not self._state.adding and not kwargs.get("force_insert") and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.name for field in self._meta.concrete_fields if field.name not in Product.MOVED_BY_QUERYSET
            ]
        super().save(*args, **kwargs)

    # The stock column is a 32-bit integer on PostgreSQL: stock never passes this.
    MAX_STOCK = 2**31 - 1
    # Columns only the queryset's conditional updates write: never from a stale instance.
    MOVED_BY_QUERYSET = frozenset({"id", "stock", "rating_average", "rating_count"})


class ProductImage(TimeStampedModel):
    """A picture of a product, in the product's order, with thumbnails made when it is saved (catalog/images.py).

    The files live on the default storage (a folder or an S3 bucket); deleting the row
    deletes them once the transaction commits (catalog/signals.py).
    """

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(
        upload_to=images.product_image_path,
        validators=[images.validate_image],
        help_text="JPEG, PNG, WebP or GIF.",
    )
    alt_text = models.CharField(max_length=255, help_text="What the picture shows, for screen readers and search.")
    position = models.PositiveSmallIntegerField(default=0, help_text="Order among the product's images, lowest first.")

    objects = images.ProductImageManager()

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"Image {self.pk} of product {self.product_id}"

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._stored_name = instance.__dict__.get("image")  # the file a new upload would replace
        return instance

    def save(self, *args, **kwargs) -> None:
        """Save; a new file is checked, rendered into thumbnails, and only then stored with them.

        A file that is not an image this shop accepts raises InvalidImage before anything is
        stored. If storing or writing the row fails, the files written are deleted again; the
        file this one replaces is deleted once the transaction commits.
        """
        if not self.image or self.image._committed:
            super().save(*args, **kwargs)
            return
        upload = self.image.file
        images.check_image(upload)
        rendered = images.render_thumbnails(upload)
        # The files first and the row last, each on its own: no transaction is held open while
        # the storage (perhaps S3, over the network) is written.
        try:
            self.image.save(self.image.name, upload, save=False)  # under a fresh name (product_image_path)
            images.store_thumbnails(self.image, rendered)
            super().save(*args, **kwargs)
        except Exception:
            if self.image._committed:
                images.delete_image_files(self.image)
            raise
        replaced = getattr(self, "_stored_name", None)
        if replaced and replaced != self.image.name:
            old = self.image.field.attr_class(self, self.image.field, replaced)
            transaction.on_commit(lambda: images.delete_image_files(old))
        self._stored_name = self.image.name

    def thumbnail_urls(self) -> dict[str, str]:
        """Return each thumbnail's URL by size; nothing is read from the storage."""
        return {size: self.image.storage.url(name) for size, name in images.thumbnail_names(self.image).items()}

    def delete_files(self) -> None:
        """Delete the image and its thumbnails from the storage."""
        images.delete_image_files(self.image)

    delete_files.alters_data = True


def _never_bought(customer_id: int, product_id: int) -> bool:
    return False


# Only the orders app knows who bought what, and it sits above the catalog (SPEC §12): it
# installs its check here from OrdersConfig.ready().
_purchase_check: Callable[[int, int], bool] = _never_bought


def register_purchase_check(check: Callable[[int, int], bool]) -> None:
    """Install how to tell whether a customer bought a product, for Review.verified_purchase."""
    global _purchase_check
    _purchase_check = check


class Review(TimeStampedModel):
    """A customer's rating (1-5) and comment on a product; one per customer and product."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="reviews")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="reviews")
    rating = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(blank=True)
    verified_purchase = models.BooleanField(
        default=False, help_text="The customer has a confirmed or delivered order with this product."
    )

    objects = ReviewManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "product"], name="review_one_per_customer_and_product"),
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="review_rating_1_to_5"),
        ]

    def __str__(self) -> str:
        """Read as staff say it: "★★★★☆ Teapot — Ada Lovelace" (lists select the product and customer)."""
        return f"{self.stars} {self.product.name} — {self.customer.full_name or self.customer.email}"

    @property
    def stars(self) -> str:
        """Return the rating as five stars, filled up to the rating: "★★★★☆"."""
        rating = self.rating or 0
        return "★" * rating + "☆" * (5 - rating)

    def save(self, *args, **kwargs) -> None:
        """Save, marking the review a verified purchase when its author bought the product."""
        self.verified_purchase = _purchase_check(self.customer_id, self.product_id)
        super().save(*args, **kwargs)
