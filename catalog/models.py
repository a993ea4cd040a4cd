import itertools
from collections.abc import Callable, Mapping
from decimal import Decimal

from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import F, Max, Q
from django.utils.text import slugify

from catalog import images
from catalog.managers import CategoryManager, ProductManager, ReviewManager, VariantManager
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
    """Something the shop sells, in one or more variants (what is priced and stocked)."""

    name = models.CharField(max_length=200, db_index=True)
    slug = models.SlugField(max_length=220, unique=True)
    description = models.TextField(blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    is_active = models.BooleanField(default=True, db_index=True)
    # Kept by ProductQuerySet.refresh_prices whenever a variant is written, so lists, price
    # filters and `ordering=price` read an indexed column instead of aggregating variants.
    price_min = MoneyField(null=True, blank=True, editable=False, help_text="Lowest price of the active variants.")
    price_max = MoneyField(null=True, blank=True, editable=False, help_text="Highest price of the active variants.")
    # Kept by ProductQuerySet.refresh_ratings whenever a review changes, so lists and
    # `ordering=rating` need no aggregate per page.
    rating_average = models.DecimalField(max_digits=3, decimal_places=2, default=0, editable=False)
    rating_count = models.PositiveIntegerField(default=0, editable=False)
    # Kept by ProductQuerySet.refresh_search (catalog/search.py) whenever the product, its
    # category, variants or option values change: ranked full-text search on PostgreSQL,
    # served by a GIN index (migration 0009). Always empty on SQLite, which matches words.
    search_vector = SearchVectorField(null=True, editable=False)

    objects = ProductManager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(price_max__gte=F("price_min")), name="product_price_range_ordered"),
        ]
        indexes = [
            models.Index(fields=["rating_average"], name="product_rating_idx"),
            # Storefront price ranges count and sort the active products by price: with this,
            # the page's COUNT is an index-only scan instead of a pass over every row (8 ms
            # to 1.4 ms for 12,000 of 20,000 products).
            models.Index(fields=["price_min"], condition=Q(is_active=True), name="product_active_price_idx"),
            models.Index(fields=["price_max"], condition=Q(is_active=True), name="product_active_price_max_idx"),
            # Facets group the filtered products by category and price band: an index-only scan
            # of this, instead of reading the wide rows (descriptions, search vectors).
            models.Index(
                fields=["category", "price_min", "price_max"],
                include=["id"],
                condition=Q(is_active=True),
                name="product_active_facets_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        """Save; on update, write every field but those the querysets keep.

        Prices and ratings are summaries the querysets recompute from variants and reviews,
        so a form or serializer holding a stale copy can never write it back.
        """
        if not self._state.adding and not kwargs.get("force_insert") and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.name for field in self._meta.concrete_fields if field.name not in Product.MOVED_BY_QUERYSET
            ]
        super().save(*args, **kwargs)

    # Columns only the queryset's updates write: never from a stale instance.
    MOVED_BY_QUERYSET = frozenset({"id", "price_min", "price_max", "rating_average", "rating_count", "search_vector"})

    @property
    def loaded_variants(self) -> list["Variant"]:
        """The variants a list prefetched (`Prefetch("variants", to_attr="prefetched_variants")`), else `variants`.

        A list per product is what makes a page cheap: prefetching through the manager has
        Django build a filtered queryset for every product on the page.
        """
        if hasattr(self, "prefetched_variants"):
            return self.prefetched_variants
        return list(self.variants.all())

    @property
    def loaded_images(self) -> list["ProductImage"]:
        """The images prefetched into `prefetched_images` (lists, details), else `images`."""
        if hasattr(self, "prefetched_images"):
            return self.prefetched_images
        return list(self.images.all())

    @property
    def only_variant(self) -> "Variant | None":
        """Return the variant of a product sold in one variant only; None when it has several."""
        variants = self.loaded_variants
        return variants[0] if len(variants) == 1 else None

    @property
    def in_stock(self) -> bool:
        """Whether some active variant has stock (reads the prefetched variants, as only_variant)."""
        return any(variant.is_active and variant.stock > 0 for variant in self.loaded_variants)

    def add_option(self, name: str, values: list[str]) -> "ProductOption":
        """Add an option (Size) with its values in order (S, M, L).

        The variants the product has already take the first value, so each keeps one value
        per option and their combinations stay distinct.
        """
        _check_values(values)
        with transaction.atomic():
            position = (self.options.aggregate(last=Max("position"))["last"] or 0) + 1
            option = self.options.create(name=name, position=position)
            option.values.bulk_create(
                [OptionValue(option=option, value=value, position=index) for index, value in enumerate(values)]
            )
            first = option.values.order_by("position").first()
            for variant in self.variants.prefetch_related("option_values"):
                variant.set_option_values([*variant.option_values.all(), first])
        return option

    add_option.alters_data = True

    def add_variant(self, *, sku: str, price, stock: int = 0, options: Mapping[str, str] | None = None, **fields):
        """Add a variant with one value for each of the product's options, by name: {"Size": "M"}.

        Raises ValidationError naming the field when an option or value is unknown, one is
        missing, or another variant has the same values.
        """
        with transaction.atomic():
            values = self.option_values_named(options or {})
            variant = Variant(product=self, sku=sku, price=price, stock=stock, **fields)
            variant.set_option_values(values)  # checks them, and keys the combination
            variant.save()
            variant.option_values.set(values)
        return variant

    add_variant.alters_data = True

    def option_values_named(self, options: Mapping[str, str]) -> list["OptionValue"]:
        """Return the product's option values named {"Size": "M"}; raise ValidationError for what it lacks."""
        known = {
            (value.option.name, value.value): value
            for value in OptionValue.objects.filter(option__product=self).select_related("option")
        }
        names = {name for name, _value in known}
        unknown = [f"{name}: {value}" for name, value in options.items() if (name, value) not in known]
        if unknown:
            raise ValidationError({"options": f"{self.name} has no {', '.join(unknown)}."})
        missing = sorted(names - set(options))
        if missing:
            raise ValidationError({"options": f"Choose a value for {', '.join(missing)}."})
        return [known[(name, value)] for name, value in options.items()]

    def generate_variants(self, *, sku_prefix: str | None = None) -> list["Variant"]:
        """Add a variant for every combination of option values that has none yet; return those added.

        Each new variant has the price of the product's first variant (or 0.00), no stock,
        and a SKU made of the prefix (by default the first variant's SKU) and the values.
        """
        options = list(self.options.prefetch_related("values"))
        if not options:
            return []
        first = self.variants.first()
        prefix = sku_prefix or (first.sku if first else slugify(self.name).upper()[:40])
        price = first.price if first else Decimal("0.00")
        taken = set(self.variants.values_list("combination", flat=True))
        added = []
        with transaction.atomic():
            for values in itertools.product(*(option.values.all() for option in options)):
                combination = ".".join(str(pk) for pk in sorted(value.pk for value in values))
                if combination in taken:
                    continue
                suffix = "-".join(slugify(value.value).upper() for value in values)
                variant = Variant(product=self, sku=f"{prefix}-{suffix}"[:64], price=price, stock=0)
                variant.set_option_values(list(values))
                variant.save()
                variant.option_values.set(values)
                added.append(variant)
        return added

    generate_variants.alters_data = True


class ProductOption(TimeStampedModel):
    """A way a product varies, such as Size or Colour, with its values in order."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="options")
    name = models.CharField(max_length=60)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["product", "name"], name="option_name_unique_per_product")]

    def __str__(self) -> str:
        return self.name

    def check_values(self, values: list[str]) -> None:
        """Raise ValidationError if `set_values` would refuse these values, so a form can say so before saving."""
        _check_values(values)
        if self.pk is None:
            return
        dropped = self.values.exclude(value__in=values).filter(variants__isnull=False).order_by("position")
        used = list(dropped.values_list("value", flat=True).distinct())
        if used:
            raise ValidationError({"values": f"Variants have {', '.join(used)}: change or delete them first."})

    def set_values(self, values: list[str]) -> None:
        """Make the option's values exactly these, in this order; a value some variant has cannot go."""
        with transaction.atomic():
            self.check_values(values)
            current = {value.value: value for value in self.values.all()}
            dropped = [value for name, value in current.items() if name not in values]
            for value in dropped:
                value.delete()
            for position, name in enumerate(values):
                if name in current:
                    OptionValue.objects.filter(pk=current[name].pk).update(position=position)
                else:
                    OptionValue.objects.create(option=self, value=name, position=position)

    set_values.alters_data = True


def _check_values(values: list[str]) -> None:
    if not values:
        raise ValidationError({"values": "An option needs at least one value."})
    if len(set(values)) != len(values):
        raise ValidationError({"values": "Each value may appear once."})


class OptionValue(TimeStampedModel):
    """One value of a product option, such as M of Size."""

    option = models.ForeignKey(ProductOption, on_delete=models.CASCADE, related_name="values")
    value = models.CharField(max_length=60)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["option", "value"], name="option_value_unique_per_option")]

    def __str__(self) -> str:
        return f"{self.option.name}: {self.value}"


class Variant(TimeStampedModel):
    """What is sold and stocked: a product in one value of each of its options (Size M, Colour Navy).

    Stock moves only through VariantQuerySet.reserve/release/adjust_stock; price and
    activity changes keep the product's price range (Variant.save, ProductQuerySet.refresh_prices).
    """

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField("SKU", max_length=64, unique=True)
    price = MoneyField(validators=[MinValueValidator(0)])
    stock = models.IntegerField(default=0, validators=[MinValueValidator(0)])
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)
    option_values = models.ManyToManyField(OptionValue, blank=True, related_name="variants")
    # The chosen values' ids, sorted and joined ("4.9"): unique per product, so the database
    # holds "each combination at most once". Written by set_option_values only.
    combination = models.CharField(max_length=255, blank=True, editable=False)

    objects = VariantManager()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="variant_price_non_negative"),
            models.CheckConstraint(condition=Q(stock__gte=0), name="variant_stock_non_negative"),
            models.UniqueConstraint(fields=["product", "combination"], name="variant_combination_unique"),
        ]

    def __str__(self) -> str:
        return self.sku

    @property
    def in_stock(self) -> bool:
        return self.is_active and self.stock > 0

    def save(self, *args, **kwargs) -> None:
        """Save (never the stock of an existing row) and refresh the product's price range."""
        if not self._state.adding and not kwargs.get("force_insert") and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.name for field in self._meta.concrete_fields if field.name not in Variant.MOVED_BY_QUERYSET
            ]
        with transaction.atomic():
            super().save(*args, **kwargs)
            Product.objects.refresh_prices([self.product_id])

    def delete(self, *args, **kwargs):
        with transaction.atomic():
            deleted = super().delete(*args, **kwargs)
            Product.objects.refresh_prices([self.product_id])
        return deleted

    def option_labels(self) -> list[dict[str, str]]:
        """Return the variant's option values in the product's option order: [{"option": "Size", "value": "M"}].

        Reads the prefetched `option_values` (with their options) when there are, and nothing
        for a variant without a combination: set_option_values writes both.
        """
        if not self.combination:
            return []
        values = sorted(self.option_values.all(), key=lambda value: (value.option.position, value.option_id))
        return [{"option": value.option.name, "value": value.value} for value in values]

    @property
    def title(self) -> str:
        """Name the variant as a customer reads it: "Size M, Colour Navy" (empty without options)."""
        return ", ".join(f"{label['option']} {label['value']}" for label in self.option_labels())

    def set_option_values(self, values: list[OptionValue]) -> None:
        """Give the variant exactly these values, one for each of its product's options.

        Raises ValidationError when a value is not of this product, an option is missing or
        has two values, or another variant has these values (which the database refuses too).
        For a variant not saved yet, this only sets `combination`: save it, then set the values.
        """
        self.combination = self.combination_for(values)
        if self.pk is None:
            return
        with transaction.atomic():
            type(self).objects.filter(pk=self.pk)._update_quietly(combination=self.combination)
            self.option_values.set(values)

    set_option_values.alters_data = True

    def combination_for(self, values: list[OptionValue]) -> str:
        """Return the `combination` key of these values for this variant, or raise ValidationError saying why not."""
        options = set(self.product.options.values_list("pk", flat=True))
        chosen = [value.option_id for value in values]
        if any(option not in options for option in chosen):
            raise ValidationError({"options": "A value is not one of this product's options."})
        if len(set(chosen)) != len(chosen) or set(chosen) != options:
            raise ValidationError({"options": "Choose exactly one value for each of the product's options."})
        combination = ".".join(str(pk) for pk in sorted(value.pk for value in values))
        twin = type(self).objects.filter(product_id=self.product_id, combination=combination).exclude(pk=self.pk)
        twin = twin.values_list("sku", flat=True).first()
        if twin is not None and not values:
            raise ValidationError({"options": f"{self.product.name} has no options: it is sold as {twin} alone."})
        if twin is not None:
            raise ValidationError({"options": f"Variant {twin} has these values already."})
        return combination

    # The stock column is a 32-bit integer on PostgreSQL: stock never passes this.
    MAX_STOCK = 2**31 - 1
    # Columns only the queryset's conditional updates write: never from a stale instance.
    MOVED_BY_QUERYSET = frozenset({"id", "stock", "combination"})


class Extra(TimeStampedModel):
    """A priced add-on a customer may choose on an order line, up to `max_per_line` times (extra cheese +1.50)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="extras")
    name = models.CharField(max_length=100)
    price = MoneyField(validators=[MinValueValidator(0)])
    max_per_line = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1)], help_text="How many times one order line may add it."
    )
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "name"], name="extra_name_unique_per_product"),
            models.CheckConstraint(condition=Q(price__gte=0), name="extra_price_non_negative"),
            models.CheckConstraint(condition=Q(max_per_line__gte=1), name="extra_max_per_line_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (+{self.price})"


class ProductImage(TimeStampedModel):
    """A picture of a product, in the product's order, with thumbnails made when it is saved (catalog/images.py).

    The files live on the default storage (a folder or an S3 bucket); deleting the row
    deletes them once the transaction commits (catalog/signals.py).
    """

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    variant = models.ForeignKey(
        Variant,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="images",
        help_text="The variant it shows, if it shows one (the navy shirt); empty: the product as a whole.",
    )
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
