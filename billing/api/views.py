from django.conf import settings
from django.db.models import Prefetch
from django.http import HttpResponse
from django.template.loader import render_to_string
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.reverse import reverse

from billing.api.serializers import (
    CreditNoteSerializer,
    InvoiceSerializer,
    PaymentSerializer,
    RefundRequestSerializer,
    RefundSerializer,
)
from billing.models import CreditNote, Invoice, Payment, Refund
from billing.tasks import hand_over
from common.permissions import OwnedOrStaffModelPermissions
from common.schema import ErrorSerializer, ValidationErrorSerializer
from orders.models import Order


class InvoiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Invoices (bills) of confirmed orders: a customer sees their own; staff see all."""

    serializer_class = InvoiceSerializer
    permission_classes = [OwnedOrStaffModelPermissions]
    filterset_fields = ["order", "payment_method"]
    ordering_fields = ["issued_at", "total"]

    def get_queryset(self):
        credit_notes = Prefetch(
            "credit_notes", queryset=CreditNote.objects.only("pk", "number", "issued_at", "amount", "invoice_id")
        )
        return Invoice.objects.of(self.request.user).with_state().select_related("order").prefetch_related(credit_notes)

    @extend_schema(responses={(200, "text/html"): OpenApiResponse(OpenApiTypes.STR, description="A printable page.")})
    @action(detail=True, methods=["get"], url_path="print", url_name="print")
    def print_page(self, request, pk=None):
        """The invoice as a printable HTML page."""
        invoice = self.get_object()
        order = invoice.order
        context = {
            "invoice": invoice,
            "order": order,
            "customer": order.customer,
            "items": order.items.all(),
            "shop_name": settings.SHOP_NAME,
            "currency": settings.SHOP_CURRENCY,
        }
        return HttpResponse(render_to_string("billing/invoice.html", context, request=request))


class OrderPaymentViewSet(viewsets.GenericViewSet):
    """An order's payments, answered under the order's URL (billing sits above orders)."""

    permission_classes = [OwnedOrStaffModelPermissions]
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        return Order.objects.of(self.request.user)

    @extend_schema(responses=PaymentSerializer(many=True))
    def payments(self, request, pk=None):
        """The order's payment (card, or cash to collect on delivery) with every gateway attempt."""
        order = self.get_object()
        payments = Payment.objects.filter(order=order).prefetch_related("attempts")
        return Response(PaymentSerializer(payments, many=True).data)


class CreditNoteViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Credit notes: the corrections of invoices by refunds and cancellations. A customer sees their own."""

    serializer_class = CreditNoteSerializer
    permission_classes = [OwnedOrStaffModelPermissions]
    filterset_fields = ["invoice"]
    ordering_fields = ["issued_at", "amount"]

    def get_queryset(self):
        return CreditNote.objects.of(self.request.user).select_related("invoice__order")

    @extend_schema(responses={(200, "text/html"): OpenApiResponse(OpenApiTypes.STR, description="A printable page.")})
    @action(detail=True, methods=["get"], url_path="print", url_name="print")
    def print_page(self, request, pk=None):
        """The credit note as a printable HTML page."""
        note = self.get_object()
        order = note.invoice.order
        context = {
            "note": note,
            "invoice": note.invoice,
            "order": order,
            "customer": order.customer,
            "shop_name": settings.SHOP_NAME,
            "currency": settings.SHOP_CURRENCY,
        }
        return HttpResponse(render_to_string("billing/credit_note.html", context, request=request))


class IssuesRefunds(permissions.BasePermission):
    """Staff holding `billing.add_refund` (admin groups govern it)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff and user.has_perm("billing.add_refund"))


class OrderRefundViewSet(viewsets.GenericViewSet):
    """An order's refunds, under the order's URL: its customer reads them; staff issue them."""

    permission_classes = [OwnedOrStaffModelPermissions]
    pagination_class = None
    filter_backends = []

    def get_permissions(self):
        if self.action == "create":
            return [IssuesRefunds()]
        return super().get_permissions()

    def get_queryset(self):
        return Order.objects.of(self.request.user)

    def refunds(self, order):
        return Refund.objects.filter(payment__order=order).select_related("credit_note").prefetch_related("lines__item")

    @extend_schema(responses=RefundSerializer(many=True))
    def list(self, request, pk=None):
        """The order's refunds, newest first, with their lines and credit notes."""
        order = self.get_object()
        return Response(RefundSerializer(self.refunds(order), many=True, context={"request": request}).data)

    @extend_schema(
        request=RefundRequestSerializer,
        responses={
            201: RefundSerializer,
            400: OpenApiResponse(
                ValidationErrorSerializer, description="`validation_error`: a line is not one of this order's."
            ),
            409: OpenApiResponse(
                ErrorSerializer,
                description="`refund_exceeds_payment`: more money (with `available`, `requested`) or more units "
                "(with `lines`) than the order took in and has not refunded yet; or nothing was paid yet.",
            ),
        },
    )
    def create(self, request, pk=None):
        """Refund the whole order (no `lines`) or some units of some lines; card refunds go through the gateway.

        A card refund answers `pending` and is paid out by the worker; a cash refund is paid
        out at once. An invoiced order gets a credit note for the amount.
        """
        order = self.get_object()
        body = RefundRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        refund = Refund.objects.issue(
            order,
            units=body.units(),
            restock=body.validated_data["restock"],
            reason=body.validated_data["reason"],
            actor=request.user,
        )
        hand_over(refund)
        refund = self.refunds(order).get(pk=refund.pk)
        headers = {"Location": reverse("order-refunds", args=[order.pk], request=request)}
        data = RefundSerializer(refund, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED, headers=headers)
