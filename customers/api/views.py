import hashlib

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from common.permissions import OwnedOrStaffModelPermissions
from common.ratelimit import Limit
from common.schema import VALIDATION_ERROR, ErrorSerializer, ValidationErrorSerializer, error_response
from common.views import CreatedLocationMixin
from customers import accounts, tasks
from customers.api.filters import AddressFilter, CustomerFilter
from customers.api.serializers import (
    AddressSerializer,
    CustomerCreateSerializer,
    CustomerSerializer,
    EmailLinkSerializer,
    EmailTokenObtainPairSerializer,
    LogoutSerializer,
    MessageSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    RefreshSerializer,
    RegisterSerializer,
    RegistrationSerializer,
    StaffAddressSerializer,
    TokenPairSerializer,
)
from customers.models import Address, Customer
from customers.tokens import revoke_refresh_tokens, token_for

RESET_REQUESTED = {
    "detail": "If an account has this email, a link to choose a new password is on its way to it.",
}
INVALID_LINK = OpenApiResponse(
    response=ValidationErrorSerializer,
    description="`invalid_token`: the uid or token is malformed, used, expired or names no active account "
    "(ask for a new link); or `validation_error`.",
    examples=[
        OpenApiExample(
            "invalid_token",
            value={"detail": "This link is invalid or has expired; ask for a new one.", "code": "invalid_token"},
            response_only=True,
        ),
        *VALIDATION_ERROR.examples,
    ],
)
REVOKED_OR_INVALID = error_response(
    ErrorSerializer,
    "The refresh token is invalid, expired or revoked already.",
    "token_not_valid",
    "Token is blacklisted",
)
NO_CONTENT = OpenApiResponse(description="Done; no body.")


class RegisterView(generics.CreateAPIView):
    """Create a customer account and return its first tokens."""

    serializer_class = RegisterSerializer
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_scope = "auth"

    @extend_schema(
        responses={201: RegistrationSerializer},
        examples=[
            OpenApiExample(
                "register",
                request_only=True,
                value={
                    "email": "ada@example.com",
                    "password": "analytical-engine-1843",
                    "first_name": "Ada",
                    "last_name": "Lovelace",
                    "phone": "+442071838750",
                },
            ),
            OpenApiExample(
                "registered",
                response_only=True,
                status_codes=["201"],
                value={
                    "customer": {
                        "id": 7,
                        "email": "ada@example.com",
                        "first_name": "Ada",
                        "last_name": "Lovelace",
                        "phone": "+442071838750",
                        "created_at": "2026-11-22T10:00:00Z",
                        "updated_at": "2026-11-22T10:00:00Z",
                    },
                    "tokens": {"access": "eyJhbGciOi...", "refresh": "eyJhbGciOi..."},
                },
            ),
        ],
    )
    def post(self, request, *args, **kwargs):
        registration = self.get_serializer(data=request.data)
        registration.is_valid(raise_exception=True)
        customer = registration.save()
        customer.request_email_verification()
        token = token_for(customer.user)
        body = {
            "customer": CustomerSerializer(customer).data,
            "tokens": {"access": str(token.access_token), "refresh": str(token)},
        }
        headers = {"Location": reverse("customer-detail", args=[customer.pk], request=request)}
        return Response(body, status=status.HTTP_201_CREATED, headers=headers)


@extend_schema_view(post=extend_schema(responses={200: TokenPairSerializer}))
class TokenView(TokenObtainPairView):
    """Exchange email and password for an access and a refresh token."""

    serializer_class = EmailTokenObtainPairSerializer
    authentication_classes = []
    throttle_scope = "auth"


class TokenRefresh(TokenRefreshView):
    """Exchange a refresh token for a new access token."""

    serializer_class = RefreshSerializer
    authentication_classes = []
    throttle_scope = "auth"


class AuthView(generics.GenericAPIView):
    """An /auth/ endpoint: rate limited per client IP with the other sign-in calls."""

    throttle_scope = "auth"


class AnonymousAuthView(AuthView):
    """An /auth/ endpoint for anyone: it reads no credentials, so a stale bearer header cannot refuse it."""

    permission_classes = [AllowAny]
    authentication_classes = []


class PasswordResetView(AnonymousAuthView):
    """Email a password reset link to the customer with this email; answer the same whether there is one or not."""

    serializer_class = PasswordResetSerializer

    def get_rate_limits(self, request) -> list[Limit]:
        """Count reset requests per email too, from any IP (common.ratelimit reads this hook)."""
        email = request.data.get("email") if isinstance(request.data, dict) else None
        if not isinstance(email, str) or not email.strip():
            return []
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]  # no address in cache keys
        return [Limit("api.password_reset", f"email:{digest}", settings.RATELIMIT_PASSWORD_RESET_EMAIL)]

    @extend_schema(
        responses={202: MessageSerializer},
        examples=[OpenApiExample("requested", response_only=True, status_codes=["202"], value=RESET_REQUESTED)],
    )
    def post(self, request):
        """Ask for a password reset link; the account is looked up in the background, never in this request."""
        reset = self.get_serializer(data=request.data)
        reset.is_valid(raise_exception=True)
        tasks.send_after_commit(tasks.send_password_reset, reset.validated_data["email"])
        return Response(RESET_REQUESTED, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(AnonymousAuthView):
    """Set a new password with the uid and token of a reset link; every session of the account ends."""

    serializer_class = PasswordResetConfirmSerializer

    @extend_schema(responses={204: NO_CONTENT, 400: INVALID_LINK})
    def post(self, request):
        reset = self.get_serializer(data=request.data)
        reset.is_valid(raise_exception=True)
        Customer.objects.reset_password(**reset.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EmailVerifyView(AnonymousAuthView):
    """Mark the customer's email verified with the uid and token of the link sent to it."""

    serializer_class = EmailLinkSerializer

    @extend_schema(responses={204: NO_CONTENT, 400: INVALID_LINK})
    def post(self, request):
        link = self.get_serializer(data=request.data)
        link.is_valid(raise_exception=True)
        Customer.objects.verify_email(**link.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EmailVerifyResendView(AuthView):
    """Send the signed-in customer a new verification link (for an account from before verification, or a lost mail)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={
            204: OpenApiResponse(description="Sent, or nothing to send: the email is verified already."),
            404: OpenApiResponse(ErrorSerializer, description="A staff-only account: it has no customer profile."),
        },
    )
    def post(self, request):
        Customer.objects.get_for_user(request.user).request_email_verification()
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeView(AuthView):
    """Change the signed-in user's password; every other session ends, this one goes on with the tokens returned."""

    serializer_class = PasswordChangeSerializer
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: TokenPairSerializer})
    def post(self, request):
        change = self.get_serializer(data=request.data)
        change.is_valid(raise_exception=True)
        token = accounts.change_password(request.user, **change.validated_data)
        return Response({"access": str(token.access_token), "refresh": str(token)})


class LogoutView(AnonymousAuthView):
    """End one session: revoke its refresh token. Its access token runs out by itself within minutes."""

    serializer_class = LogoutSerializer

    def get_authenticate_header(self, request) -> str:
        """Challenge as the token views do, so a bad refresh token is a 401 (DRF makes it a 403 without one)."""
        return 'Bearer realm="api"'

    @extend_schema(responses={204: NO_CONTENT, 401: REVOKED_OR_INVALID})
    def post(self, request):
        logout = self.get_serializer(data=request.data)
        logout.is_valid(raise_exception=True)
        accounts.log_out(logout.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllView(AuthView):
    """End every session of the signed-in user: revoke all their refresh tokens."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: NO_CONTENT})
    def post(self, request):
        revoke_refresh_tokens(request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CustomerViewSet(
    CreatedLocationMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Customers. Staff (by model permissions) manage all; a customer reads and edits only their own."""

    permission_classes = [OwnedOrStaffModelPermissions]
    staff_actions = {"list", "create", "destroy"}
    filterset_class = CustomerFilter
    ordering_fields = ["last_name", "email", "created_at"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        customers = Customer.objects.all()
        if self.request.user.is_staff:
            return customers
        return customers.filter(user_id=self.request.user.pk)

    def get_serializer_class(self):
        return CustomerCreateSerializer if self.action == "create" else CustomerSerializer

    def perform_destroy(self, customer: Customer) -> None:
        customer.close_account()

    @extend_schema(
        methods=["GET", "PATCH"],
        request=CustomerSerializer,
        responses={
            200: CustomerSerializer,
            404: OpenApiResponse(ErrorSerializer, description="A staff-only account: it has no customer profile."),
        },
    )
    @extend_schema(
        methods=["DELETE"],
        description="Close the signed-in customer's account: names, email, phone and addresses are erased, "
        "the login is closed and every token stops working. Orders and invoices stay, with their own copy "
        "of the shipping address. The email may register again.",
        responses={
            204: NO_CONTENT,
            404: OpenApiResponse(ErrorSerializer, description="A staff-only account: it has no customer profile."),
        },
    )
    @action(detail=False, methods=["get", "patch", "delete"], permission_classes=[IsAuthenticated])
    def me(self, request):
        """Read, edit or close the signed-in customer's own account; a new email must be verified again."""
        customer = Customer.objects.get_for_user(request.user)
        if request.method == "GET":
            return Response(CustomerSerializer(customer).data)
        if request.method == "DELETE":
            customer.anonymise()
            return Response(status=status.HTTP_204_NO_CONTENT)
        profile = CustomerSerializer(customer, data=request.data, partial=True)
        profile.is_valid(raise_exception=True)
        profile.save()
        return Response(profile.data)


class AddressViewSet(CreatedLocationMixin, viewsets.ModelViewSet):
    """Postal addresses. A customer manages their own; staff see all and filter by customer."""

    permission_classes = [OwnedOrStaffModelPermissions]
    filterset_class = AddressFilter
    ordering_fields = ["created_at"]

    def get_queryset(self):
        addresses = Address.objects.all()
        if self.request.user.is_staff:
            return addresses
        return addresses.filter(customer__user_id=self.request.user.pk)

    def get_serializer_class(self):
        return StaffAddressSerializer if self.request.user.is_staff else AddressSerializer

    def perform_create(self, serializer) -> None:
        if self.request.user.is_staff:
            serializer.save()
        else:
            serializer.save(customer=Customer.objects.get_for_user(self.request.user))
