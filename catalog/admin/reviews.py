"""Reviews: read as stars, found by product, customer or text; ratings kept by the catalog's signals."""

from django.contrib import admin

from catalog.models import Product, Review


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
    search for its name or one of its SKUs.
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
    search_fields = ["product__name", "product__variants__sku", "customer__email", "comment"]
    search_help_text = "Search by product name or SKU, customer email, or comment."
    autocomplete_fields = ["product", "customer"]
    # verified_purchase comes from the customer's orders, never from a form. Saving or
    # deleting a review here refreshes its product's rating (the catalog's signal receiver).
    readonly_fields = ["verified_purchase", "created_at", "updated_at"]
    show_full_result_count = False

    @admin.display(description="rating", ordering="rating")
    def stars(self, review: Review) -> str:
        return review.stars
