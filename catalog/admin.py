"""Staff admin for the catalog (SPEC §8).

Stock is never written from a form: the add form takes the initial stock, and the
change form and the restock action move it only through the queryset's conditional
updates (`Product.objects.adjust_stock`, `release`).
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import NestedObjects
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.db import router
from django.db.models import Prefetch
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import ngettext

from catalog.exceptions import StockLimitExceeded
from catalog.managers import LOW_STOCK_ORDER
from catalog.models import Category, Product, ProductImage, Review, Variant
from common.admin import activate, csv_export_action, deactivate, money

PRODUCT_DESCRIPTION = ["name", "slug", "category", "description"]  # pictures: the images inline


class StockLevelFilter(admin.SimpleListFilter):
    """Let staff find what needs restocking; the list then reads fewest units first."""

    title = "stock level"
    parameter_name = "stock_level"

    def lookups(self, request, model_admin):
        return [("low", f"Low (<= {settings.LOW_STOCK_THRESHOLD})"), ("sold_out", "Sold out (0)")]

    def queryset(self, request, queryset):
        if self.value() == "low":
            return queryset.with_low_stock()
        if self.value() == "sold_out":
            return queryset.with_low_stock(0)
        return queryset

    @classmethod
    def is_chosen(cls, params) -> bool:
        """Return whether the changelist's query string picks a stock level."""
        return params.get(cls.parameter_name) in ("low", "sold_out")


class CategoryTreeFilter(admin.SimpleListFilter):
    """Products in a category or any category below it, as the API's `?category=` filter."""

    title = "category"
    parameter_name = "category"

    def lookups(self, request, model_admin):
        return [(str(pk), f"{'— ' * depth}{name}") for pk, name, depth in Category.objects.outline()]

    def queryset(self, request, queryset):
        if self.value() in dict(self.lookup_choices):
            return queryset.in_category(int(self.value()))
        return queryset


class ProductChangeList(ChangeList):
    def get_ordering_field_columns(self):
        """Mark the stock and name columns as the sort of a low-stock list, not the model's default (name)."""
        if ORDER_VAR in self.params or not StockLevelFilter.is_chosen(self.params):
            return super().get_ordering_field_columns()
        return {self.list_display.index(field): "asc" for field in LOW_STOCK_ORDER if field in self.list_display}


class RestockForm(forms.Form):
    units = forms.IntegerField(
        label="Units to add to each product", min_value=1, max_value=Variant.MAX_STOCK, initial=1
    )


@admin.action(description="Restock selected products…", permissions=["change"])
def restock(modeladmin, request, queryset):
    """Add the same number of units to each selected product, after a page asking how many.

    Through `Product.objects.release`, all or nothing; a product it refuses (it would pass
    MAX_STOCK) is named and left out, and the others are restocked.
    """
    products = list(queryset.order_by("pk"))
    form = RestockForm(request.POST if request.POST.get("apply") else None)
    if not form.is_valid():
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": "Restock products",
            "opts": modeladmin.model._meta,
            "products": products,
            "form": form,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/catalog/product/restock.html", context)
    units = form.cleaned_data["units"]
    pending, refused = {product.pk: units for product in products}, []
    while pending:
        try:
            Product.objects.release(pending)
            break
        except StockLimitExceeded as over:
            for line in over.facts["lines"]:
                refused.append(next(product for product in products if product.pk == line["product"]))
                del pending[line["product"]]
    for product in refused:
        modeladmin.message_user(
            request,
            f"{product.name} was not restocked: it has {product.stock:,} units, and a product holds "
            f"at most {Variant.MAX_STOCK:,}.",
            level=messages.ERROR,
        )
    if pending:
        unit_words = ngettext("%(units)s unit", "%(units)s units", units) % {"units": f"{units:,}"}
        product_words = ngettext("%d product", "%d products", len(pending)) % len(pending)
        modeladmin.message_user(request, f"Added {unit_words} to {product_words}.", level=messages.SUCCESS)
    return None


class DeleteRefusal(list):
    """Why products cannot be deleted, a sentence each (Django's `protected`); `on_sale` may be deactivated instead."""

    def __init__(self, reasons: list[str], on_sale: list[Product]) -> None:
        super().__init__(reasons)
        self.on_sale = on_sale


def delete_refusal(products: list[Product], protected) -> DeleteRefusal:
    """Say which rows keep each product, counted by kind: "Teapot cannot be deleted: 12 order items record it."

    The rows come from Django's deletion collector, so the catalog names what a higher
    floor (orders) keeps without importing it. A row is counted against the selected
    product it points at; one that points at none of them (it protects something the
    products would take with them) is counted against the selection.
    """
    by_pk = {product.pk: product for product in products}
    counts: dict[int | None, dict] = {}
    for row in protected:
        links = [
            row.__dict__.get(field.attname)
            for field in row._meta.concrete_fields
            if field.is_relation and field.related_model is Product
        ]
        blocked = next((pk for pk in links if pk in by_pk), products[0].pk if len(products) == 1 else None)
        kinds = counts.setdefault(blocked, {})
        kinds[row._meta] = kinds.get(row._meta, 0) + 1
    reasons = []
    for pk in [*by_pk, None]:  # in the order the products came, as the changelist lists them
        if pk not in counts:
            continue
        kinds = counts[pk]
        rows = [f"{n:,} {opts.verbose_name if n == 1 else opts.verbose_name_plural}" for opts, n in kinds.items()]
        listed = rows[0] if len(rows) == 1 else f"{', '.join(rows[:-1])} and {rows[-1]}"
        verb = "records" if sum(kinds.values()) == 1 else "record"
        if pk is None:
            reasons.append(f"The selected products cannot be deleted: {listed} {verb} what they would take along.")
        else:
            reasons.append(f"{by_pk[pk].name} cannot be deleted: {listed} {verb} it.")
    on_sale = [product for product in products if product.pk in counts and product.is_active]
    return DeleteRefusal(reasons, on_sale)


def thumbnail(image: ProductImage | None, size: str = "small", height: int = 40) -> str:
    """An image's small thumbnail as an <img> at `height` px, or a dash without one."""
    if image is None:
        return "-"
    return format_html(
        '<img src="{}" alt="{}" style="height:{}px;width:auto;border-radius:3px;vertical-align:middle">',
        image.thumbnail_urls()[size],
        image.alt_text,
        height,
    )


class ProductImageInline(admin.TabularInline):
    """The product's pictures in their order; an upload is checked and its thumbnails made (catalog/images.py)."""

    model = ProductImage
    fields = ["preview", "image", "alt_text", "position"]
    readonly_fields = ["preview"]
    extra = 0

    @admin.display(description="picture")
    def preview(self, image: ProductImage) -> str:
        return thumbnail(image if image.pk else None, height=64)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["picture", "name", "category", "price_with_currency", "is_active", "created_at"]
    list_filter = [CategoryTreeFilter, "is_active", StockLevelFilter]
    list_select_related = ["category"]
    inlines = [ProductImageInline]
    search_fields = ["name", "variants__sku"]
    autocomplete_fields = ["category"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at", "updated_at"]
    # Counting every row on each page view is the slow part of a 100,000-row changelist.
    show_full_result_count = False
    actions = [activate, deactivate, "export_csv"]

    def get_changelist(self, request, **kwargs):
        return ProductChangeList

    def get_queryset(self, request):
        """Each product with its first picture, in one more query for the whole page."""
        first = ProductImage.objects.order_by("position", "pk")
        return super().get_queryset(request).prefetch_related(Prefetch("images", queryset=first))

    @admin.display(description="")
    def picture(self, product: Product) -> str:
        pictures = product.images.all()
        return thumbnail(pictures[0] if pictures else None)

    @admin.display(description="price", ordering="price_min")
    def price_with_currency(self, product: Product) -> str:
        return money(product.price_min)

    def get_fieldsets(self, request, obj=None):
        sales = ["is_active"]
        if obj is None:
            return [(None, {"fields": PRODUCT_DESCRIPTION}), ("Sales", {"fields": sales})]
        return [
            (None, {"fields": PRODUCT_DESCRIPTION}),
            ("Sales", {"fields": sales}),
            ("Reviews", {"fields": ["reviews_link"]}),
            ("History", {"fields": ["created_at", "updated_at"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        return [*self.readonly_fields, "reviews_link"]

    @admin.display(description="reviews")
    def reviews_link(self, product: Product) -> str:
        """Link this product's reviews in the review changelist (the count kept on the product)."""
        url = f"{reverse('admin:catalog_review_changelist')}?product={product.pk}"
        label = ngettext("%d review", "%d reviews", product.rating_count) % product.rating_count
        return format_html('<a href="{}">{} →</a>', url, label)

    def get_deleted_objects(self, objs, request):
        """Say why products that orders record cannot be deleted, and offer to deactivate them.

        Django would list every order line, after telling staff they may not delete
        order lines (nobody may). The collector runs a second time when nothing
        protects the products: a confirmation page, not a list.
        """
        products = list(objs)
        collector = NestedObjects(using=router.db_for_write(Product))
        collector.collect(products)
        if collector.protected:
            return [], {}, set(), delete_refusal(products, collector.protected)
        return super().get_deleted_objects(products, request)

    export_csv = csv_export_action(
        "products",
        {
            "name": "name",
            "category": "category__name",
            "price_min": "price_min",
            "price_max": "price_max",
            "is_active": "is_active",
        },
    )


class CategoryChangeList(ChangeList):
    def get_results(self, request):
        """Give each listed category its product count, sub-categories included (one query for the page)."""
        super().get_results(request)
        counts = Category.objects.product_counts()
        for category in self.result_list:
            category.product_count = counts.get(category.pk, 0)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent", "is_active", "product_count"]
    list_filter = ["is_active", ("parent", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["parent"]
    search_fields = ["name", "slug"]
    autocomplete_fields = ["parent"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at", "updated_at"]
    actions = [activate, deactivate]

    def get_changelist(self, request, **kwargs):
        return CategoryChangeList

    # Not sortable: the count of a whole subtree is added up in memory, not in SQL.
    @admin.display(description="products (sub-categories included)")
    def product_count(self, category: Category) -> int:
        return category.product_count


class RatingFilter(admin.SimpleListFilter):
    """Ratings 5 to 1, listed without a DISTINCT scan of the review table."""

    title = "rating"
    parameter_name = "rating"

    def lookups(self, request, model_admin):
        return [(str(stars), f"{stars} {'★' * stars}") for stars in range(5, 0, -1)]

    def queryset(self, request, queryset):
        if self.value() in dict(self.lookup_choices):
            return queryset.filter(rating=self.value())
        return queryset


class ReviewedProductFilter(admin.SimpleListFilter):
    """One product's reviews, chosen by a link such as `?product=7`.

    The sidebar names only the chosen product (with "All" to clear it): a catalog of
    100,000 products cannot be a list of links. To find a product's reviews by hand,
    search for its name or SKU.
    """

    title = "product"
    parameter_name = "product"

    def lookups(self, request, model_admin):
        product_id = self.value() or ""
        if not product_id.isdecimal() or len(product_id) > 18:  # not an id: ignore it rather than fail
            return []
        product = Product.objects.filter(pk=product_id).only("name").first()
        return [(product_id, str(product) if product else f"Product {product_id} (not found)")]

    def queryset(self, request, queryset):
        if self.value() in dict(self.lookup_choices):
            return queryset.filter(product_id=self.value())
        return queryset


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["product", "customer", "stars", "verified_purchase", "created_at"]
    list_filter = [RatingFilter, "verified_purchase", ReviewedProductFilter]
    list_select_related = ["product", "customer"]
    search_fields = ["product__name", "customer__email", "comment"]
    search_help_text = "Search by product name, customer email, or comment."
    autocomplete_fields = ["product", "customer"]
    # verified_purchase comes from the customer's orders, never from a form. Saving or
    # deleting a review here refreshes its product's rating (the catalog's signal receiver).
    readonly_fields = ["verified_purchase", "created_at", "updated_at"]
    show_full_result_count = False

    @admin.display(description="rating", ordering="rating")
    def stars(self, review: Review) -> str:
        return review.stars
