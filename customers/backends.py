from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from customers.models import Customer


class EmailBackend(ModelBackend):
    """Authenticate by email: a customer's profile email, else a staff user's email."""

    def authenticate(self, request, email=None, password=None, **kwargs):
        if email is None or password is None:
            return None
        user = self.user_for_email(email)
        if user is None:
            get_user_model()().set_password(password)  # same work as a real check: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def user_for_email(self, email: str):
        customer = Customer.objects.with_email(email).select_related("user").first()
        if customer is not None:
            return customer.user
        return get_user_model().objects.filter(email__iexact=email.strip(), is_staff=True).order_by("pk").first()
