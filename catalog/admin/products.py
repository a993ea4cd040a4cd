"""The product pages: the list over variants, the add form with the first variant, and the product's page
with its variants, options, extras and pictures inline.

Stock is read-only here; it moves on the variant admin (catalog/admin/variants.py).
"""

import itertools

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import NestedObjects, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, router, transaction
from django.db.models import Count, Min, OuterRef, Prefetch, Subquery, Sum
from django.db.models.functions import Coalesce
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import ngettext

from catalog.admin.lists import CategoryTreeFilter, LowStockChangeList, StockLevelFilter, thumbnail
from catalog.models import Extra, OptionValue, Product, ProductImage, ProductOption, Variant
from common.admin import activate, csv_export_action, deactivate, money

PRODUCT_DESCRIPTION = ["name", "slug", "category", "description"]  # pictures: the images inline


def price_label() -> str:
    return f"Price ({settings.SHOP_CURRENCY})"


def price_help() -> str:
    return f"What one unit sells for, in {settings.SHOP_CURRENCY}, e.g. 24.90."


class PlainText(forms.Widget):
    """Show a value as text in a form (a variant's options once it has them)."""

    def render(self, name, value, attrs=None, renderer=None) -> str:
        return format_html("<span>{}</span>", value or "-")


class ProductAddForm(forms.ModelForm):
    """A new product with its first variant (the simple product: one form, like `create_with_variant`)."""

    sku = forms.CharField(label="SKU", max_length=Variant._meta.get_field("sku").max_length)
    price = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    stock = forms.IntegerField(
        label="Initial stock", min_value=0, max_value=Variant.MAX_STOCK, initial=0, help_text="Units on hand now."
    )

    class Meta:
        model = Product
        fields = [*PRODUCT_DESCRIPTION, "is_active"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["price"].label, self.fields["price"].help_text = price_label(), price_help()

    def clean_sku(self) -> str:
        sku = self.cleaned_data["sku"]
        if Variant.objects.filter(sku=sku).exists():
            raise forms.ValidationError("Another variant has this SKU.", code="unique")
        return sku


class VariantInlineForm(forms.ModelForm):
    """A variant on its product's page; a new one takes its option values from `options`, existing ones show theirs.

    `combinations` maps each choice of `options` to its option values; `get_formset` sets it
    for the product. Stock is not a field: it moves through the variant's own page.
    """

    options = forms.ChoiceField(label="options", required=True)
    combinations: dict[str, list[OptionValue]] = {}

    class Meta:
        model = Variant
        fields = ["sku", "price", "is_active", "position"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["price"].label = price_label()
        if not self.combinations:  # a product without options: its one variant needs none
            del self.fields["options"]
        elif self.instance.pk:
            self.fields["options"] = forms.CharField(
                label="options", required=False, disabled=True, widget=PlainText, initial=self.instance.title
            )
        else:
            choices = [
                (key, ", ".join(f"{v.option.name} {v.value}" for v in values))
                for key, values in self.combinations.items()
            ]
            self.fields["options"].choices = [("", "Choose…"), *choices]

    def chosen_values(self) -> list[OptionValue]:
        """Return the option values a new variant was given (none for a product without options)."""
        return self.combinations.get(self.cleaned_data.get("options"), [])

    def save(self, commit: bool = True) -> Variant:
        """Save; a new variant then takes its values through `set_option_values` (one per option)."""
        adding = self.instance._state.adding
        variant = super().save(commit=commit)
        if adding and commit:
            variant.set_option_values(self.chosen_values())
        return variant


class VariantInlineFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        """Refuse a new variant whose options another variant has (the database holds the same rule)."""
        super().clean()
        if any(self.errors):
            return
        deleted = {form.instance.pk for form in self.deleted_forms}
        taken = {
            frozenset(value.pk for value in variant.option_values.all()): variant.sku
            for variant in self.instance.variants.prefetch_related("option_values")
            if variant.pk not in deleted
        }
        for form in self.extra_forms:
            if not form.has_changed() or form in self.deleted_forms:
                continue
            values = form.chosen_values()
            key = frozenset(value.pk for value in values)
            if key in taken and not values:
                form.add_error(
                    None,
                    f"{self.instance.name} has no options, so it is sold in one variant ({taken[key]}). "
                    "Add an option (Size, Colour) first.",
                )
            elif key in taken:
                form.add_error("options", f"{taken[key]} already has these options.")
            else:
                taken[key] = form.cleaned_data.get("sku")


class VariantInline(admin.TabularInline):
    """The product's variants; stock shows here and moves on each variant's page (the link)."""

    model = Variant
    form = VariantInlineForm
    formset = VariantInlineFormSet
    readonly_fields = ["stock", "stock_link"]
    extra = 0
    show_change_link = False

    def get_fields(self, request, obj=None):
        options = ["options"] if obj is not None and obj.options.exists() else []
        return ["sku", *options, "price", "stock", "is_active", "position", "stock_link"]

    def get_queryset(self, request):
        values = OptionValue.objects.select_related("option")
        return super().get_queryset(request).prefetch_related(Prefetch("option_values", queryset=values))

    def get_formset(self, request, obj=None, **kwargs):
        """Offer a new variant every combination of the product's option values, named as customers read it."""
        combinations = {}
        if obj is not None:
            options = list(
                obj.options.prefetch_related(Prefetch("values", OptionValue.objects.select_related("option")))
            )
            for values in itertools.product(*(option.values.all() for option in options)) if options else []:
                combinations["-".join(str(value.pk) for value in values)] = list(values)
        kwargs["form"] = type("VariantInlineForm", (self.form,), {"combinations": combinations})
        return super().get_formset(request, obj, **kwargs)

    @admin.display(description="")
    def stock_link(self, variant: Variant) -> str:
        if not variant.pk:
            return ""
        url = reverse("admin:catalog_variant_change", args=[variant.pk])
        return format_html('<a href="{}">Restock or adjust →</a>', url)


class OptionInlineForm(forms.ModelForm):
    """An option with its values as text ("S, M, L"), saved through `add_option` / `set_values`."""

    values = forms.CharField(label="values", max_length=2000, help_text="In order, separated by commas: S, M, L.")

    class Meta:
        model = ProductOption
        fields = ["name", "values", "position"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["position"].required = False  # blank: a new option goes last, an existing one stays
        if self.instance.pk:
            self.fields["values"].initial = ", ".join(value.value for value in self.instance.values.all())

    def clean_position(self) -> int:
        position = self.cleaned_data.get("position")
        return self.instance.position if position is None else position

    def clean_values(self) -> list[str]:
        """Return the values in order; refuse what `set_values` would refuse (a value some variant has cannot go)."""
        values = [value.strip() for value in self.cleaned_data["values"].split(",") if value.strip()]
        longest = OptionValue._meta.get_field("value").max_length
        if any(len(value) > longest for value in values):
            raise forms.ValidationError(f"A value has at most {longest} characters.")
        try:
            self.instance.check_values(values)
        except ValidationError as refused:
            raise forms.ValidationError(refused.message_dict["values"]) from refused
        return values

    def save(self, commit: bool = True) -> ProductOption:
        values = self.cleaned_data["values"]
        if self.instance._state.adding:
            # add_option gives the product's variants the first value, so each keeps one per option.
            option = self.instance.product.add_option(self.cleaned_data["name"], values)
            if self.cleaned_data.get("position"):
                option.position = self.cleaned_data["position"]
                option.save(update_fields=["position", "updated_at"])
            self.instance = option
            return option
        option = super().save(commit=commit)
        option.set_values(values)
        return option


class OptionInline(admin.TabularInline):
    """The ways the product varies (Size, Colour), each with its values in order.

    An option cannot be deleted here: its variants would lose a value and could collide;
    rename it, or change its values, instead.
    """

    model = ProductOption
    form = OptionInlineForm
    extra = 0
    can_delete = False
    verbose_name = "option"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("values")


class ExtraInline(admin.TabularInline):
    """Priced add-ons a customer may choose per order line (extra cheese +1.50)."""

    model = Extra
    fields = ["name", "price", "max_per_line", "is_active", "position"]
    extra = 0

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "price":
            kwargs["label"] = price_label()
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class ProductImageInline(admin.TabularInline):
    """The product's pictures in their order; an upload is checked and its thumbnails made (catalog/images.py)."""

    model = ProductImage
    fields = ["preview", "image", "alt_text", "variant", "position"]
    readonly_fields = ["preview"]
    extra = 0

    def get_formset(self, request, obj=None, **kwargs):
        """Offer only this product's variants for a picture that shows one."""
        formset = super().get_formset(request, obj, **kwargs)
        if "variant" in formset.form.base_fields:
            field = formset.form.base_fields["variant"]
            field.queryset = obj.variants.all() if obj is not None else Variant.objects.none()
            field.empty_label = "The whole product"
        return formset

    @admin.display(description="picture")
    def preview(self, image: ProductImage) -> str:
        return thumbnail(image if image.pk else None, height=64)


class DeleteRefusal(list):
    """Why products cannot be deleted, a sentence each (Django's `protected`); `on_sale` may be deactivated instead."""

    def __init__(self, reasons: list[str], on_sale: list[Product]) -> None:
        super().__init__(reasons)
        self.on_sale = on_sale


def delete_refusal(products: list[Product], protected) -> DeleteRefusal:
    """Say which rows keep each product, counted by kind: "Teapot cannot be deleted: 12 order lines record it."

    The rows come from Django's deletion collector, so the catalog names what a higher
    floor (orders) keeps without importing it. A row that protects a product's variant
    counts against that product. A row is counted against the selected product it points
    at; one that points at none of them is counted against the selection.
    """
    by_pk = {product.pk: product for product in products}
    product_of_variant = dict(Variant.objects.filter(product__in=products).values_list("pk", "product_id"))
    counts: dict[int | None, dict] = {}
    for row in protected:
        links = []
        for field in row._meta.concrete_fields:
            if field.is_relation and field.related_model is Product:
                links.append(row.__dict__.get(field.attname))
            elif field.is_relation and field.related_model is Variant:
                links.append(product_of_variant.get(row.__dict__.get(field.attname)))
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


def with_variant_summary(products):
    """Annotate each product with its number of variants, its SKU when it has one variant only, and its active units.

    Three correlated subqueries in the page's own query: no query per row, whatever the page size.
    """
    variants = Variant.objects.filter(product=OuterRef("pk")).order_by().values("product")
    return products.annotate(
        variant_count=Coalesce(Subquery(variants.annotate(n=Count("pk")).values("n")), 0),
        single_sku=Subquery(variants.annotate(n=Count("pk"), sku_=Min("sku")).filter(n=1).values("sku_")),
        units=Coalesce(Subquery(variants.filter(is_active=True).annotate(n=Sum("stock")).values("n")), 0),
    )


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["picture", "name", "sku", "category", "price", "stock", "is_active"]
    list_display_links = ["picture", "name"]
    list_filter = [CategoryTreeFilter, "is_active", StockLevelFilter]
    list_select_related = ["category"]
    search_fields = ["name", "variants__sku"]
    search_help_text = "Search by name or by the SKU of a variant."
    autocomplete_fields = ["category"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at", "updated_at"]
    # Counting every row on each page view is the slow part of a 100,000-row changelist.
    show_full_result_count = False
    actions = [activate, deactivate, "export_csv"]
    # How a low-stock list reads (the stock level filter): fewest units first, then by name.
    low_stock_order = ("units", "name")

    def get_changelist(self, request, **kwargs):
        return LowStockChangeList

    def get_queryset(self, request):
        """Each product with its variant summary and first picture: one more query for the page's pictures."""
        first = ProductImage.objects.order_by("position", "pk")
        products = with_variant_summary(Product._default_manager.prefetch_related(Prefetch("images", queryset=first)))
        # ModelAdmin.get_queryset would order before the summary exists; a low-stock list sorts by it.
        ordering = self.get_ordering(request)
        return products.order_by(*ordering) if ordering else products

    def get_ordering(self, request):
        if StockLevelFilter.is_chosen(request.GET):
            return self.low_stock_order
        return super().get_ordering(request)

    def get_inlines(self, request, obj):
        """The add form is the product and its first variant; the other parts come once it exists."""
        if obj is None:
            return [ProductImageInline]
        return [VariantInline, OptionInline, ExtraInline, ProductImageInline]

    @admin.display(description="")
    def picture(self, product: Product) -> str:
        pictures = product.images.all()
        return thumbnail(pictures[0] if pictures else None)

    @admin.display(description="SKU")
    def sku(self, product: Product) -> str:
        """The SKU of a product sold in one variant; how many variants, for one sold in several."""
        if product.variant_count == 1:
            return product.single_sku
        return ngettext("%d variant", "%d variants", product.variant_count) % product.variant_count

    @admin.display(description="price", ordering="price_min")
    def price(self, product: Product) -> str:
        """The price of the active variants: one amount, or a range "12.00-18.00 USD" (an en dash)."""
        if product.price_min is None or product.price_min == product.price_max:
            return money(product.price_min)
        return f"{product.price_min:,.2f}\N{EN DASH}{money(product.price_max)}"

    @admin.display(description="stock", ordering="units")
    def stock(self, product: Product) -> str:
        """The active variants' units together, linking the product's variants (where stock moves)."""
        url = f"{reverse('admin:catalog_variant_changelist')}?product__id__exact={product.pk}"
        return format_html('<a href="{}" title="Restock or adjust its variants">{}</a>', url, f"{product.units:,}")

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ProductAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (None, {"fields": PRODUCT_DESCRIPTION}),
                ("First variant", {"fields": ["sku", "price", "stock"]}),
                ("Sales", {"fields": ["is_active"]}),
            ]
        return [
            (None, {"fields": PRODUCT_DESCRIPTION}),
            ("Sales", {"fields": ["is_active", "price_range", "stock_total"]}),
            ("Reviews", {"fields": ["reviews_link"]}),
            ("History", {"fields": ["created_at", "updated_at"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        return [*self.readonly_fields, "price_range", "stock_total", "reviews_link"]

    @admin.display(description="price")
    def price_range(self, product: Product) -> str:
        return self.price(product)

    @admin.display(description="stock (active variants)")
    def stock_total(self, product: Product) -> str:
        return self.stock(product)

    @admin.display(description="reviews")
    def reviews_link(self, product: Product) -> str:
        """Link this product's reviews in the review changelist (the count kept on the product)."""
        url = f"{reverse('admin:catalog_review_changelist')}?product={product.pk}"
        label = ngettext("%d review", "%d reviews", product.rating_count) % product.rating_count
        return format_html('<a href="{}">{} →</a>', url, label)

    def save_model(self, request, obj, form, change):
        """Save; a new product gets its first variant through `add_variant`, with the initial stock."""
        super().save_model(request, obj, form, change)
        if not change:
            data = form.cleaned_data
            obj.add_variant(sku=data["sku"], price=data["price"], stock=data["stock"])

    def save_formset(self, request, form, formset, change):
        """Save; new variants whose options changed meanwhile (an option added in the same save) are not added."""
        if formset.model is not Variant:
            return super().save_formset(request, form, formset, change)
        try:
            with transaction.atomic():
                formset.save()
        except ValidationError as refused:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            self.message_user(
                request,
                f"The variants were not saved: {' '.join(refused.messages)} Add them again with the options as "
                "they are now.",
                level=messages.ERROR,
            )
        return None

    def get_urls(self):
        generate = self.admin_site.admin_view(self.generate_variants_view)
        return [
            path("<path:object_id>/generate-variants/", generate, name="catalog_product_generate_variants"),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and self.has_change_permission(request, obj) and obj.options.exists():
            context["generate_variants_url"] = reverse("admin:catalog_product_generate_variants", args=[obj.pk])
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def generate_variants_view(self, request, object_id: str):
        """Add a variant for every combination of option values that has none (`generate_variants`); say how many."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        product = self.get_object(request, unquote(object_id))
        if product is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, product):
            raise PermissionDenied
        try:
            with transaction.atomic():
                added = product.generate_variants()
        except IntegrityError:
            self.message_user(
                request,
                "No variants were added: a SKU they would take is another variant's. Give the first variant a "
                "SKU of its own, or add the variants by hand.",
                level=messages.ERROR,
            )
        else:
            if added:
                words = ngettext("Added %d variant", "Added %d variants", len(added)) % len(added)
                self.message_user(request, f"{words}, with no stock yet: {', '.join(v.sku for v in added)}.")
            else:
                self.message_user(request, "Every combination of options already has a variant.", messages.WARNING)
        return HttpResponseRedirect(reverse("admin:catalog_product_change", args=[product.pk]))

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
            "sku": "single_sku",
            "variants": "variant_count",
            "price_min": "price_min",
            "price_max": "price_max",
            "stock": "units",
            "is_active": "is_active",
        },
    )
