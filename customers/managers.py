from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import models, transaction
from django.db.models import Q

from customers.exceptions import NotACustomer


class CustomerQuerySet(models.QuerySet):
    def get_for_user(self, user):
        """Return the signed-in user's customer profile; raise NotACustomer (404) for a staff-only account."""
        try:
            return user.customer
        except self.model.DoesNotExist as missing:
            raise NotACustomer() from missing

    def with_email(self, email: str):
        """Customers whose email matches, ignoring case (the unique key)."""
        return self.filter(email__iexact=email.strip())

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
        password is set.
        """
        User = get_user_model()
        email = email.strip()
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


CustomerManager = models.Manager.from_queryset(CustomerQuerySet)
