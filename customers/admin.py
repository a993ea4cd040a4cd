"""Staff admin for customers and their addresses (SPEC §8); orders/admin.py adds their latest orders.

Adding a customer registers their login with them (`Customer.objects.register`, no
password yet); the page then shows the login read-only. Deleting a customer closes the
account as the API does (`Customer.close_account`): the login goes with the profile, and
orders protect a customer who has any.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.db import router, transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html
from django_countries.filters import CountryFilter

from common.formats import short_date, short_datetime
from customers.managers import EMAIL_TAKEN
from customers.models import Address, Customer

ONE_DEFAULT = "Only one address can be the default."


class AddressInlineFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        """Refuse two defaults up front; otherwise the last one saved would silently win."""
        super().clean()
        if any(self.errors):
            return
        defaults = [
            form
            for form in self.forms
            if form.cleaned_data.get("is_default") and not form.cleaned_data.get("DELETE", False)
        ]
        if len(defaults) > 1:
            raise forms.ValidationError(ONE_DEFAULT, code="one_default")


class AddressInline(admin.StackedInline):
    """Each address as an address (label and default, street, town, country), not a row wider than the page."""

    model = Address
    formset = AddressInlineFormSet
    fields = [("label", "is_default"), "line1", "line2", ("postal_code", "city"), "country"]
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["full_name", "email", "verified", "phone", "address_count", "joined"]
    list_filter = ["email_verified", "created_at"]
    search_fields = ["first_name", "last_name", "email"]
    # Only the customer's link verifies an email; saving a new one here unverifies it and sends one.
    readonly_fields = ["email_verified", "login", "created_at", "updated_at"]
    inlines = [AddressInline]  # the orders app adds the customer's latest orders
    # Counting every row on each page view is the slow part of a 100,000-row changelist.
    show_full_result_count = False
    change_list_template = "admin/one_line_change_list.html"  # the list fits 1400 px on one line a row

    @admin.display(description="verified", boolean=True, ordering="email_verified")
    def verified(self, customer: Customer) -> bool:
        return customer.email_verified

    @admin.display(description="joined", ordering="created_at")
    def joined(self, customer: Customer) -> str:
        return format_html(
            '<span title="{}">{}</span>', short_datetime(customer.created_at), short_date(customer.created_at)
        )

    def get_fieldsets(self, request, obj=None):
        profile = ["first_name", "last_name", "email", "phone"]
        if obj is None:  # the login is made with the customer (save_model)
            return [(None, {"fields": profile})]
        return [
            (None, {"fields": [*profile, "email_verified", "login"]}),
            ("History", {"fields": ["created_at", "updated_at"]}),
        ]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "email":
            kwargs["help_text"] = (
                "The customer signs in with this email. Saving copies it to their login, "
                "whose username and email always follow it."
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description="login")
    def login(self, customer: Customer) -> str:
        """Say whether the customer can sign in and link their login (its username only when not their email)."""
        user = customer.user
        if not user.is_active:
            state = "Inactive: cannot sign in"
        elif not user.has_usable_password():
            state = "Active, no password yet (the customer sets one through a password reset)"
        else:
            state = "Active"
        opts = user._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[user.pk])
        if user.get_username() == customer.email.lower():
            return format_html('{} · <a href="{}">open the login</a>', state, url)
        return format_html('{} · username <a href="{}">{}</a>', state, url, user.get_username())

    def save_model(self, request, obj, form, change):
        """Save the profile; a new customer is registered with a login of their own, without a password."""
        if change:
            super().save_model(request, obj, form, change)
            return
        registered = Customer.objects.register(
            email=obj.email, password=None, first_name=obj.first_name, last_name=obj.last_name, phone=obj.phone
        )
        # The admin goes on with `obj` (the address inline, the history entry, the redirect).
        obj.__dict__.update(registered.__dict__)

    def get_queryset(self, request):
        """Count each customer's addresses in the page query itself (no query per row)."""
        addresses = Address.objects.filter(customer=OuterRef("pk")).order_by().values("customer")
        address_count = Subquery(addresses.annotate(count=Count("*")).values("count"))
        return super().get_queryset(request).annotate(address_count=Coalesce(address_count, 0))

    @admin.display(description="name", ordering="last_name")
    def full_name(self, customer: Customer) -> str:
        return customer.full_name

    @admin.display(description="addresses", ordering="address_count")
    def address_count(self, customer: Customer) -> int:
        return customer.address_count

    def get_deleted_objects(self, objs, request):
        """List what closing these accounts deletes, starting from their logins.

        Starting from the logins shows staff that the login goes too, and Django's
        collector still finds whatever protects the customer (orders). Closing an
        account needs only the permission to delete customers, as in the API.
        """
        logins = get_user_model()._base_manager.filter(customer__in=objs)
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(logins, request)
        perms_needed.discard(get_user_model()._meta.verbose_name)
        return deleted, model_count, perms_needed, protected

    def delete_model(self, request, obj: Customer) -> None:
        """Close the account: the login, the profile and its addresses go together."""
        obj.close_account()

    def delete_queryset(self, request, queryset) -> None:
        """Close each selected account, all or none."""
        with transaction.atomic(using=router.db_for_write(Customer)):
            for customer in queryset.select_related("user"):
                customer.close_account()


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ["customer", "label", "city", "country", "is_default"]
    list_filter = [("country", CountryFilter), "is_default"]
    list_select_related = ["customer"]
    search_fields = ["line1", "city", "postal_code", "customer__email"]
    autocomplete_fields = ["customer"]
    readonly_fields = ["created_at", "updated_at"]
    show_full_result_count = False


class LoginChangeForm(UserChangeForm):
    def clean_email(self) -> str:
        """Refuse an email another account (staff or customer) has, in any case."""
        email = self.cleaned_data.get("email", "")
        if email and Customer.objects.email_taken(email, user_id=self.instance.pk):
            raise forms.ValidationError(EMAIL_TAKEN, code="unique")
        return email


class LoginAdmin(UserAdmin):
    """Django's user admin; an email already used by another login or customer is a form error."""

    form = LoginChangeForm


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), LoginAdmin)
