from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from customers.exceptions import InvalidLink, NotACustomer
from customers.tokens import decode_uid, email_verification_token, password_reset_token, revoke_refresh_tokens

EMAIL_TAKEN = "An account with this email already exists."


class CustomerQuerySet(models.QuerySet):
    def get_for_user(self, user):
        """Return the signed-in user's customer profile; raise NotACustomer (404) for a staff-only account."""
        try:
            return user.customer
        except self.model.DoesNotExist as missing:
            raise NotACustomer() from missing

    def can_sign_in(self):
        """Customers whose login is active: only they are sent account links or may follow one."""
        return self.filter(user__is_active=True)

    def with_email(self, email: str):
        """Customers whose email matches, ignoring case (the unique key)."""
        return self.filter(email__iexact=email.strip())

    def email_taken(self, email: str, *, user_id: int | None = None) -> bool:
        """Return whether an account other than `user_id`'s has this email, in any case.

        One email is one account, staff or customer: a login's email or username (a
        customer's username is their email) and a customer's profile email all count.
        """
        email = email.strip()
        owners = get_user_model()._default_manager.filter(
            Q(email__iexact=email) | Q(username__iexact=email) | Q(customer__email__iexact=email)
        )
        if user_id is not None:
            owners = owners.exclude(pk=user_id)
        return owners.exists()

    def search(self, text: str):
        """Customers whose first or last name or email contains `text`."""
        words = text.split()
        condition = Q()
        for word in words:
            condition &= Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word)
        return self.filter(condition)

    def register(self, *, email: str, password: str | None, first_name: str, last_name: str, phone: str = ""):
        """Create the login user and the customer together; apply Django's password validators.

        Without a password (staff creating a customer) the account cannot log in until a
        password is set. An email another account has, in any case, is a ValidationError on
        `email`; a race past that check meets the unique indexes (IntegrityError).
        """
        User = get_user_model()
        email = email.strip()
        if self.email_taken(email):
            raise ValidationError({"email": EMAIL_TAKEN}, code="unique")
        user = User(username=email.lower(), email=email, first_name=first_name, last_name=last_name)
        if password is None:
            user.set_unusable_password()
        else:
            validate_password(password, user)
            user.set_password(password)
        with transaction.atomic(using=self.db):
            user.save()
            return self.create(user=user, email=email, first_name=first_name, last_name=last_name, phone=phone)

    register.alters_data = True

    def from_link(self, uid: str, token: str, generator):
        """Return the customer, with their login locked, whose emailed link this is; raise InvalidLink otherwise.

        Call it inside a transaction: the lock makes a second use of the same link wait, then
        fail the check, since the first use changed what the token was made from. A malformed
        uid or token, a closed account, a used or an expired token all answer the same.
        """
        user_id = decode_uid(uid)
        customer = None
        if user_id is not None:
            customers = self.can_sign_in().filter(user_id=user_id).select_related("user")
            customer = customers.select_for_update(of=("self", "user")).first()
        if customer is None or not generator.check_token(customer.user, token):
            raise InvalidLink()
        return customer

    def reset_password(self, *, uid: str, token: str, password: str):
        """Set the password an emailed reset link asks for (Django's validators apply); end every session.

        Every refresh token of the login is revoked. The link dies with the old password hash.
        """
        with transaction.atomic(using=self.db):
            customer = self.from_link(uid, token, password_reset_token)
            user = customer.user
            try:
                validate_password(password, user)
            except ValidationError as weak:
                raise ValidationError({"password": weak.messages}, code="password_invalid") from weak
            user.set_password(password)
            user.save(update_fields=["password"])
            revoke_refresh_tokens(user)
        return customer

    reset_password.alters_data = True

    def verify_email(self, *, uid: str, token: str):
        """Mark the customer's email verified by the link sent to it; the link then dies (the flag is in its hash)."""
        with transaction.atomic(using=self.db):
            customer = self.from_link(uid, token, email_verification_token)
            self.filter(pk=customer.pk).update(email_verified=True, updated_at=timezone.now())
        customer.email_verified = True
        return customer

    verify_email.alters_data = True


CustomerManager = models.Manager.from_queryset(CustomerQuerySet)
