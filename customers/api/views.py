from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from common.permissions import OwnedOrStaffModelPermissions
from common.schema import ErrorSerializer
from common.views import CreatedLocationMixin
from customers.api.filters import AddressFilter, CustomerFilter
from customers.api.serializers import (
    AddressSerializer,
    CustomerCreateSerializer,
    CustomerSerializer,
    EmailTokenObtainPairSerializer,
    RefreshSerializer,
    RegisterSerializer,
    RegistrationSerializer,
    StaffAddressSerializer,
    TokenPairSerializer,
    token_for,
)
from customers.models import Address, Customer


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
        request=CustomerSerializer,
        responses={
            200: CustomerSerializer,
            404: OpenApiResponse(ErrorSerializer, description="A staff-only account: it has no customer profile."),
        },
    )
    @action(detail=False, methods=["get", "patch"], permission_classes=[IsAuthenticated])
    def me(self, request):
        """Read or edit the signed-in customer's own profile."""
        customer = Customer.objects.get_for_user(request.user)
        if request.method == "GET":
            return Response(CustomerSerializer(customer).data)
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
