from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django_countries.serializer_fields import CountryField
from django_countries.serializers import CountryFieldMixin
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.tokens import RefreshToken

from customers.managers import EMAIL_TAKEN
from customers.models import Address, Customer
from customers.tokens import token_for


class CustomerSerializer(serializers.ModelSerializer):
    phone = PhoneNumberField(required=False, allow_blank=True, help_text="E.164, e.g. +14155550123.")

    class Meta:
        model = Customer
        fields = ["id", "email", "email_verified", "first_name", "last_name", "phone", "created_at", "updated_at"]
        read_only_fields = ["email_verified"]

    def validate_email(self, email: str) -> str:
        """Refuse an email another account (staff or customer) has, in any letter case."""
        user_id = self.instance.user_id if self.instance is not None else None
        if Customer.objects.email_taken(email, user_id=user_id):
            raise serializers.ValidationError(EMAIL_TAKEN, code="unique")
        return email.strip()


class CustomerCreateSerializer(CustomerSerializer):
    """Create the login user with the customer; without a password, the account cannot log in yet."""

    password = serializers.CharField(
        write_only=True, required=False, style={"input_type": "password"}, trim_whitespace=False
    )

    class Meta(CustomerSerializer.Meta):
        fields = [*CustomerSerializer.Meta.fields, "password"]

    def create(self, validated_data) -> Customer:
        try:
            return Customer.objects.register(
                email=validated_data["email"],
                password=validated_data.get("password"),
                first_name=validated_data["first_name"],
                last_name=validated_data["last_name"],
                phone=validated_data.get("phone", ""),
            )
        except DjangoValidationError as refused:
            # The password validators raise a list; the email check a dict naming `email`.
            errors = refused.message_dict if hasattr(refused, "error_dict") else {"password": refused.messages}
            raise serializers.ValidationError(errors) from refused


class RegisterSerializer(CustomerCreateSerializer):
    password = serializers.CharField(write_only=True, style={"input_type": "password"}, trim_whitespace=False)


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(read_only=True, help_text="Bearer token for the Authorization header.")
    refresh = serializers.CharField(read_only=True, help_text="Exchange at /api/v1/auth/token/refresh/.")


class RegistrationSerializer(serializers.Serializer):
    """The answer to a registration: the new customer and their first tokens."""

    customer = CustomerSerializer(read_only=True)
    tokens = TokenPairSerializer(read_only=True)


class EmailTokenObtainPairSerializer(TokenObtainPairSerializer):
    """Obtain tokens with email (or a staff username) and password; the token says whether its user is staff."""

    username_field = "email"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields[
            self.username_field
        ].help_text = "The customer's email, in any letter case; staff give their email or their username."

    @classmethod
    def get_token(cls, user) -> RefreshToken:
        return token_for(user)


class RefreshSerializer(TokenRefreshSerializer):
    """Refresh an access token; a deleted user's refresh token is a 401, not a 500 (simplejwt #860).

    The answer holds the new access token only (refresh tokens are not rotated), so `refresh`
    is write-only: the schema then says so too.
    """

    refresh = serializers.CharField(write_only=True)

    def validate(self, attrs):
        try:
            return super().validate(attrs)
        except get_user_model().DoesNotExist as gone:
            raise AuthenticationFailed(self.error_messages["no_active_account"], "no_active_account") from gone


def password_field(help_text: str) -> serializers.CharField:
    return serializers.CharField(
        write_only=True, style={"input_type": "password"}, trim_whitespace=False, max_length=128, help_text=help_text
    )


class EmailLinkSerializer(serializers.Serializer):
    """The two query parameters of an emailed link, posted back as they came."""

    uid = serializers.CharField(max_length=64, help_text="The link's `uid` parameter.")
    token = serializers.CharField(max_length=128, help_text="The link's `token` parameter.")


class PasswordResetSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=150, help_text="The customer's email, in any letter case.")


class PasswordResetConfirmSerializer(EmailLinkSerializer):
    password = password_field("The new password; Django's password validators apply.")


class PasswordChangeSerializer(serializers.Serializer):
    old_password = password_field("The current password.")
    password = password_field("The new password; Django's password validators apply.")


class LogoutSerializer(serializers.Serializer):
    refresh = serializers.CharField(write_only=True, help_text="The refresh token of the session to end.")


class MessageSerializer(serializers.Serializer):
    detail = serializers.CharField(read_only=True, help_text="A sentence for humans.")


class CountryCodeField(CountryField):
    """A country as its ISO 3166-1 alpha-2 code; any other shape (an object, a list) is refused, not read as blank."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


class AddressSerializer(CountryFieldMixin, serializers.ModelSerializer):
    country = CountryCodeField(help_text="ISO 3166-1 alpha-2 code, e.g. US.")

    class Meta:
        model = Address
        fields = [
            "id", "customer", "label", "line1", "line2", "city", "postal_code", "country", "is_default",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["customer"]
        # No "one default per customer" validator: Address.save moves the default instead of
        # refusing, and the database constraint still backs the rule.
        validators = []


class StaffAddressSerializer(AddressSerializer):
    """Staff name the customer an address belongs to."""

    class Meta(AddressSerializer.Meta):
        read_only_fields = []
