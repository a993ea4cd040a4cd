"""The category tree's admin: each category with its product count, sub-categories included."""

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList

from catalog.models import Category
from common.admin import activate, deactivate


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
