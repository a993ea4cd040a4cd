from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.db.models.lookups import Regex
from django.utils import timezone
from django_countries.fields import CountryField
from phonenumber_field.modelfields import PhoneNumberField

from common.models import TimeStampedModel
from customers.managers import EMAIL_TAKEN, CustomerManager
from customers.tasks import send_after_commit, send_email_verification
from customers.tokens import revoke_refresh_tokens


class Customer(TimeStampedModel):
    """A storefront shopper: a profile on top of Django's user, who logs in with their email."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="customer")
    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150)
    email = models.EmailField(max_length=150)
    phone = PhoneNumberField(blank=True, help_text="E.164, e.g. +14155550123.")
    email_verified = models.BooleanField(
        default=False, help_text="Whether the customer followed the link sent to this email; a new email is not."
    )

    objects = CustomerManager()

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="customer_email_unique_ci"),
            models.CheckConstraint(condition=Regex(F("phone"), r"^(\+[1-9][0-9]{1,14})?$"), name="customer_phone_e164"),
        ]
        indexes = [models.Index(fields=["last_name", "first_name"], name="customer_name_idx")]

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>"

    @classmethod
    def from_db(cls, db, field_names, values):
        """Load the row, remembering its email: a changed one needs verifying again (`save`)."""
        customer = super().from_db(db, field_names, values)
        customer._saved_email = customer.__dict__.get("email")
        return customer

    @property
    def email_changed(self) -> bool:
        """Return whether the email differs, beyond letter case, from the one saved."""
        saved = getattr(self, "_saved_email", None)
        return self.pk is not None and saved is not None and saved.lower() != self.email.lower()

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def clean(self) -> None:
        """Refuse an email that another account, staff or customer, has in any case."""
        super().clean()
        if self.email and Customer.objects.email_taken(self.email, user_id=self.user_id):
            raise ValidationError({"email": EMAIL_TAKEN}, code="unique")

    def save(self, *args, **kwargs) -> None:
        """Save, and keep the login user's email, username and names the same as the profile's.

        The username follows the email, so an email given up is free for someone else. A
        changed email is unverified, and the customer is sent a link to verify it.
        """
        email_changed = self.email_changed
        if email_changed:
            self.email_verified = False
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "email_verified"}
        with transaction.atomic():
            super().save(*args, **kwargs)
            get_user_model().objects.filter(pk=self.user_id).update(
                username=self.email.lower(), email=self.email, first_name=self.first_name, last_name=self.last_name
            )
            if email_changed:
                self.request_email_verification()
        self._saved_email = self.email

    def request_email_verification(self) -> None:
        """Email the customer a link that verifies their address, once the transaction commits."""
        send_after_commit(send_email_verification, self.pk)

    def anonymise(self) -> None:
        """Erase the customer's personal data and close their login; orders keep their own copies.

        The row stays, since orders point at it, with a placeholder name and an email no one
        can own (the real one is free to register again). Addresses go. The login becomes
        inactive with no usable password, so its access tokens fail; its refresh tokens are
        revoked. Rows are written with `update()`: a changed email must not be sent a link.
        """
        user = self.user
        placeholder = f"deleted-{self.pk}@deleted.invalid"
        with transaction.atomic():
            self.addresses.all().delete()
            Customer.objects.filter(pk=self.pk).update(
                first_name="Deleted", last_name="customer", email=placeholder, phone="", email_verified=False,
                updated_at=timezone.now(),
            )  # fmt: skip
            user.set_unusable_password()
            get_user_model()._default_manager.filter(pk=user.pk).update(
                username=placeholder, email="", first_name="", last_name="", is_active=False, password=user.password
            )
            revoke_refresh_tokens(user)
        self.refresh_from_db()
        self.user.refresh_from_db()
        self._saved_email = self.email

    anonymise.alters_data = True

    def close_account(self) -> None:
        """Delete the customer with their login and addresses.

        Orders protect their customer, so a customer with orders cannot go (ProtectedError).
        """
        self.user.delete()

    close_account.alters_data = True


class Address(TimeStampedModel):
    """A postal address of a customer; at most one is their default."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    label = models.CharField(max_length=50, blank=True, help_text="e.g. Home, Work.")
    line1 = models.CharField("address line 1", max_length=200)
    line2 = models.CharField("address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100)
    postal_code = models.CharField(max_length=20)
    country = CountryField(help_text="ISO 3166-1 alpha-2 code, e.g. US.")
    is_default = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "addresses"
        ordering = ["-is_default", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(is_default=True), name="address_one_default_per_customer"
            ),
            models.CheckConstraint(condition=Regex(F("country"), r"^[A-Z]{2}$"), name="address_country_alpha2"),
        ]

    def __str__(self) -> str:
        return ", ".join(part for part in (self.line1, self.city, self.postal_code, str(self.country)) if part)

    def save(self, *args, **kwargs) -> None:
        """Save; a new default replaces the customer's old one in the same transaction.

        The customer row is locked first, so two requests naming different defaults at
        once take turns instead of colliding on the one-default constraint.
        """
        with transaction.atomic():
            if self.is_default:
                Customer.objects.select_for_update().only("pk").get(pk=self.customer_id)
                self.customer.addresses.filter(is_default=True).exclude(pk=self.pk).update(is_default=False)
            super().save(*args, **kwargs)
