from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from customers.models import Customer


class EmailBackend(ModelBackend):
    """Authenticate by email: a customer's profile email, else a staff user's email or username.

    The API's token endpoint takes this login in its `email` field.
    """

    def authenticate(self, request, email=None, password=None, **kwargs):
        if email is None or password is None:
            return None
        user = self.user_for_login(email)
        if user is None:
            get_user_model()().set_password(password)  # same work as a real check: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def user_for_login(self, login: str):
        """Return the customer's login with this email, else the staff user with this email or username."""
        login = login.strip()
        customer = Customer.objects.with_email(login).select_related("user").first()
        if customer is not None:
            return customer.user
        staff = get_user_model().objects.filter(is_staff=True).order_by("pk")
        return staff.filter(email__iexact=login).first() or staff.filter(username=login).first()
