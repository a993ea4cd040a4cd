from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.reverse import reverse

from common.permissions import OwnedOrStaffCanChange, OwnedOrStaffModelPermissions
from common.schema import ConflictErrorSerializer, ErrorSerializer
from common.views import CreatedLocationMixin, fingerprint, idempotency_key, idempotency_key_parameter
from customers.models import Customer
from orders.api.filters import OrderFilter
from orders.api.serializers import (
    CancelSerializer,
    DiscountCodeSerializer,
    OrderSerializer,
    OrderStatusEventSerializer,
    PlaceOrderSerializer,
    TransitionSerializer,
)
from orders.models import DiscountCode, Order
from orders.status import PaymentMethod

IDEMPOTENCY_KEY = idempotency_key_parameter("order")


def conflict(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Orders. A customer places, follows and cancels their own; staff see all and move them along."""

    serializer_class = OrderSerializer
    permission_classes = [OwnedOrStaffModelPermissions]
    staff_actions = {"transition"}
    filterset_class = OrderFilter
    ordering_fields = ["created_at", "total"]

    def get_queryset(self):
        lines = Prefetch("items", to_attr="prefetched_items")  # Order.loaded_items
        return Order.objects.of(self.request.user).select_related("discount_code").prefetch_related(lines)

    @property
    def throttle_scope(self) -> str | None:
        """Placing an order also counts against the per-customer order limit (SPEC §7).

        A replay of an order already placed does not: a client retrying after a timeout must
        get its order back, not a 429 (the per-user limit still counts it).
        """
        if self.action != "create" or self.replays_a_placed_order():
            return None
        return "orders"

    def replays_a_placed_order(self) -> bool:
        """Return whether the request's Idempotency-Key names an order this caller already placed (one query).

        A key found new is remembered (`key_is_new`): placing then skips its own lookup.
        """
        key = self.request.headers.get("Idempotency-Key", "").strip()
        if not key:
            return False
        replays = Order.objects.of(self.request.user).filter(idempotency_key=key).exists()
        self.key_is_new = not replays
        return replays

    def get_permissions(self):
        if self.action in ("cancel", "transition"):
            return [OwnedOrStaffCanChange()]
        return super().get_permissions()

    @extend_schema(
        request=PlaceOrderSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: OpenApiResponse(OrderSerializer, description="A cash order, confirmed at once."),
            202: OpenApiResponse(OrderSerializer, description="A card order, pending; payment runs in the background."),
            409: conflict("`insufficient_stock` (with `lines`) or `price_changed` (with `prices`)."),
            422: conflict("`idempotency_key_reused`: the key came with a different body before."),
            429: conflict("`rate_limited`: too many orders; see `Retry-After`."),
        },
    )
    def create(self, request, *args, **kwargs):
        """Place an order: 202 for card (payment follows), 201 for cash (confirmed)."""
        placing = PlaceOrderSerializer(data=request.data)
        placing.is_valid(raise_exception=True)
        order, created = Order.objects.place(
            customer=self.ordering_customer(placing.validated_data.get("customer")),
            lines=placing.lines(),
            delivery_method=placing.validated_data["delivery_method"],
            payment_method=placing.validated_data["payment_method"],
            shipping_address_id=placing.validated_data.get("shipping_address"),
            discount_code=placing.validated_data.get("discount_code") or None,
            actor=request.user,
            idempotency_key=idempotency_key(request),
            request_fingerprint=fingerprint(request.data),
            key_is_new=getattr(self, "key_is_new", False),
        )
        headers = {"Location": reverse("order-detail", args=[order.pk], request=request)}
        if not created:  # a replay answers with the order as stored; a new one is in hand already
            order = self.get_queryset().get(pk=order.pk)
            headers["Idempotent-Replayed"] = "true"
        code = status.HTTP_202_ACCEPTED if order.payment_method == PaymentMethod.CARD else status.HTTP_201_CREATED
        return Response(self.get_serializer(order).data, status=code, headers=headers)

    def ordering_customer(self, customer_id: int | None) -> Customer:
        """Return who the order is for: staff name a customer; a customer orders for themselves."""
        user = self.request.user
        if not user.is_staff:
            own = Customer.objects.get_for_user(user)
            if customer_id not in (None, own.pk):
                raise serializers.ValidationError({"customer": ["Only staff may order for another customer."]})
            return own
        if customer_id is None:
            raise serializers.ValidationError({"customer": ["Staff must name the customer the order is for."]})
        customer = Customer.objects.filter(pk=customer_id).first()
        if customer is None:
            raise serializers.ValidationError({"customer": [f"Customer {customer_id} does not exist."]})
        return customer

    @extend_schema(request=CancelSerializer, responses={200: OrderSerializer, 409: conflict("`invalid_transition`.")})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel: a customer while pending or confirmed, staff until shipped. Stock comes back."""
        order = self.get_object()
        note = CancelSerializer(data=request.data)
        note.is_valid(raise_exception=True)
        order.cancel(actor=request.user, note=note.validated_data.get("note", ""))
        return Response(self.get_serializer(self.get_queryset().get(pk=order.pk)).data)

    @extend_schema(
        request=TransitionSerializer,
        responses={200: OrderSerializer, 409: conflict("`invalid_transition`, with the `allowed` next statuses.")},
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """Move an order along the status machine (staff with the change permission)."""
        order = self.get_object()
        change = TransitionSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        order.transition_to(
            change.validated_data["status"], actor=request.user, note=change.validated_data.get("note", "")
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=order.pk)).data)

    @extend_schema(responses=OrderStatusEventSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        """The order's status history, oldest first."""
        order = self.get_object()
        events = order.events.select_related("actor")
        return Response(OrderStatusEventSerializer(events, many=True).data)


DISCOUNT_CODE_CONFLICT = OpenApiResponse(
    ErrorSerializer,
    description="`conflict`: the change breaks a rule of the stored codes that another request got to first "
    "(the same code in another letter case) or that the code's uses decide (`max_uses` below `times_used`).",
    examples=[
        OpenApiExample(
            "conflict",
            value={"detail": "The change conflicts with existing data; reload and try again.", "code": "conflict"},
            response_only=True,
        )
    ],
)
USED_DISCOUNT_CODE = OpenApiResponse(
    ConflictErrorSerializer,
    description="`conflict`: orders used the code, so it cannot be deleted (deactivate it instead).",
    examples=[
        OpenApiExample(
            "conflict",
            value={
                "detail": "Cannot delete: still referenced by 2 orders.",
                "code": "conflict",
                "blocked_by": {"orders": 2},
            },
            response_only=True,
        )
    ],
)


@extend_schema_view(
    create=extend_schema(responses={201: DiscountCodeSerializer, 409: DISCOUNT_CODE_CONFLICT}),
    partial_update=extend_schema(responses={200: DiscountCodeSerializer, 409: DISCOUNT_CODE_CONFLICT}),
    destroy=extend_schema(responses={204: None, 409: USED_DISCOUNT_CODE}),
)
class DiscountCodeViewSet(CreatedLocationMixin, viewsets.ModelViewSet):
    """Discount codes (staff, by model permissions)."""

    serializer_class = DiscountCodeSerializer
    permission_classes = [OwnedOrStaffModelPermissions]
    staff_actions = {"list", "retrieve", "create", "update", "partial_update", "destroy"}
    filterset_fields = ["kind", "is_active"]
    search_fields = ["code"]
    ordering_fields = ["code", "created_at", "times_used"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    queryset = DiscountCode.objects.all()
